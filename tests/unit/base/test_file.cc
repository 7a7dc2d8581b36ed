#include <doctest.h>

#include <cstdlib>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"

using namespace cvm;

TEST_CASE("write_file_atomic then read_file, with mode and size bound")
{
    char dir[] = "/tmp/cvm-test-XXXXXX";
    REQUIRE(mkdtemp(dir));
    std::string path = std::string(dir) + "/f";
    const uint8_t data[] = {1, 2, 3, 4, 5};
    REQUIRE(write_file_atomic(path, data, 0600).ok());

    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    CHECK(read_file(path, 5).value() == Bytes(data, data + 5));
    auto too_big = read_file(path, 4);
    REQUIRE_FALSE(too_big.ok());
    CHECK(too_big.error().code() == Errc::Format);

    auto missing = read_file(std::string(dir) + "/missing", 10);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().errno_value() == ENOENT);

    unlink(path.c_str());
    rmdir(dir);
}

TEST_CASE("read_file bounds files that do not say their size")
{
    // /dev/zero never ends: the bound must stop it.
    auto endless = read_file("/dev/zero", 100000);
    REQUIRE_FALSE(endless.ok());
    CHECK(endless.error().code() == Errc::Format);

    // /proc files report size 0 but have contents: they are read whole.
    auto status = read_text_file("/proc/self/status", 1 << 20);
    REQUIRE(status.ok());
    CHECK(status.value().find("Name:") == 0);
}

TEST_CASE("read_secret_file: whole file into wiping storage, bounded")
{
    std::string path = std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/cvm_test_secret_XXXXXX";
    int fd = mkstemp(path.data());
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, "hunter2", 7) == 7);
    close(fd);
    auto secret = cvm::read_secret_file(path, 7);
    REQUIRE(secret.ok());
    CHECK(secret.value().size() == 7);
    CHECK(secret.value().expose()[0] == 'h');
    auto big = cvm::read_secret_file(path, 6);
    REQUIRE_FALSE(big.ok());
    CHECK(big.error().message().find("larger than the 6 bytes") != std::string_view::npos);
    CHECK_FALSE(cvm::read_secret_file(path + ".missing", 7).ok());
    unlink(path.c_str());
}

TEST_CASE("read_file: a sysfs attribute (size attribute 4096, a few bytes of content) reads whole")
{
    // /sys/kernel/mm/transparent_hugepage or any attribute: sysfs reports st_size 4096.
    const char* path = "/sys/kernel/uevent_seqnum";
    struct stat st {};
    if (stat(path, &st) != 0 || st.st_size != 4096)
        return;  // not a sysfs as we know it: nothing to check here
    auto text = cvm::read_text_file(path, 32);
    REQUIRE(text.ok());
    CHECK(!text.value().empty());
    CHECK(text.value().back() == '\n');
}
