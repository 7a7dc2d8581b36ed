#include "volume_admin.h"

#include <algorithm>

#include "file_store.h"
#include "redis_store.h"
#include "volume_generations.h"

namespace cvm::broker {
namespace {

ByteView text_bytes(const std::string& s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Result<std::optional<GenerationRecord>> read_record(Store& store, std::string_view name, std::optional<Bytes>& raw)
{
    raw = TRY(store.get(store_keys::volume(name)));
    if (!raw)
        return std::optional<GenerationRecord>();
    return std::optional<GenerationRecord>(TRY_PREFIX(decode_record(*raw), "volume %.*s in %s",
                                                      static_cast<int>(name.size()), name.data(),
                                                      store.describe().c_str()));
}

std::string describe_record(const std::optional<GenerationRecord>& r)
{
    if (!r)
        return "no generation record (the next disk is accepted as it is)";
    if (r->reset)
        return "reset by an operator (the next disk is accepted as it is)";
    return "next generation " + std::to_string(r->generation) + ", set by the launch of REPORT_ID " + r->report_id;
}

}  // namespace

Result<std::unique_ptr<Store>> open_volume_store(const BrokerConfig& config)
{
    if (config.store)
        return std::unique_ptr<Store>(TRY(RedisStore::create(*config.store)));
    if (!config.volume_state_file.empty())
        return std::unique_ptr<Store>(std::make_unique<FileStore>(config.volume_state_file));
    return Error::make(Errc::Config,
                       "this broker keeps its volume generations in its own memory (no [store], no [volumes] "
                       "state_file), which no other process can read or change; configure one of the two");
}

Result<std::string> volume_admin(const BrokerConfig& config, Store& store, VolumeAction action, std::string_view name,
                                 int64_t now)
{
    auto volume = std::find_if(config.volumes.begin(), config.volumes.end(),
                               [&](const VolumeResource& v) { return v.name == name; });
    if (volume == config.volumes.end())
        return Error::make(Errc::Config, "no [[volume]] named '%.*s' in the configuration",
                           static_cast<int>(std::min<size_t>(name.size(), 64)), name.data());
    std::string prefix = "volume " + volume->name + ": ";
    std::optional<Bytes> raw;
    switch (action) {
    case VolumeAction::Reset: {
        auto record = TRY(read_record(store, name, raw));
        std::string reset = encode_record(GenerationRecord{true, 0, {}});
        std::optional<ByteView> expected;
        if (raw)
            expected = ByteView(*raw);
        if (!TRY(store.compare_and_set(store_keys::volume(name), expected, text_bytes(reset))))
            return Error::make(Errc::Unavailable,
                               "%sthe record changed while it was reset (a boot in progress?); "
                               "run the command again",
                               prefix.c_str());
        return prefix + "was " + describe_record(record) + "; reset: the next boot's disk is accepted as it is" +
               (volume->rollback_protection ? "" : " (rollback_protection = false: nothing is checked anyway)") + "\n";
    }
    case VolumeAction::Recover: {
        if (volume->recovery_key.empty())
            return Error::make(Errc::Config, "%shas no recovery_key_file, so there is no recovery key to release",
                               prefix.c_str());
        TRY(store.put(store_keys::recover(name), text_bytes(armed_value(now)), 0));
        return prefix +
               "one recovery release armed: the next attest that releases this volume includes its recovery key\n";
    }
    case VolumeAction::Show: {
        auto record = TRY(read_record(store, name, raw));
        auto armed = TRY(store.get(store_keys::recover(name)));
        return prefix + describe_record(record) + "\n" + prefix + "recovery " +
               (volume->recovery_key.empty() ? "key: none"
                : armed                      ? "release armed (" + std::string(armed->begin(), armed->end()) + ")"
                                             : "release not armed") +
               "\n" + prefix + "rollback_protection " + (volume->rollback_protection ? "on" : "off") + ", store " +
               store.describe() + "\n";
    }
    }
    return Error::make(Errc::Config, "unknown volume action");
}

}  // namespace cvm::broker
