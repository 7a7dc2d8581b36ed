// The demo and end-to-end workload: what a real workload would do with cvminit's hand-off, made
// visible on the console. It lists the secrets directory with modes and contents, shows which
// secrets reached its environment, checks that none reached the agent's (PID 1's) environment,
// and exits with the status given as its argument so the agent's report of it can be checked.
// Given a directory as its second argument (the data volume), it reads back the file a previous
// boot left there, or writes it on the first boot; it shows the lines every earlier boot appended
// to boots.log there and appends its own; and it says whether its root is read-only and /tmp
// writable.
// It prints secret values on purpose: it is a demonstration with demo secrets, not a template.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "agent_client.h"
#include "agent_probe.h"
#include "isolation_probe.h"
#include "ratls_serve.h"
#include "seal_probe.h"
#include "steal_attempt.h"

extern char** environ;

namespace {

std::string read_all(const std::string& path)
{
    std::string out;
    if (FILE* f = fopen(path.c_str(), "rb")) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            out.append(buf, n);
        fclose(f);
    }
    return out;
}

void list_secrets(const char* dir)
{
    struct stat st {};
    if (stat(dir, &st) != 0) {
        printf("demo-workload: %s is missing\n", dir);
        return;
    }
    printf("demo-workload: %s mode %04o\n", dir, st.st_mode & 07777);
    DIR* d = opendir(dir);
    while (dirent* e = d ? readdir(d) : nullptr) {
        if (e->d_name[0] == '.')
            continue;
        std::string path = std::string(dir) + "/" + e->d_name;
        stat(path.c_str(), &st);
        printf("demo-workload: secret %s mode %04o: %s\n", e->d_name, st.st_mode & 07777, read_all(path).c_str());
    }
    if (d)
        closedir(d);
}

// The data volume's round trip between boots: the first boot writes, every later one reads.
void data_round_trip(const std::string& dir)
{
    std::string path = dir + "/hello.txt";
    std::string kept = read_all(path);
    if (!kept.empty()) {
        printf("demo-workload: read back %s: %s\n", path.c_str(), kept.c_str());
        return;
    }
    FILE* f = fopen(path.c_str(), "wb");
    bool ok = f && fputs("written by the first boot", f) >= 0;
    ok = f && fclose(f) == 0 && ok;
    printf("demo-workload: %s %s\n", ok ? "wrote" : "failed to write", path.c_str());
}

// Every boot of the volume appends one line, so a boot shows all that came before it: the line
// names the boot's number and the kernel's random boot_id, which no other boot has.
void boots_log(const std::string& dir)
{
    std::string path = dir + "/boots.log";
    std::string earlier = read_all(path);
    int boots = 0;
    for (size_t at = 0, end; at < earlier.size(); at = end + 1) {
        end = earlier.find('\n', at);
        if (end == std::string::npos)
            end = earlier.size();
        printf("demo-workload: an earlier boot wrote: %s\n", earlier.substr(at, end - at).c_str());
        ++boots;
    }
    if (boots == 0)
        printf("demo-workload: %s is empty: the first boot of this volume\n", path.c_str());
    std::string boot_id = read_all("/proc/sys/kernel/random/boot_id");
    boot_id.erase(boot_id.find_last_not_of("\n") + 1);
    std::string line = "boot " + std::to_string(boots + 1) + " of this volume, boot_id " + boot_id;
    FILE* f = fopen(path.c_str(), "ab");
    bool ok = f && fprintf(f, "%s\n", line.c_str()) > 0;
    ok = f && fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
    ok = f && fclose(f) == 0 && ok;
    printf("demo-workload: %s %s: %s\n", ok ? "appended to" : "failed to append to", path.c_str(), line.c_str());
}

void tmp_mode()
{
    FILE* f = fopen("/tmp/.demo-write-probe", "wb");
    printf("demo-workload: /tmp is %s\n", f ? "writable" : strerror(errno));
    if (f) {
        fclose(f);
        remove("/tmp/.demo-write-probe");
    }
}

