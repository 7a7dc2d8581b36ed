// The newc writer: golden bytes, round trips through the reader, ordering, path refusals.
#include <doctest.h>

#include <string>

#include "initramfs/cpio.h"
#include "temp_dir.h"

using namespace cvm;
using namespace cvm::initramfs;

namespace {

Bytes bytes_of(std::string_view s)
{
    return Bytes(s.begin(), s.end());
}

Bytes write_archive(const Archive& a, uint32_t mtime = 0)
{
    BufferSink sink;
    REQUIRE(a.write(sink, mtime).ok());
    return sink.bytes();
}

std::vector<std::string> paths_of(const Bytes& archive)
{
    auto entries = read_newc(archive);
    REQUIRE(entries.ok());
    std::vector<std::string> out;
    for (const NewcEntry& e : entries.value())
        out.push_back(e.path);
    return out;
}

void check_refused(Result<void> r, std::string_view fragment)
{
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Config);
    CHECK(r.error().message().find(fragment) != std::string_view::npos);
}

}  // namespace

TEST_CASE("a tiny archive is byte-exact with GNU cpio's, inodes from 1 and no 512-byte blocking")
{
    // Made with `cpio -o -H newc --reproducible -R 0:0` from the same tree (mtimes 0); GNU cpio
    // numbers inodes from 0 and pads the archive to 512 bytes, which is the only difference.
    using namespace std::string_literals;
    // One member per line pair: c_magic, c_ino, c_mode, c_uid, c_gid, c_nlink, c_mtime,
    // c_filesize, c_maj, c_min, c_rmaj, c_rmin, c_namesize, c_chksum; name, padding, data, padding.
    // clang-format off
    const std::string golden =
        "070701" "00000001" "000041ED" "00000000" "00000000" "00000002" "00000000" "00000000"
        "00000000" "00000000" "00000000" "00000000" "00000004" "00000000" "bin\0" "\0\0"s +
        "070701" "00000002" "000081A4" "00000000" "00000000" "00000001" "00000000" "0000000A"
        "00000000" "00000000" "00000000" "00000000" "00000007" "00000000" "bin/sh\0" "\0\0\0"s +
        "#!/bin/sh\n" "\0\0"s +
        "070701" "00000003" "000081ED" "00000000" "00000000" "00000001" "00000000" "00000006"
        "00000000" "00000000" "00000000" "00000000" "00000005" "00000000" "init\0" "\0"s +
        "hello\n" "\0\0"s +
        "070701" "00000004" "0000A1FF" "00000000" "00000000" "00000001" "00000000" "00000003"
        "00000000" "00000000" "00000000" "00000000" "00000005" "00000000" "sbin\0" "\0"s +
        "bin" "\0"s +
        "070701" "00000000" "00000000" "00000000" "00000000" "00000001" "00000000" "00000000"
        "00000000" "00000000" "00000000" "00000000" "0000000B" "00000000" "TRAILER!!!\0" "\0\0\0"s;
    // clang-format on
    REQUIRE(golden.size() == 616);

    Archive a;
    REQUIRE(a.add_symlink("sbin", "bin").ok());
    REQUIRE(a.add_file("init", bytes_of("hello\n"), Exec::Yes).ok());
    REQUIRE(a.add_file("bin/sh", bytes_of("#!/bin/sh\n"), Exec::No).ok());
    Bytes out = write_archive(a);
    CHECK(std::string(out.begin(), out.end()) == golden);
    CHECK(a.archive_bytes() == out.size());
    CHECK(a.size() == 4);
}

TEST_CASE("round trip: every field the writer fixes, as the reader sees it")
{
    Archive a;
    REQUIRE(a.add_file("/etc/cvminit.toml", bytes_of("a = 1\n"), Exec::No).ok());
    REQUIRE(a.add_file("init",
                       bytes_of("\x7f"
                                "ELF"),
                       Exec::Yes)
                .ok());
    REQUIRE(a.add_symlink("workload/bin", "/usr/bin").ok());
    REQUIRE(a.add_directory("workload/empty").ok());
    Bytes out = write_archive(a, 1700000000);
    auto entries = read_newc(out);
    REQUIRE(entries.ok());
    const auto& e = entries.value();
    REQUIRE(e.size() == 6);
    const char* paths[] = {"etc", "etc/cvminit.toml", "init", "workload", "workload/bin", "workload/empty"};
    const uint32_t modes[] = {0040755, 0100644, 0100755, 0040755, 0120777, 0040755};
    for (size_t i = 0; i < e.size(); ++i) {
        CAPTURE(i);
        CHECK(e[i].path == paths[i]);
        CHECK(e[i].mode == modes[i]);
        CHECK(e[i].ino == i + 1);
        CHECK(e[i].nlink == ((modes[i] & 0170000) == 0040000 ? 2u : 1u));
        CHECK(e[i].uid == 0);
        CHECK(e[i].gid == 0);
        CHECK(e[i].mtime == 1700000000);
        CHECK(e[i].dev_major + e[i].dev_minor + e[i].rdev_major + e[i].rdev_minor == 0);
    }
    CHECK(Bytes(e[1].data.begin(), e[1].data.end()) == bytes_of("a = 1\n"));
    CHECK(Bytes(e[4].data.begin(), e[4].data.end()) == bytes_of("/usr/bin"));
    CHECK(e[0].data.empty());
}

