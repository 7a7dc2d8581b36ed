// The handoff's check before execve, and its mount points in the workload's root: a missing command, a command without
// an execute bit, a script whose "#!" interpreter or a dynamic ELF whose PT_INTERP loader is missing are named as such,
// with what to do about each; chains as deep as fs/exec.c: exec_binprm() allows pass.
#include <doctest.h>

#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "../initramfs/elf_builder.h"
#include "../initramfs/temp_dir.h"
#include "workload_check.h"

using namespace cvm;
using namespace cvm::agent;
using test::as_string;
using test::ElfSpec;
using test::make_elf;

namespace {

// A workload root with /bin and /lib.
struct Root : test::TempDir {
    Root()
    {
        mkdir("bin");
        mkdir("lib");
    }
    void put(const std::string& rel, const std::string& content, mode_t mode = 0755) const
    {
        write(rel.substr(1), content, mode);
    }
};

std::string dynamic_elf(const std::string& loader, uint8_t elf_class = 2)
{
    ElfSpec s;
    s.interp = loader;
    s.elf_class = elf_class;
    return as_string(make_elf(s));
}

const std::string STATIC_ELF = as_string(make_elf(ElfSpec{}));

}  // namespace

TEST_CASE("a workload that can run passes")
{
    Root r;
    r.put("/bin/sh", STATIC_ELF);
    r.put("/bin/app", "#!/bin/sh\necho hi\n");
    r.put("/lib/ld-musl-x86_64.so.1", STATIC_ELF);
    r.put("/bin/dyn", dynamic_elf("/lib/ld-musl-x86_64.so.1"));
    CHECK_FALSE(check_executable(r.path(), "/bin/app").has_value());
    CHECK_FALSE(check_executable(r.path(), "/bin/sh").has_value());
    CHECK_FALSE(check_executable(r.path(), "/bin/dyn").has_value());
}

TEST_CASE("a script whose interpreter is missing names the interpreter and the #! line")
{
    Root r;
    r.put("/bin/app", "#!/usr/bin/python3 -u\nprint(1)\n");
    auto p = check_executable(r.path(), "/bin/app");
    REQUIRE(p.has_value());
    CHECK(p->error.errno_value() == ENOENT);
    CHECK(p->hint == "interpreter /usr/bin/python3 of /bin/app is missing from the root: add it to the workload's "
                     "tree, or change the \"#!\" line of /bin/app");
}

TEST_CASE("a dynamic ELF whose loader is missing names the loader, not a first line")
{
    Root r;
    r.put("/bin/app", dynamic_elf("/lib/ld-musl-x86_64.so.1"));
    auto p = check_executable(r.path(), "/bin/app");
    REQUIRE(p.has_value());
    CHECK(p->error.errno_value() == ENOENT);
    CHECK(p->hint == "loader /lib/ld-musl-x86_64.so.1 (PT_INTERP) of /bin/app is missing from the root: install "
                     "the loader /lib/ld-musl-x86_64.so.1 in the root, or link /bin/app statically");

    // Behind a script: the ELF that names the loader is the one to link statically.
    r.put("/bin/run", "#!/bin/app\n");
    auto behind = check_executable(r.path(), "/bin/run");
    REQUIRE(behind.has_value());
    CHECK(behind->hint == "loader /lib/ld-musl-x86_64.so.1 (PT_INTERP) of /bin/app is missing from the root: "
                          "install the loader /lib/ld-musl-x86_64.so.1 in the root, or link /bin/app statically");
}

TEST_CASE("an i386 workload is read as the kernel reads it, not refused")
{
    Root r;
    r.put("/bin/app32", dynamic_elf("/lib/ld-linux.so.2", 1));
    auto p = check_executable(r.path(), "/bin/app32");
    REQUIRE(p.has_value());
    CHECK(p->hint == "loader /lib/ld-linux.so.2 (PT_INTERP) of /bin/app32 is missing from the root: install the "
                     "loader /lib/ld-linux.so.2 in the root, or link /bin/app32 statically");
    ElfSpec loader32;
    loader32.elf_class = 1;
    r.put("/lib/ld-linux.so.2", as_string(make_elf(loader32)));
    CHECK_FALSE(check_executable(r.path(), "/bin/app32").has_value());
}

TEST_CASE("a loader that is not ELF gives load_elf_binary()'s ELIBBAD")
{
    Root r;
    r.put("/lib/ld.so", "#!/bin/sh\n");
    r.put("/bin/app", dynamic_elf("/lib/ld.so"));
    auto p = check_executable(r.path(), "/bin/app");
    REQUIRE(p.has_value());
    CHECK(p->error.errno_value() == ELIBBAD);
    CHECK(p->hint == "loader /lib/ld.so (PT_INTERP) of /bin/app: the loader is not an ELF file (no \\x7fELF magic)");
}

