#include "storage/data_volume.h"

#include "storage/ext4_format.h"

namespace cvm::storage {

Result<OpenedVolume> open_or_format(BlockDevice& device, ByteView passphrase, Activator& activator)
{
    OpenedVolume out;
    luks2::Inspection inspection = TRY(luks2::inspect(device));
    SecretBytes volume_key;
    std::string done;
    if (inspection.state == luks2::HeaderState::Blank) {
        auto [volume, key] = TRY(luks2::format(device, passphrase, luks2::FormatOptions{}));
        out.volume = std::move(volume);
        volume_key = std::move(key);
        done = "formatted LUKS2";
    } else {
        out.volume = std::move(*inspection.volume);
        // The key first: only a header that this passphrase opens may be written back.
        volume_key = TRY(luks2::unlock(device, out.volume, passphrase));
        if (inspection.repair_secondary) {
            TRY(luks2::repair_secondary(device, out.volume));
            done = "repaired the secondary header, ";
        }
        done += out.volume.formatting ? "resumed an unfinished format" : "opened LUKS2";
    }
    out.plaintext = TRY(activator.activate(device, out.volume, std::move(volume_key)));
    if (out.volume.formatting) {
        Ext4Layout fs = TRY_PREFIX(format_ext4(*out.plaintext, Ext4Options{}), "ext4 on %s", device.name().c_str());
        TRY(out.plaintext->flush());
        out.volume = TRY(luks2::finish_formatting(device, out.volume));
        out.formatted_now = true;
        done += ", made ext4 (" + std::to_string(fs.bytes_written / 1024) + " KiB written)";
    }
    out.summary = device.name() + ": " + done + ", " + std::to_string(out.volume.segment_size >> 20) + " MiB";
    return out;
}

}  // namespace cvm::storage
