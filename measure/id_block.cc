#include "measure/id_block.h"

#include <cstring>

namespace cvm::measure {

namespace {

inline constexpr size_t ID_BLOCK_SIG_OFFSET = 0x040;
inline constexpr size_t ID_KEY_OFFSET = 0x240;
inline constexpr size_t ID_KEY_SIG_OFFSET = 0x680;
inline constexpr size_t AUTHOR_KEY_OFFSET = 0x880;
static_assert(ID_KEY_OFFSET == ID_BLOCK_SIG_OFFSET + AMD_SIGNATURE_SIZE);
static_assert(AUTHOR_KEY_OFFSET == ID_KEY_SIG_OFFSET + AMD_SIGNATURE_SIZE);
static_assert(AUTHOR_KEY_OFFSET + AMD_PUBLIC_KEY_SIZE <= ID_AUTH_SIZE);

template <size_t N>
void put(IdAuth& auth, size_t offset, const std::array<uint8_t, N>& bytes)
{
    memcpy(auth.data() + offset, bytes.data(), N);
}

}  // namespace

IdBlock build_id_block(const IdBlockParams& p)
{
    IdBlock b{};
    memcpy(b.data() + 0x00, p.ld.data(), p.ld.size());
    memcpy(b.data() + 0x30, p.family_id.data(), p.family_id.size());
    memcpy(b.data() + 0x40, p.image_id.data(), p.image_id.size());
    put_le32(b.data() + 0x50, ID_BLOCK_VERSION);
    put_le32(b.data() + 0x54, p.guest_svn);
    put_le64(b.data() + 0x58, p.policy);
    return b;
}

Result<SignedIdBlock> sign_id_block(const IdBlockParams& p, const SigningKey& id_key, const SigningKey* author_key)
{
    SignedIdBlock out;
    out.block = build_id_block(p);
    put_le32(out.auth.data() + 0x000, ID_KEY_ALGO_ECDSA_P384_SHA384);
    put_le32(out.auth.data() + 0x004, ID_KEY_ALGO_ECDSA_P384_SHA384);
    put(out.auth, ID_BLOCK_SIG_OFFSET, TRY(id_key.sign(out.block)));
    put(out.auth, ID_KEY_OFFSET, id_key.public_key());
    out.id_key_digest = id_key.key_digest();
    if (author_key) {
        put(out.auth, ID_KEY_SIG_OFFSET, TRY(author_key->sign(id_key.public_key())));
        put(out.auth, AUTHOR_KEY_OFFSET, author_key->public_key());
        out.author_key_digest = author_key->key_digest();
    }
    return out;
}

}  // namespace cvm::measure
