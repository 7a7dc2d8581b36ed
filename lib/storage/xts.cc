#include "storage/xts.h"

#include <mbedtls/aes.h>

#include <array>

namespace cvm::storage {

struct XtsCipher::Contexts {
    Contexts()
    {
        mbedtls_aes_xts_init(&enc);
        mbedtls_aes_xts_init(&dec);
    }
    ~Contexts()
    {
        // mbedtls_aes_xts_free zeroises both key schedules.
        mbedtls_aes_xts_free(&enc);
        mbedtls_aes_xts_free(&dec);
    }
    Contexts(const Contexts&) = delete;
    Contexts& operator=(const Contexts&) = delete;

    mbedtls_aes_xts_context enc;
    mbedtls_aes_xts_context dec;
};

XtsCipher::XtsCipher(XtsCipher&&) noexcept = default;
XtsCipher& XtsCipher::operator=(XtsCipher&&) noexcept = default;
XtsCipher::~XtsCipher() = default;

Result<XtsCipher> XtsCipher::create(ByteView key)
{
    if (key.size() != KEY_SIZE)
        return Error::make(Errc::Crypto, "aes-xts-plain64: key is %zu bytes, expected %zu", key.size(), KEY_SIZE);
    // IEEE 1619-2007 §5.1: "The key is parsed as a concatenation of two fields of equal size
    // called Key1 and Key2" — with Key1 == Key2 the tweak no longer hides the data position.
    if (constant_time_equal(key.first(KEY_SIZE / 2), key.last(KEY_SIZE / 2)))
        return Error::make(Errc::Crypto, "aes-xts-plain64: the two key halves are equal");
    XtsCipher out;
    out.m_contexts = std::make_unique<Contexts>();
    constexpr unsigned KEY_BITS = KEY_SIZE * 8;
    if (mbedtls_aes_xts_setkey_enc(&out.m_contexts->enc, key.data(), KEY_BITS) != 0 ||
        mbedtls_aes_xts_setkey_dec(&out.m_contexts->dec, key.data(), KEY_BITS) != 0)
        return Error::make(Errc::Crypto, "aes-xts-plain64: failed to set the key");
    return out;
}

Result<void> XtsCipher::encrypt(std::span<uint8_t> data, uint32_t sector_size, uint64_t first_iv) const
{
    return run(true, data, sector_size, first_iv);
}

Result<void> XtsCipher::decrypt(std::span<uint8_t> data, uint32_t sector_size, uint64_t first_iv) const
{
    return run(false, data, sector_size, first_iv);
}

Result<void> XtsCipher::run(bool encrypting, std::span<uint8_t> data, uint32_t sector_size, uint64_t first_iv) const
{
    if (sector_size != 512 && sector_size != 4096)
        return Error::make(Errc::Crypto, "aes-xts-plain64: sector size %u, expected 512 or 4096", sector_size);
    if (data.size() % sector_size != 0)
        return Error::make(Errc::Crypto, "aes-xts-plain64: %zu bytes are not whole %u-byte sectors", data.size(),
                           sector_size);
    const uint64_t iv_step = sector_size / IV_UNIT;
    const uint64_t sectors = data.size() / sector_size;
    if (sectors > 0 && (UINT64_MAX - first_iv) / iv_step < sectors - 1)
        return Error::make(Errc::Crypto, "aes-xts-plain64: IV numbers run past 2^64");
    mbedtls_aes_xts_context* ctx = encrypting ? &m_contexts->enc : &m_contexts->dec;
    int mode = encrypting ? MBEDTLS_AES_ENCRYPT : MBEDTLS_AES_DECRYPT;
    for (uint64_t i = 0; i < sectors; ++i) {
        std::array<uint8_t, 16> tweak{};  // plain64: le64(IV), then zeros
        put_le64(tweak.data(), first_iv + i * iv_step);
        uint8_t* sector = data.data() + i * sector_size;
        // Both mbedTLS XTS paths read each 16-byte block before writing it: in place is safe.
        if (mbedtls_aes_crypt_xts(ctx, mode, sector_size, tweak.data(), sector, sector) != 0)
            return Error::make(Errc::Crypto, "aes-xts-plain64: mbedTLS failed on sector %llu",
                               static_cast<unsigned long long>(i));
    }
    return {};
}

}  // namespace cvm::storage
