// encrypt_flattened: the sender's side (RFC 7516 §5.1), shaped as Trustee's ecdh_es_a256kw_p256
// (kbs/src/jwe/mod.rs at confidential-containers/trustee 78962cd) shapes it: a fresh ephemeral
// key, Z, the Concat KDF, a random CEK wrapped with RFC 3394, a random 96-bit IV, and AES-GCM
// over the plaintext with ASCII(BASE64URL(protected header)) as the AAD. The agent never
// encrypts; the C++ tests do (lib/kbs's, and lib/client's and the agent's through
// tests/unit/client/kbs_script.cc; the Python fake KBS has its own, tests/fakes/fake_kbs/jose.py).
// Its own file, so that linking decrypt_flattened does not pull it into the agent.
#include <sodium.h>

#include "kbs/jwe.h"
#include "kbs/jwe_internal.h"
#include "kbs/tee_key.h"
#include "proto/json.h"

namespace cvm::kbs::jwe {
namespace {

// {"alg","enc","epk":{"crv","kty","x","y"}}: the members and order serde gives Trustee's
// kbs_types::ProtectedHeader (alg, enc, then the flattened other_fields map, keys sorted).
std::string protected_header(const Profile& profile, const EcKey& ephemeral)
{
    proto::MutJson d;
    yyjson_mut_val* header = d.root();
    d.add(header, "alg", d.str(alg_name(profile)));
    d.add(header, "enc", d.str(enc_name(profile)));
    yyjson_mut_val* epk = yyjson_mut_obj(d.doc());
    d.add(epk, "crv", d.str(curve_name(profile.curve)));
    d.add(epk, "kty", d.str("EC"));
    d.add(epk, "x", d.str(base64url_encode(ephemeral.x())));
    d.add(epk, "y", d.str(base64url_encode(ephemeral.y())));
    d.add(header, "epk", epk);
    return base64url_encode(as_bytes(d.text()));
}

}  // namespace

Result<std::string> encrypt_flattened(ByteView plaintext, ByteView x, ByteView y, const Profile& profile)
{
    EcKey ephemeral = TRY(EcKey::generate(profile.curve));
    SecretBytes z = TRY(ephemeral.agree(x, y, "recipient key"));
    SecretBytes kek = concat_kdf_sha256(z.expose(), alg_name(profile), profile.kek_size * 8);
    SecretBytes cek(profile.cek_size);
    randombytes_buf(cek.expose().data(), cek.size());
    Bytes wrapped = TRY(aes_key_wrap(kek.expose(), cek.expose(), "CEK"));

    std::string encoded_header = protected_header(profile, ephemeral);
    uint8_t iv[GCM_IV_SIZE];
    randombytes_buf(iv, sizeof iv);
    detail::Gcm gcm;
    int rc =
        mbedtls_gcm_setkey(&gcm.c, MBEDTLS_CIPHER_ID_AES, cek.expose().data(), static_cast<unsigned>(cek.size() * 8));
    if (rc != 0)
        return detail::mbedtls_failure(Errc::Crypto, rc, "AES-GCM key");
    Bytes ciphertext(plaintext.size() + 1);  // never empty: mbedTLS's buffers must not be null
    uint8_t none = 0;
    uint8_t tag[GCM_TAG_SIZE];
    ByteView aad = as_bytes(encoded_header);
    rc = mbedtls_gcm_crypt_and_tag(&gcm.c, MBEDTLS_GCM_ENCRYPT, plaintext.size(), iv, sizeof iv, aad.data(), aad.size(),
                                   plaintext.empty() ? &none : plaintext.data(), ciphertext.data(), sizeof tag, tag);
    if (rc != 0)
        return detail::mbedtls_failure(Errc::Crypto, rc, "AES-GCM encryption");
    ciphertext.resize(plaintext.size());

    proto::MutJson d;
    yyjson_mut_val* root = d.root();
    d.add(root, "protected", d.str(encoded_header));
    d.add(root, "encrypted_key", d.str(base64url_encode(wrapped)));
    d.add(root, "iv", d.str(base64url_encode(iv)));
    d.add(root, "ciphertext", d.str(base64url_encode(ciphertext)));
    d.add(root, "tag", d.str(base64url_encode(tag)));
    return d.text();
}

}  // namespace cvm::kbs::jwe
