// Store::compare_and_set on the stores of one broker (MemoryStore, and the FileStore of
// [volumes] state_file), and the file's format, locking and failures.
#include <doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "broker_fixture.h"
#include "file_store.h"
#include "store_contract.h"

using namespace cvm;
using namespace cvm::broker;
using namespace cvm::test;

TEST_CASE("memory store: compare_and_set")
{
    MemoryStore s;
    check_compare_and_set(s);
    check_concurrent_advances({&s}, 4);
}

TEST_CASE("memory store: an expired entry is absent for compare_and_set, a live one is not")
{
    struct Clock final : kds::Clock {
        int64_t t = 1000;
        int64_t now() override { return t; }
        void sleep(int64_t seconds) override { t += seconds; }
    } clock;
    MemoryStore s(&clock);
    REQUIRE(s.put("cvmkb:nonce:x", b("1"), 10).ok());
    CHECK_FALSE(s.compare_and_set("cvmkb:nonce:x", std::nullopt, b("2")).value());
    clock.t += 10;
    CHECK_FALSE(s.compare_and_set("cvmkb:nonce:x", b("1"), b("2")).value());
    CHECK(s.compare_and_set("cvmkb:nonce:x", std::nullopt, b("3")).value());
    clock.t += 1000;  // compare_and_set's entries do not expire
    CHECK(str(s.get("cvmkb:nonce:x").value()) == "3");
}

TEST_CASE("file store: compare_and_set, persisted across instances and processes' views")
{
    test::BrokerFiles dir;
    std::string path = dir.dir() + "/volumes.json";
    FileStore s(path);
    CHECK(s.describe() == "file " + path);
    CHECK(s.ping().ok());  // a missing file is an empty store
    check_compare_and_set(s);
    REQUIRE(s.put("cvmkb:volume:data", b("v1 3 00ff"), 0).ok());
    CHECK(s.set_if_absent("cvmkb:volume:logs", b("v1 1 00ff"), 0).value());
    CHECK_FALSE(s.set_if_absent("cvmkb:volume:logs", b("v1 2 00ff"), 0).value());
    // Another instance (the operator's `cvm broker volume`) reads the same file, and writes it.
    FileStore other(path);
    CHECK(str(other.get("cvmkb:volume:data").value()) == "v1 3 00ff");
    REQUIRE(other.compare_and_set("cvmkb:volume:data", b("v1 3 00ff"), b("v1 reset")).ok());
    CHECK(str(s.get("cvmkb:volume:data").value()) == "v1 reset");
    // The file: JSON, base64 values, mode 0600, no temporary file left.
    std::string text = read_text_file(path, 1 << 16).value();
    CHECK(text.starts_with("{\"cvmkb-state\":1,\"entries\":{"));
    CHECK(text.find("\"cvmkb:volume:data\":\"djEgcmVzZXQ=\"") != std::string::npos);
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    check_concurrent_advances({&s, &other}, 2);  // two instances on one file, as broker and operator
}

TEST_CASE("file store: refuses TTLs and odd keys; a damaged file is Unavailable, never empty")
{
    test::BrokerFiles dir;
    std::string path = dir.dir() + "/volumes.json";
    FileStore s(path);
    CHECK(s.put("cvmkb:volume:a", b("x"), 60).error().code() == Errc::Config);
    CHECK(s.set_if_absent("cvmkb:volume:a", b("x"), 60).error().code() == Errc::Config);
    CHECK(s.put("a\"b", b("x"), 0).error().code() == Errc::Config);
    CHECK(s.put("a b", b("x"), 0).error().code() == Errc::Config);
    CHECK(s.put("", b("x"), 0).error().code() == Errc::Config);
    REQUIRE(s.put("cvmkb:volume:a", b("v1 1 aa"), 0).ok());

    for (const char* damaged :
         {"", "{", "[]", "{\"cvmkb-state\":2,\"entries\":{}}", "{\"cvmkb-state\":1}",
          "{\"cvmkb-state\":1,\"entries\":[]}", "{\"cvmkb-state\":1,\"entries\":{\"k\":\"AA\"}}",
          "{\"cvmkb-state\":1,\"entries\":{\"k\":1}}",
          "{\"cvmkb-state\":1,\"entries\":{\"k\":\"AA==\",\"k\":\"AA==\"}}",
          "{\"cvmkb-state\":1,\"entries\":{},\"more\":1}", "{\"cvmkb-state\":1,\"entries\":{\"a b\":\"AA==\"}}"}) {
        dir.write("volumes.json", damaged);
        auto got = s.get("cvmkb:volume:a");
        REQUIRE_MESSAGE(!got.ok(), damaged);
        CHECK(got.error().code() == Errc::Unavailable);
        CHECK(std::string(got.error().message()).find(path) != std::string::npos);
        CHECK(s.compare_and_set("cvmkb:volume:a", std::nullopt, b("v1 1 bb")).error().code() == Errc::Unavailable);
        CHECK_FALSE(s.ping().ok());
    }
    // A state file in a directory that does not exist cannot be locked.
    FileStore nowhere(dir.dir() + "/missing/volumes.json");
    CHECK(nowhere.get("cvmkb:volume:a").error().code() == Errc::Unavailable);
}
