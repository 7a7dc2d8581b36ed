// Release keys: the published vectors of both algorithms (RFC 6979 A.2.5, RFC 8032 §7.1), PEM
// round trips, and every refusal a key file or a signature can earn.
#include <doctest.h>

#include <string>

#include "base/der.h"
#include "proto/keys.h"
#include "proto/pem.h"
#include "release_fixture.h"

using namespace cvm;
using namespace cvm::release;

namespace {

Bytes hex(std::string_view text)
{
    auto bytes = from_hex(text);
    REQUIRE(bytes);
    return *bytes;
}

std::string text_of(const SecretBytes& secret)
{
    return std::string(secret.expose().begin(), secret.expose().end());
}

std::string pem_of(ByteView der, const char* label)
{
    return text_of(proto::pem_encode(der, label));
}

// RFC 6979 A.2.5: the P-256 key x = C9AF...6721 with U = (60FE...9FB6, 7903...2299).
const char* RFC6979_X = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";
const char* RFC6979_UX = "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6";
const char* RFC6979_UY = "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299";

// The SEC1 ECPrivateKey (RFC 5915 §3) of a P-256 scalar, without its public key.
std::string sec1_pem(std::string_view scalar_hex)
{
    Bytes der = hex("30310201010420");
    Bytes d = hex(scalar_hex);
    der.insert(der.end(), d.begin(), d.end());
    Bytes params = hex("a00a06082a8648ce3d030107");
    der.insert(der.end(), params.begin(), params.end());
    return pem_of(der, "EC PRIVATE KEY");
}

const char* P384_PUBLIC = "-----BEGIN PUBLIC KEY-----\n"
                          "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEIAz95ft/9rWEzm0j64IF9/xHvIZqSzs3\n"
                          "GH8VAb9NAmjKmm9gA2DdmZXkYtLwyJiRM/7DnJxZMmGVtIDgyoL2ebHv9GsaQBB/\n"
                          "etcdEDTM98VLhdP53PAamn6NOKd6fWHK\n"
                          "-----END PUBLIC KEY-----\n";
const char* P384_PRIVATE = "-----BEGIN PRIVATE KEY-----\n"
                           "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDDVPUeLEPFTx4Jh42ps\n"
                           "ZMWys/0wXAQy6kjfdHTA9m7Nm8dhMOF9k6HUPSLxjvoHaa2hZANiAAQMZHNKdV49\n"
                           "cNJKgwoYGtzyt71FZeePvVFwWjFSLaPtPkUoLCeKHNwy89TZyviryp72TDVIlXgK\n"
                           "Bcgu5o0h25eCRCMnXWgl0GMroEX+9fHqb/bRlas8CaZFT4PiVpFmwHE=\n"
                           "-----END PRIVATE KEY-----\n";
const char* RSA_PUBLIC = "-----BEGIN PUBLIC KEY-----\n"
                         "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDb1Oe63F8g5kV4vJGvEPvENlVu\n"
                         "iLgXoVvPdd0BoPNrUQW24L2HztEujOl3LiFNrXCAb/I12XLHPX5kqBAWaQ73xMZG\n"
                         "eCmlS6nF4nRkOAj0MXWZFo4HF1CYO/R5R6O/QrDTFWyzPF+dTS59BV6kF0zoaLIm\n"
                         "2GdbOyBhaqA6G/HKFQIDAQAB\n"
                         "-----END PUBLIC KEY-----\n";

bool contains(std::string_view text, std::string_view part)
{
    return text.find(part) != std::string_view::npos;
}

}  // namespace

TEST_CASE("P-256 signatures are RFC 6979's deterministic ECDSA (A.2.5, SHA-256)")
{
    SigningKey key = test::take(SigningKey::parse_pem(sec1_pem(RFC6979_X)));
    CHECK(key.public_key().kind() == KeyKind::EcdsaP256);
    // The SPKI ends in the uncompressed point 04 || Ux || Uy, derived from x.
    std::string spki = to_hex(key.public_key().spki_der());
    CHECK(spki.ends_with("04" + std::string(RFC6979_UX) + RFC6979_UY));
    CHECK(spki.starts_with("3059301306072a8648ce3d020106082a8648ce3d030107034200"));

    // DER of (r, s); both have the top bit set, hence the 0x00 before each.
    Bytes sample = key.sign(as_bytes("sample")).value();
    CHECK(to_hex(sample) == "3046022100efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716022100f7cb1c"
                            "942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8");
    Bytes test = key.sign(as_bytes("test")).value();
    CHECK(to_hex(test) == "3045022100f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d383670220019f4113"
                          "742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083");
    CHECK(key.public_key().verify(as_bytes("sample"), sample).ok());
    CHECK(key.public_key().verify(as_bytes("test"), test).ok());
    CHECK_FALSE(key.public_key().verify(as_bytes("test"), sample).ok());
}

