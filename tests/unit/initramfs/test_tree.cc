// Host trees: reproducible whatever the host metadata, symlinks never followed.
#include <doctest.h>

#include <string>
#include <sys/stat.h>

#include "initramfs/cpio.h"
#include "initramfs/tree.h"
#include "temp_dir.h"

using namespace cvm;
using namespace cvm::initramfs;

namespace {

Bytes archive_of(const std::string& dir)
{
    Archive a;
    REQUIRE(add_tree(a, dir, "workload").ok());
    BufferSink sink;
    REQUIRE(a.write(sink, 0).ok());
    return sink.bytes();
}

// The same tree twice: different creation order (so a different readdir order on most file
// systems), mtimes and permission bits, same names, types, contents and execute-ness.
void make_tree(const test::TempDir& t, bool second)
{
    time_t mtime = second ? 2000000000 : 1;
    if (!second) {
        t.mkdir("bin", 0700);
        t.mkdir("etc");
        t.write("bin/app", "#!/bin/sh\n", 0700, mtime);
        t.write("etc/a", "A", 0600, mtime);
        t.write("etc/b", "B", 0644, mtime);
        t.symlink("../bin/app", "etc/app");
        t.mkdir("empty");
    } else {
        t.mkdir("empty", 0777);
        t.mkdir("etc", 0750);
        t.symlink("../bin/app", "etc/app");
        t.write("etc/b", "B", 0444, mtime);
        t.write("etc/a", "A", 0664, mtime);
        t.mkdir("bin");
        t.write("bin/app", "#!/bin/sh\n", 0751, mtime);
    }
    for (const char* p : {"bin", "etc", "empty"})
        t.touch(p, mtime);
}

}  // namespace

TEST_CASE("the same tree gives the same bytes, whatever its mtimes, modes and readdir order")
{
    test::TempDir one, two;
    make_tree(one, false);
    make_tree(two, true);
    Bytes a = archive_of(one.path());
    CHECK(a == archive_of(two.path()));
    auto entries = read_newc(a);
    REQUIRE(entries.ok());
    std::vector<std::pair<std::string, uint32_t>> got;
    for (const NewcEntry& e : entries.value())
        got.emplace_back(e.path, e.mode);
    std::vector<std::pair<std::string, uint32_t>> want = {
        {"workload", 0040755},         {"workload/bin", 0040755},   {"workload/bin/app", 0100755},
        {"workload/empty", 0040755},   {"workload/etc", 0040755},   {"workload/etc/a", 0100644},
        {"workload/etc/app", 0120777}, {"workload/etc/b", 0100644},
    };
    CHECK(got == want);
}

TEST_CASE("symlinks are kept as symlinks and never followed")
{
    test::TempDir outside, t;
    outside.write("secret", "not for the guest");
    t.symlink(outside.at("secret"), "abs");
    t.symlink("../../../../etc/passwd", "up");
    t.symlink(outside.path(), "dir");
    t.symlink("dangling", "dangling-link");
    Bytes out = archive_of(t.path());
    CHECK(std::string(out.begin(), out.end()).find("not for the guest") == std::string::npos);
    auto entries = read_newc(out);
    REQUIRE(entries.ok());
    REQUIRE(entries->size() == 5);
    for (size_t i = 1; i < 5; ++i)
        CHECK(entries.value()[i].mode == 0120777);
    CHECK(std::string(entries.value()[1].data.begin(), entries.value()[1].data.end()) == outside.at("secret"));
    CHECK(std::string(entries.value()[4].data.begin(), entries.value()[4].data.end()) == "../../../../etc/passwd");
}

TEST_CASE("the root named by the caller may be a symlink; other file types are refused")
{
    test::TempDir t;
    t.mkdir("real");
    t.write("real/f", "f");
    t.symlink(t.at("real"), "link");
    Archive a;
    REQUIRE(add_tree(a, t.at("link"), "/workload/").ok());
    CHECK(a.size() == 2);

    REQUIRE(mkfifo(t.at("real/fifo").c_str(), 0644) == 0);
    Archive b;
    auto r = add_tree(b, t.at("real"), "workload");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Config);
    CHECK(r.error().message().find("is a FIFO") != std::string_view::npos);

    auto not_dir = add_tree(b, t.at("real/f"), "w");
    REQUIRE_FALSE(not_dir.ok());
    CHECK(not_dir.error().code() == Errc::Config);
    auto escape = add_tree(b, t.at("real"), "../w");
    REQUIRE_FALSE(escape.ok());
}
