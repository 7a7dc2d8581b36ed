// The dm-crypt table the agent loads for a validated LUKS2 segment: what cryptsetup 2.6 loads
// (no iv_large_sectors for LUKS2: the plain64 IV counts 512-byte sectors whatever sector_size),
// with the key as a keyring reference or, without a keyring, in hex.
#include <doctest.h>

#include <string>

#include "dm/crypt.h"

using namespace cvm;

namespace {

std::string text(const SecretBytes& s)
{
    return {reinterpret_cast<const char*>(s.expose().data()), s.size()};
}

ByteView bytes(const std::string& s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

TEST_CASE("dm-crypt table: offset in 512-byte sectors, sector_size only when not 512")
{
    storage::luks2::Volume v;
    v.segment_offset = 16 << 20;
    v.sector_size = 4096;
    CHECK(text(agent::crypt_params(bytes(":64:logon:cvminit:cvminit-data"), "/dev/vdc", v)) ==
          "aes-xts-plain64 :64:logon:cvminit:cvminit-data 0 /dev/vdc 32768 1 sector_size:4096");
    v.sector_size = 512;
    v.segment_offset = 4 << 20;
    CHECK(text(agent::crypt_params(bytes("00ff"), "/dev/vdd", v)) == "aes-xts-plain64 00ff 0 /dev/vdd 8192");
}