TEST_CASE("Ed25519 signatures are RFC 8032's (§7.1 TEST 1)")
{
    Secret<proto::ED25519_SEED_SIZE> seed;
    Bytes raw = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    std::copy(raw.begin(), raw.end(), seed.expose().begin());
    SecretBytes pem = proto::ed25519_private_pem(proto::Ed25519KeyPair::from_seed(seed));
    SigningKey key = test::take(SigningKey::parse_pem(text_of(pem)));
    CHECK(key.public_key().kind() == KeyKind::Ed25519);
    CHECK(to_hex(key.public_key().spki_der()) ==
          "302a300506032b6570032100d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    Bytes sig = key.sign({}).value();
    CHECK(to_hex(sig) ==
          "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b4"
          "6bd25bf5f0595bbe24655141438e7a100b");
    CHECK(key.public_key().verify({}, sig).ok());
    CHECK(text_of(key.private_pem()) == text_of(pem));
}

TEST_CASE("keys of both kinds survive their PEM files, and the hint is SHA-256 of the SPKI")
{
    for (KeyKind kind : {KeyKind::EcdsaP256, KeyKind::Ed25519}) {
        CAPTURE(static_cast<int>(kind));
        SigningKey key = test::take(SigningKey::generate(kind));
        std::string private_pem = text_of(key.private_pem());
        CHECK(private_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        SigningKey again = test::take(SigningKey::parse_pem(private_pem));
        CHECK(again.public_key().spki_der() == key.public_key().spki_der());
        CHECK(text_of(again.private_pem()) == private_pem);
        Bytes sig = key.sign(as_bytes("message")).value();
        CHECK(sig == again.sign(as_bytes("message")).value());  // deterministic, both kinds
        PublicKey pub = PublicKey::parse_pem(key.public_key().pem()).value();
        CHECK(pub.kind() == kind);
        CHECK(pub.spki_der() == key.public_key().spki_der());
        CHECK(pub.hint().size() == 64);
        CHECK(pub.verify(as_bytes("message"), sig).ok());
        Bytes flipped = sig;
        flipped[flipped.size() / 2] ^= 0x01;
        CHECK(pub.verify(as_bytes("message"), flipped).error().code() == Errc::Crypto);
        CHECK(contains(pub.verify(as_bytes("messagE"), sig).error().message(),
                       "signature does not verify with the release key " + pub.hint()));
    }
    // A P-256 PKCS#8 file is 138 bytes of DER, as openssl writes it.
    std::string p256 = text_of(test::p256_key().private_pem());
    CHECK(proto::pem_decode(p256, "PRIVATE KEY").value().size() == 138);
}

TEST_CASE("signatures of the wrong shape are refused, never half-read")
{
    const PublicKey& p256 = test::p256_key().public_key();
    const PublicKey& ed = test::ed25519_key().public_key();
    Bytes good = test::p256_key().sign(as_bytes("m")).value();
    Bytes trailing = good;
    trailing.push_back(0);
    CHECK_FALSE(p256.verify(as_bytes("m"), trailing).ok());
    CHECK_FALSE(p256.verify(as_bytes("m"), ByteView(good).first(good.size() - 1)).ok());
    CHECK_FALSE(p256.verify(as_bytes("m"), {}).ok());
    CHECK_FALSE(p256.verify(as_bytes("m"), Bytes(200, 0x30)).ok());
    Bytes ed_sig = test::ed25519_key().sign(as_bytes("m")).value();
    CHECK_FALSE(p256.verify(as_bytes("m"), ed_sig).ok());
    CHECK_FALSE(ed.verify(as_bytes("m"), good).ok());
    CHECK_FALSE(ed.verify(as_bytes("m"), Bytes(ed_sig.begin(), ed_sig.end() - 1)).ok());
    CHECK_FALSE(
        test::p256_key().public_key().verify(as_bytes("m"), test::ed25519_key().sign(as_bytes("m")).value()).ok());
    // Another key of the same kind.
    SigningKey other = test::take(SigningKey::generate(KeyKind::Ed25519));
    CHECK_FALSE(ed.verify(as_bytes("m"), other.sign(as_bytes("m")).value()).ok());
}

TEST_CASE("public key files of another algorithm, curve or form are refused by name")
{
    auto p384 = PublicKey::parse_pem(P384_PUBLIC);
    REQUIRE_FALSE(p384.ok());
    CHECK(p384.error().code() == Errc::Unsupported);
    CHECK(contains(p384.error().message(), "an EC key on another curve, expected ECDSA P-256"));
    auto rsa = PublicKey::parse_pem(RSA_PUBLIC);
    REQUIRE_FALSE(rsa.ok());
    CHECK(rsa.error().code() == Errc::Unsupported);
    CHECK(contains(rsa.error().message(), "another algorithm"));

    std::string pub = test::p256_key().public_key().pem();
    CHECK(PublicKey::parse_pem(pub + pub).error().code() == Errc::Format);
    CHECK(PublicKey::parse_pem(text_of(test::p256_key().private_pem())).error().code() == Errc::Format);
    CHECK(PublicKey::parse_pem("").error().code() == Errc::Format);
    CHECK(PublicKey::parse_pem("text\n" + pub).error().code() == Errc::Format);
    // A point off the curve: the last byte of Uy changed.
    Bytes spki = test::p256_key().public_key().spki_der();
    spki.back() ^= 0x01;
    auto off = PublicKey::parse_pem(pem_of(spki, "PUBLIC KEY"));
    REQUIRE_FALSE(off.ok());
    CHECK(contains(off.error().message(), "not on the curve"));
    // Trailing bytes after the SubjectPublicKeyInfo.
    Bytes longer = test::ed25519_key().public_key().spki_der();
    longer.push_back(0);
    CHECK_FALSE(PublicKey::parse_pem(pem_of(longer, "PUBLIC KEY")).ok());
}

TEST_CASE("private key files: P-384, a mismatched public point, junk and a public key are refused")
{
    auto p384 = SigningKey::parse_pem(P384_PRIVATE);
    REQUIRE_FALSE(p384.ok());
    CHECK(p384.error().code() == Errc::Unsupported);

    // The PKCS#8 file of one P-256 key with another key's public point.
    SecretBytes a = test::take(proto::pem_decode(text_of(test::p256_key().private_pem()), "PRIVATE KEY"));
    SigningKey other = test::take(SigningKey::generate(KeyKind::EcdsaP256));
    Bytes mixed(a.expose().begin(), a.expose().end());
    ByteView other_point = ByteView(other.public_key().spki_der()).last(65);
    std::copy(other_point.begin(), other_point.end(), mixed.end() - 65);
    auto mismatch = SigningKey::parse_pem(pem_of(mixed, "PRIVATE KEY"));
    REQUIRE_FALSE(mismatch.ok());
    CHECK(contains(mismatch.error().message(), "the public key in the file is not the private key's"));

    // A scalar of zero (not in [1, n-1]).
    CHECK_FALSE(SigningKey::parse_pem(sec1_pem(std::string(64, '0'))).ok());
    CHECK_FALSE(SigningKey::parse_pem(test::p256_key().public_key().pem()).ok());
    CHECK_FALSE(SigningKey::parse_pem("").ok());
    Bytes truncated(a.expose().begin(), a.expose().end() - 1);
    CHECK_FALSE(SigningKey::parse_pem(pem_of(truncated, "PRIVATE KEY")).ok());
}

TEST_CASE("load names the file, and a missing file is an I/O error")
{
    auto missing = SigningKey::load("/nonexistent/release.key");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code() == Errc::Io);
    auto missing_pub = PublicKey::load("/nonexistent/release.pub");
    REQUIRE_FALSE(missing_pub.ok());
    CHECK(contains(missing_pub.error().message(), "/nonexistent/release.pub"));
}
