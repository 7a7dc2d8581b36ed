// The demo and end-to-end workload: what a real workload would do with cvminit's hand-off, made
// visible on the console. It lists the secrets directory with modes and contents, shows which
// secrets reached its environment, checks that none reached the agent's (PID 1's) environment,
// and exits with the status given as its argument so the agent's report of it can be checked.
// Given a directory as its second argument (the data volume), it reads back the file a previous
// boot left there, or writes it on the first boot; it also says whether its root is read-only.
// It prints secret values on purpose: it is a demonstration with demo secrets, not a template.
#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

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
    int status = argc > 1 ? atoi(argv[1]) : 0;
    printf("demo-workload: started\n");
    list_secrets("/run/secrets");
    for (char** e = environ; *e; ++e)
        printf("demo-workload: env %s\n", *e);
    std::string pid1_env = read_all("/proc/1/environ");
    for (char** e = environ; *e; ++e) {
        std::string name(*e, strcspn(*e, "="));
        bool leaked = pid1_env.find(name + "=") != std::string::npos;
        printf("demo-workload: %s in the agent's own environment: %s\n", name.c_str(), leaked ? "YES" : "no");
    }
    if (argc > 2) {
        root_mode();
        data_round_trip(argv[2]);
    }
    printf("demo-workload: exiting with status %d\n", status);
    fflush(stdout);
    return status;
}