// Who the agent started it as: what README "The workload's environment" promises.
void identity()
{
    std::string status = read_all("/proc/self/status");
    auto field = [&status](const char* name) {
        size_t at = status.find(std::string("\n") + name + ":");
        if (at == std::string::npos)
            return std::string("?");
        at = status.find_first_not_of(" \t", at + strlen(name) + 2);
        return status.substr(at, status.find('\n', at) - at);
    };
    mode_t mask = umask(0);
    umask(mask);
    char cwd[256] = "?";
    if (!getcwd(cwd, sizeof cwd))
        strcpy(cwd, "?");
    printf("demo-workload: pid %d, uid %d, gid %d, CapEff %s, cwd %s, umask %04o\n", static_cast<int>(getpid()),
           static_cast<int>(getuid()), static_cast<int>(getgid()), field("CapEff").c_str(), cwd,
           static_cast<unsigned>(mask));
}

// The descriptors it inherited (the listing's own left out).
void open_fds()
{
    std::string fds;
    DIR* d = opendir("/proc/self/fd");
    while (dirent* e = d ? readdir(d) : nullptr) {
        if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
            fds += std::string(fds.empty() ? "" : " ") + e->d_name;
    }
    if (d)
        closedir(d);
    printf("demo-workload: open descriptors: %s\n", fds.c_str());
}

void root_mode()
{
    FILE* f = fopen("/.demo-write-probe", "wb");
    printf("demo-workload: root is %s\n", f ? "writable" : (errno == EROFS ? "read-only" : strerror(errno)));
    if (f) {
        fclose(f);
        remove("/.demo-write-probe");
    }
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc == 2 && strcmp(argv[1], "--probe-isolation") == 0)
        return probe_isolation();
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "--agent-probe") == 0)  // DIR [SOCKET]
        return cvm::workload::agent_probe(argv[2], argc == 4 ? argv[3] : cvm::workload::AGENT_SOCKET);
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "--ratls-server") == 0)  // PORT [SOCKET]
        return cvm::workload::ratls_serve(argv[2], argc == 4 ? argv[3] : cvm::workload::AGENT_SOCKET);
    if (argc >= 4 && strcmp(argv[1], "--seal-probe") == 0)  // DIR POLICY...
        return cvm::workload::seal_probe(argv[2], argv + 3, argc - 3, cvm::workload::AGENT_SOCKET);
    if (argc == 4 && strcmp(argv[1], "--steal") == 0)  // BROKER_URL RESOURCE
        return cvm::workload::steal_attempt(argv[2], argv[3], cvm::workload::AGENT_SOCKET);
    int status = argc > 1 ? atoi(argv[1]) : 0;
    printf("demo-workload: started\n");
    identity();
    open_fds();
    list_secrets("/run/secrets");
    for (char** e = environ; *e; ++e)
        printf("demo-workload: env %s\n", *e);
    std::string pid1_env = read_all("/proc/1/environ");
    // Confined (the agent non-dumpable, CAP_SYS_PTRACE dropped) the check below cannot look: say so.
    if (FILE* f = fopen("/proc/1/environ", "rb"))
        fclose(f);
    else
        printf("demo-workload: the agent's environment is unreadable here: %s\n", strerror(errno));
    for (char** e = environ; *e; ++e) {
        std::string name(*e, strcspn(*e, "="));
        bool leaked = pid1_env.find(name + "=") != std::string::npos;
        printf("demo-workload: %s in the agent's own environment: %s\n", name.c_str(), leaked ? "YES" : "no");
    }
    if (argc > 2) {
        root_mode();
        tmp_mode();
        data_round_trip(argv[2]);
        boots_log(argv[2]);
    }
    printf("demo-workload: exiting with status %d\n", status);
    fflush(stdout);
    return status;
}
