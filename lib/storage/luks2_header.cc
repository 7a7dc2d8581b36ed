#include "storage/luks2_header.h"

#include <algorithm>
#include <cinttypes>
#include <cstring>

#include "base/reader.h"
#include "crypto/digest.h"
#include "storage/luks2_keyslot.h"

namespace cvm::storage::luks2 {
namespace {

constexpr uint8_t PRIMARY_MAGIC[MAGIC_SIZE] = {'L', 'U', 'K', 'S', 0xba, 0xbe};
constexpr uint8_t SECONDARY_MAGIC[MAGIC_SIZE] = {'S', 'K', 'U', 'L', 0xba, 0xbe};
constexpr uint16_t VERSION = 2;
constexpr std::string_view CHECKSUM_ALG = "sha256";

std::string_view as_text(ByteView bytes)
{
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

Result<uint64_t> u64be(Reader& r, const char* field)
{
    uint64_t high = TRY(r.u32be(field));
    uint64_t low = TRY(r.u32be(field));
    return high << 32 | low;
}

void put_be64(uint8_t* out, uint64_t v)
{
    for (int i = 7; i >= 0; --i, v >>= 8)
        out[i] = static_cast<uint8_t>(v);
}

// A fixed-size string slot: text, a NUL, then only NULs. nullopt when there is no NUL or
// something follows it.
std::optional<std::string_view> nul_padded(ByteView slot)
{
    auto nul = std::find(slot.begin(), slot.end(), 0);
    if (nul == slot.end() || !all_zero(ByteView(nul, slot.end())))
        return std::nullopt;
    return as_text(ByteView(slot.begin(), nul));
}

bool printable(std::string_view s)
{
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

crypto::Sha256Digest checksum(ByteView copy)
{
    static constexpr uint8_t ZERO_CSUM[CSUM_SIZE] = {};
    crypto::Sha256 sha;
    sha.update(copy.first(CSUM_OFFSET));
    sha.update(ZERO_CSUM);
    sha.update(copy.subspan(CSUM_OFFSET + CSUM_SIZE));
    return sha.finish();
}

Error bad(Copy which, const char* field, std::string_view found, const char* expected, Errc code = Errc::Format)
{
    found = found.substr(0, found.find_last_not_of('\0') + 1);  // the NUL padding says nothing
    return Error::make(code, "luks2 header: %s copy %s is \"%s\", expected %s", copy_name(which), field,
                       shown(found).c_str(), expected);
}

}  // namespace

const char* copy_name(Copy which)
{
    return which == Copy::Primary ? "primary" : "secondary";
}

std::string shown(std::string_view value)
{
    constexpr size_t MAX_SHOWN = 40;
    std::string out;
    for (char c : value.substr(0, MAX_SHOWN)) {
        auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') {
            out += c;
        } else {
            char hex[5];
            snprintf(hex, sizeof hex, "\\x%02x", u);
            out += hex;
        }
    }
    if (value.size() > MAX_SHOWN)
        out += "...";
    return out;
}

Result<HeaderCopy> parse_copy(ByteView bytes, Copy which)
{
    const char* name = copy_name(which);
    if (bytes.size() != HEADER_SIZE)
        return Error::make(Errc::Format, "luks2 header: %s copy is %zu bytes, expected %zu", name, bytes.size(),
                           HEADER_SIZE);
    ByteView magic = bytes.first(MAGIC_SIZE);
    const uint8_t* expected_magic = which == Copy::Primary ? PRIMARY_MAGIC : SECONDARY_MAGIC;
    if (memcmp(magic.data(), expected_magic, MAGIC_SIZE) != 0)
        return bad(which, "magic", as_text(magic),
                   which == Copy::Primary ? "\"LUKS\\xba\\xbe\"" : "\"SKUL\\xba\\xbe\"");

    Reader r(bytes, "luks2 header");
    TRY(r.skip(MAGIC_SIZE, "magic"));
    uint16_t version = TRY(r.u16be("version"));
    if (version != VERSION)
        return Error::make(Errc::Unsupported, "luks2 header: %s copy version is %u, expected 2", name, version);
    uint64_t hdr_size = TRY(u64be(r, "hdr_size"));
    if (hdr_size != HEADER_SIZE)
        return Error::make(Errc::Unsupported, "luks2 header: %s copy hdr_size is %" PRIu64 ", expected %zu", name,
                           hdr_size, HEADER_SIZE);
    HeaderCopy out;
    out.seqid = TRY(u64be(r, "seqid"));
    ByteView label = TRY(r.bytes(LABEL_SIZE, "label"));
    ByteView checksum_alg = TRY(r.bytes(CHECKSUM_ALG_SIZE, "checksum_alg"));
    auto alg = nul_padded(checksum_alg);
    if (!alg || *alg != CHECKSUM_ALG)
        return bad(which, "checksum_alg", as_text(checksum_alg), "\"sha256\"", Errc::Unsupported);
    // The checksum before any other field: a torn or corrupted copy is reported as such.
    ByteView csum = bytes.subspan(CSUM_OFFSET, CSUM_SIZE);
    crypto::Sha256Digest computed = checksum(bytes);
    if (memcmp(csum.data(), computed.data(), SHA256_SIZE) != 0 || !all_zero(csum.subspan(SHA256_SIZE)))
        return Error::make(Errc::Format, "luks2 header: %s copy checksum does not match its contents", name);

    auto label_text = nul_padded(label);
    if (!label_text || !printable(*label_text))
        return bad(which, "label", as_text(label), "printable text and NUL padding");
    out.label = *label_text;
    TRY(r.skip(SALT_SIZE, "salt"));  // random per copy ("unique for every header"): not compared
    ByteView uuid = TRY(r.bytes(UUID_SIZE, "uuid"));
    auto uuid_text = nul_padded(uuid);
    if (!uuid_text || !is_canonical_uuid(*uuid_text))
        return bad(which, "uuid", as_text(uuid), "a lower-case UUID and NUL padding");
    out.uuid = *uuid_text;
    ByteView subsystem = TRY(r.bytes(SUBSYSTEM_SIZE, "subsystem"));
    if (!all_zero(subsystem))
        return bad(which, "subsystem", as_text(subsystem), "empty");
    uint64_t hdr_offset = TRY(u64be(r, "hdr_offset"));
    uint64_t expected_offset = which == Copy::Primary ? PRIMARY_OFFSET : SECONDARY_OFFSET;
    if (hdr_offset != expected_offset)
        return Error::make(Errc::Format, "luks2 header: %s copy hdr_offset is %" PRIu64 ", expected %" PRIu64, name,
                           hdr_offset, expected_offset);
    TRY_PREFIX(r.zeros(PADDING_SIZE, "_padding"), "luks2 header: %s copy", name);
    TRY(r.skip(CSUM_SIZE, "csum"));
    TRY_PREFIX(r.zeros(PADDING4096_SIZE, "_padding4096"), "luks2 header: %s copy", name);

    ByteView area = TRY(r.bytes(JSON_AREA_SIZE, "JSON area"));
    TRY(r.finish());
    auto nul = std::find(area.begin(), area.end(), 0);
    if (nul == area.end())
        return Error::make(Errc::Format, "luks2 header: %s copy JSON area has no terminating NUL", name);
    if (nul == area.begin())
        return Error::make(Errc::Format, "luks2 header: %s copy JSON area is empty", name);
    auto garbage = std::find_if(nul, area.end(), [](uint8_t b) { return b != 0; });
    if (garbage != area.end())
        return Error::make(Errc::Format,
                           "luks2 header: %s copy JSON area has byte 0x%02x at %zu after the JSON text, "
                           "expected only NULs",
                           name, *garbage, static_cast<size_t>(garbage - area.begin()));
    out.json = as_text(ByteView(area.begin(), nul));
    return out;
}

Result<Bytes> build_copy(Copy which, uint64_t seqid, std::string_view label, std::string_view uuid,
                         std::string_view json)
{
    if (label.size() >= LABEL_SIZE || uuid.size() >= UUID_SIZE || json.size() >= JSON_AREA_SIZE)
        return Error::make(Errc::Format, "luks2 header: label, uuid or JSON text too long for its slot");
    if (std::find(json.begin(), json.end(), '\0') != json.end())
        return Error::make(Errc::Format, "luks2 header: JSON text contains a NUL");
    Bytes out(HEADER_SIZE, 0);
    memcpy(out.data() + MAGIC_OFFSET, which == Copy::Primary ? PRIMARY_MAGIC : SECONDARY_MAGIC, MAGIC_SIZE);
    out[VERSION_OFFSET] = 0;
    out[VERSION_OFFSET + 1] = VERSION;
    put_be64(out.data() + HDR_SIZE_OFFSET, HEADER_SIZE);
    put_be64(out.data() + SEQID_OFFSET, seqid);
    memcpy(out.data() + LABEL_OFFSET, label.data(), label.size());
    memcpy(out.data() + CHECKSUM_ALG_OFFSET, CHECKSUM_ALG.data(), CHECKSUM_ALG.size());
    fill_random(std::span<uint8_t>(out).subspan(SALT_OFFSET, SALT_SIZE));
    memcpy(out.data() + UUID_OFFSET, uuid.data(), uuid.size());
    put_be64(out.data() + HDR_OFFSET_OFFSET, which == Copy::Primary ? PRIMARY_OFFSET : SECONDARY_OFFSET);
    memcpy(out.data() + BINARY_HEADER_SIZE, json.data(), json.size());
    crypto::Sha256Digest sum = checksum(out);
    memcpy(out.data() + CSUM_OFFSET, sum.data(), sum.size());
    return out;
}

}  // namespace cvm::storage::luks2
