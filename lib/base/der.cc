#include "base/der.h"

namespace cvm::der {

Result<Element> read_any(Reader& r, const char* field)
{
    Element e;
    e.tag = TRY(r.u8(field));
    if ((e.tag & 0x1F) == 0x1F)
        return Error::make(Errc::Format, "DER %s: multi-byte tag 0x%02x is not supported", field, e.tag);
    uint8_t first = TRY(r.u8(field));
    size_t length = first;
    if (first == 0x80)
        return Error::make(Errc::Format, "DER %s: indefinite length is not DER", field);
    if (first > 0x80) {
        size_t count = first & 0x7F;
        if (count > 4)
            return Error::make(Errc::Format, "DER %s: length of %zu bytes is too large", field, count);
        length = 0;
        for (size_t i = 0; i < count; ++i)
            length = length << 8 | TRY(r.u8(field));
        if (length < 0x80 || (count > 1 && length >> (8 * (count - 1)) == 0))
            return Error::make(Errc::Format, "DER %s: length %zu is not minimally encoded", field, length);
    }
    e.content = TRY(r.bytes(length, field));
    return e;
}

Result<ByteView> read(Reader& r, uint8_t tag, const char* field)
{
    Element e = TRY(read_any(r, field));
    if (e.tag != tag)
        return Error::make(Errc::Format, "DER %s: tag is 0x%02x, expected 0x%02x", field, e.tag, tag);
    return e.content;
}

Result<uint32_t> read_small_uint(ByteView c, const char* field)
{
    if (c.empty())
        return Error::make(Errc::Format, "DER %s: empty INTEGER", field);
    if (c[0] & 0x80)
        return Error::make(Errc::Format, "DER %s: negative INTEGER", field);
    if (c.size() > 1 && c[0] == 0 && !(c[1] & 0x80))
        return Error::make(Errc::Format, "DER %s: INTEGER is not minimally encoded", field);
    if (c.size() > 5 || (c.size() == 5 && c[0] != 0))
        return Error::make(Errc::Format, "DER %s: INTEGER does not fit in 32 bits", field);
    uint32_t v = 0;
    for (uint8_t b : c)
        v = v << 8 | b;
    return v;
}

}  // namespace cvm::der
