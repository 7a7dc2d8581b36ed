// The broker's anti-rollback rule for data volumes (docs/broker.md, "Volume generations").
//
// A data volume's LUKS2 header carries a generation in the agent's authenticated token, which the
// agent raises by one on every open. The agent reports the header's state in the attested request
// (proto::VolumeReport); the broker keeps, per [[volume]] name, the generation it expects next and
// the REPORT_ID of the launch that set it, and judges each report against that record:
//
//   nothing stored (or reset)        accept; store g+1 with this REPORT_ID
//   g == s                           accept; store g+1 with this REPORT_ID
//   g == s-1, same REPORT_ID         accept, no change: the same launch retrying after a lost answer
//   blank (g = 0), s stored          VOLUME_ROLLBACK: a zeroed or replaced disk
//   anything else                    VOLUME_ROLLBACK: g < s an older copy, g > s never issued
//
// The record is written by compare-and-set (Store::compare_and_set) after every other check has
// passed, just before the answer; `cvm broker volume reset` replaces it with a reset marker, which
// is judged as nothing stored and logged at the next use.
//
// Recovery: a volume with a recovery key releases it (proto::ReleasedVolume::recovery) when its
// disk is blank and nothing is stored (the first format enrols keyslot 1; the same launch's retry
// gets it again), or when an operator armed one release with `cvm broker volume recover`
// (a "recover" entry in the store, consumed by compare-and-set by the release that uses it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "proto/messages.h"

namespace cvm::broker {

// What the store holds under store_keys::volume(name).
struct GenerationRecord {
    bool reset{false};       // an operator's reset: judged as nothing stored
    uint64_t generation{0};  // the generation the disk must report next (not when reset)
    std::string report_id;   // hex, the launch that set it (not when reset)
    bool operator==(const GenerationRecord&) const = default;
};

// "v1 <generation> <report_id hex>" or "v1 reset".
std::string encode_record(const GenerationRecord& record);
// Errc::Format naming what is wrong for anything encode_record() does not write.
Result<GenerationRecord> decode_record(ByteView bytes);

// The value of an armed recovery (store_keys::recover): "armed <unix seconds>".
std::string armed_value(int64_t now);

struct VolumeVerdict {
    bool accepted{false};
    std::optional<GenerationRecord> next;  // the record to write; nullopt: leave it as it is
    bool first_format{false};              // blank with nothing stored, or that launch's retry
    std::string detail;                    // for a refusal: one sentence naming the volume, g and s
};

// The rule table above for `report` of volume `name` from the launch `report_id` (hex).
VolumeVerdict judge_volume(std::string_view name, const proto::VolumeReport& report,
                           const std::optional<GenerationRecord>& stored, std::string_view report_id);

}  // namespace cvm::broker
