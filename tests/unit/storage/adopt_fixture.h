// Shared by the adoption tests (luks2_volume.h ADOPTION): volumes without a token as cryptsetup
// and a cvminit from before the token left them, and checks of what adoption leaves behind.
#pragma once

#include <doctest.h>

#include <cstring>
#include <string>

#include "base/base64.h"
#include "data_volume_fixture.h"
#include "luks2_fixture.h"
#include "storage/crypt_device.h"
#include "storage/luks2_volume.h"

namespace cvm::test {

inline constexpr uint64_t MiB = 1 << 20;
inline constexpr uint64_t IMAGE_SIZE = 18 * MiB;  // 16 MiB of header and keyslots (cryptsetup's too), 2 MiB of data
inline const std::string PASSPHRASE = "the broker's volume key for data";
inline const std::string RECOVERY = "the broker's recovery key for data";
inline const std::string OTHER_CHIP = "the passphrase of another chip";

// The JSON text cvminit wrote for a finished volume before it had a token: write_metadata() as of
// c47a1fd^ (lib/storage/luks2_metadata.cc), rebuilt here by hand from the fields, for the one
// keyslot without a priority that it formatted. Not our current serializer: the fixture must not
// follow that serializer if it changes.
inline std::string pre_token_json(const storage::luks2::Volume& v)
{
    auto num = [](uint64_t n) { return "\"" + std::to_string(n) + "\""; };
    return "{\"keyslots\":{\"0\":{\"type\":\"luks2\",\"key_size\":64,"
           "\"af\":{\"type\":\"luks1\",\"stripes\":4000,\"hash\":\"sha256\"},"
           "\"area\":{\"type\":\"raw\",\"offset\":" +
           num(v.keyslot_area_offset) + ",\"size\":" + num(v.keyslot_area_size) +
           ",\"encryption\":\"aes-xts-plain64\",\"key_size\":64},"
           "\"kdf\":{\"type\":\"pbkdf2\",\"hash\":\"sha256\",\"iterations\":" +
           std::to_string(v.keyslot_kdf.iterations) + ",\"salt\":\"" + base64_encode(v.keyslot_kdf.salt) +
           "\"}}},\"tokens\":{},\"segments\":{\"0\":{\"type\":\"crypt\",\"offset\":" + num(v.segment_offset) +
           ",\"size\":\"dynamic\",\"iv_tweak\":\"0\",\"encryption\":\"aes-xts-plain64\",\"sector_size\":" +
           std::to_string(v.sector_size) +
           "}},\"digests\":{\"0\":{\"type\":\"pbkdf2\",\"keyslots\":[\"0\"],\"segments\":[\"0\"],"
           "\"hash\":\"sha256\",\"iterations\":" +
           std::to_string(v.digest_kdf.iterations) + ",\"salt\":\"" + base64_encode(v.digest_kdf.salt) +
           "\",\"digest\":\"" + base64_encode(v.digest) +
           "\"}},\"config\":{\"json_size\":\"12288\",\"keyslots_size\":" + num(v.keyslots_size) + "}}";
}

inline std::string json_of(const Bytes& copy)
{
    return std::string(reinterpret_cast<const char*>(copy.data()) + 4096);
}

inline void set_json(Bytes& copy, const std::string& json)
{
    REQUIRE(json.size() < 12288);
    memset(copy.data() + 4096, 0, 12288);
    memcpy(copy.data() + 4096, json.data(), json.size());
}

// A volume as a cvminit from before the token left it after its first boot: formatted, finished
// (seqid 2), "tokens":{} in both copies. The volume key comes back in `key`.
inline void make_pre_token(const TempImage& image, SecretBytes& key)
{
    auto dev = image.open();
    auto f = storage::luks2::format(dev, as_bytes(PASSPHRASE), {});
    REQUIRE_MESSAGE(f.ok(), why(f));
    auto finished = storage::luks2::finish_formatting(dev, f->first, f->second);
    REQUIRE(finished.ok());
    const std::string json = pre_token_json(finished.value());
    edit_headers(image, [&](int, Bytes& copy) { set_json(copy, json); });
    key = std::move(f->second);
}

// A volume of ours with the recovery keyslot whose token the host removed (both copies).
inline void make_stripped_with_recovery(const TempImage& image)
{
    auto dev = image.open();
    auto f = storage::luks2::format(dev, as_bytes(PASSPHRASE), {}, as_bytes(RECOVERY));
    REQUIRE(f.ok());
    REQUIRE(storage::luks2::finish_formatting(dev, f->first, f->second).ok());
    edit_headers(image, [&](int, Bytes& copy) {
        std::string json = json_of(copy);
        size_t from = json.find("\"tokens\":{\"0\":");
        size_t to = json.find(",\"segments\"");
        REQUIRE(from != std::string::npos);
        replace_json(copy, json.substr(from, to - from), "\"tokens\":{}");
    });
}

inline storage::luks2::Volume inspect_adopt(const TempImage& image)
{
    auto dev = image.open();
    auto seen = storage::luks2::inspect(dev);
    REQUIRE_MESSAGE(seen.ok(), why(seen));
    REQUIRE(seen->state == storage::luks2::HeaderState::Valid);
    REQUIRE(seen->volume.has_value());
    CHECK_FALSE(seen->repair_secondary);
    const storage::luks2::Volume& v = *seen->volume;
    CHECK(v.adopt);
    CHECK_FALSE(v.formatting);
    CHECK(v.generation == 0);
    CHECK_FALSE(v.derivation.has_value());
    CHECK(v.hmac == std::array<uint8_t, 32>{});
    return v;
}

// Both copies carry our token in the canonical form, identical, and the key authenticates them.
inline void check_ours(const TempImage& image, const SecretBytes& key, uint64_t generation)
{
    auto dev = image.open();
    auto seen = storage::luks2::inspect(dev);
    REQUIRE_MESSAGE(seen.ok(), why(seen));
    CHECK_FALSE(seen->repair_secondary);
    CHECK_FALSE(seen->volume->adopt);
    CHECK(seen->volume->generation == generation);
    CHECK(storage::luks2::authenticate(dev, *seen->volume, key).ok());
    Bytes primary(16384), secondary(16384);
    REQUIRE(dev.read_at(0, primary).ok());
    REQUIRE(dev.read_at(16384, secondary).ok());
    CHECK(json_of(primary) == json_of(secondary));
    CHECK(contains(json_of(primary), "\"tokens\":{\"0\":{\"type\":\"cvminit\",\"keyslots\":[],\"state\":\"ready\","
                                     "\"generation\":\"" +
                                         std::to_string(generation) + "\""));
}

// Writes `data` at the start of the volume's plaintext, or checks it is there.
inline void plaintext(const TempImage& image, const SecretBytes& key, const Bytes& data, bool write)
{
    auto dev = image.open();
    auto seen = storage::luks2::inspect(dev);
    REQUIRE(seen.ok());
    auto view = storage::CryptBlockDevice::open(dev, *seen->volume, key);
    REQUIRE_MESSAGE(view.ok(), why(view));
    if (write) {
        REQUIRE(view->write_at(0, data).ok());
        REQUIRE(view->flush().ok());
        return;
    }
    Bytes back(data.size());
    REQUIRE(view->read_at(0, back).ok());
    CHECK(back == data);
}

inline Bytes pattern()
{
    Bytes out(8192);
    for (size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<uint8_t>(i * 7 + 3);
    return out;
}

}  // namespace cvm::test
