// The sealed blob: its layout in blob.h, read only through the bounds-checked Reader.
#include "sealing/blob.h"

#include <mbedtls/chachapoly.h>
#include <mbedtls/gcm.h>
#include <sodium.h>

#include "base/reader.h"

namespace cvm::agent::sealing {
namespace {

constexpr uint8_t KEY_SEL_VCEK = 1;  // MSG_KEY_REQ ROOT_KEY_SELECT bits 2:1 (hardware-abi.md)
constexpr uint8_t KEY_SEL_VLEK = 2;
constexpr const char* UNSEAL_FAILED =
    "unseal failed: the key derived now does not open this blob (another measurement, chip or context?)";

uint8_t key_sel(RootKey root)
{
    return root == RootKey::Vlek ? KEY_SEL_VLEK : KEY_SEL_VCEK;
}

// The AEAD key for `context` (and `launch`, see launch_binding()): HKDF-SHA256(derived, "",
// "cvminit seal/1" || 0x00 || context [|| 0x00 || launch]). A context is printable ASCII, so the
// NUL before `launch` cannot be part of it.
Result<Secret<32>> aead_key(const DerivedKey& derived, std::string_view context, ByteView launch)
{
    Bytes info(SEAL_INFO_TAG.begin(), SEAL_INFO_TAG.end());
    info.push_back(0x00);
    info.insert(info.end(), context.begin(), context.end());
    if (!launch.empty()) {
        info.push_back(0x00);
        info.insert(info.end(), launch.begin(), launch.end());
    }
    Secret<32> key;
    TRY(hkdf_sha256(derived.expose(), info, key.expose()));
    return key;
}

void put_u16(Bytes& out, uint16_t v)
{
    out.push_back(static_cast<uint8_t>(v));
    out.push_back(static_cast<uint8_t>(v >> 8));
}

void put_u32(Bytes& out, uint32_t v)
{
    uint8_t b[4];
    put_le32(b, v);
    out.insert(out.end(), b, b + 4);
}

void put_u64(Bytes& out, uint64_t v)
{
    uint8_t b[8];
    put_le64(b, v);
    out.insert(out.end(), b, b + 8);
}

// AEAD over `in` into `out` (same size), tag separate; `decrypt` checks the tag.
enum class Direction : uint8_t { Encrypt, Decrypt };
int run_aead(Aead aead, Direction direction, const Secret<32>& key, ByteView nonce, ByteView aad, ByteView in,
             uint8_t* out, uint8_t* tag)
{
    if (aead == Aead::Aes256Gcm) {
        mbedtls_gcm_context gcm;
        mbedtls_gcm_init(&gcm);
        int rc = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key.expose().data(), 256);
        if (rc == 0 && direction == Direction::Encrypt)
            rc = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, in.size(), nonce.data(), nonce.size(), aad.data(),
                                           aad.size(), in.data(), out, TAG_SIZE, tag);
        else if (rc == 0)
            rc = mbedtls_gcm_auth_decrypt(&gcm, in.size(), nonce.data(), nonce.size(), aad.data(), aad.size(), tag,
                                          TAG_SIZE, in.data(), out);
        mbedtls_gcm_free(&gcm);  // zeroises the key schedule
        return rc;
    }
    mbedtls_chachapoly_context chacha;
    mbedtls_chachapoly_init(&chacha);
    int rc = mbedtls_chachapoly_setkey(&chacha, key.expose().data());
    if (rc == 0 && direction == Direction::Encrypt)
        rc = mbedtls_chachapoly_encrypt_and_tag(&chacha, in.size(), nonce.data(), aad.data(), aad.size(), in.data(),
                                                out, tag);
    else if (rc == 0)
        rc = mbedtls_chachapoly_auth_decrypt(&chacha, in.size(), nonce.data(), aad.data(), aad.size(), tag, in.data(),
                                             out);
    mbedtls_chachapoly_free(&chacha);
    return rc;
}

// mbedTLS refuses a null pointer for empty buffers in places; give it a valid one.
const uint8_t* nonnull(ByteView v)
{
    static const uint8_t empty = 0;
    return v.empty() ? &empty : v.data();
}

}  // namespace

std::string_view aead_name(Aead aead)
{
    return aead == Aead::ChaCha20Poly1305 ? "ChaCha20-Poly1305" : "AES-256-GCM";
}

