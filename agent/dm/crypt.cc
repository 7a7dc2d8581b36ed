#include "dm/crypt.h"

#include <cstring>

#include "dm/dm.h"

namespace cvm::agent {
namespace {

void append(SecretBytes& out, size_t& at, std::string_view text)
{
    memcpy(out.expose().data() + at, text.data(), text.size());
    at += text.size();
}

// cryptsetup's uuid for a LUKS2 mapping: "CRYPT-LUKS2-<uuid without dashes>-<name>".
std::string mapping_uuid(const std::string& luks_uuid, const std::string& name)
{
    std::string compact;
    for (char c : luks_uuid)
        if (c != '-')
            compact += c;
    return "CRYPT-LUKS2-" + compact + "-" + name;
}

}  // namespace

SecretBytes crypt_params(ByteView key, const std::string& device, const storage::luks2::Volume& volume)
{
    std::string tail = " 0 " + device + " " + std::to_string(volume.segment_offset / 512);
    if (volume.sector_size != 512)
        tail += " 1 sector_size:" + std::to_string(volume.sector_size);
    constexpr std::string_view CIPHER = "aes-xts-plain64 ";
    SecretBytes out(CIPHER.size() + key.size() + tail.size());
    size_t at = 0;
    append(out, at, CIPHER);
    append(out, at, {reinterpret_cast<const char*>(key.data()), key.size()});
    append(out, at, tail);
    return out;
}

Result<std::unique_ptr<storage::BlockDevice>>
DmCryptActivator::activate(storage::BlockDevice& device, const storage::luks2::Volume& volume, SecretBytes volume_key)
{
    std::string description = "cvminit:" + m_name;
    auto serial = dm::add_logon_key(description, volume_key.expose());
    if (!serial && serial.error().code() != Errc::Unsupported)
        return serial.error();
    SecretBytes key_text;
    if (serial) {
        std::string reference = ":" + std::to_string(volume_key.size()) + ":logon:" + description;
        key_text = SecretBytes::copy_of({reinterpret_cast<const uint8_t*>(reference.data()), reference.size()});
        m_key_path = "keyring";
    } else {
        static constexpr char HEX[] = "0123456789abcdef";
        key_text = SecretBytes(volume_key.size() * 2);
        for (size_t i = 0; i < volume_key.size(); ++i) {
            key_text.expose()[2 * i] = static_cast<uint8_t>(HEX[volume_key.expose()[i] >> 4]);
            key_text.expose()[2 * i + 1] = static_cast<uint8_t>(HEX[volume_key.expose()[i] & 15]);
        }
        m_key_path = "table";
    }
    volume_key = SecretBytes();  // wiped: the kernel or key_text holds it now
    dm::Table table{volume.segment_size / 512, "crypt", crypt_params(key_text.expose(), device.name(), volume)};
    auto path = dm::create(m_name, mapping_uuid(volume.uuid, m_name), table, false);
    if (serial)
        dm::drop_key(serial.value());
    if (!path)
        return path.error();
    auto opened = TRY(storage::FileBlockDevice::open(path.value(), storage::FileBlockDevice::Mode::ReadWrite));
    return std::unique_ptr<storage::BlockDevice>(new storage::FileBlockDevice(std::move(opened)));
}

}  // namespace cvm::agent
