// The demo and end-to-end workload: what a real workload would do with cvminit's hand-off, made
// visible on the console. It lists the secrets directory with modes and contents, shows which
// secrets reached its environment, checks that none reached the agent's (PID 1's) environment,
// and exits with the status given as its argument so the agent's report of it can be checked.
// It prints secret values on purpose: it is a demonstration with demo secrets, not a template.
#include <dirent.h>
#include <sys/stat.h>

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
    printf("demo-workload: exiting with status %d\n", status);
    fflush(stdout);
    return status;
}
