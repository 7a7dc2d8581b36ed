// FileBlockDevice: exact positioned I/O on an image file, and no access past its end.
#include <doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "storage/block_device.h"

using namespace cvm;
using namespace cvm::storage;

TEST_CASE("an image file reads back what was written and refuses ranges past its end")
{
    char path[] = "/tmp/cvm-blockdev-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(ftruncate(fd, 8192) == 0);
    close(fd);
    {
        auto dev = FileBlockDevice::open(path, FileBlockDevice::Mode::ReadWrite);
        REQUIRE(dev.ok());
        CHECK(dev->size() == 8192);
        Bytes data{1, 2, 3, 4};
        REQUIRE(dev->write_at(8188, data).ok());
        Bytes back(4);
        REQUIRE(dev->read_at(8188, back).ok());
        CHECK(back == data);
        REQUIRE(dev->flush().ok());
        auto past = dev->write_at(8189, data);
        REQUIRE_FALSE(past.ok());
        CHECK(std::string(past.error().message()).find("runs past its end (8192 bytes)") != std::string::npos);
        CHECK_FALSE(dev->read_at(UINT64_MAX - 1, back).ok());
    }
    auto ro = FileBlockDevice::open(path, FileBlockDevice::Mode::ReadOnly);
    REQUIRE(ro.ok());
    CHECK_FALSE(ro->write_at(0, Bytes{1}).ok());
    unlink(path);
    CHECK_FALSE(FileBlockDevice::open(path, FileBlockDevice::Mode::ReadOnly).ok());
}
