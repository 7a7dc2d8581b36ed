// TeeKey (lib/kbs/tee_key.h): the JWK, the RCAR REPORT_DATA against bytes computed outside this
// code, and decrypt()'s round trip. The adversarial cases are in test_tee_key_refusals.cc.
#include "kbs/tee_key.h"

#include <doctest/doctest.h>
#include <sodium.h>
#include <yyjson.h>

#include <string>

#include "base/base64.h"
#include "crypto/digest.h"
#include "kbs/jwe.h"
#include "proto/json.h"

namespace cvm::kbs {
namespace {

std::string jwk_text(const TeeKey& key)
{
    yyjson_mut_doc* doc = yyjson_mut_doc_new(nullptr);
    yyjson_mut_doc_set_root(doc, key.jwk(doc));
    std::string text = proto::write_json(doc);
    yyjson_mut_doc_free(doc);
    return text;
}

TEST_CASE("TeeKey: a fresh P-256 key per generate(), its JWK as guest-components sends it")
{
    auto a = TeeKey::generate();
    auto b = TeeKey::generate();
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    for (const std::string* coordinate : {&a->x(), &a->y()}) {
        CHECK(coordinate->size() == 43);  // base64url of 32 bytes, no padding
        auto bytes = base64url_decode(*coordinate);
        REQUIRE(bytes);
        CHECK(bytes->size() == 32);
    }
    CHECK(a->x() != b->x());
    CHECK(jwk_text(a.value()) == "{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ECDH-ES+A256KW\",\"x\":\"" + a->x() +
                                     "\",\"y\":\"" + a->y() + "\"}");
    // The coordinates are a point of P-256: another key can agree with it.
    auto other = jwe::EcKey::generate(jwe::Curve::P256);
    REQUIRE(other.ok());
    CHECK(other->agree(*base64url_decode(a->x()), *base64url_decode(a->y()), "tee-pubkey").ok());

    TeeKey moved = std::move(a.value());
    CHECK(jwk_text(moved).find("\"x\":\"" + moved.x() + "\"") != std::string::npos);
}

// Fixed inputs: Bob's P-256 key of RFC 7518 Appendix C and the nonce base64(bytes 0xE0..0xFF).
// The expected text and SHA-384 were computed at authoring time with Python's json module, which
// for these ASCII-and-é inputs gives RFC 8785's bytes:
//   d = {"tee-pubkey": {"kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW", "x": X, "y": Y},
//        "nonce": base64.b64encode(bytes(range(0xe0, 0x100))).decode(), "additional-evidence": AE}
//   s = json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
//   hashlib.sha384(s.encode()).hexdigest()
constexpr std::string_view X = "weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ";
constexpr std::string_view Y = "e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck";
constexpr std::string_view NONCE = "4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8=";

TEST_CASE("rcar_report_data: the RFC 8785 runtime data of fixed coordinates, and its SHA-384")
{
    auto text = detail::rcar_runtime_data(NONCE, X, Y, "");
    REQUIRE(text.ok());
    CHECK(text.value() == "{\"additional-evidence\":\"\",\"nonce\":\"4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8=\","
                          "\"tee-pubkey\":{\"alg\":\"ECDH-ES+A256KW\",\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":"
                          "\"weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ\",\"y\":"
                          "\"e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck\"}}");
    CHECK(to_hex(crypto::Sha384::of(as_bytes(text.value()))) ==
          "6c3df3225c4ac5c313a0b63f2feff1dfb8d21bb9c93c065037c8f10b57651db4be8cb0189e71a8e718e45180278083e3");

    // AE = '{"device":"gpu0","note":"café\n"}' (a real newline): escaped quotes and control
    // character, UTF-8 kept as is.
    auto with_evidence = detail::rcar_runtime_data(NONCE, X, Y, "{\"device\":\"gpu0\",\"note\":\"caf\xc3\xa9\n\"}");
    REQUIRE(with_evidence.ok());
    CHECK(with_evidence->starts_with(
        "{\"additional-evidence\":\"{\\\"device\\\":\\\"gpu0\\\",\\\"note\\\":\\\"caf\xc3\xa9\\n\\\"}\""));
    CHECK(to_hex(crypto::Sha384::of(as_bytes(with_evidence.value()))) ==
          "2415c71dd0b013d44daa8ea698048b940451452dcac417154211b21997f0f204adbf1948137b99644497f74390669ca4");
}

TEST_CASE("rcar_report_data: SHA-384 of the key's runtime data, then 16 zero bytes")
{
    auto key = TeeKey::generate();
    REQUIRE(key.ok());
    auto report_data = rcar_report_data(NONCE, key.value());
    REQUIRE(report_data.ok());
    auto text = detail::rcar_runtime_data(NONCE, key->x(), key->y(), "");
    REQUIRE(text.ok());
    CHECK(text->find(key->x()) != std::string::npos);
    crypto::Sha384Digest digest = crypto::Sha384::of(as_bytes(text.value()));
    CHECK(to_hex(ByteView(report_data->data(), 48)) == to_hex(digest));
    CHECK(all_zero(ByteView(report_data->data() + 48, 16)));

    auto other_nonce = rcar_report_data("AAAA", key.value());
    REQUIRE(other_nonce.ok());
    CHECK(other_nonce.value() != report_data.value());
    auto bad = rcar_report_data("\xff\xfe", key.value());
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().code() == Errc::Format);
}

TEST_CASE("TeeKey::decrypt: a JWE to the key's JWK, of 0 to 70000 bytes")
{
    auto key = TeeKey::generate();
    REQUIRE(key.ok());
    Bytes x = *base64url_decode(key->x());
    Bytes y = *base64url_decode(key->y());
    for (size_t size : {0, 1, 15, 16, 17, 4096, 70000}) {
        CAPTURE(size);
        Bytes plaintext(size);
        if (size > 0)
            randombytes_buf(plaintext.data(), plaintext.size());
        auto jwe = jwe::encrypt_flattened(plaintext, x, y, jwe::TEE_PROFILE);
        REQUIRE(jwe.ok());
        auto back = key->decrypt(jwe.value());
        REQUIRE(back.ok());
        CHECK(back->size() == size);
        CHECK(constant_time_equal(back->expose(), plaintext));
    }
}

TEST_CASE("TeeKey::decrypt: a JWE made for another key is Errc::Crypto")
{
    auto key = TeeKey::generate();
    auto other = TeeKey::generate();
    REQUIRE(key.ok());
    REQUIRE(other.ok());
    auto jwe = jwe::encrypt_flattened(as_bytes("secret"), *base64url_decode(other->x()), *base64url_decode(other->y()),
                                      jwe::TEE_PROFILE);
    REQUIRE(jwe.ok());
    CHECK(other->decrypt(jwe.value()).ok());
    auto refused = key->decrypt(jwe.value());
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code() == Errc::Crypto);
    CHECK(refused.error().message().find("jwe.encrypted_key: AES key unwrap integrity check failed") !=
          std::string_view::npos);
}

}  // namespace
}  // namespace cvm::kbs
