#include <doctest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "agent_client.h"
#include "api/server.h"
#include "base/file.h"
#include "fake_provider.h"

using namespace cvm;
using namespace cvm::agent;
using namespace cvm::agent::api;

namespace {

struct TempDir {
    TempDir()
    {
        char tmpl[] = "/tmp/agent-api-XXXXXX";
        REQUIRE(mkdtemp(tmpl));
        path = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string path;
};

struct Served {
    explicit Served(ServerConfig config = {})
    {
        config.dir = dir.path + "/run/cvminit";
        mkdir((dir.path + "/run").c_str(), 0755);
        auto started = serve_workload_api(gate, test::FakeProvider::report({}), config);
        REQUIRE(started.ok());
        server = started.release_value();
    }
    TempDir dir;
    test::FakeProvider provider;
    ProviderGate gate{provider};
    std::unique_ptr<ApiServer> server;
};

UniqueFd raw_connect(const std::string& path)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    return fd;
}

std::string read_all(int fd)
{
    std::string out;
    char buffer[4096];
    for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;)
        out.append(buffer, static_cast<size_t>(n));
    return out;
}

}  // namespace

TEST_CASE("the socket: /run/cvminit 0755, agent.sock 0600 root by default")
{
    Served s;
    struct stat st {};
    REQUIRE(stat((s.dir.path + "/run/cvminit").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0755);
    REQUIRE(lstat(s.server->socket_path().c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 07777) == 0600);
    CHECK(st.st_uid == getuid());
    CHECK(st.st_gid == getgid());
    CHECK_FALSE(std::filesystem::exists(s.server->socket_path() + ".new"));
    auto answer = workload::agent_request(s.server->socket_path(), "GET", "/v1/info");
    REQUIRE(answer.ok());
    CHECK(answer->status == 200);
    CHECK(answer->body.find("\"platform\":\"sev-snp\"") != std::string::npos);
}

TEST_CASE("the socket with [agent_api] group: 0660 root:<group>")
{
    if (geteuid() != 0)
        return;  // chown to another group needs root; the mode is checked above
    ServerConfig config;
    config.group = 4242;
    Served s(config);
    struct stat st {};
    REQUIRE(lstat(s.server->socket_path().c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0660);
    CHECK(st.st_gid == 4242);
}

TEST_CASE("a stale socket is replaced; anything else at the path is refused")
{
    TempDir dir;
    test::FakeProvider provider;
    ProviderGate gate(provider);
    ServerConfig config;
    config.dir = dir.path;
    {
        auto first = serve_workload_api(gate, test::FakeProvider::report({}), config);
        REQUIRE(first.ok());
    }
    auto second = serve_workload_api(gate, test::FakeProvider::report({}), config);
    REQUIRE(second.ok());
    second.value()->stop();
    std::filesystem::remove(dir.path + "/agent.sock");
    REQUIRE(write_file_atomic(dir.path + "/agent.sock", as_bytes("not a socket"), 0600).ok());
    auto refused = serve_workload_api(gate, test::FakeProvider::report({}), config);
    REQUIRE_FALSE(refused.ok());
    CHECK(std::string(refused.error().message()).find("not a socket") != std::string::npos);
}

TEST_CASE("oversized and malformed requests are refused by the server with JSON errors")
{
    Served s;
    std::string big = "{\"user_data\":\"" + std::string(17 * 1024, '0') + "\"}";
    auto too_large = workload::agent_request(s.server->socket_path(), "POST", "/v1/evidence", big);
    REQUIRE(too_large.ok());
    CHECK(too_large->status == 413);
    CHECK(too_large->body.find("\"code\":\"TOO_LARGE\"") != std::string::npos);

    UniqueFd fd = raw_connect(s.server->socket_path());
    std::string garbage = "NOT HTTP\r\n\r\n";
    REQUIRE(write(fd.get(), garbage.data(), garbage.size()) == static_cast<ssize_t>(garbage.size()));
    std::string answer = read_all(fd.get());
    CHECK(answer.rfind("HTTP/1.1 400", 0) == 0);
    CHECK(answer.find("\"code\":\"BAD_REQUEST\"") != std::string::npos);

    auto bad_json = workload::agent_request(s.server->socket_path(), "POST", "/v1/evidence", "{\"user_data\":");
    REQUIRE(bad_json.ok());
    CHECK(bad_json->status == 400);
    CHECK(s.provider.calls.load() == 0);
}

TEST_CASE("at most 4 requests at once: the fifth connection is answered 503 BUSY")
{
    Served s;
    std::vector<UniqueFd> held;
    for (int i = 0; i < 4; ++i) {
        held.push_back(raw_connect(s.server->socket_path()));
        std::string partial = "GET /v1/info HTTP/1.1\r\n";  // and nothing more, for now
        REQUIRE(write(held.back().get(), partial.data(), partial.size()) > 0);
    }
    usleep(100 * 1000);  // the acceptor has taken all four
    auto busy = workload::agent_request(s.server->socket_path(), "GET", "/v1/info");
    REQUIRE(busy.ok());
    CHECK(busy->status == 503);
    CHECK(busy->body.find("\"code\":\"BUSY\"") != std::string::npos);
    // The held ones finish and are answered; then there is room again.
    for (UniqueFd& fd : held) {
        std::string rest = "Host: x\r\n\r\n";
        REQUIRE(write(fd.get(), rest.data(), rest.size()) > 0);
        CHECK(read_all(fd.get()).rfind("HTTP/1.1 200", 0) == 0);
    }
    held.clear();
    usleep(50 * 1000);
    auto again = workload::agent_request(s.server->socket_path(), "GET", "/v1/info");
    REQUIRE(again.ok());
    CHECK(again->status == 200);
}

TEST_CASE("the rate limit holds through the socket")
{
    Served s;
    int ok = 0, limited = 0;
    for (int i = 0; i < 30; ++i) {
        auto answer = workload::agent_request(s.server->socket_path(), "POST", "/v1/evidence", R"({"user_data":"00"})");
        REQUIRE(answer.ok());
        (answer->status == 200 ? ok : limited) += 1;
        if (answer->status != 200)
            CHECK(answer->status == 429);
    }
    // 20 at once plus whatever 10/s refilled while the 30 requests ran.
    CHECK(ok >= 20);
    CHECK(ok < 30);
    CHECK(limited == 30 - ok);
    CHECK(s.provider.calls.load() == static_cast<size_t>(ok));
}
