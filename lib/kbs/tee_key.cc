// TeeKey: the P-256 key of kbs/jwe.h's core under the one profile Trustee's RCAR client uses,
// its JWK and the REPORT_DATA that binds it. Modelled on guest-components (8246e5e):
// attestation-agent/kbs_protocol/src/keypair.rs (TeeKeyPair::new defaults to P-256,
// export_pubkey gives {kty, crv, alg: "ECDH-ES+A256KW", x, y} with URL_SAFE_NO_PAD coordinates)
// and src/client/rcar_client.rs (get_composite_evidence: the digest of
// serde_json_canonicalizer::to_vec of {"tee-pubkey", "nonce", "additional-evidence"}).
#include "kbs/tee_key.h"

#include <yyjson.h>

#include <cstdlib>
#include <cstring>

#include "base/base64.h"
#include "crypto/digest.h"
#include "kbs/jwe.h"
#include "proto/jcs.h"
#include "proto/json.h"

namespace cvm::kbs {

struct TeeKey::Impl {
    jwe::EcKey key;
    std::string x;
    std::string y;
};

TeeKey::TeeKey(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
TeeKey::TeeKey(TeeKey&&) noexcept = default;
TeeKey& TeeKey::operator=(TeeKey&&) noexcept = default;
TeeKey::~TeeKey() = default;  // the scalar is SecretBytes in jwe::EcKey: wiped here

Result<TeeKey> TeeKey::generate()
{
    jwe::EcKey key = TRY(jwe::EcKey::generate(jwe::TEE_PROFILE.curve));
    std::string x = base64url_encode(key.x());
    std::string y = base64url_encode(key.y());
    return TeeKey(std::make_unique<Impl>(Impl{std::move(key), std::move(x), std::move(y)}));
}

const std::string& TeeKey::x() const
{
    return m_impl->x;
}

const std::string& TeeKey::y() const
{
    return m_impl->y;
}

yyjson_mut_val* TeeKey::jwk(yyjson_mut_doc* doc) const
{
    return detail::p256_jwk(doc, m_impl->x, m_impl->y);
}

Result<SecretBytes> TeeKey::decrypt(std::string_view flattened_jwe) const
{
    return jwe::decrypt_flattened(flattened_jwe, m_impl->key, jwe::TEE_PROFILE);
}

yyjson_mut_val* detail::p256_jwk(yyjson_mut_doc* doc, std::string_view x, std::string_view y)
{
    // kbs_types::TeePubKey::EC (serde's internally tagged enum puts "kty" first).
    yyjson_mut_val* jwk = yyjson_mut_obj(doc);
    yyjson_mut_obj_add_str(doc, jwk, "kty", "EC");
    yyjson_mut_obj_add_str(doc, jwk, "crv", jwe::curve_name(jwe::TEE_PROFILE.curve));
    yyjson_mut_obj_add_str(doc, jwk, "alg", TEE_KEY_ALG);
    yyjson_mut_obj_add_strncpy(doc, jwk, "x", x.data(), x.size());
    yyjson_mut_obj_add_strncpy(doc, jwk, "y", y.data(), y.size());
    return jwk;
}

Result<std::string> detail::rcar_runtime_data(std::string_view nonce, std::string_view x, std::string_view y,
                                              std::string_view additional_evidence)
{
    proto::MutJson d;
    yyjson_mut_doc* doc = d.doc();
    yyjson_mut_val* root = d.root();
    yyjson_mut_obj_add_strncpy(doc, root, "additional-evidence", additional_evidence.data(),
                               additional_evidence.size());
    yyjson_mut_obj_add_strncpy(doc, root, "nonce", nonce.data(), nonce.size());
    yyjson_mut_obj_add_val(doc, root, "tee-pubkey", p256_jwk(doc, x, y));
    size_t length = 0;
    yyjson_write_err err{};
    // Without YYJSON_WRITE_ALLOW_INVALID_UNICODE the writer refuses a string that is not UTF-8,
    // which only the server's nonce (or the caller's evidence) can bring.
    char* text = yyjson_mut_write_opts(doc, YYJSON_WRITE_NOFLAG, nullptr, &length, &err);
    if (!text)
        return Error::make(Errc::Format, "RCAR runtime data: %s, expected the nonce and evidence as UTF-8 text",
                           err.msg ? err.msg : "not writable");
    std::string json(text, length);
    free(text);
    return proto::jcs_canonicalize(json, json.size());
}

Result<std::array<uint8_t, 64>> rcar_report_data(std::string_view nonce, const TeeKey& key,
                                                 std::string_view additional_evidence)
{
    std::string canonical = TRY(detail::rcar_runtime_data(nonce, key.x(), key.y(), additional_evidence));
    // RCAR with SNP: the runtime-data hash is SHA-384 (no selected-hash-algorithm in the
    // challenge) and fills the first 48 of REPORT_DATA's 64 bytes; Trustee's verifier pads its
    // expected value with zeros to 64 bytes (deps/verifier/src/lib.rs, regularize_data).
    crypto::Sha384Digest digest = crypto::Sha384::of(as_bytes(canonical));
    std::array<uint8_t, 64> report_data{};
    std::memcpy(report_data.data(), digest.data(), digest.size());
    return report_data;
}

}  // namespace cvm::kbs
