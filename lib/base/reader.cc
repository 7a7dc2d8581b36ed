#include "base/reader.h"

namespace cvm {

Result<ByteView> Reader::take(size_t n, const char* field)
{
    if (n > remaining())
        return Error::make(Errc::Format, "%s: %s at offset 0x%zx is truncated: need %zu bytes, %zu left", m_what, field,
                           m_offset, n, remaining());
    ByteView v = m_data.subspan(m_offset, n);
    m_offset += n;
    return v;
}

Result<uint8_t> Reader::u8(const char* field)
{
    ByteView v = TRY(take(1, field));
    return v[0];
}

Result<uint16_t> Reader::u16le(const char* field)
{
    ByteView v = TRY(take(2, field));
    return static_cast<uint16_t>(v[0] | v[1] << 8);
}

Result<uint32_t> Reader::u32le(const char* field)
{
    ByteView v = TRY(take(4, field));
    return get_le32(v.data());
}

Result<uint64_t> Reader::u64le(const char* field)
{
    ByteView v = TRY(take(8, field));
    return uint64_t(get_le32(v.data())) | uint64_t(get_le32(v.data() + 4)) << 32;
}

Result<uint16_t> Reader::u16be(const char* field)
{
    ByteView v = TRY(take(2, field));
    return static_cast<uint16_t>(v[0] << 8 | v[1]);
}

Result<uint32_t> Reader::u32be(const char* field)
{
    ByteView v = TRY(take(4, field));
    return uint32_t(v[0]) << 24 | uint32_t(v[1]) << 16 | uint32_t(v[2]) << 8 | uint32_t(v[3]);
}

Result<ByteView> Reader::bytes(size_t n, const char* field)
{
    return take(n, field);
}

Result<void> Reader::zeros(size_t n, const char* field)
{
    size_t start = m_offset;
    ByteView v = TRY(take(n, field));
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] != 0)
            return Error::make(Errc::Format,
                               "%s: reserved field %s (0x%zx..0x%zx) must be zero, found 0x%02x at offset 0x%zx",
                               m_what, field, start, start + n, v[i], start + i);
    }
    return {};
}

Result<void> Reader::skip(size_t n, const char* field)
{
    TRY(take(n, field));
    return {};
}

Result<void> Reader::finish() const
{
    if (remaining() != 0)
        return Error::make(Errc::Format, "%s: %zu trailing bytes after offset 0x%zx, expected none", m_what,
                           remaining(), m_offset);
    return {};
}

}  // namespace cvm