TEST_CASE("entries are in bytewise path order, parents first, whatever the order of the adds")
{
    Archive forward, backward;
    const char* paths[] = {"a", "a-b", "a/b", "z", "\xc3\xa9", "A", "a/b/c"};
    for (const char* p : paths)
        REQUIRE(forward.add_file(std::string(p) + "/f", bytes_of(p), Exec::No).ok());
    for (size_t i = std::size(paths); i-- > 0;)
        REQUIRE(backward.add_file(std::string(paths[i]) + "/f", bytes_of(paths[i]), Exec::No).ok());
    Bytes out = write_archive(forward);
    CHECK(out == write_archive(backward));
    std::vector<std::string> want = {"A",       "A/f",   "a",   "a-b", "a-b/f", "a/b",      "a/b/c",
                                     "a/b/c/f", "a/b/f", "a/f", "z",   "z/f",   "\xc3\xa9", "\xc3\xa9/f"};
    CHECK(paths_of(out) == want);
}

TEST_CASE("implied parent directories, and an explicit directory after them")
{
    Archive a;
    REQUIRE(a.add_file("lib/modules/6.1/kernel/x.ko.xz", bytes_of("x"), Exec::No).ok());
    CHECK(a.size() == 5);
    REQUIRE(a.add_directory("lib/modules").ok());  // implied before: not a duplicate
    check_refused(a.add_directory("lib/modules"), "added twice");
    check_refused(a.add_file("lib", bytes_of("x"), Exec::No), "parent directory of another entry");
    check_refused(a.add_file("lib/modules/6.1/kernel/x.ko.xz/y", bytes_of("y"), Exec::No), "is not a directory");
    CHECK(a.size() == 5);  // refused adds change nothing
}

TEST_CASE("paths are normalised, and unsafe ones refused")
{
    CHECK(normalize_path("/etc//./cvminit/modules/").value() == "etc/cvminit/modules");
    CHECK(normalize_path("./init").value() == "init");
    CHECK(normalize_path("a/.../b").value() == "a/.../b");  // "..." is an ordinary name

    Archive a;
    REQUIRE(a.add_file("/init", bytes_of("x"), Exec::Yes).ok());
    check_refused(a.add_file("init", bytes_of("x"), Exec::Yes), "added twice");
    check_refused(a.add_file("./init", bytes_of("x"), Exec::Yes), "added twice");
    check_refused(a.add_file("//init", bytes_of("x"), Exec::Yes), "added twice");
    check_refused(a.add_file("../etc/passwd", bytes_of("x"), Exec::No), "'..'");
    check_refused(a.add_file("a/../../b", bytes_of("x"), Exec::No), "'..'");
    check_refused(a.add_file("a/..", bytes_of("x"), Exec::No), "'..'");
    check_refused(a.add_file("", bytes_of("x"), Exec::No), "names the root");
    check_refused(a.add_file("/", bytes_of("x"), Exec::No), "names the root");
    check_refused(a.add_file("/./", bytes_of("x"), Exec::No), "names the root");
    check_refused(a.add_file(std::string_view("a\0b", 3), bytes_of("x"), Exec::No), "NUL");
    check_refused(a.add_file("TRAILER!!!", bytes_of("x"), Exec::No), "end the archive");
    check_refused(a.add_file("/TRAILER!!!/x", bytes_of("x"), Exec::No), "end the archive");  // implied parent
    CHECK(normalize_path("x/TRAILER!!!").ok());
    check_refused(a.add_file(std::string(256, 'n'), bytes_of("x"), Exec::No), "component of 256 bytes");
    std::string deep;
    for (int i = 0; i < 1024; ++i)
        deep += "abc/";
    check_refused(a.add_file(deep + "f", bytes_of("x"), Exec::No), "longer than 4095");
    check_refused(a.add_symlink("l", ""), "symlink target");
    check_refused(a.add_symlink("l", std::string_view("a\0b", 3)), "symlink target");
    CHECK(a.size() == 1);
    CHECK(a.add_file("a/.../b", bytes_of("x"), Exec::No).ok());
}

TEST_CASE("host files are streamed, and must not change between add and write")
{
    test::TempDir dir;
    std::string exe = dir.write("exe", "#!/bin/sh\necho hi\n", 0700);
    std::string data = dir.write("data", "payload", 0600);
    Archive a;
    REQUIRE(a.add_host_file("bin/exe", exe, std::nullopt).ok());
    REQUIRE(a.add_host_file("etc/data", data, std::nullopt).ok());
    REQUIRE(a.add_host_file("init", data, Exec::Yes).ok());
    Bytes out = write_archive(a);
    auto entries = read_newc(out);  // borrows `out`
    REQUIRE(entries.ok());
    REQUIRE(entries->size() == 5);
    CHECK(entries.value()[1].mode == 0100755);  // bin/exe: an execute bit on the host
    CHECK(std::string(entries.value()[1].data.begin(), entries.value()[1].data.end()) == "#!/bin/sh\necho hi\n");
    CHECK(entries.value()[3].mode == 0100644);  // etc/data
    CHECK(entries.value()[4].mode == 0100755);  // init: forced

    check_refused(a.add_host_file("dir", dir.path(), std::nullopt), "not a regular file");
    auto missing = a.add_host_file("m", dir.at("missing"), std::nullopt);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code() == Errc::Io);

    SUBCASE("grown")
    {
        dir.write("data", "payload and more", 0600);
    }
    SUBCASE("replaced by another file of the same size")
    {
        // Made before the old one goes, so it cannot reuse the old inode number.
        dir.write("data2", "PAYLOAD", 0600);
        REQUIRE(rename(dir.at("data2").c_str(), data.c_str()) == 0);
    }
    SUBCASE("removed")
    {
        REQUIRE(unlink(data.c_str()) == 0);
    }
    BufferSink sink;
    auto written = a.write(sink, 0);
    REQUIRE_FALSE(written.ok());
    CHECK(written.error().code() == Errc::Io);
}
