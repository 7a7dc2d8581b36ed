#include "heartbeats.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <thread>

namespace cvm::broker {
namespace {

// The Store's value: "v1 <last_seen> <interval> <measurement hex> <0|1 simulated>". Read back as
// untrusted: anything else is no record.
std::string encode(const VmRecord& vm)
{
    return "v1 " + std::to_string(vm.last_seen) + " " + std::to_string(vm.interval) + " " + vm.measurement + " " +
           (vm.simulated ? "1" : "0");
}

std::optional<VmRecord> decode(const Bytes& value, const std::string& report_id)
{
    std::string text(value.begin(), value.end());
    long long last_seen = 0, interval = 0;
    char measurement[97] = {};
    int simulated = 0, used = 0;
    if (text.size() > 200 ||
        sscanf(text.c_str(), "v1 %lld %lld %96[0-9a-f] %d%n", &last_seen, &interval, measurement, &simulated, &used) !=
            4 ||
        static_cast<size_t>(used) != text.size() || last_seen <= 0 || interval <= 0 || simulated < 0 || simulated > 1)
        return std::nullopt;
    VmRecord vm;
    vm.report_id = report_id;
    vm.measurement = measurement;
    vm.last_seen = last_seen;
    vm.interval = interval;
    vm.simulated = simulated == 1;
    return vm;
}

}  // namespace

std::string HeartbeatRegistry::key(const std::string& report_id)
{
    return "cvmkb:heartbeat:" + report_id;
}

std::string HeartbeatRegistry::stale_key(const std::string& report_id, int64_t last_seen)
{
    return "cvmkb:heartbeat-stale:" + report_id + ":" + std::to_string(last_seen);
}

void HeartbeatRegistry::configure(HeartbeatOptions options)
{
    std::lock_guard lock(m_mutex);
    m_options = options;
}

int64_t HeartbeatRegistry::grace_seconds() const
{
    std::lock_guard lock(m_mutex);
    return m_options.grace_seconds;
}

Result<void> HeartbeatRegistry::accepted(VmRecord vm)
{
    vm.stale = false;
    vm.last_refused = 0;
    vm.refused_code.clear();
    {
        std::lock_guard lock(m_mutex);
        if (!m_vms.contains(vm.report_id) && m_vms.size() >= m_options.max_vms) {
            auto oldest = std::min_element(m_vms.begin(), m_vms.end(), [](const auto& a, const auto& b) {
                return a.second.last_seen < b.second.last_seen;
            });
            m_vms.erase(oldest);
        }
        m_vms[vm.report_id] = vm;
    }
    // Kept well past the stale time, so a replica can still tell a heartbeat it did not see.
    std::string value = encode(vm);
    return m_store.put(key(vm.report_id), ByteView(reinterpret_cast<const uint8_t*>(value.data()), value.size()),
                       stale_at(vm) - vm.last_seen + 7 * 86400);
}

std::optional<VmRecord> HeartbeatRegistry::refused(const std::string& report_id, const std::string& code, int64_t now)
{
    std::lock_guard lock(m_mutex);
    auto it = m_vms.find(report_id);
    if (it == m_vms.end())
        return std::nullopt;
    VmRecord before = it->second;
    it->second.last_refused = now;
    it->second.refused_code = code;
    return before;
}

std::optional<VmRecord> HeartbeatRegistry::find(const std::string& report_id) const
{
    std::lock_guard lock(m_mutex);
    auto it = m_vms.find(report_id);
    return it == m_vms.end() ? std::nullopt : std::optional<VmRecord>(it->second);
}

Result<std::optional<VmRecord>> HeartbeatRegistry::stored(const VmRecord& vm)
{
    std::optional<Bytes> value = TRY(m_store.get(key(vm.report_id)));
    if (!value)
        return std::optional<VmRecord>();
    std::optional<VmRecord> other = decode(*value, vm.report_id);
    if (!other || other->last_seen <= vm.last_seen)
        return std::optional<VmRecord>();
    return other;
}

std::vector<VmRecord> HeartbeatRegistry::scan(int64_t now, size_t* errors)
{
    std::vector<VmRecord> candidates;
    {
        std::lock_guard lock(m_mutex);
        for (const auto& [id, vm] : m_vms) {
            if (!vm.stale && now > due(vm))
                candidates.push_back(vm);
        }
    }
    std::vector<VmRecord> claimed;
    for (VmRecord& vm : candidates) {  // the Store's I/O outside the lock
        auto later = stored(vm);
        if (later && later.value() && later.value()->last_seen <= now) {
            VmRecord fresh = *later.value();
            std::lock_guard lock(m_mutex);
            if (auto it = m_vms.find(vm.report_id); it != m_vms.end() && it->second.last_seen < fresh.last_seen)
                it->second = fresh;
            if (now <= due(fresh))
                continue;
            vm = fresh;
        }
        auto first = m_store.set_if_absent(stale_key(vm.report_id, vm.last_seen), ByteView(), 7 * 86400);
        if (!later || !first) {
            if (errors)
                ++*errors;
            continue;
        }
        std::lock_guard lock(m_mutex);
        auto it = m_vms.find(vm.report_id);
        if (it == m_vms.end() || it->second.last_seen != vm.last_seen)
            continue;  // a heartbeat arrived meanwhile
        it->second.stale = true;
        if (first.value())
            claimed.push_back(it->second);
    }
    return claimed;
}

VmSummary HeartbeatRegistry::summary(int64_t now) const
{
    VmSummary s;
    std::lock_guard lock(m_mutex);
    for (const auto& [id, vm] : m_vms) {
        if (vm.stale || now > due(vm))
            ++s.stale;
        else
            ++s.attesting;
        s.ages.emplace_back(id, std::max<int64_t>(0, now - vm.last_seen));
    }
    size_t keep = std::min(s.ages.size(), MAX_AGE_SERIES);
    std::partial_sort(s.ages.begin(), s.ages.begin() + static_cast<std::ptrdiff_t>(keep), s.ages.end(),
                      [](const auto& a, const auto& b) {
                          return a.second > b.second || (a.second == b.second && a.first < b.first);
                      });
    s.ages.resize(keep);
    return s;
}

std::vector<VmRecord> HeartbeatRegistry::all() const
{
    std::lock_guard lock(m_mutex);
    std::vector<VmRecord> out;
    for (const auto& [id, vm] : m_vms)
        out.push_back(vm);
    return out;
}

struct PeriodicTask::State {
    std::mutex mutex;
    std::condition_variable wake;
    bool stop{false};
    std::thread thread;
};

PeriodicTask::PeriodicTask(int64_t period_ms, std::function<void()> task) : m_state(std::make_unique<State>())
{
    m_state->thread = std::thread([state = m_state.get(), period_ms, task = std::move(task)] {
        std::unique_lock lock(state->mutex);
        while (!state->wake.wait_for(lock, std::chrono::milliseconds(period_ms), [state] { return state->stop; })) {
            lock.unlock();
            task();
            lock.lock();
        }
    });
}

PeriodicTask::~PeriodicTask()
{
    {
        std::lock_guard lock(m_state->mutex);
        m_state->stop = true;
    }
    m_state->wake.notify_all();
    m_state->thread.join();
}

}  // namespace cvm::broker
