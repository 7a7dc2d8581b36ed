#include "proto/keys.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "proto/pem.h"

namespace cvm::proto {
namespace {

Bytes hex(std::string_view text)
{
    auto bytes = from_hex(text);
    REQUIRE(bytes);
    return *bytes;
}

Secret<32> seed_of(std::string_view text)
{
    Bytes bytes = hex(text);
    REQUIRE(bytes.size() == 32);
    Secret<32> seed;
    memcpy(seed.expose().data(), bytes.data(), 32);
    return seed;
}

std::string text_of(const SecretBytes& s)
{
    return {reinterpret_cast<const char*>(s.expose().data()), s.size()};
}

std::string pem(ByteView der, std::string_view label)
{
    return text_of(pem_encode(der, label));
}

// RFC 8032 §7.1 TEST 1 and TEST 2: SECRET KEY (the seed), PUBLIC KEY, MESSAGE, SIGNATURE.
struct Rfc8032Vector {
    std::string_view seed, public_key, message, signature;
};
constexpr Rfc8032Vector RFC8032_TESTS[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
};

// TEST ONLY key, made with `openssl genpkey -algorithm ed25519` (OpenSSL 3.0.19), its
// `openssl pkey -pubout` and `openssl pkeyutl -sign -rawin` over OPENSSL_MESSAGE.
constexpr std::string_view OPENSSL_PRIVATE_PEM = "-----BEGIN PRIVATE KEY-----\n"
                                                 "MC4CAQAwBQYDK2VwBCIEILjSBpqxDtq6g5Mc0V2FVHpjMa7lS52o6Pz+WohQtaZR\n"
                                                 "-----END PRIVATE KEY-----\n";
constexpr std::string_view OPENSSL_PUBLIC_PEM = "-----BEGIN PUBLIC KEY-----\n"
                                                "MCowBQYDK2VwAyEAu46LJ5VowjQiZPLp/Xt+lmjGHQZgMPViNt/P4Y5JOuM=\n"
                                                "-----END PUBLIC KEY-----\n";
constexpr std::string_view OPENSSL_PUBLIC_HEX = "bb8e8b279568c2342264f2e9fd7b7e9668c61d066030f56236dfcfe18e493ae3";
constexpr std::string_view OPENSSL_MESSAGE = "cvmkb/1 test message";
constexpr std::string_view OPENSSL_SIGNATURE = "6bdbe300f1a3ab2f868378064c76426e95b5d9d8f7c9fbc10909932fdf093d2d"
                                               "9cfeb581e5c90f8d8c6f7f3c3be64998ed0212a5b79d5afe83addc67fa398501";
// TEST ONLY: `openssl genpkey -algorithm x25519`: the same structure under OID 1.3.101.110.
constexpr std::string_view OPENSSL_X25519_PEM = "-----BEGIN PRIVATE KEY-----\n"
                                                "MC4CAQAwBQYDK2VuBCIEIDjk35Bfqw+jRTiiYMbdc+iKw1mCs10sIA03vFDqdtZa\n"
                                                "-----END PRIVATE KEY-----\n";

TEST_CASE("Ed25519: RFC 8032 §7.1 TEST 1 and TEST 2")
{
    for (const auto& v : RFC8032_TESTS) {
        CAPTURE(v.message);
        Ed25519KeyPair key = Ed25519KeyPair::from_seed(seed_of(v.seed));
        CHECK(to_hex(key.public_key()) == v.public_key);
        Ed25519Signature sig = key.sign(hex(v.message));
        CHECK(to_hex(sig) == v.signature);
        CHECK(ed25519_verify(key.public_key(), hex(v.message), sig));
    }
}

TEST_CASE("Ed25519: verify refuses any flipped bit in message, signature or key")
{
    Ed25519KeyPair key = Ed25519KeyPair::generate();
    const Bytes message = hex("00112233445566778899aabbccddeeff");
    const Ed25519Signature sig = key.sign(message);
    REQUIRE(ed25519_verify(key.public_key(), message, sig));
    for (size_t bit = 0; bit < message.size() * 8; ++bit) {
        Bytes changed = message;
        changed[bit / 8] ^= static_cast<uint8_t>(1 << bit % 8);
        CHECK_FALSE(ed25519_verify(key.public_key(), changed, sig));
    }
    for (size_t bit = 0; bit < sig.size() * 8; ++bit) {
        Ed25519Signature changed = sig;
        changed[bit / 8] ^= static_cast<uint8_t>(1 << bit % 8);
        CHECK_FALSE(ed25519_verify(key.public_key(), message, changed));
    }
    for (size_t bit = 0; bit < key.public_key().size() * 8; ++bit) {
        Ed25519PublicKey changed = key.public_key();
        changed[bit / 8] ^= static_cast<uint8_t>(1 << bit % 8);
        CHECK_FALSE(ed25519_verify(changed, message, sig));
    }
    CHECK_FALSE(ed25519_verify(key.public_key(), Bytes{}, sig));
    CHECK_FALSE(ed25519_verify(Ed25519KeyPair::generate().public_key(), message, sig));
}

TEST_CASE("Ed25519: PEM and base64 round trips")
{
    Ed25519KeyPair key = Ed25519KeyPair::generate();
    SecretBytes private_pem = ed25519_private_pem(key);
    auto parsed = parse_ed25519_private_pem(text_of(private_pem));
    REQUIRE(parsed.ok());
    CHECK(parsed->public_key() == key.public_key());
    CHECK(parsed->seed().equals(key.seed()));

    std::string public_pem = ed25519_public_pem(key.public_key());
    auto public_key = parse_ed25519_public_pem(public_pem);
    REQUIRE(public_key.ok());
    CHECK(public_key.value() == key.public_key());

    auto from_b64 = parse_ed25519_public_b64(ed25519_public_b64(key.public_key()));
    REQUIRE(from_b64.ok());
    CHECK(from_b64.value() == key.public_key());
    CHECK(ed25519_public_b64(Ed25519KeyPair::from_seed(seed_of(RFC8032_TESTS[0].seed)).public_key()) ==
          "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
}

TEST_CASE("Ed25519: interoperates with openssl key files and signatures")
{
    auto key = parse_ed25519_private_pem(OPENSSL_PRIVATE_PEM);
    REQUIRE(key.ok());
    CHECK(to_hex(key->public_key()) == OPENSSL_PUBLIC_HEX);
    auto public_key = parse_ed25519_public_pem(OPENSSL_PUBLIC_PEM);
    REQUIRE(public_key.ok());
    CHECK(public_key.value() == key->public_key());
    CHECK(to_hex(key->sign(as_bytes(OPENSSL_MESSAGE))) == OPENSSL_SIGNATURE);
    // Our writers produce openssl's bytes exactly.
    CHECK(text_of(ed25519_private_pem(key.value())) == OPENSSL_PRIVATE_PEM);
    CHECK(ed25519_public_pem(key->public_key()) == OPENSSL_PUBLIC_PEM);
}

TEST_CASE("Ed25519: RFC 8410 §10 example keys")
{
    // §10.3 (version 1 private key) and §10.1 (its public key).
    auto key = parse_ed25519_private_pem("-----BEGIN PRIVATE KEY-----\n"
                                         "MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n"
                                         "-----END PRIVATE KEY-----\n");
    REQUIRE(key.ok());
    CHECK(to_hex(key->seed().expose()) == "d4ee72dbf913584ad5b6d8f1f769f8ad3afe7c28cbf1d4fbe097a88f44755842");
    auto public_key = parse_ed25519_public_pem("-----BEGIN PUBLIC KEY-----\n"
                                               "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n"
                                               "-----END PUBLIC KEY-----\n");
    REQUIRE(public_key.ok());
    CHECK(public_key.value() == key->public_key());
    // §10.3's version 2 key, with an attribute and the public key: well-formed, not supported.
    auto v2 = parse_ed25519_private_pem("-----BEGIN PRIVATE KEY-----\n"
                                        "MHICAQEwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n"
                                        "oB8wHQYKKoZIhvcNAQkJFDEPDA1DdXJkbGUgQ2hhaXJzgSEAGb9ECWmEzf6FQbrB\n"
                                        "Z9w7lshQhqowtrbLDFw4rXAxZuE=\n"
                                        "-----END PRIVATE KEY-----\n");
    REQUIRE_FALSE(v2.ok());
    CHECK(v2.error().code() == Errc::Unsupported);
}

template <typename T>
void check_refused(const Result<T>& r, Errc code, std::string_view needle)
{
    REQUIRE_FALSE(r.ok());
    CAPTURE(r.error().message());
    CHECK(r.error().code() == code);
    CHECK(r.error().message().find(needle) != std::string_view::npos);
}

Bytes valid_private_der()
{
    Bytes der = hex("302e020100300506032b657004220420");
    der.resize(der.size() + 32, 0x42);
    return der;
}

TEST_CASE("Ed25519: malformed PKCS#8 private keys are refused, naming the problem")
{
    REQUIRE(parse_ed25519_private_pem(pem(valid_private_der(), "PRIVATE KEY")).ok());
    auto parse = [](const Bytes& der) { return parse_ed25519_private_pem(pem(der, "PRIVATE KEY")); };
    Bytes der = valid_private_der();

    check_refused(parse_ed25519_private_pem(OPENSSL_X25519_PEM), Errc::Format, "X25519 (OID 1.3.101.110)");
    Bytes other_oid = der;
    other_oid[11] = 0x71;
    check_refused(parse(other_oid), Errc::Format, "not Ed25519");
    Bytes version1 = der;
    version1[4] = 0x01;
    check_refused(parse(version1), Errc::Unsupported, "version 1");

    Bytes trailing = der;
    trailing.push_back(0x00);
    check_refused(parse(trailing), Errc::Format, "trailing bytes");
    Bytes attributes = der;
    attributes[1] += 2, attributes.push_back(0xA0), attributes.push_back(0x00);
    check_refused(parse(attributes), Errc::Unsupported, "attributes");
    Bytes extra = der;
    extra[1] += 2, extra.push_back(0x05), extra.push_back(0x00);
    check_refused(parse(extra), Errc::Format, "unexpected element (tag 0x05)");

    Bytes seed31 = hex("302d020100300506032b65700421041f");
    seed31.resize(seed31.size() + 31, 0x42);
    check_refused(parse(seed31), Errc::Format, "CurvePrivateKey is 31 bytes");
    Bytes seed33 = hex("302f020100300506032b657004230421");
    seed33.resize(seed33.size() + 33, 0x42);
    check_refused(parse(seed33), Errc::Format, "CurvePrivateKey is 33 bytes");
    Bytes unwrapped = hex("302c020100300506032b65700420");  // the seed without the inner OCTET STRING
    unwrapped.resize(unwrapped.size() + 32, 0x42);
    check_refused(parse(unwrapped), Errc::Format, "CurvePrivateKey");
    Bytes with_null = hex("3030020100300706032b6570050004220420");
    with_null.resize(with_null.size() + 32, 0x42);
    check_refused(parse(with_null), Errc::Format, "MUST be absent");
    check_refused(parse(Bytes(der.begin(), der.end() - 1)), Errc::Format, "truncated");
    Bytes long_length = der;
    long_length[1] = 0x2f;
    check_refused(parse(long_length), Errc::Format, "truncated");
}

TEST_CASE("Ed25519: malformed SubjectPublicKeyInfo and base64 public keys are refused")
{
    Ed25519PublicKey key = Ed25519KeyPair::from_seed(seed_of(RFC8032_TESTS[0].seed)).public_key();
    Bytes der = hex("302a300506032b6570032100");
    der.insert(der.end(), key.begin(), key.end());
    auto parse = [](const Bytes& d) { return parse_ed25519_public_pem(pem(d, "PUBLIC KEY")); };
    REQUIRE(parse(der).ok());

    Bytes unused_bits = der;
    unused_bits[11] = 0x01;
    check_refused(parse(unused_bits), Errc::Format, "0 unused bits");
    Bytes x25519 = der;
    x25519[8] = 0x6e;
    check_refused(parse(x25519), Errc::Format, "X25519");
    Bytes trailing = der;
    trailing.push_back(0x00);
    check_refused(parse(trailing), Errc::Format, "trailing bytes");
    Bytes short_key = hex("3029300506032b6570032000");
    short_key.insert(short_key.end(), key.begin(), key.end() - 1);
    check_refused(parse(short_key), Errc::Format, "subjectPublicKey is not 32 bytes");
    Bytes zero_key = hex("302a300506032b6570032100");
    zero_key.resize(zero_key.size() + 32, 0x00);  // y = 0: a point of order 4
    check_refused(parse(zero_key), Errc::Format, "not a valid Ed25519 point");

    CHECK(parse_ed25519_public_b64("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=").ok());
    for (std::string_view bad :
         {"", "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo", "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURp=",
          " 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcH"})
        check_refused(parse_ed25519_public_b64(bad), Errc::Format, "base64");
    check_refused(parse_ed25519_public_b64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), Errc::Format,
                  "not a valid Ed25519 point");
}

TEST_CASE("Ed25519: PEM armor is strict")
{
    const std::string good(OPENSSL_PUBLIC_PEM);
    const std::string body = "MCowBQYDK2VwAyEAu46LJ5VowjQiZPLp/Xt+lmjGHQZgMPViNt/P4Y5JOuM=";
    CHECK(parse_ed25519_public_pem("\n  " + good + "\n\n").ok());
    CHECK(parse_ed25519_public_pem("-----BEGIN PUBLIC KEY-----\r\n" + body + "\r\n-----END PUBLIC KEY-----\r\n").ok());
    CHECK(parse_ed25519_public_pem(good.substr(0, good.size() - 1)).ok());  // no final newline

    check_refused(parse_ed25519_private_pem(OPENSSL_PUBLIC_PEM), Errc::Format, "BEGIN PRIVATE KEY");
    check_refused(parse_ed25519_public_pem(OPENSSL_PRIVATE_PEM), Errc::Format, "BEGIN PUBLIC KEY");
    check_refused(
        parse_ed25519_public_pem("-----BEGIN EC PUBLIC KEY-----\n" + body + "\n-----END EC PUBLIC KEY-----\n"),
        Errc::Format, "BEGIN PUBLIC KEY");
    check_refused(parse_ed25519_public_pem("-----BEGIN PUBLIC KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n"),
                  Errc::Format, "END PUBLIC KEY");
    check_refused(parse_ed25519_public_pem("key:\n" + good), Errc::Format, "BEGIN PUBLIC KEY");
    check_refused(parse_ed25519_public_pem(good + good), Errc::Format, "END PUBLIC KEY");
    check_refused(parse_ed25519_public_pem("-----BEGIN PUBLIC KEY-----\n" + body), Errc::Format, "no END line");
    check_refused(parse_ed25519_public_pem("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"), Errc::Format,
                  "empty");
    check_refused(
        parse_ed25519_public_pem("-----BEGIN PUBLIC KEY-----\n!!!!" + body.substr(4) + "\n-----END PUBLIC KEY-----\n"),
        Errc::Format, "outside base64");
    check_refused(parse_ed25519_public_pem("-----BEGIN PUBLIC KEY-----\n" + body.substr(0, 30) + "\n" +
                                           body.substr(30) + "\n-----END PUBLIC KEY-----\n"),
                  Errc::Format, "shorter than 64 characters but not the last");
    check_refused(parse_ed25519_public_pem("-----BEGIN PUBLIC KEY-----\n\n" + body + "\n-----END PUBLIC KEY-----\n"),
                  Errc::Format, "line 2 has 0 characters");
    check_refused(
        parse_ed25519_public_pem("-----BEGIN PUBLIC KEY-----\n" + body + body + "\n-----END PUBLIC KEY-----\n"),
        Errc::Format, "expected 1 to 64");
    std::string non_canonical = body;
    non_canonical[non_canonical.size() - 2] = 'N';  // 'M' -> 'N' sets an unused low bit
    check_refused(
        parse_ed25519_public_pem("-----BEGIN PUBLIC KEY-----\n" + non_canonical + "\n-----END PUBLIC KEY-----\n"),
        Errc::Format, "not canonical base64");
}

}  // namespace
}  // namespace cvm::proto
