// The handoff's check before execve: a missing command, a command without an execute bit, and a
// script or dynamic ELF whose interpreter is missing are named as such.
#include <doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "workload_check.h"

using namespace cvm;
using namespace cvm::agent;

namespace {

struct Root {
    std::string path;
    Root()
    {
        char name[] = "/tmp/cvm-workload-check-XXXXXX";
        REQUIRE(mkdtemp(name));
        path = name;
        REQUIRE(mkdir((path + "/bin").c_str(), 0755) == 0);
    }
    ~Root()
    {
        std::string cmd = "rm -rf '" + path + "'";
        CHECK(system(cmd.c_str()) == 0);
    }
    void write(const std::string& rel, const std::string& content, mode_t mode)
    {
        FILE* f = fopen((path + rel).c_str(), "w");
        REQUIRE(f);
        fwrite(content.data(), 1, content.size(), f);
        fclose(f);
        REQUIRE(chmod((path + rel).c_str(), mode) == 0);
    }
};

// A static ELF64 x86-64 header with one PT_INTERP naming `interp` (or none when empty).
std::string elf(const std::string& interp)
{
    std::string out(64, '\0');
    out.replace(0, 8,
                std::string("\x7f"
                            "ELF\x02\x01\x01\x00",
                            8));
    auto put = [&](size_t at, uint64_t v, int n) {
        for (int i = 0; i < n; ++i)
            out[at + i] = static_cast<char>(v >> (8 * i));
    };
    put(16, 2, 2);
    put(18, 62, 2);
    put(32, 64, 8);  // e_phoff
    put(52, 64, 2);
    put(54, 56, 2);
    put(56, 1, 2);  // e_phnum
    std::string ph(56, '\0');
    out += ph;
    put(64, interp.empty() ? 1 : 3, 4);                       // PT_LOAD or PT_INTERP
    put(64 + 8, 120, 8);                                      // p_offset
    put(64 + 32, interp.empty() ? 0 : interp.size() + 1, 8);  // p_filesz
    out += interp;
    out.push_back('\0');
    return out;
}

}  // namespace

TEST_CASE("a workload that can run passes")
{
    Root r;
    r.write("/bin/sh", elf(""), 0755);
    r.write("/bin/app", "#!/bin/sh\necho hi\n", 0755);
    CHECK_FALSE(check_executable(r.path, "/bin/app").has_value());
    CHECK_FALSE(check_executable(r.path, "/bin/sh").has_value());
}

TEST_CASE("a script whose interpreter is missing names the interpreter, not the script")
{
    Root r;
    r.write("/bin/app", "#!/usr/bin/python3 -u\nprint(1)\n", 0755);
    auto p = check_executable(r.path, "/bin/app");
    REQUIRE(p.has_value());
    CHECK(p->error.errno_value() == ENOENT);
    CHECK(p->hint.find("interpreter /usr/bin/python3 of /bin/app is missing from the root") != std::string::npos);
}

TEST_CASE("a dynamic ELF whose loader is missing names the loader")
{
    Root r;
    r.write("/bin/app", elf("/lib/ld-musl-x86_64.so.1"), 0755);
    auto p = check_executable(r.path, "/bin/app");
    REQUIRE(p.has_value());
    CHECK(p->error.errno_value() == ENOENT);
    CHECK(p->hint.find("interpreter /lib/ld-musl-x86_64.so.1 of /bin/app is missing from the root") !=
          std::string::npos);
}

TEST_CASE("a missing command, a command without an execute bit, a directory, a bad #! line")
{
    Root r;
    auto missing = check_executable(r.path, "/bin/nope");
    REQUIRE(missing.has_value());
    CHECK(missing->error.errno_value() == ENOENT);
    CHECK(missing->hint.find("the workload command /bin/nope is missing from the root") != std::string::npos);

    r.write("/bin/data", elf(""), 0644);
    auto noexec = check_executable(r.path, "/bin/data");
    REQUIRE(noexec.has_value());
    CHECK(noexec->hint.find("is not executable") != std::string::npos);

    auto dir = check_executable(r.path, "/bin");
    REQUIRE(dir.has_value());
    CHECK(dir->hint.find("not a regular file") != std::string::npos);

    r.write("/bin/empty", "#!\n", 0755);
    auto empty = check_executable(r.path, "/bin/empty");
    REQUIRE(empty.has_value());
    CHECK(empty->error.errno_value() == ENOEXEC);
    CHECK(empty->hint.find("names no interpreter") != std::string::npos);
}

TEST_CASE("interpreters that loop end at the kernel's nesting limit")
{
    Root r;
    r.write("/bin/a", "#!/bin/b\n", 0755);
    r.write("/bin/b", "#!/bin/a\n", 0755);
    auto p = check_executable(r.path, "/bin/a");
    REQUIRE(p.has_value());
    CHECK(p->error.errno_value() == ELOOP);
}