Result<void> check_context(std::string_view context)
{
    if (context.empty() || context.size() > MAX_CONTEXT)
        return Error::make(Errc::Format, "context: %zu bytes, expected 1 to %zu", context.size(), MAX_CONTEXT);
    for (size_t i = 0; i < context.size(); ++i) {
        auto c = static_cast<uint8_t>(context[i]);
        if (c < 0x20 || c > 0x7e)
            return Error::make(Errc::Format, "context: byte %zu is 0x%02x, expected printable ASCII (0x20 to 0x7e)", i,
                               c);
    }
    return {};
}

Result<ParsedBlob> parse_blob(ByteView blob)
{
    if (blob.size() < MIN_BLOB_SIZE || blob.size() > MAX_BLOB_SIZE)
        return Error::make(Errc::Format, "sealed blob: %zu bytes, expected %zu to %zu", blob.size(), MIN_BLOB_SIZE,
                           MAX_BLOB_SIZE);
    Reader r(blob, "sealed blob");
    ByteView magic = TRY(r.bytes(BLOB_MAGIC.size(), "MAGIC"));
    if (!std::equal(magic.begin(), magic.end(), BLOB_MAGIC.begin()))
        return Error::make(Errc::Format, "sealed blob MAGIC: not \"%.*s\"", static_cast<int>(BLOB_MAGIC.size()),
                           BLOB_MAGIC.data());
    uint16_t version = TRY(r.u16le("VERSION"));
    if (version != BLOB_VERSION)
        return Error::make(Errc::Unsupported, "sealed blob VERSION: %u, expected %u", version, BLOB_VERSION);
    ParsedBlob out;
    uint8_t aead = TRY(r.u8("AEAD"));
    if (aead != static_cast<uint8_t>(Aead::Aes256Gcm) && aead != static_cast<uint8_t>(Aead::ChaCha20Poly1305))
        return Error::make(Errc::Format, "sealed blob AEAD: %u, expected 1 (AES-256-GCM) or 2 (ChaCha20-Poly1305)",
                           aead);
    out.aead = static_cast<Aead>(aead);
    uint8_t policy = TRY(r.u8("POLICY"));
    if (policy > static_cast<uint8_t>(Policy::ChipOnly))
        return Error::make(Errc::Format,
                           "sealed blob POLICY: %u, expected 0 (measurement-and-chip), 1 (measurement-only) or 2 "
                           "(chip-only)",
                           policy);
    out.policy = static_cast<Policy>(policy);
    uint8_t root = TRY(r.u8("ROOT_KEY"));
    TRY(r.zeros(3, "RESERVED"));
    uint64_t field_select = TRY(r.u64le("FIELD_SELECT"));
    uint32_t vmpl = TRY(r.u32le("VMPL"));
    uint32_t guest_svn = TRY(r.u32le("GUEST_SVN"));
    uint64_t tcb_version = TRY(r.u64le("TCB_VERSION"));
    // Every recorded request field must be the policy's: the blob names one request, never a mix.
    out.request = request_for(out.policy, tcb_version);
    const std::string_view name = policy_name(out.policy);
    if (root != key_sel(out.request.root))
        return Error::make(Errc::Format, "sealed blob ROOT_KEY: %u, expected %u (%s) for %.*s", root,
                           key_sel(out.request.root), out.request.root == RootKey::Vlek ? "VLEK" : "VCEK",
                           static_cast<int>(name.size()), name.data());
    if (field_select != out.request.field_select)
        return Error::make(Errc::Format, "sealed blob FIELD_SELECT: 0x%llx, expected 0x%llx for %.*s",
                           static_cast<unsigned long long>(field_select),
                           static_cast<unsigned long long>(out.request.field_select), static_cast<int>(name.size()),
                           name.data());
    if (vmpl != out.request.vmpl)
        return Error::make(Errc::Format, "sealed blob VMPL: %u, expected %u", vmpl, out.request.vmpl);
    if (guest_svn != out.request.guest_svn)
        return Error::make(Errc::Format, "sealed blob GUEST_SVN: %u, expected %u", guest_svn, out.request.guest_svn);
    uint16_t context_len = TRY(r.u16le("CONTEXT_LEN"));
    if (context_len == 0 || context_len > MAX_CONTEXT)
        return Error::make(Errc::Format, "sealed blob CONTEXT_LEN: %u, expected 1 to %zu", context_len, MAX_CONTEXT);
    ByteView context = TRY(r.bytes(context_len, "CONTEXT"));
    out.context.assign(context.begin(), context.end());
    TRY_PREFIX(check_context(out.context), "sealed blob CONTEXT");
    out.nonce = TRY(r.array<NONCE_SIZE>("NONCE"));
    out.aad = blob.first(r.offset());
    if (r.remaining() < TAG_SIZE || r.remaining() > MAX_PLAINTEXT + TAG_SIZE)
        return Error::make(Errc::Format, "sealed blob CIPHERTEXT: %zu bytes, expected %zu to %zu (ciphertext and tag)",
                           r.remaining(), TAG_SIZE, MAX_PLAINTEXT + TAG_SIZE);
    out.ciphertext = TRY(r.bytes(r.remaining(), "CIPHERTEXT"));
    TRY(r.finish());
    return out;
}

