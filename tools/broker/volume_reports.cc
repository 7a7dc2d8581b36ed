// The volume steps of an attest (volume_generations.h): the request's report of each released
// volume judged against the broker's generation record, the recovery key when it is due, and the
// records written by compare-and-set once every other step has passed.
#include <algorithm>

#include "attempt.h"
#include "broker.h"

namespace cvm::broker {
namespace {

constexpr const char* CLAIM = "volume.generation";

ByteView text_bytes(const std::string& s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string generation_text(const proto::VolumeReport& r)
{
    return r.state == proto::VolumeState::Blank ? "blank" : "generation " + std::to_string(r.generation);
}

// A store failure is STORE_UNAVAILABLE (retryable, nothing released); anything else is ours.
Error store_failure(Broker::Attempt& a, Error e, const std::string& name)
{
    if (e.code() == Errc::Unavailable)
        return refuse(a, proto::ErrorCode::StoreUnavailable, std::string(e.message()), CLAIM, name);
    return e;
}

}  // namespace

Store& Broker::volume_store()
{
    return m_options.volume_store ? *m_options.volume_store : *m_options.store;
}

Result<void> Broker::judge_volume(Attempt& a, const VolumeResource& volume, proto::ReleasedVolume& out)
{
    auto reported = std::find_if(a.volumes.begin(), a.volumes.end(),
                                 [&](const proto::VolumeReport& r) { return r.name == volume.name; });
    Attempt::VolumePlan plan;
    plan.name = volume.name;
    bool first_format = false;
    if (volume.rollback_protection) {
        // RESOURCE_NOT_ALLOWED rather than a code an agent without volume reports does not know:
        // it then shows the detail to its operator.
        if (reported == a.volumes.end())
            return refuse(a, proto::ErrorCode::ResourceNotAllowed,
                          "volume " + volume.name +
                              " has rollback protection: the agent must report the volume's state in its request "
                              "(an older agent does not; upgrade it, or set rollback_protection = false)",
                          CLAIM, "none", {"a volume report"});
        auto stored = volume_store().get(store_keys::volume(volume.name));
        if (!stored)
            return store_failure(a, stored.release_error(), volume.name);
        std::optional<GenerationRecord> record;
        if (stored.value()) {
            auto decoded = decode_record(*stored.value());
            if (!decoded)
                return Error::make(Errc::Format, "the store's record of volume %s: %.*s", volume.name.c_str(),
                                   static_cast<int>(decoded.error().message().size()),
                                   decoded.error().message().data());
            record = decoded.release_value();
        }
        VolumeVerdict verdict = broker::judge_volume(volume.name, *reported, record, a.report_id);
        if (!verdict.accepted)
            return refuse(a, proto::ErrorCode::VolumeRollback, verdict.detail, CLAIM,
                          volume.name + " " + generation_text(*reported),
                          {volume.name + " generation " + std::to_string(record->generation)});
        plan.stored = stored.release_value();
        plan.next = verdict.next;
        first_format = verdict.first_format;
        if (record && record->reset && verdict.next)
            plan.note = "volume " + volume.name + ": generation record reset by an operator; accepted " +
                        generation_text(*reported) + ", next " + std::to_string(verdict.next->generation);
    } else {
        // Nothing is recorded for an unprotected volume: every blank disk is a first format.
        first_format = reported != a.volumes.end() && reported->state == proto::VolumeState::Blank;
    }
    if (volume.recovery_key.empty()) {
        a.volume_plans.push_back(std::move(plan));
        return {};
    }
    if (first_format) {
        out.recovery = SecretBytes::copy_of(volume.recovery_key.expose());
        plan.note += std::string(plan.note.empty() ? "" : "; ") + "volume " + volume.name +
                     ": recovery key released for the first format (keyslot 1)";
    } else {
        auto armed = volume_store().get(store_keys::recover(volume.name));
        if (!armed)
            return store_failure(a, armed.release_error(), volume.name);
        if (armed.value()) {
            out.recovery = SecretBytes::copy_of(volume.recovery_key.expose());
            plan.armed = std::move(armed.value());
            plan.note += std::string(plan.note.empty() ? "" : "; ") + "volume " + volume.name +
                         ": recovery key released, armed by an operator (" +
                         log_value(std::string(plan.armed->begin(), plan.armed->end())) + ")";
        }
    }
    a.volume_plans.push_back(std::move(plan));
    return {};
}

Result<void> Broker::check_volume_names(Attempt& a)
{
    for (const proto::VolumeReport& r : a.volumes) {
        bool volume = std::any_of(m_config.volumes.begin(), m_config.volumes.end(),
                                  [&](const VolumeResource& v) { return v.name == r.name; });
        if (!volume)
            return refuse(a, proto::ErrorCode::BadRequest,
                          "the request reports a volume state for '" + r.name + "', which is not a [[volume]]",
                          "volume", r.name);
    }
    return {};
}

Result<void> Broker::record_volumes(Attempt& a)
{
    // An armed recovery is consumed first: a refusal after a generation was advanced would leave
    // the broker ahead of a disk that was never opened.
    for (const Attempt::VolumePlan& p : a.volume_plans) {
        if (!p.armed)
            continue;
        auto used = volume_store().compare_and_set(store_keys::recover(p.name), ByteView(*p.armed), std::nullopt);
        if (!used)
            return store_failure(a, used.release_error(), p.name);
        if (!used.value())
            return refuse(a, proto::ErrorCode::VolumeRollback,
                          "volume " + p.name + ": the armed recovery was used by another request meanwhile",
                          "volume.recovery", p.name);
    }
    for (const Attempt::VolumePlan& p : a.volume_plans) {
        if (!p.next)
            continue;
        std::string value = encode_record(*p.next);
        std::optional<ByteView> expected;
        if (p.stored)
            expected = ByteView(*p.stored);
        auto set = volume_store().compare_and_set(store_keys::volume(p.name), expected, text_bytes(value));
        if (!set)
            return store_failure(a, set.release_error(), p.name);
        if (set.value())
            continue;
        // Changed since it was read. Exactly this record (the generation and REPORT_ID planned
        // here) is an overlapping attempt of the same launch that got there first (the agent
        // retried while a slow one was still judged): the same answer. Anything else is another
        // launch opening the same volume.
        auto now = volume_store().get(store_keys::volume(p.name));
        if (!now)
            return store_failure(a, now.release_error(), p.name);
        if (now.value() && std::ranges::equal(*now.value(), text_bytes(value)))
            continue;
        return refuse(a, proto::ErrorCode::VolumeRollback,
                      "volume " + p.name +
                          ": its generation changed while this request was judged (another launch opening the "
                          "same volume?)",
                      CLAIM, p.name);
    }
    for (const Attempt::VolumePlan& p : a.volume_plans) {
        if (!p.note.empty())
            log("cvm broker: " + p.note);
    }
    return {};
}

}  // namespace cvm::broker
