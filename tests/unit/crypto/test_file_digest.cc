// Streaming file digests: sizes around the read chunk, non-regular files, errors that name the
// file, and the parallel API's ordering and error choice.
#include <cerrno>
#include <cstdlib>
#include <doctest.h>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "base/file.h"
#include "crypto_test_util.h"

using namespace cvm;
using namespace cvm::crypto;

namespace {

// A temporary directory removed (with the files it holds) at scope exit.
class TempDir {
public:
    TempDir() { REQUIRE(mkdtemp(m_path)); }
    ~TempDir()
    {
        for (const auto& f : m_files)
            unlink(f.c_str());
        rmdir(m_path);
    }
    std::string write(const std::string& name, ByteView data)
    {
        std::string path = std::string(m_path) + "/" + name;
        REQUIRE(write_file_atomic(path, data).ok());
        m_files.push_back(path);
        return path;
    }
    std::string path(const std::string& name) const { return std::string(m_path) + "/" + name; }

private:
    char m_path[32] = "/tmp/cvm-crypto-XXXXXX";
    std::vector<std::string> m_files;
};

constexpr size_t MIB = 1 << 20;

}  // namespace

TEST_CASE("sha256_file and sha384_file equal the in-memory digests, across the chunk size")
{
    TempDir dir;
    std::mt19937_64 rng(42);
    for (size_t size : {size_t{0}, size_t{1}, size_t{4096}, MIB - 1, MIB, MIB + 1, 3 * MIB + 17}) {
        CAPTURE(size);
        Bytes data = test::random_bytes(rng, size);
        std::string path = dir.write("f" + std::to_string(size), data);
        CHECK(sha256_file(path).value() == Sha256::of(data));
        CHECK(sha384_file(path).value() == Sha384::of(data));
    }
}

TEST_CASE("a character device and a pipe are read to their end")
{
    CHECK(to_hex(sha256_file("/dev/null").value()) ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    TempDir dir;
    std::string fifo = dir.path("fifo");
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    std::mt19937_64 rng(3);
    Bytes data = test::random_bytes(rng, 2 * MIB + 5);
    std::thread writer([&] {
        FILE* f = fopen(fifo.c_str(), "wb");
        if (f) {
            fwrite(data.data(), 1, data.size(), f);
            fclose(f);
        }
    });
    auto digest = sha256_file(fifo);
    writer.join();
    unlink(fifo.c_str());
    CHECK(digest.value() == Sha256::of(data));
}

TEST_CASE("a missing file or a directory is an Io error that names the path")
{
    TempDir dir;
    auto missing = sha256_file(dir.path("no-such-kernel"));
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code() == Errc::Io);
    CHECK(missing.error().errno_value() == ENOENT);
    CHECK(std::string(missing.error().message()).find("no-such-kernel") != std::string::npos);

    auto directory = sha384_file("/tmp");
    REQUIRE_FALSE(directory.ok());
    CHECK(directory.error().code() == Errc::Io);
    CHECK(directory.error().errno_value() == EISDIR);
}

TEST_CASE("sha256_files keeps the order of its inputs on 1, 2 and all threads")
{
    TempDir dir;
    std::mt19937_64 rng(9);
    std::vector<std::string> paths;
    std::vector<Sha256Digest> expected;
    for (size_t i = 0; i < 5; ++i) {
        Bytes data = test::random_bytes(rng, (i * 700 * 1024) % (3 * MIB) + i);
        paths.push_back(dir.write("in" + std::to_string(i), data));
        expected.push_back(Sha256::of(data));
    }
    for (unsigned threads : {1u, 2u, 0u, 64u}) {
        CAPTURE(threads);
        CHECK(sha256_files(paths, threads).value() == expected);
    }
    CHECK(sha256_files({}, 0).value().empty());

    auto pair = sha256_files_parallel(paths[3], paths[1]).value();
    CHECK(pair.first == expected[3]);
    CHECK(pair.second == expected[1]);
}

TEST_CASE("sha256_files fails with the first failing path in input order")
{
    TempDir dir;
    std::string good = dir.write("good", as_bytes("kernel"));
    std::vector<std::string> paths = {good, dir.path("missing-initrd"), dir.path("missing-kernel")};
    for (unsigned threads : {1u, 3u}) {
        auto result = sha256_files(paths, threads);
        REQUIRE_FALSE(result.ok());
        CHECK(std::string(result.error().message()).find("missing-initrd") != std::string::npos);
    }
    auto pair = sha256_files_parallel(good, dir.path("gone"));
    REQUIRE_FALSE(pair.ok());
    CHECK(std::string(pair.error().message()).find("gone") != std::string::npos);
}
