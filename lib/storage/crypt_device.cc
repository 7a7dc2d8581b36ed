#include "storage/crypt_device.h"

#include <algorithm>
#include <cinttypes>
#include <cstring>

namespace cvm::storage {
namespace {

constexpr size_t WRITE_CHUNK = 1 << 20;  // plaintext is copied and encrypted this much at a time

}  // namespace

Result<CryptBlockDevice> CryptBlockDevice::create(BlockDevice& lower, uint64_t segment_offset, uint64_t segment_size,
                                                  uint32_t sector_size, const SecretBytes& key)
{
    if (sector_size != 512 && sector_size != 4096)
        return Error::make(Errc::Config, "crypt view: sector size %u, expected 512 or 4096", sector_size);
    if (segment_size == 0 || segment_offset % sector_size != 0 || segment_size % sector_size != 0)
        return Error::make(Errc::Config, "crypt view: segment %" PRIu64 "+%" PRIu64 " is not whole %u-byte sectors",
                           segment_offset, segment_size, sector_size);
    TRY(check_range(lower, segment_offset, segment_size));
    XtsCipher cipher = TRY(XtsCipher::create(key.expose()));
    return CryptBlockDevice(lower, segment_offset, segment_size, sector_size, std::move(cipher));
}

Result<CryptBlockDevice> CryptBlockDevice::open(BlockDevice& lower, const luks2::Volume& volume, const SecretBytes& key)
{
    return create(lower, volume.segment_offset, volume.segment_size, volume.sector_size, key);
}

Result<void> CryptBlockDevice::check_aligned(uint64_t offset, size_t length) const
{
    if (offset % m_sector_size != 0 || length % m_sector_size != 0)
        return Error::make(Errc::Io, "%s: range %" PRIu64 "+%zu is not whole %u-byte sectors", m_name.c_str(), offset,
                           length, m_sector_size);
    return check_range(*this, offset, length);
}

Result<void> CryptBlockDevice::read_at(uint64_t offset, std::span<uint8_t> out)
{
    TRY(check_aligned(offset, out.size()));
    TRY(m_lower->read_at(m_offset + offset, out));
    TRY_PREFIX(m_cipher.decrypt(out, m_sector_size, offset / XtsCipher::IV_UNIT), "%s", m_name.c_str());
    return {};
}

Result<void> CryptBlockDevice::write_at(uint64_t offset, ByteView data)
{
    TRY(check_aligned(offset, data.size()));
    SecretBytes buffer(std::min(WRITE_CHUNK, data.size()));  // wiped: it holds plaintext for a moment
    for (size_t done = 0; done < data.size();) {
        size_t n = std::min(buffer.size(), data.size() - done);
        std::span<uint8_t> chunk = buffer.expose().first(n);
        memcpy(chunk.data(), data.data() + done, n);
        TRY_PREFIX(m_cipher.encrypt(chunk, m_sector_size, (offset + done) / XtsCipher::IV_UNIT), "%s", m_name.c_str());
        TRY(m_lower->write_at(m_offset + offset + done, chunk));
        done += n;
    }
    return {};
}

Result<std::unique_ptr<BlockDevice>> UserspaceActivator::activate(BlockDevice& device, const luks2::Volume& volume,
                                                                  SecretBytes volume_key)
{
    auto view = TRY(CryptBlockDevice::open(device, volume, volume_key));
    return std::unique_ptr<BlockDevice>(new CryptBlockDevice(std::move(view)));
}

}  // namespace cvm::storage
