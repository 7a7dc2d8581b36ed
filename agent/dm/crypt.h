// The data volume's segment as a dm-crypt device: the storage::Activator of the agent. The volume
// key reaches the kernel through the thread keyring as a logon key (never readable from user
// space again) and leaves the keyring as soon as the table holds it; on a kernel without a
// keyring the table carries the key itself (the ioctl buffer is wiped either way).
#pragma once

#include <string>

#include "storage/data_volume.h"

namespace cvm::agent {

class DmCryptActivator final : public storage::Activator {
public:
    explicit DmCryptActivator(std::string name) : m_name(std::move(name)) {}

    // Creates /dev/mapper/<name> over `device`'s segment and opens it read-write.
    Result<std::unique_ptr<storage::BlockDevice>>
    activate(storage::BlockDevice& device, const storage::luks2::Volume& volume, SecretBytes volume_key) override;
    // How the key went in, once activate() has run: "keyring" or "table".
    const char* key_path() const { return m_key_path; }

private:
    std::string m_name;
    const char* m_key_path{"none"};
};

// The dm-crypt table parameters cryptsetup would load for this LUKS2 segment, with `key` (the
// key itself in hex, or a keyring reference such as ":64:logon:cvminit:x") in its place.
SecretBytes crypt_params(ByteView key, const std::string& device, const storage::luks2::Volume& volume);

}  // namespace cvm::agent
