#include "snp/amd_extensions.h"

#include <algorithm>

#include "base/der.h"

namespace cvm::snp {

namespace {

// DER content of OID 1.3.6.1.4.1.3704.1 (3704 = 0x9C78 in base-128: 0x9C 0x78).
constexpr uint8_t AMD_ARC[] = {0x2B, 0x06, 0x01, 0x04, 0x01, 0x9C, 0x78, 0x01};

// The suffix after the AMD arc: {1} structVersion, {3, 8} ucodeSPL, ...
bool is_amd(ByteView oid, ByteView& suffix)
{
    if (oid.size() <= sizeof AMD_ARC || !std::equal(AMD_ARC, AMD_ARC + sizeof AMD_ARC, oid.begin()))
        return false;
    suffix = oid.subspan(sizeof AMD_ARC);
    return true;
}

Result<std::string> ia5(ByteView value, const char* field)
{
    Reader r(value, field);
    ByteView s = TRY(der::read(r, der::IA5_STRING, field));
    TRY(r.finish());
    for (uint8_t c : s) {
        if (c < 0x20 || c > 0x7E)
            return Error::make(Errc::Format, "AMD extension %s: non-printable byte 0x%02x", field, c);
    }
    return std::string(s.begin(), s.end());
}

Result<uint32_t> integer(ByteView value, const char* field)
{
    Reader r(value, field);
    ByteView c = TRY(der::read(r, der::INTEGER, field));
    TRY(r.finish());
    return der::read_small_uint(c, field);
}

Result<uint8_t> spl(ByteView value, const char* field)
{
    uint32_t v = TRY(integer(value, field));
    if (v > 0xFF)
        return Error::make(Errc::Format, "AMD extension %s is %u, expected at most 255", field, v);
    return static_cast<uint8_t>(v);
}

Result<Bytes> hwid(ByteView value)
{
    if (value.size() == 8 || value.size() == 64)
        return Bytes(value.begin(), value.end());
    Reader r(value, "hwID");
    ByteView inner = TRY(der::read(r, der::OCTET_STRING, "hwID"));
    TRY(r.finish());
    if (inner.size() != 8 && inner.size() != 64)
        return Error::make(Errc::Format, "AMD extension hwID is %zu bytes, expected 8 or 64", inner.size());
    return Bytes(inner.begin(), inner.end());
}

template <typename T>
Result<void> set_once(std::optional<T>& slot, Result<T> value, const char* field)
{
    if (slot)
        return Error::make(Errc::Format, "AMD extension %s appears twice", field);
    slot = TRY(std::move(value));
    return {};
}

Result<void> apply(AmdExtensions& out, ByteView suffix, ByteView value)
{
    const size_t n = suffix.size();
    const uint8_t a = suffix[0], b = n > 1 ? suffix[1] : 0;
    if (n == 1 && a == 1)
        return set_once(out.struct_version, integer(value, "structVersion"), "structVersion");
    if (n == 1 && a == 2)
        return set_once(out.product_name, ia5(value, "productName"), "productName");
    if (n == 1 && a == 4)
        return set_once(out.hwid, hwid(value), "hwID");
    if (n == 1 && a == 5)
        return set_once(out.csp_id, ia5(value, "cspID"), "cspID");
    if (n == 2 && a == 3) {
        switch (b) {
        case 1: return set_once(out.bl_spl, spl(value, "blSPL"), "blSPL");
        case 2: return set_once(out.tee_spl, spl(value, "teeSPL"), "teeSPL");
        case 3: return set_once(out.snp_spl, spl(value, "snpSPL"), "snpSPL");
        case 4:
        case 5:
        case 6:
        case 7: TRY(spl(value, "spl4..spl7")); return {};
        case 8: return set_once(out.ucode_spl, spl(value, "ucodeSPL"), "ucodeSPL");
        case 9: return set_once(out.fmc_spl, spl(value, "fmcSPL"), "fmcSPL");
        default: break;
        }
    }
    return {};  // an AMD OID we do not use (e.g. newer SPLs): the chain still vouches for it
}

}  // namespace

Result<AmdExtensions> parse_amd_extensions(ByteView extensions)
{
    AmdExtensions out;
    Reader r(extensions, "certificate extensions");
    while (!r.at_end()) {
        Reader ext(TRY(der::read(r, der::SEQUENCE, "Extension")), "Extension");
        ByteView oid = TRY(der::read(ext, der::OID, "extnID"));
        der::Element next = TRY(der::read_any(ext, "Extension"));
        if (next.tag == der::BOOLEAN)
            next = TRY(der::read_any(ext, "Extension"));
        if (next.tag != der::OCTET_STRING)
            return Error::make(Errc::Format, "Extension: extnValue tag is 0x%02x, expected 0x04", next.tag);
        TRY(ext.finish());
        ByteView suffix;
        if (is_amd(oid, suffix))
            TRY(apply(out, suffix, next.content));
    }
    return out;
}

Result<TcbVersion> AmdExtensions::tcb(Product product) const
{
    auto need = [](const std::optional<uint8_t>& v, const char* name) -> Result<uint8_t> {
        if (!v)
            return Error::make(Errc::Format, "certificate has no %s extension", name);
        return *v;
    };
    TcbVersion t;
    t.boot_loader = TRY(need(bl_spl, "blSPL"));
    t.tee = TRY(need(tee_spl, "teeSPL"));
    t.snp = TRY(need(snp_spl, "snpSPL"));
    t.microcode = TRY(need(ucode_spl, "ucodeSPL"));
    if (product == Product::Turin)
        t.fmc = TRY(need(fmc_spl, "fmcSPL"));
    return t;
}

}  // namespace cvm::snp
