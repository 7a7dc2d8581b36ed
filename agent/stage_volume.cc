// Stage volume, before attest (only with cvminit.data): the data volume's LUKS2 header is read
// once and judged strictly (luks2::inspect), and what it claims — blank, formatting or ready, its
// generation and UUID — goes into the attested request (proto::VolumeReport), so the broker can
// refuse an older copy of the disk or a blank disk where it knows a volume (docs/broker.md,
// "Volume generations"). Nothing here is trusted yet: the claim is authenticated by the token's
// HMAC only once the broker's key has unlocked the volume (stage storage), and the header is not
// read again and trusted: stage storage works from this copy.
#include "stages.h"
#include "storage/block_device.h"

namespace cvm::agent {

Result<std::string> stage_volume(Context& ctx)
{
    const cmdline::DataVolume& d = *ctx.data;
    auto device = TRY(storage::FileBlockDevice::open(d.device, storage::FileBlockDevice::Mode::ReadOnly));
    storage::luks2::Inspection seen = TRY_PREFIX(storage::luks2::inspect(device), "%s", d.device.c_str());
    proto::VolumeReport report;
    report.name = d.key_name;
    std::string summary = d.device + ": ";
    if (seen.state == storage::luks2::HeaderState::Blank) {
        report.state = proto::VolumeState::Blank;
        summary += "blank";
    } else {
        const storage::luks2::Volume& v = *seen.volume;
        report.state = v.formatting ? proto::VolumeState::Formatting : proto::VolumeState::Ready;
        report.generation = v.generation;
        report.uuid = v.uuid;
        summary += std::string(v.adopt        ? "LUKS2 without a cvminit token (adopted once unlocked)"
                               : v.formatting ? "LUKS2, first boot unfinished"
                                              : "LUKS2") +
                   ", generation " + std::to_string(v.generation) + ", uuid " + v.uuid +
                   (v.derivation ? ", hybrid (" + v.derivation->policy + ")" : "") +
                   (v.recovery_keyslot ? ", recovery keyslot" : "");
    }
    ctx.data_seen = std::move(seen);
    ctx.data_report = std::move(report);
    return summary + " (as the disk claims: authenticated once unlocked; reported to the broker as volume '" +
           d.key_name + "')";
}

}  // namespace cvm::agent