Result<Bytes> seal_with_nonce(const DerivedKey& derived, Policy policy, uint64_t tcb_version, std::string_view context,
                              ByteView plaintext, Aead aead, const std::array<uint8_t, NONCE_SIZE>& nonce,
                              ByteView launch)
{
    TRY(check_context(context));
    if (plaintext.size() > MAX_PLAINTEXT)
        return Error::make(Errc::Format, "plaintext: %zu bytes, expected at most %zu", plaintext.size(), MAX_PLAINTEXT);
    const DerivedKeyRequest request = request_for(policy, tcb_version);
    Bytes blob(BLOB_MAGIC.begin(), BLOB_MAGIC.end());
    blob.reserve(HEADER_FIXED_SIZE + context.size() + NONCE_SIZE + plaintext.size() + TAG_SIZE);
    put_u16(blob, BLOB_VERSION);
    blob.push_back(static_cast<uint8_t>(aead));
    blob.push_back(static_cast<uint8_t>(policy));
    blob.push_back(key_sel(request.root));
    blob.insert(blob.end(), 3, 0);
    put_u64(blob, request.field_select);
    put_u32(blob, request.vmpl);
    put_u32(blob, request.guest_svn);
    put_u64(blob, request.tcb_version);
    put_u16(blob, static_cast<uint16_t>(context.size()));
    blob.insert(blob.end(), context.begin(), context.end());
    blob.insert(blob.end(), nonce.begin(), nonce.end());
    const size_t aad_size = blob.size();
    blob.resize(aad_size + plaintext.size() + TAG_SIZE);  // reserved above: no reallocation
    Secret<32> key = TRY(aead_key(derived, context, launch));
    int rc = run_aead(aead, Direction::Encrypt, key, nonce, ByteView(blob.data(), aad_size),
                      ByteView(nonnull(plaintext), plaintext.size()), blob.data() + aad_size,
                      blob.data() + aad_size + plaintext.size());
    if (rc != 0)
        return Error::make(Errc::Crypto, "seal: %.*s encryption failed (mbedTLS -0x%04x)",
                           static_cast<int>(aead_name(aead).size()), aead_name(aead).data(),
                           static_cast<unsigned>(-rc));
    return blob;
}

Result<Bytes> seal(const DerivedKey& derived, Policy policy, uint64_t tcb_version, std::string_view context,
                   ByteView plaintext, Aead aead, ByteView launch)
{
    std::array<uint8_t, NONCE_SIZE> nonce;
    randombytes_buf(nonce.data(), nonce.size());
    return seal_with_nonce(derived, policy, tcb_version, context, plaintext, aead, nonce, launch);
}

ByteView launch_binding(Policy policy, const std::array<uint8_t, 32>& host_data)
{
    if (policy == Policy::ChipOnly || all_zero(host_data))
        return {};
    return host_data;
}

Result<SecretBytes> unseal(const DerivedKey& derived, const ParsedBlob& blob, std::string_view context, ByteView launch)
{
    TRY(check_context(context));
    const size_t size = blob.ciphertext.size() - TAG_SIZE;  // parse_blob: at least the tag
    Secret<32> key = TRY(aead_key(derived, context, launch));
    SecretBytes plaintext(size);
    uint8_t scratch = 0;  // a valid output pointer for an empty plaintext
    std::array<uint8_t, TAG_SIZE> tag;
    std::copy(blob.ciphertext.end() - TAG_SIZE, blob.ciphertext.end(), tag.begin());
    int rc =
        run_aead(blob.aead, Direction::Decrypt, key, blob.nonce, blob.aad, ByteView(nonnull(blob.ciphertext), size),
                 size ? plaintext.expose().data() : &scratch, tag.data());
    if (rc != 0)
        return Error::make(Errc::Crypto, "%s", UNSEAL_FAILED);  // `plaintext` is wiped as it goes
    return plaintext;
}

}  // namespace cvm::agent::sealing