TEST_CASE("a missing command, a command without an execute bit, a directory, a bad #! line")
{
    Root r;
    auto missing = check_executable(r.path(), "/bin/nope");
    REQUIRE(missing.has_value());
    CHECK(missing->error.errno_value() == ENOENT);
    CHECK(missing->hint == "the workload command /bin/nope is missing from the root: check [workload] command in "
                           "/etc/cvminit.toml (or cvminit.workload) and the tree given to cvm initramfs --root");

    r.put("/bin/data", STATIC_ELF, 0644);
    auto noexec = check_executable(r.path(), "/bin/data");
    REQUIRE(noexec.has_value());
    CHECK(noexec->hint ==
          "the workload command /bin/data is not executable: set its execute bit in the workload's tree");

    auto dir = check_executable(r.path(), "/bin");
    REQUIRE(dir.has_value());
    CHECK(dir->error.errno_value() == EACCES);
    CHECK(dir->hint == "the workload command /bin is not a regular file");

    r.put("/bin/empty", "#!\n");
    auto empty = check_executable(r.path(), "/bin/empty");
    REQUIRE(empty.has_value());
    CHECK(empty->error.errno_value() == ENOEXEC);
    CHECK(empty->hint == "the workload command /bin/empty: \"#!\" line names no interpreter");

    ElfSpec unterminated;
    unterminated.interp = "/lib/ld.so";
    unterminated.bad_interp_size = 5;  // "/lib/" without the NUL
    r.put("/bin/bad", as_string(make_elf(unterminated)));
    auto bad = check_executable(r.path(), "/bin/bad");
    REQUIRE(bad.has_value());
    CHECK(bad->error.errno_value() == ENOEXEC);
    CHECK(bad->hint == "the workload command /bin/bad: ELF PT_INTERP does not end in a NUL");
}

TEST_CASE("five #! rewrites ending in a dynamic ELF pass, six give ELOOP; the loader does not count")
{
    Root r;
    r.put("/lib/ld.so", STATIC_ELF);
    r.put("/bin/s0", dynamic_elf("/lib/ld.so"));
    for (int i = 1; i <= 6; ++i)
        r.put("/bin/s" + std::to_string(i), "#!/bin/s" + std::to_string(i - 1) + "\n");
    // /bin/s5 -> s4 -> s3 -> s2 -> s1 -> s0 (ELF) -> /lib/ld.so: five rewrites.
    CHECK_FALSE(check_executable(r.path(), "/bin/s5").has_value());
    auto six = check_executable(r.path(), "/bin/s6");
    REQUIRE(six.has_value());
    CHECK(six->error.errno_value() == ELOOP);
    CHECK(six->hint == "the \"#!\" interpreters of /bin/s6 nest deeper than the kernel allows (5)");

    // load_script() opens the interpreter before exec_binprm() counts the rewrite: a sixth
    // rewrite to a missing file is ENOENT, a sixth to an existing one ELOOP.
    r.put("/bin/t1", "#!/bin/missing\n");
    for (int i = 2; i <= 7; ++i)
        r.put("/bin/t" + std::to_string(i), "#!/bin/t" + std::to_string(i - 1) + "\n");
    auto missing = check_executable(r.path(), "/bin/t6");
    REQUIRE(missing.has_value());
    CHECK(missing->error.errno_value() == ENOENT);
    auto deep = check_executable(r.path(), "/bin/t7");
    REQUIRE(deep.has_value());
    CHECK(deep->error.errno_value() == ELOOP);
}

TEST_CASE("interpreters that loop end at the kernel's nesting limit")
{
    Root r;
    r.put("/bin/a", "#!/bin/b\n");
    r.put("/bin/b", "#!/bin/a\n");
    auto p = check_executable(r.path(), "/bin/a");
    REQUIRE(p.has_value());
    CHECK(p->error.errno_value() == ELOOP);
}

TEST_CASE("a mount point missing from a read-only root: the hint says to add it to the image")
{
    Root r;
    r.mkdir("dev");
    CHECK_FALSE(make_root_dir(r.path(), "dev", 0755).has_value());  // there already
    CHECK_FALSE(make_root_dir(r.path(), "tmp", 01777).has_value());
    auto elsewhere = make_root_dir(r.path() + "/no/such", "tmp", 01777);
    REQUIRE(elsewhere.has_value());
    CHECK(elsewhere->error.errno_value() == ENOENT);
    CHECK(elsewhere->hint == std::string(NO_WORKLOAD_TREE_HINT));

    // A read-only root (a dm-verity image) without /tmp: mkdir gives EROFS. In a child with its
    // own mount namespace, when the test may create one.
    const std::string ro = r.mkdir("ro");
    fflush(nullptr);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            mount("tmpfs", ro.c_str(), "tmpfs", MS_RDONLY, nullptr) != 0)
            _exit(77);
        auto p = make_root_dir(ro, "tmp", 01777);
        bool ok = p && p->error.errno_value() == EROFS &&
                  p->hint == "the workload's root has no /tmp and is read-only: add an empty /tmp directory to the "
                             "root image";
        if (!ok)
            fprintf(stderr, "make_root_dir on a read-only root: %s\n", p ? p->hint.c_str() : "no problem");
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77)
        MESSAGE("skipped the read-only root: no private mount namespace");
    else
        CHECK(WEXITSTATUS(status) == 0);
}
