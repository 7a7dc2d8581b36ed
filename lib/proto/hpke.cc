#include "proto/hpke.h"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string_view>

namespace cvm::proto {
namespace {

constexpr size_t NH = crypto_auth_hmacsha256_BYTES;  // HKDF-SHA256 (RFC 9180 §7.2): Nh = 32
static_assert(NH == 32 && crypto_scalarmult_BYTES == X25519_KEY_SIZE);
static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == detail::HPKE_KEY_SIZE);
static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == detail::HPKE_NONCE_SIZE);
static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == HPKE_TAG_SIZE);

// RFC 9180 §4.1: inside the KEM, suite_id = concat("KEM", I2OSP(kem_id, 2)).
constexpr uint8_t KEM_SUITE_ID[] = {'K', 'E', 'M', 0x00, 0x20};
// RFC 9180 §5.1: elsewhere, suite_id = concat("HPKE", I2OSP(kem_id, 2), I2OSP(kdf_id, 2),
// I2OSP(aead_id, 2)).
constexpr uint8_t HPKE_SUITE_ID[] = {'H', 'P', 'K', 'E', 0x00, 0x20, 0x00, 0x01, 0x00, 0x03};
constexpr uint8_t MODE_BASE = 0x00;  // RFC 9180 Table 1
constexpr std::string_view VERSION_LABEL = "HPKE-v1";

using Parts = std::initializer_list<ByteView>;

// libsodium declares some pointers nonnull even with a zero length (the HMAC key; the AEAD hands
// an empty message to a nonnull parameter), and an empty span may hold nullptr.
const uint8_t* nonnull(ByteView v)
{
    static const uint8_t EMPTY = 0;
    return v.empty() ? &EMPTY : v.data();
}

// Runs HMAC-SHA256 over the concatenation of `parts` without building it (some parts are secret).
// The HMAC state holds key-derived material, so it is wiped too.
void hmac_sha256(ByteView key, Parts parts, std::span<uint8_t, NH> out)
{
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, nonnull(key), key.size());
    for (ByteView part : parts)
        crypto_auth_hmacsha256_update(&state, part.data(), part.size());
    crypto_auth_hmacsha256_final(&state, out.data());
    secure_wipe({reinterpret_cast<uint8_t*>(&state), sizeof state});
}

// RFC 9180 §4: LabeledExtract(salt, label, ikm) = Extract(salt, concat("HPKE-v1", suite_id,
// label, ikm)), and RFC 5869 §2.2: Extract(salt, IKM) = HMAC-Hash(salt, IKM). An empty salt is
// the same HMAC key as Nh zero bytes (HMAC pads its key with zeros), as §2.2 requires.
Secret<NH> labeled_extract(ByteView salt, ByteView suite_id, std::string_view label, ByteView ikm)
{
    Secret<NH> prk;
    hmac_sha256(salt, {as_bytes(VERSION_LABEL), suite_id, as_bytes(label), ikm}, prk.expose());
    return prk;
}

// RFC 9180 §4: LabeledExpand(prk, label, info, L) = Expand(prk, concat(I2OSP(L, 2), "HPKE-v1",
// suite_id, label, info), L), with RFC 5869 §2.3: T(0) = empty,
// T(i) = HMAC-Hash(PRK, T(i-1) | info | i), OKM = the first L bytes of T(1) | T(2) | ...
void labeled_expand(const Secret<NH>& prk, ByteView suite_id, std::string_view label, ByteView info,
                    std::span<uint8_t> out)
{
    if (out.size() > 255 * NH)  // RFC 5869 §2.3: L <= 255*HashLen; our callers ask for <= Nh
        abort();
    uint8_t length[2];
    put_be16(length, static_cast<uint16_t>(out.size()));
    Secret<NH> block;
    ByteView previous;
    for (size_t done = 0, i = 1; done < out.size(); ++i) {
        const uint8_t counter = static_cast<uint8_t>(i);
        hmac_sha256(prk.expose(),
                    {previous, length, as_bytes(VERSION_LABEL), suite_id, as_bytes(label), info, {&counter, 1}},
                    block.expose());
        size_t n = std::min(NH, out.size() - done);
        memcpy(out.data() + done, block.expose().data(), n);
        done += n;
        previous = block.expose();  // read by the next HMAC before its final() overwrites block
    }
}

