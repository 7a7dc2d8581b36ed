// AES-256-XTS with dm-crypt's "plain64" IV: the cipher of the LUKS2 keyslot areas and of the data
// segment ("aes-xts-plain64"), for opening keyslots and for the userspace plaintext view.
//
// IEEE 1619-2007 XTS-AES with a 64-byte key (two AES-256 keys) and one XTS data unit per sector.
// The tweak of a sector is plain64: its IV number as 64-bit little-endian, zero-padded to 16
// bytes. IV numbers count 512-byte units whatever the sector size, as dm-crypt does without
// `iv_large_sectors` and as cryptsetup sets up every LUKS2 segment (lib/libdevmapper.c adds that
// flag only on request, for plain and BitLocker mappings): the sector at byte offset `o` of the
// segment has IV o / 512, so consecutive 4096-byte sectors have IVs 0, 8, 16, ...
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "base/result.h"
#include "base/secret.h"

namespace cvm::storage {

class XtsCipher {
public:
    static constexpr size_t KEY_SIZE = 64;
    static constexpr uint32_t IV_UNIT = 512;

    // Expands `key` (KEY_SIZE bytes, the caller keeps its own copy) into encryption and
    // decryption schedules, which are wiped on destruction. Errc::Crypto for a wrong key size or
    // the two halves equal (IEEE 1619 forbids key1 == key2; mbedTLS would accept it).
    static Result<XtsCipher> create(ByteView key);

    XtsCipher(XtsCipher&&) noexcept;
    XtsCipher& operator=(XtsCipher&&) noexcept;
    ~XtsCipher();

    // Encrypts or decrypts whole sectors of `data` in place. `sector_size` is 512 or 4096 and
    // must divide data.size(); the first sector has IV `first_iv`, each next one IV +
    // sector_size / 512. Errc::Crypto for any other shape (nothing is changed then).
    Result<void> encrypt(std::span<uint8_t> data, uint32_t sector_size, uint64_t first_iv) const;
    Result<void> decrypt(std::span<uint8_t> data, uint32_t sector_size, uint64_t first_iv) const;

    struct Contexts;

private:
    XtsCipher() = default;
    Result<void> run(bool encrypting, std::span<uint8_t> data, uint32_t sector_size, uint64_t first_iv) const;

    std::unique_ptr<Contexts> m_contexts;
};

}  // namespace cvm::storage
