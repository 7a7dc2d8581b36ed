// libFuzzer harness: the strict LUKS2 header judgement (storage/luks2_volume.h parse_headers).
//
// The first input byte picks how the rest becomes the device's first 32 KiB, so that a fuzzer
// without SHA-256 still reaches the JSON validator:
//   'J'  the rest is one JSON text, put in both copies with correct checksums (seqid 1);
//   'K'  the rest is two JSON texts split at the first NUL: the primary (seqid 2) and the
//        secondary (seqid 1), which exercises the crash rule;
//   else the whole input is the start of a zero-padded device (raw binary headers).
// Properties beyond "no crash": Blank only when the primary binary header is zero (and a zero
// primary is Blank or refused, never Valid); a Valid volume lies inside the device and its
// keyslots area, its keyslots apart; with our token its JSON text is exactly write_metadata() of
// it (the canonical form the HMAC covers), without one (ADOPTION: generation 0, no hmac) any text
// that means the same; and writing a Valid volume's metadata again into fresh copies reads back
// as the same Volume.
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "base/bytes.h"
#include "storage/luks2_header.h"
#include "storage/luks2_metadata.h"
#include "storage/luks2_volume.h"

using namespace cvm;
using namespace cvm::storage::luks2;

namespace {

constexpr uint64_t DEVICE_SIZE = 64 << 20;
constexpr const char* UUID = "0b1f5b2e-6a43-4b8e-9d2a-3c1e6f7a8b90";

bool put_copies(Bytes& headers, std::string_view primary_json, std::string_view secondary_json, uint64_t primary_seqid,
                uint64_t secondary_seqid)
{
    auto primary = build_copy(Copy::Primary, primary_seqid, "", UUID, primary_json);
    auto secondary = build_copy(Copy::Secondary, secondary_seqid, "", UUID, secondary_json);
    if (!primary.ok() || !secondary.ok())
        return false;  // a NUL inside, or too long for the JSON area
    memcpy(headers.data(), primary->data(), HEADER_SIZE);
    memcpy(headers.data() + HEADER_SIZE, secondary->data(), HEADER_SIZE);
    return true;
}

void check_valid(const Volume& v)
{
    if (v.adopt && (v.formatting || v.generation != 0 || v.derivation || v.hmac != std::array<uint8_t, 32>{}))
        abort();
    const uint64_t keyslots_end = 2 * HEADER_SIZE + v.keyslots_size;
    if (v.segment_offset < keyslots_end || v.segment_offset > DEVICE_SIZE ||
        v.segment_size > DEVICE_SIZE - v.segment_offset || v.segment_size == 0 || v.segment_size % v.sector_size != 0 ||
        v.keyslot_area_offset < 2 * HEADER_SIZE || v.keyslot_area_offset + v.keyslot_area_size > keyslots_end)
        abort();
    if (v.recovery_keyslot &&
        (v.recovery_area_offset < 2 * HEADER_SIZE || v.recovery_area_offset + v.recovery_area_size > keyslots_end ||
         (v.recovery_area_offset < v.keyslot_area_offset + v.keyslot_area_size &&
          v.keyslot_area_offset < v.recovery_area_offset + v.recovery_area_size)))
        abort();
    Bytes again(HEADERS_SIZE);
    std::string json = write_metadata(v);
    if (!put_copies(again, json, json, v.seqid, v.seqid))
        abort();
    auto reread = parse_headers(again, DEVICE_SIZE);
    if (!reread.ok() || reread->state != HeaderState::Valid || reread->repair_secondary)
        abort();
    Volume expected = v;
    expected.label = "";
    expected.uuid = UUID;
    if (*reread->volume != expected)
        abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    Bytes headers(HEADERS_SIZE, 0);
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (size > 0 && data[0] == 'J') {
        if (!put_copies(headers, text.substr(1), text.substr(1), 1, 1))
            return 0;
    } else if (size > 0 && data[0] == 'K') {
        std::string_view rest = text.substr(1);
        size_t nul = rest.find('\0');
        if (nul == std::string_view::npos || !put_copies(headers, rest.substr(0, nul), rest.substr(nul + 1), 2, 1))
            return 0;
    } else {
        memcpy(headers.data(), data, std::min(size, headers.size()));
    }
    auto result = parse_headers(headers, DEVICE_SIZE);
    if (!result.ok())
        return 0;
    bool blank = all_zero(ByteView(headers).first(BINARY_HEADER_SIZE));
    if ((result->state == HeaderState::Blank) != blank || result->volume.has_value() == blank)
        abort();  // a zero primary that is not Blank must have been refused above
    if (result->volume)
        check_valid(*result->volume);
    if (result->repair_secondary && result->volume->adopt)
        abort();  // the crash rule never leaves the primary without our token
    return 0;
}
