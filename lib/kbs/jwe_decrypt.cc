// decrypt_flattened: RFC 7516 §5.2 (Message Decryption) for one recipient, with the shape checks
// of tee_key.h before any cryptography. The members follow guest-components' reading of
// kbs_types::Response (attestation-agent/kbs_protocol/src/keypair.rs, decrypt_response and
// unwrap_cek), made strict: that code ignores unknown members and takes any curve name it finds
// equal to its key's.
#include <limits>

#include "kbs/jwe.h"
#include "kbs/jwe_internal.h"
#include "kbs/tee_key.h"
#include "proto/json.h"

namespace cvm::kbs::jwe {
namespace {

constexpr const char* JWE = "jwe";
constexpr const char* PROTECTED = "jwe.protected";
constexpr const char* EPK = "jwe.protected.epk";
constexpr size_t ANY_SIZE = std::numeric_limits<size_t>::max();

Result<std::string_view> text_member(yyjson_val* object, const char* key, const char* what)
{
    yyjson_val* v = yyjson_obj_get(object, key);
    if (!v)
        return Error::make(Errc::Format, "%s.%s: missing, expected a string", what, key);
    if (!yyjson_is_str(v))
        return Error::make(Errc::Format, "%s.%s: found %s, expected a string", what, key,
                           proto::describe_json(v).c_str());
    return std::string_view(yyjson_get_str(v), yyjson_get_len(v));
}

// A member that names an algorithm or a key type: anything but the one value is Unsupported.
Result<void> expect_text(yyjson_val* object, const char* key, const char* what, std::string_view expected)
{
    std::string_view found = TRY(text_member(object, key, what));
    if (found != expected)
        return Error::make(Errc::Unsupported, "%s.%s: found \"%s\", expected \"%.*s\"", what, key,
                           detail::shown(found).c_str(), static_cast<int>(expected.size()), expected.data());
    return {};
}

// RFC 7516 §7.2.1: every binary member is BASE64URL, which RFC 7515 §2 defines "with all trailing
// '=' characters omitted"; base64url_decode takes only that canonical form.
Result<Bytes> b64url_member(yyjson_val* object, const char* key, const char* what, size_t expected_size)
{
    std::string_view text = TRY(text_member(object, key, what));
    auto bytes = base64url_decode(text);
    if (!bytes)
        return Error::make(Errc::Format, "%s.%s: \"%s\" is not base64url, expected RFC 7515 §2's (no padding)", what,
                           key, detail::shown(text).c_str());
    if (expected_size != ANY_SIZE && bytes->size() != expected_size)
        return Error::make(Errc::Format, "%s.%s: %zu bytes, expected %zu", what, key, bytes->size(), expected_size);
    return *bytes;
}

struct EphemeralKey {
    Bytes x;
    Bytes y;
};

// The JOSE header, all of it protected (RFC 7516 §7.2.1: the flattened form's `header` and
// `unprotected` are refused by the caller's member list).
Result<EphemeralKey> parse_protected(std::string_view encoded, const Profile& profile)
{
    auto json = base64url_decode(encoded);
    if (!json)
        return Error::make(Errc::Format, "%s: \"%s\" is not base64url, expected RFC 7515 §2's (no padding)", PROTECTED,
                           detail::shown(encoded).c_str());
    proto::JsonDoc doc =
        TRY(proto::JsonDoc::parse({reinterpret_cast<const char*>(json->data()), json->size()}, PROTECTED));
    yyjson_val* header = doc.root();
    if (!yyjson_is_obj(header))
        return Error::make(Errc::Format, "%s: found %s, expected a JSON object", PROTECTED,
                           proto::describe_json(header).c_str());
    // alg and enc first, so that a JWE of another profile is named by what differs.
    TRY(expect_text(header, "alg", PROTECTED, alg_name(profile)));
    TRY(expect_text(header, "enc", PROTECTED, enc_name(profile)));
    if (profile.kid == HeaderKid::Ignored) {
        TRY(proto::check_members(header, PROTECTED, {"alg", "enc", "epk"}, {"kid"}));
        if (yyjson_obj_get(header, "kid"))
            (void)TRY(text_member(header, "kid", PROTECTED));
    } else {
        TRY(proto::check_members(header, PROTECTED, {"alg", "enc", "epk"}));
    }
    yyjson_val* epk = yyjson_obj_get(header, "epk");
    TRY(proto::check_members(epk, EPK, {"kty", "crv", "x", "y"}));
    TRY(expect_text(epk, "kty", EPK, "EC"));
    TRY(expect_text(epk, "crv", EPK, curve_name(profile.curve)));
    size_t size = coordinate_size(profile.curve);
    EphemeralKey key;
    key.x = TRY(b64url_member(epk, "x", EPK, size));
    key.y = TRY(b64url_member(epk, "y", EPK, size));
    return key;
}

Result<SecretBytes> gcm_decrypt(ByteView cek, ByteView iv, ByteView aad, ByteView ciphertext, ByteView tag)
{
    detail::Gcm gcm;
    int rc = mbedtls_gcm_setkey(&gcm.c, MBEDTLS_CIPHER_ID_AES, cek.data(), static_cast<unsigned>(cek.size() * 8));
    if (rc != 0)
        return detail::mbedtls_failure(Errc::Crypto, rc, "AES-GCM key");
    SecretBytes plaintext(ciphertext.size());
    uint8_t none = 0;  // mbedTLS's buffers must not be null, even when empty
    const uint8_t* in = ciphertext.empty() ? &none : ciphertext.data();
    uint8_t* out = plaintext.empty() ? &none : plaintext.expose().data();
    rc = mbedtls_gcm_auth_decrypt(&gcm.c, ciphertext.size(), iv.data(), iv.size(), aad.data(), aad.size(), tag.data(),
                                  tag.size(), in, out);
    if (rc == MBEDTLS_ERR_GCM_AUTH_FAILED)
        return Error::make(Errc::Crypto,
                           "%s.tag: AES-GCM authentication failed, expected a tag over the received "
                           "protected header, iv and ciphertext",
                           JWE);
    if (rc != 0)
        return detail::mbedtls_failure(Errc::Crypto, rc, "AES-GCM decryption");
    return plaintext;
}

Result<void> check_profile(const Profile& profile, const EcKey& key)
{
    if (profile.curve != key.curve() || !detail::is_aes_key_size(profile.kek_size) ||
        !detail::is_aes_key_size(profile.cek_size))
        return Error::make(Errc::Config, "JWE profile %s %s %s does not fit a %s key", curve_name(profile.curve),
                           alg_name(profile).c_str(), enc_name(profile).c_str(), curve_name(key.curve()));
    return {};
}

}  // namespace

Result<SecretBytes> decrypt_flattened(std::string_view text, const EcKey& key, const Profile& profile)
{
    TRY(check_profile(profile, key));
    if (text.size() > MAX_JWE_SIZE)
        return Error::make(Errc::Format, "%s: %zu bytes, expected at most %zu", JWE, text.size(), MAX_JWE_SIZE);
    proto::JsonDoc doc = TRY(proto::JsonDoc::parse(text, JWE));
    yyjson_val* root = doc.root();
    TRY(proto::check_members(root, JWE, {"protected", "encrypted_key", "iv", "ciphertext", "tag"}));
    std::string_view encoded_header = TRY(text_member(root, "protected", JWE));
    EphemeralKey epk = TRY(parse_protected(encoded_header, profile));
    Bytes wrapped = TRY(b64url_member(root, "encrypted_key", JWE, profile.cek_size + KW_BLOCK_SIZE));
    Bytes iv = TRY(b64url_member(root, "iv", JWE, GCM_IV_SIZE));
    Bytes tag = TRY(b64url_member(root, "tag", JWE, GCM_TAG_SIZE));
    Bytes ciphertext = TRY(b64url_member(root, "ciphertext", JWE, ANY_SIZE));

    SecretBytes z = TRY(key.agree(epk.x, epk.y, EPK));
    // RFC 7518 §4.6.2: AlgorithmID is, "in the Key Agreement with Key Wrapping mode, ... the
    // octets of the ASCII representation of the "alg" Header Parameter value"; keydatalen is the
    // key-wrap key's size in bits; apu and apv are refused above, so PartyUInfo and PartyVInfo
    // are empty.
    SecretBytes kek = concat_kdf_sha256(z.expose(), alg_name(profile), profile.kek_size * 8);
    SecretBytes cek = TRY(aes_key_unwrap(kek.expose(), wrapped, "jwe.encrypted_key"));
    // RFC 7516 §5.2 step 14: without an `aad` member, "let the Additional Authenticated Data
    // encryption parameter be ASCII(Encoded Protected Header)" — the received text, not a
    // re-encoding of the parsed header.
    return gcm_decrypt(cek.expose(), iv, as_bytes(encoded_header), ciphertext, tag);
}

}  // namespace cvm::kbs::jwe
