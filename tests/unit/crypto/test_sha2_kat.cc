// FIPS 180-4 known answers (the NIST CSRC example messages) for every SHA-2 we use, through both
// SHA-256 implementations and through one-shot and byte-at-a-time updates.
#include <doctest.h>
#include <string>

#include "crypto_test_util.h"

using namespace cvm;
using namespace cvm::crypto;
using test::ImplGuard;

namespace {

const std::string M448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
const std::string M896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqr"
                         "lmnopqrsmnopqrstnopqrstu";
const std::string MILLION_A(1000000, 'a');

struct Kat {
    const std::string* message;
    const char* sha256;
    const char* sha384;
    const char* sha512;
};

const std::string EMPTY;
const std::string ABC = "abc";

const Kat KATS[] = {
    {&EMPTY, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
     "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a8"
     "1a538327af927da3e"},
    {&ABC, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
     "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80"
     "e2a9ac94fa54ca49f"},
    {&M448, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
     "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05abfe8f450de5f36bc6b0455a8520bc4e6f5fe95b1fe3c8452b",
     "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70"
     "354ec631238ca3445"},
    {&M896, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
     "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039",
     "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd265"
     "45e96e55b874be909"},
    {&MILLION_A, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
     "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985",
     "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2"
     "e4eadb217ad8cc09b"},
};

template <typename D>
std::string bytewise(const std::string& m)
{
    D d;
    for (char c : m)
        d.update(as_bytes(std::string_view(&c, 1)));
    return to_hex(d.finish());
}

void check_sha256(Sha256Impl impl)
{
    ImplGuard guard(impl);
    REQUIRE(guard.ok());
    REQUIRE(sha256_impl() == impl);
    for (const auto& kat : KATS) {
        CAPTURE(kat.message->size());
        CHECK(to_hex(Sha256::of(as_bytes(*kat.message))) == kat.sha256);
        if (kat.message->size() < 1000)
            CHECK(bytewise<Sha256>(*kat.message) == kat.sha256);
    }
}

}  // namespace

TEST_CASE("SHA-256 FIPS 180-4 examples, portable")
{
    check_sha256(Sha256Impl::Portable);
}

TEST_CASE("SHA-256 FIPS 180-4 examples, SHA extensions")
{
    if (!sha256_shani_supported()) {
        MESSAGE("this CPU has no SHA extensions: only the portable path is tested");
        return;
    }
    check_sha256(Sha256Impl::ShaNi);
}

TEST_CASE("SHA-384 and SHA-512 FIPS 180-4 examples")
{
    for (const auto& kat : KATS) {
        CAPTURE(kat.message->size());
        CHECK(to_hex(Sha384::of(as_bytes(*kat.message))) == kat.sha384);
        CHECK(to_hex(Sha512::of(as_bytes(*kat.message))) == kat.sha512);
        if (kat.message->size() < 1000) {
            CHECK(bytewise<Sha384>(*kat.message) == kat.sha384);
            CHECK(bytewise<Sha512>(*kat.message) == kat.sha512);
        }
    }
}
