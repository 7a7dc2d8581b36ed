#include "redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

extern char** environ;

namespace cvm::test {
namespace {

[[noreturn]] void die(const std::string& why)
{
    fprintf(stderr, "redis_server: %s\n", why.c_str());
    abort();
}

bool executable(const std::string& path)
{
    return access(path.c_str(), X_OK) == 0;
}

bool accepts(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    return ok;
}

}  // namespace

std::optional<std::string> find_redis_server()
{
    if (const char* env = getenv("REDIS_SERVER"); env && *env)
        return executable(env) ? std::optional<std::string>(env) : std::nullopt;
    const char* path = getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    for (const char* name : {"redis-server", "valkey-server"}) {
        size_t start = 0;
        while (start <= dirs.size()) {
            size_t end = dirs.find(':', start);
            std::string dir = dirs.substr(start, end == std::string::npos ? std::string::npos : end - start);
            if (!dir.empty() && executable(dir + "/" + name))
                return dir + "/" + name;
            if (end == std::string::npos)
                break;
            start = end + 1;
        }
    }
    return std::nullopt;
}

std::optional<int> redis_server_missing(const char* program)
{
    if (find_redis_server())
        return std::nullopt;
    const char* ci = getenv("CI");
    if (ci && std::string(ci) == "true") {
        fprintf(stderr, "%s: FAILED: no redis-server in PATH (CI=true; scripts/setup installs it)\n", program);
        return 1;
    }
    fprintf(stderr, "%s: SKIPPED: no redis-server in PATH (apt-get install redis-server)\n", program);
    return 77;
}

uint16_t free_loopback_port()
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        die(std::string("cannot find a free loopback port: ") + strerror(errno));
    close(fd);
    return ntohs(a.sin_port);
}

RedisServer::RedisServer(RedisServerOptions options) : m_options(std::move(options))
{
    auto binary = find_redis_server();
    if (!binary)
        die("no redis-server in PATH");
    m_binary = *binary;
    char dir[] = "/tmp/cvm-redis-XXXXXX";
    if (!mkdtemp(dir))
        die(std::string("mkdtemp: ") + strerror(errno));
    m_dir = dir;
    if (m_options.tls) {
        write_file("server.crt", m_options.tls->cert_pem);
        write_file("server.key", m_options.tls->key_pem);
        write_file("ca.crt", m_options.tls->ca_pem);
    }
    m_port = free_loopback_port();
    start();
}

RedisServer::~RedisServer()
{
    if (m_pid > 0)
        kill();
    nftw(
        m_dir.c_str(), [](const char* p, const struct stat*, int, FTW*) { return remove(p); }, 16,
        FTW_DEPTH | FTW_PHYS);
}

void RedisServer::write_file(const std::string& name, const std::string& content)
{
    std::string path = m_dir + "/" + name;
    FILE* f = fopen(path.c_str(), "w");
    if (!f || fwrite(content.data(), 1, content.size(), f) != content.size() || fclose(f) != 0)
        die("cannot write " + path);
}

std::string RedisServer::url(int db) const
{
    return std::string(m_options.tls ? "rediss" : "redis") + "://127.0.0.1:" + std::to_string(m_port) + "/" +
           std::to_string(db);
}

void RedisServer::start()
{
    if (m_pid > 0)
        die("start() while running");
    // The port was free when chosen; a restart may race its TIME_WAIT (redis sets SO_REUSEADDR).
    spawn();
    wait_ready();
}

void RedisServer::spawn()
{
    std::string port = std::to_string(m_port);
    std::vector<std::string> args{m_binary, "--bind", "127.0.0.1", "--appendonly", "no", "--dir", m_dir};
    args.insert(args.end(), {"--logfile", m_dir + "/redis.log", "--daemonize", "no", "--protected-mode", "no"});
    // Persistent: SIGTERM saves the RDB file, the next start loads it (what a store of used
    // nonces needs across a restart of Redis itself).
    if (m_options.persistent)
        args.insert(args.end(), {"--save", "3600", "1"});
    else
        args.insert(args.end(), {"--save", ""});
    if (m_options.tls) {
        args.insert(args.end(),
                    {"--port", "0", "--tls-port", port, "--tls-cert-file", m_dir + "/server.crt", "--tls-key-file",
                     m_dir + "/server.key", "--tls-ca-cert-file", m_dir + "/ca.crt", "--tls-auth-clients", "no"});
    } else {
        args.insert(args.end(), {"--port", port});
    }
    if (m_options.requirepass)
        args.insert(args.end(), {"--requirepass", *m_options.requirepass});
    for (const std::string& user : m_options.acl_users) {
        args.push_back("--user");
        size_t start = 0;
        while (start < user.size()) {  // one argument per word of the ACL line
            size_t end = user.find(' ', start);
            args.push_back(user.substr(start, end == std::string::npos ? std::string::npos : end - start));
            start = end == std::string::npos ? user.size() : end + 1;
        }
    }
    std::vector<char*> argv;
    for (std::string& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawn(&m_pid, m_binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        die("cannot start " + m_binary + ": " + strerror(rc));
}

void RedisServer::wait_ready()
{
    for (int i = 0; i < 500; ++i) {
        if (accepts(m_port))
            return;
        int status = 0;
        if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
            m_pid = -1;
            die("redis-server exited at startup; see its log (kept) in " + m_dir + "/redis.log");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    die("redis-server did not accept connections on port " + std::to_string(m_port) + " within 5 s");
}

void RedisServer::stop()
{
    if (m_pid <= 0)
        return;
    ::kill(m_pid, SIGTERM);
    waitpid(m_pid, nullptr, 0);
    m_pid = -1;
}

void RedisServer::kill()
{
    if (m_pid <= 0)
        return;
    ::kill(m_pid, SIGKILL);
    waitpid(m_pid, nullptr, 0);
    m_pid = -1;
}

}  // namespace cvm::test
