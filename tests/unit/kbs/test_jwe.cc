// The generic JWE core (lib/kbs/jwe.h) against published vectors: RFC 7518 Appendix C (ECDH-ES
// key agreement and the Concat KDF), RFC 3394 §4 (AES key wrap) and RFC 7520 §5.4 (a whole
// ECDH-ES+A128KW / A128GCM JWE on P-384), each transcribed from the RFC text (RFC 7520's also
// from ietf-jose/cookbook, jwe/5_4.key_agreement_with_key_wrapping_using_ecdh-es_and_aes-
// keywrap_with_aes-gcm.json, which carries the same values).
#include "kbs/jwe.h"

#include <doctest/doctest.h>

#include <string>

#include "base/base64.h"
#include "kbs/tee_key.h"

namespace cvm::kbs::jwe {
namespace {

Bytes b64u(std::string_view text)
{
    auto bytes = base64url_decode(text);
    REQUIRE(bytes);
    return *bytes;
}

Bytes hex(std::string_view text)
{
    auto bytes = from_hex(text);
    REQUIRE(bytes);
    return *bytes;
}

bool contains(const Error& e, std::string_view needle)
{
    return e.message().find(needle) != std::string_view::npos;
}

// RFC 7518 Appendix C: Alice's ephemeral key, Bob's key, and Z as the RFC lists it.
namespace c {
constexpr std::string_view ALICE_X = "gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0";
constexpr std::string_view ALICE_Y = "SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps";
constexpr std::string_view ALICE_D = "0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo";
constexpr std::string_view BOB_X = "weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ";
constexpr std::string_view BOB_Y = "e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck";
constexpr std::string_view BOB_D = "VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw";
constexpr uint8_t Z[] = {158, 86, 217, 29,  129, 113, 53,  211, 114, 131, 66,  131, 191, 132, 38,  156,
                         251, 49, 110, 163, 218, 128, 106, 72,  246, 218, 167, 121, 140, 254, 144, 196};
}  // namespace c

TEST_CASE("JWE core: RFC 7518 Appendix C, ECDH-ES on P-256 and the Concat KDF")
{
    auto alice = EcKey::from_private(Curve::P256, b64u(c::ALICE_D));
    REQUIRE(alice.ok());
    CHECK(base64url_encode(alice->x()) == c::ALICE_X);
    CHECK(base64url_encode(alice->y()) == c::ALICE_Y);
    auto bob = EcKey::from_private(Curve::P256, b64u(c::BOB_D));
    REQUIRE(bob.ok());
    CHECK(base64url_encode(bob->x()) == c::BOB_X);

    auto z = alice->agree(b64u(c::BOB_X), b64u(c::BOB_Y), "epk");
    REQUIRE(z.ok());
    CHECK(to_hex(z->expose()) == to_hex(c::Z));
    auto z_bob = bob->agree(b64u(c::ALICE_X), b64u(c::ALICE_Y), "epk");
    REQUIRE(z_bob.ok());
    CHECK(z_bob->equals(z.value()));

    // Direct key agreement: AlgorithmID "A128GCM", PartyUInfo "Alice", PartyVInfo "Bob", 128 bits.
    SecretBytes derived = concat_kdf_sha256(z->expose(), "A128GCM", 128, as_bytes("Alice"), as_bytes("Bob"));
    CHECK(base64url_encode(derived.expose()) == "VqqN6vgjbSBcIijNcacQGg");
}

TEST_CASE("JWE core: Concat KDF for ECDH-ES+A256KW, and past one SHA-256 block")
{
    // Computed independently at authoring time with Python's hashlib over the RFC 7518 §4.6.2
    // layout: sha256(be32(i) + Z + be32(len(alg)) + alg + be32(0) + be32(0) + be32(bits)) for
    // i = 1, 2, 3, concatenated and truncated to bits / 8 bytes.
    SecretBytes kek = concat_kdf_sha256(c::Z, "ECDH-ES+A256KW", 256);
    CHECK(to_hex(kek.expose()) == "89ab838633757805bd678cb164f2427776824e8f784152f23747096449921f46");
    SecretBytes long_key = concat_kdf_sha256(c::Z, "ECDH-ES+A256KW", 520);
    CHECK(to_hex(long_key.expose()) ==
          "0e0713440c828a375dbbab96c9bc2e5e1db18b8e75329278bff91876f364ff1555b1d1c6495063c6d"
          "4df59022a28cdba71144dfe75153f2eb7c96078261d9336b8");
    CHECK(concat_kdf_sha256(c::Z, "ECDH-ES+A256KW", 0).empty());
}

TEST_CASE("JWE core: RFC 3394 §4.1, §4.2, §4.3 and §4.6 through aes_key_unwrap")
{
    const Bytes kek = hex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
    const Bytes data = hex("00112233445566778899AABBCCDDEEFF");
    const Bytes data256 = hex("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F");
    struct Vector {
        const char* section;
        size_t kek_size;
        const Bytes& key;
        const char* ciphertext;
    };
    const Vector vectors[] = {
        {"4.1", 16, data, "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"},
        {"4.2", 24, data, "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D"},
        {"4.3", 32, data, "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7"},
        {"4.6", 32, data256, "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"},
    };
    for (const Vector& v : vectors) {
        CAPTURE(v.section);
        ByteView k(kek.data(), v.kek_size);
        Bytes wrapped = hex(v.ciphertext);
        auto unwrapped = aes_key_unwrap(k, wrapped, "encrypted_key");
        REQUIRE(unwrapped.ok());
        CHECK(to_hex(unwrapped->expose()) == to_hex(v.key));
        auto again = aes_key_wrap(k, v.key, "key");
        REQUIRE(again.ok());
        CHECK(again.value() == wrapped);

        wrapped[wrapped.size() - 1] ^= 0x01;
        auto flipped = aes_key_unwrap(k, wrapped, "encrypted_key");
        REQUIRE_FALSE(flipped.ok());
        CHECK(flipped.error().code() == Errc::Crypto);
        CHECK(contains(flipped.error(), "encrypted_key: AES key unwrap integrity check failed"));
    }
    for (size_t size : {0, 8, 16, 23, 25, 39}) {
        CAPTURE(size);
        auto bad = aes_key_unwrap(ByteView(kek.data(), 32), Bytes(size), "encrypted_key");
        REQUIRE_FALSE(bad.ok());
        CHECK(bad.error().code() == Errc::Format);
        CHECK(contains(bad.error(), "expected a multiple of 8 of at least 24"));
    }
}

// RFC 7520 §5.4: Peregrin Took's P-384 key and the flattened JWE JSON serialisation (§5.4.5).
namespace c54 {
constexpr std::string_view KEY_X = "YU4rRUzdmVqmRtWOs2OpDE_T5fsNIodcG8G5FWPrTPMyxpzsSOGaQLpe2FpxBmu2";
constexpr std::string_view KEY_Y = "A8-yxCHxkfBz3hKZfI1jUYMjUhsEveZ9THuwFjH2sCNdtksRJU7D5-SkgaFL1ETP";
constexpr std::string_view KEY_D = "iTx2pk7wW-GqJkHcEkFQb2EFyYcO7RugmaW3mRrQVAOUiPommT0IdnYK2xDlZh-j";
constexpr std::string_view PLAINTEXT =
    "You can trust us to stick with you through thick and thin\xe2\x80\x93to the bitter end. And you can trust us "
    "to keep any secret of yours\xe2\x80\x93"
    "closer than you keep it yourself. But you cannot trust us to let you face trouble alone, and go off without a "
    "word. We are your friends, Frodo.";
constexpr std::string_view PROTECTED =
    "eyJhbGciOiJFQ0RILUVTK0ExMjhLVyIsImtpZCI6InBlcmVncmluLnRvb2tAdHVja2Jvcm91Z2guZXhhbXBsZSIsImVwayI6eyJrdHkiOiJFQy"
    "IsImNydiI6IlAtMzg0IiwieCI6InVCbzRrSFB3Nmtiang1bDB4b3dyZF9vWXpCbWF6LUdLRlp1NHhBRkZrYllpV2d1dEVLNml1RURzUTZ3TmRO"
    "ZzMiLCJ5Ijoic3AzcDVTR2haVkMyZmFYdW1JLWU5SlUyTW84S3BvWXJGRHI1eVBOVnRXNFBnRXdaT3lRVEEtSmRhWTh0YjdFMCJ9LCJlbmMiOi"
    "JBMTI4R0NNIn0";
constexpr std::string_view ENCRYPTED_KEY = "0DJjBXri_kBcC46IkU5_Jk9BqaQeHdv2";
constexpr std::string_view IV = "mH-G2zVqgztUtnW_";
constexpr std::string_view CIPHERTEXT =
    "tkZuOO9h95OgHJmkkrfLBisku8rGf6nzVxhRM3sVOhXgz5NJ76oID7lpnAi_cPWJRCjSpAaUZ5dOR3Spy7QuEkmKx8-3RCMhSYMzsXaEwDdXta9M"
    "n5B7cCBoJKB0IgEnj_qfo1hIi-uEkUpOZ8aLTZGHfpl05jMwbKkTe2yK3mjF6SBAsgicQDVCkcY9BLluzx1RmC3ORXaM0JaHPB93YcdSDGgpgBWM"
    "VrNU1ErkjcMqMoT_wtCex3w03XdLkjXIuEr2hWgeP-nkUZTPU9EoGSPj6fAS-bSz87RCPrxZdj_iVyC6QWcqAu07WNhjzJEPc4jVntRJ6K53NgPQ5"
    "p99l3Z408OUqj4ioYezbS6vTPlQ";
constexpr std::string_view TAG = "WuGzxmcreYjpHGJoa17EBg";
}  // namespace c54

std::string rfc7520_flattened()
{
    return std::string("{\"protected\":\"") + std::string(c54::PROTECTED) + "\",\"encrypted_key\":\"" +
           std::string(c54::ENCRYPTED_KEY) + "\",\"iv\":\"" + std::string(c54::IV) + "\",\"ciphertext\":\"" +
           std::string(c54::CIPHERTEXT) + "\",\"tag\":\"" + std::string(c54::TAG) + "\"}";
}

constexpr Profile RFC7520_PROFILE{Curve::P384, 16, 16, HeaderKid::Ignored};

TEST_CASE("JWE core: RFC 7520 §5.4, ECDH-ES+A128KW and A128GCM on P-384")
{
    auto key = EcKey::from_private(Curve::P384, b64u(c54::KEY_D));
    REQUIRE(key.ok());
    CHECK(base64url_encode(key->x()) == c54::KEY_X);
    CHECK(base64url_encode(key->y()) == c54::KEY_Y);
    CHECK(alg_name(RFC7520_PROFILE) == "ECDH-ES+A128KW");
    CHECK(enc_name(RFC7520_PROFILE) == "A128GCM");

    auto plaintext = decrypt_flattened(rfc7520_flattened(), key.value(), RFC7520_PROFILE);
    REQUIRE(plaintext.ok());
    CHECK(std::string_view(reinterpret_cast<const char*>(plaintext->expose().data()), plaintext->size()) ==
          c54::PLAINTEXT);

    // The same JWE where a kid is not allowed, and under a profile of another curve.
    Profile no_kid = RFC7520_PROFILE;
    no_kid.kid = HeaderKid::Refused;
    auto refused = decrypt_flattened(rfc7520_flattened(), key.value(), no_kid);
    REQUIRE_FALSE(refused.ok());
    CHECK(contains(refused.error(), "jwe.protected.kid: unknown member"));
    auto other_curve = decrypt_flattened(rfc7520_flattened(), key.value(), TEE_PROFILE);
    REQUIRE_FALSE(other_curve.ok());
    CHECK(other_curve.error().code() == Errc::Config);
}

// Header JSON of the vector with `from` replaced by `to` (each once), re-encoded.
std::string rfc7520_with(std::initializer_list<std::pair<std::string_view, std::string_view>> edits)
{
    Bytes json = b64u(c54::PROTECTED);
    std::string header(json.begin(), json.end());
    for (const auto& edit : edits) {
        size_t at = header.find(edit.first);
        REQUIRE(at != std::string::npos);
        header.replace(at, edit.first.size(), edit.second);
    }
    std::string jwe = rfc7520_flattened();
    jwe.replace(jwe.find(c54::PROTECTED), c54::PROTECTED.size(), base64url_encode(as_bytes(header)));
    return jwe;
}

TEST_CASE("TeeKey::decrypt refuses RFC 7520 §5.4 by alg, then enc, then crv")
{
    auto key = TeeKey::generate();
    REQUIRE(key.ok());
    auto by_alg = key->decrypt(rfc7520_flattened());
    REQUIRE_FALSE(by_alg.ok());
    CHECK(by_alg.error().code() == Errc::Unsupported);
    CHECK(contains(by_alg.error(), "jwe.protected.alg: found \"ECDH-ES+A128KW\", expected \"ECDH-ES+A256KW\""));

    auto by_enc = key->decrypt(rfc7520_with({{"A128KW", "A256KW"}}));
    REQUIRE_FALSE(by_enc.ok());
    CHECK(by_enc.error().code() == Errc::Unsupported);
    CHECK(contains(by_enc.error(), "jwe.protected.enc: found \"A128GCM\", expected \"A256GCM\""));

    auto by_crv = key->decrypt(rfc7520_with(
        {{"A128KW", "A256KW"}, {"A128GCM", "A256GCM"}, {"\"kid\":\"peregrin.took@tuckborough.example\",", ""}}));
    REQUIRE_FALSE(by_crv.ok());
    CHECK(by_crv.error().code() == Errc::Unsupported);
    CHECK(contains(by_crv.error(), "jwe.protected.epk.crv: found \"P-384\", expected \"P-256\""));
}

TEST_CASE("JWE core: encrypt_flattened and decrypt_flattened agree on every curve and key size")
{
    const Profile profiles[] = {
        TEE_PROFILE,
        {Curve::P256, 16, 16, HeaderKid::Refused},
        {Curve::P384, 24, 32, HeaderKid::Refused},
        {Curve::P521, 32, 24, HeaderKid::Refused},
    };
    const Bytes message = {'k', 'b', 's', 0, 0xFF};
    for (const Profile& profile : profiles) {
        CAPTURE(curve_name(profile.curve));
        CAPTURE(alg_name(profile));
        CAPTURE(enc_name(profile));
        auto key = EcKey::generate(profile.curve);
        REQUIRE(key.ok());
        CHECK(key->x().size() == coordinate_size(profile.curve));
        auto jwe = encrypt_flattened(message, key->x(), key->y(), profile);
        REQUIRE(jwe.ok());
        auto back = decrypt_flattened(jwe.value(), key.value(), profile);
        REQUIRE(back.ok());
        CHECK(Bytes(back->expose().begin(), back->expose().end()) == message);
    }
}

TEST_CASE("JWE core: a private scalar outside [1, n-1] or of the wrong size is refused")
{
    CHECK(EcKey::from_private(Curve::P256, Bytes(32, 0)).error().code() == Errc::Format);
    CHECK(EcKey::from_private(Curve::P256, Bytes(32, 0xFF)).error().code() == Errc::Format);
    CHECK(EcKey::from_private(Curve::P256, Bytes(31, 1)).error().code() == Errc::Format);
}

}  // namespace
}  // namespace cvm::kbs::jwe
