#include <doctest.h>

#include <string>
#include <sys/stat.h>

#include "base/file.h"
#include "kds/cache.h"
#include "kds_test_util.h"

using namespace cvm;
using namespace cvm::kds;
using snp::Product;

TEST_CASE("cache keys separate products, chips and every TCB component")
{
    VcekId a{Product::Milan, Bytes(64, 0x11), {}};
    a.tcb.boot_loader = 3;
    a.tcb.microcode = 115;
    CHECK(vcek_cache_key(a) == "vcek-Milan-" + std::string(128, '1') + "-fmc0-bl3-tee0-snp0-ucode115.der");

    VcekId turin{Product::Turin, Bytes(8, 0xab), {}};
    VcekId fmc = turin;
    fmc.tcb.fmc = 1;
    CHECK(vcek_cache_key(turin) != vcek_cache_key(fmc));
    CHECK(cert_chain_cache_key(Product::Genoa, KeyFamily::Vlek) == "vlek-Genoa-cert_chain.pem");
    CHECK(crl_cache_key(Product::Turin, KeyFamily::Vcek) == "vcek-Turin-crl.der");
}

TEST_CASE("store then load: payload and fetch time survive; the file is private")
{
    test::ScratchDir scratch;
    auto cache = KdsCache::open(scratch.path() + "/kds").value();
    CHECK_FALSE(cache.load("x.der", 100).value().has_value());

    const Bytes payload = {0x30, 0x03, 0x02, 0x01, 0x07};
    REQUIRE(cache.store("x.der", payload, -5).ok());  // times before the epoch round-trip too
    REQUIRE(cache.store("y.der", payload, 1'700'000'123).ok());
    auto entry = cache.load("y.der", 100).value();
    REQUIRE(entry.has_value());
    CHECK(entry->data == payload);
    CHECK(entry->fetched_at == 1'700'000'123);
    CHECK(cache.load("x.der", 100).value()->fetched_at == -5);

    struct stat st {};
    REQUIRE(stat(cache.path("y.der").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(stat(cache.dir().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("damaged cache entries are Errc::Format naming the file")
{
    test::ScratchDir scratch;
    auto cache = KdsCache::open(scratch.path()).value();
    REQUIRE(cache.store("good", Bytes(10, 1), 7).ok());
    Bytes good = read_file(cache.path("good"), 100).value();

    auto damaged = [&](Bytes bytes, size_t max_size = 100) {
        REQUIRE(write_file_atomic(cache.path("bad"), bytes).ok());
        auto r = cache.load("bad", max_size);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code() == Errc::Format);
        CHECK(std::string(r.error().message()).find(cache.path("bad")) != std::string::npos);
    };
    Bytes bad_magic = good;
    bad_magic[0] = 'X';
    damaged(bad_magic);
    damaged(Bytes(good.begin(), good.end() - 1));  // truncated payload
    Bytes trailing = good;
    trailing.push_back(0);
    damaged(trailing);
    damaged(Bytes(good.begin(), good.begin() + 12));  // truncated header
    damaged(good, 9);                                 // payload over the caller's bound
}

TEST_CASE("a cache directory that cannot exist")
{
    test::ScratchDir scratch;
    REQUIRE(write_file_atomic(scratch.path() + "/file", Bytes{1}).ok());
    CHECK(KdsCache::open(scratch.path() + "/file").error().code() == Errc::Io);
    CHECK(KdsCache::open(scratch.path() + "/missing/parent").error().code() == Errc::Io);
    CHECK(KdsCache::open("").error().code() == Errc::Config);
}