// DH(sk, pk) = X25519 (RFC 7748 §5). RFC 9180 §7.1.4: "recipients MUST check whether the
// Diffie-Hellman shared secret is the all-zero value and abort if so"; we check on both sides, so
// a sender also refuses a low-order recipient key. libsodium returns -1 for the all-zero value.
Result<Secret<32>> x25519(const Secret<32>& private_key, const X25519PublicKey& public_key, const char* op,
                          const char* peer)
{
    Secret<32> dh;
    if (crypto_scalarmult(dh.expose().data(), private_key.expose().data(), public_key.data()) != 0)
        return Error::make(Errc::Crypto,
                           "%s: X25519 with %s gave the all-zero shared secret (a low-order point), refusing "
                           "(RFC 9180 §7.1.4)",
                           op, peer);
    return dh;
}

// RFC 9180 §4.1: ExtractAndExpand(dh, kem_context), kem_context = concat(enc, pkRm).
Secret<32> extract_and_expand(const Secret<32>& dh, const X25519PublicKey& enc, const X25519PublicKey& recipient)
{
    std::array<uint8_t, 2 * X25519_KEY_SIZE> kem_context;
    memcpy(kem_context.data(), enc.data(), enc.size());
    memcpy(kem_context.data() + enc.size(), recipient.data(), recipient.size());
    Secret<NH> eae_prk = labeled_extract({}, KEM_SUITE_ID, "eae_prk", dh.expose());
    Secret<32> shared_secret;
    labeled_expand(eae_prk, KEM_SUITE_ID, "shared_secret", kem_context, shared_secret.expose());
    return shared_secret;
}

void ensure_sodium_initialized()
{
    // sodium_init() seeds the random source and picks implementations; idempotent, thread-safe.
    static const int rc = sodium_init();
    if (rc < 0)
        abort();  // no CSPRNG: nothing safe to do
}

}  // namespace

X25519KeyPair X25519KeyPair::generate()
{
    ensure_sodium_initialized();
    Secret<X25519_KEY_SIZE> private_key;
    randombytes_buf(private_key.expose().data(), private_key.size());
    return from_private(std::move(private_key));
}

X25519KeyPair X25519KeyPair::from_private(Secret<X25519_KEY_SIZE> private_key)
{
    X25519PublicKey public_key;
    // Fails only if the result were the identity, which no clamped scalar (RFC 7748 §5) gives.
    if (crypto_scalarmult_base(public_key.data(), private_key.expose().data()) != 0)
        abort();
    return X25519KeyPair(std::move(private_key), public_key);
}

namespace detail {

Result<Secret<32>> dhkem_encap(const X25519KeyPair& ephemeral, const X25519PublicKey& recipient)
{
    Secret<32> dh = TRY(x25519(ephemeral.private_key(), recipient, "HPKE seal", "the recipient public key"));
    return extract_and_expand(dh, ephemeral.public_key(), recipient);
}

Result<Secret<32>> dhkem_decap(const X25519KeyPair& recipient, const X25519PublicKey& enc)
{
    Secret<32> dh = TRY(x25519(recipient.private_key(), enc, "HPKE open", "enc"));
    return extract_and_expand(dh, enc, recipient.public_key());
}

KeySchedule key_schedule_base(const Secret<32>& shared_secret, ByteView info)
{
    // RFC 9180 §5.1 with mode_base: psk = default_psk = "", psk_id = default_psk_id = "".
    Secret<NH> psk_id_hash = labeled_extract({}, HPKE_SUITE_ID, "psk_id_hash", {});
    Secret<NH> info_hash = labeled_extract({}, HPKE_SUITE_ID, "info_hash", info);
    // key_schedule_context = concat(mode, psk_id_hash, info_hash): hashes of public inputs.
    std::array<uint8_t, 1 + 2 * NH> context;
    context[0] = MODE_BASE;
    memcpy(context.data() + 1, psk_id_hash.expose().data(), NH);
    memcpy(context.data() + 1 + NH, info_hash.expose().data(), NH);

    Secret<NH> secret = labeled_extract(shared_secret.expose(), HPKE_SUITE_ID, "secret", {});
    KeySchedule out;
    labeled_expand(secret, HPKE_SUITE_ID, "key", context, out.key.expose());
    labeled_expand(secret, HPKE_SUITE_ID, "base_nonce", context, out.base_nonce.expose());
    return out;
}

}  // namespace detail

