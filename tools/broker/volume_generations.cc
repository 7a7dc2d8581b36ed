#include "volume_generations.h"

#include <algorithm>
#include <charconv>

namespace cvm::broker {
namespace {

bool lower_hex(std::string_view s)
{
    return !s.empty() && s.size() <= 128 &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string n(uint64_t v)
{
    return std::to_string(v);
}

}  // namespace

std::string encode_record(const GenerationRecord& r)
{
    return r.reset ? "v1 reset" : "v1 " + n(r.generation) + " " + r.report_id;
}

Result<GenerationRecord> decode_record(ByteView bytes)
{
    std::string_view s(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (s == "v1 reset")
        return GenerationRecord{true, 0, {}};
    if (!s.starts_with("v1 "))
        return Error::make(Errc::Format, "volume record: expected 'v1 <generation> <report_id>' or 'v1 reset'");
    s.remove_prefix(3);
    size_t space = s.find(' ');
    if (space == std::string_view::npos)
        return Error::make(Errc::Format, "volume record: expected a generation and a REPORT_ID");
    std::string_view g = s.substr(0, space), id = s.substr(space + 1);
    GenerationRecord r;
    auto [end, ec] = std::from_chars(g.data(), g.data() + g.size(), r.generation);
    if (ec != std::errc() || end != g.data() + g.size() || g.empty() || (g.size() > 1 && g[0] == '0') ||
        r.generation == 0 || r.generation > proto::MAX_VOLUME_GENERATION + 1)
        return Error::make(Errc::Format, "volume record: generation '%.*s', expected 1 to 2^53",
                           static_cast<int>(std::min<size_t>(g.size(), 24)), g.data());
    if (!lower_hex(id))
        return Error::make(Errc::Format, "volume record: REPORT_ID is not lower-case hex");
    r.report_id = std::string(id);
    return r;
}

std::string armed_value(int64_t now)
{
    return "armed " + std::to_string(now);
}

VolumeVerdict judge_volume(std::string_view name, const proto::VolumeReport& report,
                           const std::optional<GenerationRecord>& stored, std::string_view report_id)
{
    VolumeVerdict v;
    uint64_t g = report.generation;
    bool blank = report.state == proto::VolumeState::Blank;
    std::string volume = "volume " + std::string(name) + ": ";
    auto advance = [&] {
        v.accepted = true;
        v.next = GenerationRecord{false, g + 1, std::string(report_id)};
        v.first_format = blank;
        return v;
    };
    if (!stored || stored->reset)
        return advance();
    uint64_t s = stored->generation;
    if (g == s)
        return advance();
    if (g + 1 == s && stored->report_id == report_id) {
        v.accepted = true;
        v.first_format = blank;  // s == 1: this launch's first format, asked again
        return v;
    }
    if (blank) {
        v.detail = volume + "the disk is blank, the broker knows generation " + n(s) +
                   " (a zeroed or replaced disk?); to start again: cvm broker volume reset " + std::string(name);
        return v;
    }
    v.detail = volume + "the disk reports generation " + n(g) + ", the broker expects " + n(s) +
               (g < s ? " (an older copy of the disk?)" : " (a generation the broker never issued)") +
               "; if this disk is the one to keep: cvm broker volume reset " + std::string(name);
    return v;
}

}  // namespace cvm::broker
