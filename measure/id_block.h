// The SNP ID block and its authentication structure, for SNP_LAUNCH_FINISH (QEMU's
// sev-snp-guest id-block= and id-auth=), as sev-snp-measure's snp-create-id-block makes them.
//
// AMD SEV-SNP Firmware ABI (publication 56860), SNP_LAUNCH_FINISH, "ID_BLOCK" (0x60 bytes) and
// "ID_AUTH_INFO" (0x1000 bytes), little-endian:
//
//   ID_BLOCK      0x00 LD[48]  0x30 FAMILY_ID[16]  0x40 IMAGE_ID[16]  0x50 u32 VERSION = 1
//                 0x54 u32 GUEST_SVN  0x58 u64 POLICY
//   ID_AUTH_INFO  0x000 u32 ID_KEY_ALGO = 1  0x004 u32 AUTH_KEY_ALGO = 1  (1: ECDSA P-384/SHA-384)
//                 0x040 ID_BLOCK_SIG[0x200]  signature of the ID block by the ID key
//                 0x240 ID_KEY[0x404]        the ID public key
//                 0x680 ID_KEY_SIG[0x200]    signature of ID_KEY by the author key
//                 0x880 AUTHOR_KEY[0x404]    the author public key; everything else zero
//
// The PSP refuses the launch unless LD equals the launch digest and POLICY the guest policy
// given to SNP_LAUNCH_START; the report then carries SHA-384 of ID_KEY and AUTHOR_KEY.
// Without an author key, ID_KEY_SIG and AUTHOR_KEY stay zero (AUTHOR_KEY_EN = 0).
#pragma once

#include <array>
#include <optional>

#include "measure/gctx.h"
#include "measure/signing_key.h"

namespace cvm::measure {

inline constexpr size_t ID_BLOCK_SIZE = 0x60;
inline constexpr size_t ID_AUTH_SIZE = 0x1000;
inline constexpr uint32_t ID_BLOCK_VERSION = 1;
inline constexpr uint32_t ID_KEY_ALGO_ECDSA_P384_SHA384 = 1;
// sev-snp-measure's and QEMU's default guest policy: SMT allowed (bit 16), bit 17 (reserved,
// must be 1), ABI 0.0, no debug, no migration agent.
inline constexpr uint64_t DEFAULT_GUEST_POLICY = 0x30000;

using IdBlock = std::array<uint8_t, ID_BLOCK_SIZE>;
using IdAuth = std::array<uint8_t, ID_AUTH_SIZE>;

struct IdBlockParams {
    LaunchDigest ld{};
    std::array<uint8_t, 16> family_id{};
    std::array<uint8_t, 16> image_id{};
    uint32_t guest_svn{0};
    uint64_t policy{DEFAULT_GUEST_POLICY};
};

IdBlock build_id_block(const IdBlockParams& p);

struct SignedIdBlock {
    IdBlock block{};
    IdAuth auth{};
    crypto::Sha384Digest id_key_digest{};
    std::optional<crypto::Sha384Digest> author_key_digest;
};

// Signs the ID block with `id_key` and, if given, the ID key with `author_key`.
Result<SignedIdBlock> sign_id_block(const IdBlockParams& p, const SigningKey& id_key, const SigningKey* author_key);

}  // namespace cvm::measure