Result<HpkeSealed> hpke_seal(const X25519PublicKey& recipient, ByteView info, ByteView aad, ByteView plaintext)
{
    X25519KeyPair ephemeral = X25519KeyPair::generate();  // RFC 9180 §4.1 Encap: a fresh skE
    return hpke_seal_with_ephemeral(recipient, ephemeral, info, aad, plaintext);
}

Result<HpkeSealed> hpke_seal_with_ephemeral(const X25519PublicKey& recipient, const X25519KeyPair& ephemeral,
                                            ByteView info, ByteView aad, ByteView plaintext)
{
    if (plaintext.size() > crypto_aead_chacha20poly1305_ietf_MESSAGEBYTES_MAX)
        return Error::make(Errc::Unsupported, "HPKE seal: plaintext of %zu bytes is too long", plaintext.size());
    Secret<32> shared_secret = TRY(detail::dhkem_encap(ephemeral, recipient));
    detail::KeySchedule schedule = detail::key_schedule_base(shared_secret, info);

    HpkeSealed sealed;
    sealed.enc = ephemeral.public_key();
    sealed.ct.resize(plaintext.size() + HPKE_TAG_SIZE);
    // RFC 9180 §5.2: nonce = xor(base_nonce, I2OSP(seq, Nn)). A single-shot seal is the context's
    // only message, seq = 0, so the nonce is base_nonce itself.
    unsigned long long ct_len = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(sealed.ct.data(), &ct_len, nonnull(plaintext), plaintext.size(),
                                              nonnull(aad), aad.size(), nullptr, schedule.base_nonce.expose().data(),
                                              schedule.key.expose().data());
    return sealed;
}

Result<SecretBytes> hpke_open(const X25519KeyPair& recipient, ByteView enc, ByteView info, ByteView aad, ByteView ct)
{
    if (enc.size() != X25519_KEY_SIZE)  // RFC 9180 §7.1: Nenc = 32 for DHKEM(X25519, HKDF-SHA256)
        return Error::make(Errc::Format, "HPKE open: enc is %zu bytes, expected %zu", enc.size(), X25519_KEY_SIZE);
    if (ct.size() < HPKE_TAG_SIZE)  // RFC 9180 §5.2: ct is Nt = 16 bytes longer than pt
        return Error::make(Errc::Format, "HPKE open: ciphertext is %zu bytes, shorter than the %zu-byte tag", ct.size(),
                           HPKE_TAG_SIZE);
    X25519PublicKey enc_key;
    memcpy(enc_key.data(), enc.data(), enc_key.size());
    Secret<32> shared_secret = TRY(detail::dhkem_decap(recipient, enc_key));
    detail::KeySchedule schedule = detail::key_schedule_base(shared_secret, info);

    SecretBytes plaintext(ct.size() - HPKE_TAG_SIZE);
    unsigned long long pt_len = 0;
    // seq = 0 as in hpke_seal_with_ephemeral. libsodium checks the tag before it decrypts.
    if (crypto_aead_chacha20poly1305_ietf_decrypt(plaintext.expose().data(), &pt_len, nullptr, ct.data(), ct.size(),
                                                  nonnull(aad), aad.size(), schedule.base_nonce.expose().data(),
                                                  schedule.key.expose().data()) != 0)
        return Error::make(Errc::Crypto, "HPKE open: ciphertext authentication failed (wrong recipient key, enc, "
                                         "info, aad or ciphertext)");
    return plaintext;
}

}  // namespace cvm::proto
