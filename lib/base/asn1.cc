#include "base/asn1.h"

#include <cstdio>

#include "base/der.h"

namespace cvm::asn1 {

namespace {

constexpr uint8_t BIT_STRING = 0x03;
constexpr uint8_t NULL_TAG = 0x05;
constexpr uint8_t UTF8_STRING = 0x0C;
constexpr uint8_t PRINTABLE_STRING = 0x13;
constexpr uint8_t UTC_TIME = 0x17;
constexpr uint8_t GENERALIZED_TIME = 0x18;
constexpr uint8_t SET = 0x31;
constexpr uint8_t CONTEXT_CONSTRUCTED = 0xA0;

// Base-128, most significant group first, continuation bit on all but the last (X.690 §8.19).
void put_base128(Bytes& out, uint32_t v)
{
    uint8_t groups[5];
    size_t n = 0;
    do {
        groups[n++] = static_cast<uint8_t>(v & 0x7F);
        v >>= 7;
    } while (v != 0);
    while (n > 1)
        out.push_back(groups[--n] | 0x80);
    out.push_back(groups[0]);
}

Bytes string(uint8_t tag, std::string_view text)
{
    return element(tag, as_bytes(text));
}

}  // namespace

Bytes element(uint8_t tag, ByteView content)
{
    Bytes out{tag};
    size_t n = content.size();
    if (n < 0x80) {
        out.push_back(static_cast<uint8_t>(n));
    } else {
        // Long form with the fewest length octets (X.690 §10.1).
        uint8_t octets[sizeof(size_t)];
        size_t count = 0;
        for (size_t v = n; v != 0; v >>= 8)
            octets[count++] = static_cast<uint8_t>(v);
        out.push_back(static_cast<uint8_t>(0x80 | count));
        while (count > 0)
            out.push_back(octets[--count]);
    }
    out.insert(out.end(), content.begin(), content.end());
    return out;
}

Bytes concat(std::initializer_list<ByteView> parts)
{
    Bytes out;
    for (ByteView p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

Bytes sequence(std::initializer_list<ByteView> parts)
{
    return element(der::SEQUENCE, concat(parts));
}

Bytes set_of_one(ByteView member)
{
    return element(SET, member);
}

Bytes explicit_tag(uint8_t n, ByteView content)
{
    return element(static_cast<uint8_t>(CONTEXT_CONSTRUCTED | n), content);
}

Bytes integer(uint64_t value)
{
    Bytes content;
    for (int shift = 56; shift >= 0; shift -= 8) {
        auto b = static_cast<uint8_t>(value >> shift);
        if (content.empty() && b == 0 && shift != 0)
            continue;
        if (content.empty() && (b & 0x80))
            content.push_back(0);  // keep the sign bit clear: the value is non-negative
        content.push_back(b);
    }
    return element(der::INTEGER, content);
}

Bytes integer_from_magnitude(ByteView magnitude)
{
    size_t first = 0;
    while (first < magnitude.size() && magnitude[first] == 0)
        ++first;
    Bytes content;
    if (first == magnitude.size() || (magnitude[first] & 0x80))
        content.push_back(0);  // zero, or keep the sign bit clear: the value is non-negative
    content.insert(content.end(), magnitude.begin() + static_cast<std::ptrdiff_t>(first), magnitude.end());
    return element(der::INTEGER, content);
}

Bytes boolean(bool value)
{
    const uint8_t content = value ? 0xFF : 0x00;  // DER: TRUE is all ones (X.690 §11.1)
    return element(der::BOOLEAN, ByteView(&content, 1));
}

Bytes null()
{
    return element(NULL_TAG, {});
}

Bytes oid(std::initializer_list<uint32_t> arcs)
{
    Bytes content;
    const uint32_t* a = arcs.begin();
    if (arcs.size() >= 2) {
        put_base128(content, a[0] * 40 + a[1]);  // the first two arcs share one subidentifier
        for (size_t i = 2; i < arcs.size(); ++i)
            put_base128(content, a[i]);
    }
    return element(der::OID, content);
}

Bytes octet_string(ByteView content)
{
    return element(der::OCTET_STRING, content);
}

Bytes bit_string(ByteView content, uint8_t unused_bits)
{
    Bytes body{unused_bits};
    body.insert(body.end(), content.begin(), content.end());
    return element(BIT_STRING, body);
}

Bytes utf8_string(std::string_view text)
{
    return string(UTF8_STRING, text);
}

Bytes printable_string(std::string_view text)
{
    return string(PRINTABLE_STRING, text);
}

Bytes ia5_string(std::string_view text)
{
    return string(der::IA5_STRING, text);
}

Result<Bytes> x509_time(std::time_t t)
{
    struct tm tm {};
    if (!gmtime_r(&t, &tm))
        return Error::make(Errc::Config, "certificate time %lld cannot be represented", static_cast<long long>(t));
    int year = tm.tm_year + 1900;
    if (year < 1950 || year > 9999)
        return Error::make(Errc::Config, "certificate year %d is outside 1950..9999 (RFC 5280 §4.1.2.5)", year);
    char buf[24];
    // RFC 5280 §4.1.2.5: "CAs conforming to this profile MUST always encode certificate validity
    // dates through the year 2049 as UTCTime; certificate validity dates in 2050 or later MUST be
    // encoded as GeneralizedTime."
    bool utc = year < 2050;
    int n = utc ? snprintf(buf, sizeof buf, "%02d%02d%02d%02d%02d%02dZ", year % 100, tm.tm_mon + 1, tm.tm_mday,
                           tm.tm_hour, tm.tm_min, tm.tm_sec)
                : snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02dZ", year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                           tm.tm_min, tm.tm_sec);
    return element(utc ? UTC_TIME : GENERALIZED_TIME, as_bytes(std::string_view(buf, static_cast<size_t>(n))));
}

}  // namespace cvm::asn1
