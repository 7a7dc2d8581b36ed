// CryptBlockDevice: the plaintext of a LUKS2 data segment, decrypted in userspace.
//
// What dm-crypt would show for "aes-xts-plain64" with iv_tweak 0 and no iv_large_sectors (as
// cryptsetup 2.6 maps every LUKS2 segment): byte `o` of the view is byte segment_offset + o of the
// lower device, sectors of sector_size bytes, and the sector at view offset `o` has the plain64
// IV o / 512 (xts.h). For host tools and tests (mkfs through it, crash-recovery checks); the guest
// itself uses dm-crypt.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"
#include "base/secret.h"
#include "storage/block_device.h"
#include "storage/data_volume.h"
#include "storage/luks2_volume.h"
#include "storage/xts.h"

namespace cvm::storage {

class CryptBlockDevice final : public BlockDevice {
public:
    // `lower` is borrowed and must outlive the view. The segment [segment_offset, +segment_size)
    // must lie in `lower`, both multiples of `sector_size` (512 or 4096), the size non-zero; the
    // key is 64 bytes with different halves. Errc::Config or Errc::Crypto otherwise. The key is
    // expanded into cipher schedules (wiped on destruction); the caller keeps and wipes `key`.
    static Result<CryptBlockDevice> create(BlockDevice& lower, uint64_t segment_offset, uint64_t segment_size,
                                           uint32_t sector_size, const SecretBytes& key);
    // The segment of a validated volume, with the key unlock() returned.
    static Result<CryptBlockDevice> open(BlockDevice& lower, const luks2::Volume& volume, const SecretBytes& key);

    uint64_t size() const override { return m_size; }
    // Both take whole sectors only: `offset` and the length multiples of sector_size (Errc::Io
    // otherwise, and for ranges past size() or failures of the lower device).
    Result<void> read_at(uint64_t offset, std::span<uint8_t> out) override;
    Result<void> write_at(uint64_t offset, ByteView data) override;
    Result<void> flush() override { return m_lower->flush(); }
    const std::string& name() const override { return m_name; }
    uint32_t sector_size() const { return m_sector_size; }

private:
    CryptBlockDevice(BlockDevice& lower, uint64_t offset, uint64_t size, uint32_t sector_size, XtsCipher cipher)
            : m_lower(&lower), m_offset(offset), m_size(size), m_sector_size(sector_size), m_cipher(std::move(cipher)),
              m_name("crypt:" + lower.name())
    {
    }
    Result<void> check_aligned(uint64_t offset, size_t length) const;

    BlockDevice* m_lower;
    uint64_t m_offset;
    uint64_t m_size;
    uint32_t m_sector_size;
    XtsCipher m_cipher;
    std::string m_name;
};

// The Activator for hosts without device-mapper (tests, benchmarks): a CryptBlockDevice over the
// segment, holding the key's cipher schedules; the key itself is wiped on return.
class UserspaceActivator final : public Activator {
public:
    Result<std::unique_ptr<BlockDevice>> activate(BlockDevice& device, const luks2::Volume& volume,
                                                  SecretBytes volume_key) override;
};

}  // namespace cvm::storage
