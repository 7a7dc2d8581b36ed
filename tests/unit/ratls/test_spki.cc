// subject_spki_from_pem and the SubjectPublicKeyInfo rules behind it (lib/ratls/spki.cc): a
// P-256 or an Ed25519 public key, and every other key refused by name.
#include <doctest.h>

#include "base/asn1.h"
#include "proto/pem.h"
#include "ratls_fixture.h"

using namespace cvm;
using namespace cvm::ratls;

namespace {

// TEST ONLY (tests/unit/proto/test_keys.cc): `openssl genpkey -algorithm ed25519`, `-pubout`.
constexpr std::string_view OPENSSL_ED25519_PUBLIC = "-----BEGIN PUBLIC KEY-----\n"
                                                    "MCowBQYDK2VwAyEAu46LJ5VowjQiZPLp/Xt+lmjGHQZgMPViNt/P4Y5JOuM=\n"
                                                    "-----END PUBLIC KEY-----\n";

std::string pem_of(ByteView der, std::string_view label)
{
    SecretBytes text = proto::pem_encode(der, label);
    return std::string(text.expose().begin(), text.expose().end());
}

Bytes oid(std::initializer_list<uint32_t> arcs)
{
    return asn1::oid(arcs);
}

Bytes ec_spki(std::initializer_list<uint32_t> curve, ByteView point)
{
    return asn1::sequence({asn1::sequence({oid({1, 2, 840, 10045, 2, 1}), oid(curve)}), asn1::bit_string(point)});
}

std::string spki_refusal(std::string_view pem)
{
    auto r = subject_spki_from_pem(pem);
    REQUIRE_FALSE(r.ok());
    return std::string(r.error().message());
}

}  // namespace

TEST_CASE("subject_spki_from_pem: P-256 and Ed25519 public keys")
{
    Bytes p256 = test::p256_spki();
    auto a = subject_spki_from_pem(pem_of(p256, "PUBLIC KEY"));
    REQUIRE_MESSAGE(a.ok(), a.error().message());
    CHECK(a.value() == p256);
    auto b = subject_spki_from_pem(OPENSSL_ED25519_PUBLIC);
    REQUIRE_MESSAGE(b.ok(), b.error().message());
    CHECK(to_hex(b.value()) ==
          "302a300506032b6570032100bb8e8b279568c2342264f2e9fd7b7e9668c61d066030f56236dfcfe18e493ae3");
}

TEST_CASE("subject_spki_from_pem: refuses every other key by name")
{
    Bytes p256 = test::p256_spki();
    ByteView point = ByteView(p256).last(65);
    CHECK(spki_refusal("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n").find("private key") !=
          std::string::npos);
    CHECK(spki_refusal("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").find("private key") !=
          std::string::npos);
    CHECK(spki_refusal(pem_of(p256, "PUBLIC KEY") + pem_of(p256, "PUBLIC KEY")).find("two PEM blocks") !=
          std::string::npos);
    CHECK(spki_refusal(pem_of(p256, "RSA PUBLIC KEY")).find("RSA") != std::string::npos);
    CHECK(spki_refusal(pem_of(p256, "CERTIFICATE")).find("PUBLIC KEY") != std::string::npos);
    CHECK(spki_refusal("").find("PUBLIC KEY") != std::string::npos);

    Bytes rsa = asn1::sequence(
        {asn1::sequence({oid({1, 2, 840, 113549, 1, 1, 1}), asn1::null()}), asn1::bit_string(Bytes{0x30, 0x00})});
    CHECK(spki_refusal(pem_of(rsa, "PUBLIC KEY")).find("an RSA key, expected P-256") != std::string::npos);
    Bytes p384 = ec_spki({1, 3, 132, 0, 34}, Bytes(97, 4));
    CHECK(spki_refusal(pem_of(p384, "PUBLIC KEY")).find("a P-384 key") != std::string::npos);
    Bytes k1 = ec_spki({1, 3, 132, 0, 10}, point);
    CHECK(spki_refusal(pem_of(k1, "PUBLIC KEY")).find("another curve") != std::string::npos);

    Bytes off_curve(point.begin(), point.end());
    off_curve[64] ^= 1;
    CHECK(
        spki_refusal(pem_of(ec_spki({1, 2, 840, 10045, 3, 1, 7}, off_curve), "PUBLIC KEY")).find("not on the curve") !=
        std::string::npos);
    Bytes compressed(point.begin(), point.begin() + 33);
    compressed[0] = 0x02;
    CHECK(spki_refusal(pem_of(ec_spki({1, 2, 840, 10045, 3, 1, 7}, compressed), "PUBLIC KEY")).find("uncompressed") !=
          std::string::npos);

    Bytes ed = test::ed25519_spki();
    Bytes ed_params = asn1::sequence(
        {asn1::sequence({oid({1, 3, 101, 112}), asn1::null()}), asn1::bit_string(ByteView(ed).last(32))});
    CHECK(spki_refusal(pem_of(ed_params, "PUBLIC KEY")).find("parameters") != std::string::npos);
    Bytes ed_short = asn1::sequence({asn1::sequence({oid({1, 3, 101, 112})}), asn1::bit_string(Bytes(31, 9))});
    CHECK(spki_refusal(pem_of(ed_short, "PUBLIC KEY")).find("31 bytes, expected 32") != std::string::npos);
    Bytes small_order(32, 0);  // the identity's encoding is 01 00..00; all-zero is a small-order point
    Bytes ed_bad = asn1::sequence({asn1::sequence({oid({1, 3, 101, 112})}), asn1::bit_string(small_order)});
    CHECK(spki_refusal(pem_of(ed_bad, "PUBLIC KEY")).find("not a valid point") != std::string::npos);
    Bytes trailing = p256;
    trailing.push_back(0);
    CHECK(spki_refusal(pem_of(trailing, "PUBLIC KEY")).find("trailing") != std::string::npos);
}
