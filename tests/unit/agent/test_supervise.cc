#include <doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "base/file.h"
#include "fatal.h"
#include "stages.h"
#include "supervise.h"

using namespace cvm;
using namespace cvm::agent;

namespace {

// Blocks the supervisor's signals for the duration of a test, as the agent's early stage does.
struct BlockedSignals {
    BlockedSignals()
    {
        sigset_t s;
        sigemptyset(&s);
        for (int sig : {SIGCHLD, SIGTERM, SIGINT})
            sigaddset(&s, sig);
        pthread_sigmask(SIG_BLOCK, &s, &old);
    }
    ~BlockedSignals() { pthread_sigmask(SIG_SETMASK, &old, nullptr); }
    sigset_t old;
};

std::string temp_dir()
{
    std::string dir = std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/cvm_agent_XXXXXX";
    REQUIRE(mkdtemp(dir.data()));
    return dir;
}

// Isolation off: these tests are about the environment, signals and status, and run unprivileged
// too; test_confine_live.cc runs the strict confinement.
Confinement unconfined()
{
    Confinement c;
    c.isolation = cmdline::Isolation::Off;
    return c;
}

proto::Release sample_release()
{
    proto::Release r;
    std::string db = "s3cret", token = "tok";
    r.secrets.push_back({"db", SecretBytes::copy_of({reinterpret_cast<const uint8_t*>(db.data()), db.size()}),
                         std::string("DB_PASSWORD")});
    r.secrets.push_back(
        {"token", SecretBytes::copy_of({reinterpret_cast<const uint8_t*>(token.data()), token.size()}), std::nullopt});
    return r;
}

}  // namespace

TEST_CASE("workload: exactly the configured env plus env-marked secrets; status reported")
{
    BlockedSignals blocked;
    std::string dir = temp_dir();
    std::string out = dir + "/env";
    Workload w{{"/bin/sh", "-c", "env > " + out + "; exit 3"}, {{"GREETING", "hi"}}, STDERR_FILENO, unconfined()};
    auto pid = start_workload(w, sample_release());
    REQUIRE(pid.ok());
    int status = supervise(pid.value());
    CHECK(describe_status(status) == "exited with status 3");
    std::string env = read_text_file(out, 4096).value();
    CHECK(env.find("GREETING=hi\n") != std::string::npos);
    CHECK(env.find("DB_PASSWORD=s3cret\n") != std::string::npos);
    CHECK(env.find("tok") == std::string::npos);    // token has no env name: file only
    CHECK(env.find("HOME=") == std::string::npos);  // nothing inherited from the agent
    std::filesystem::remove_all(dir);
}

TEST_CASE("workload: SIGTERM to the supervisor reaches the workload")
{
    BlockedSignals blocked;
    auto pid = start_workload({{"/bin/sleep", "30"}, {}, STDERR_FILENO, unconfined()}, {});
    REQUIRE(pid.ok());
    pthread_kill(pthread_self(), SIGTERM);  // pending on this thread until supervise() takes it
    int status = supervise(pid.value());
    CHECK(describe_status(status).rfind("killed by signal 15", 0) == 0);
}

TEST_CASE("workload: a relative command is refused; a missing one is an error naming it, the child reaped")
{
    BlockedSignals blocked;
    CHECK_FALSE(start_workload({{"sh"}, {}, STDERR_FILENO, unconfined()}, {}).ok());
    auto pid = start_workload({{"/nonexistent/workload"}, {}, STDERR_FILENO, unconfined()}, {});
    REQUIRE_FALSE(pid.ok());
    CHECK(pid.error().errno_value() == ENOENT);
    CHECK(std::string(pid.error().message()) ==
          "failed to execute /nonexistent/workload for the workload: No such file or directory");
    CHECK(waitpid(-1, nullptr, WNOHANG) < 0);  // ECHILD: nothing left to reap
    CHECK(errno == ECHILD);
}

TEST_CASE("secrets: directory 0700, files 0400 with exact contents")
{
    std::string dir = temp_dir();
    std::string secrets = dir + "/secrets";
    REQUIRE(mkdir(secrets.c_str(), 0755) == 0);  // an existing, too-open directory is tightened
    auto summary = write_secrets(secrets, sample_release());
    REQUIRE(summary.ok());
    CHECK(summary.value() == "2 in " + secrets + ": db (+env DB_PASSWORD), token");
    struct stat st {};
    REQUIRE(stat(secrets.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0700);
    REQUIRE(stat((secrets + "/db").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0400);
    CHECK(read_text_file(secrets + "/db", 64).value() == "s3cret");
    CHECK(read_text_file(secrets + "/token", 64).value() == "tok");
    CHECK(summary.value().find("s3cret") == std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("secrets: owned by workload.user and workload.group when set")
{
    std::string dir = temp_dir();
    std::string secrets = dir + "/secrets";
    auto summary = write_secrets(secrets, sample_release(), 1234, 5678);
    if (geteuid() != 0) {  // only root may give files away
        REQUIRE_FALSE(summary.ok());
        CHECK(summary.error().errno_value() == EPERM);
        CHECK(std::string(summary.error().message()).find("uid 1234 gid 5678") != std::string::npos);
    } else {
        REQUIRE(summary.ok());
        for (const std::string& path : {secrets, secrets + "/db", secrets + "/token"}) {
            CAPTURE(path);
            struct stat st {};
            REQUIRE(stat(path.c_str(), &st) == 0);
            CHECK(st.st_uid == 1234);
            CHECK(st.st_gid == 5678);
        }
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("fatal: errno names for the FATAL line")
{
    CHECK(std::string(errno_name(ENOENT)) == "ENOENT");
    CHECK(std::string(errno_name(ECONNREFUSED)) == "ECONNREFUSED");
    CHECK(std::string(errno_name(4242)) == "errno 4242");
}
