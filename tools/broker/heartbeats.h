// Last-seen per REPORT_ID: which running VMs still prove themselves (docs/broker.md, "Heartbeats").
//
// An accepted heartbeat (docs/cvmkb-1.md §9) records the VM's REPORT_ID, MEASUREMENT, the
// interval its agent declared and the broker's time, in this process's memory and in the Store
// (key cvmkb:heartbeat:<REPORT_ID hex>, so replicas behind one load balancer see each other's
// heartbeats). Only accepted heartbeats create records: a refused request may carry any REPORT_ID
// an attacker likes, so a refusal is noted only on a VM already known, and memory stays bounded
// by the VMs that passed the policy (at most `max_vms`; past it the record seen longest ago goes).
//
// Stale: no accepted heartbeat for 2 x interval + grace seconds (one lost heartbeat, or one
// retried a whole interval later, is not yet stale; `grace` covers the agent's jitter, the
// challenge and the report). scan() finds them; before it calls a VM stale it reads the Store,
// where another replica may have recorded a later heartbeat. Each (REPORT_ID, last_seen) becomes
// stale once across all replicas sharing the Store (a set_if_absent claim), so on_stale fires
// once; a VM that heartbeats again is attesting again and may go stale again later.
//
// Store failures never stop a heartbeat's verdict: the record stays in memory and the caller logs
// the error. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "store.h"

namespace cvm::broker {

struct HeartbeatOptions {
    int64_t grace_seconds = 60;
    size_t max_vms = 100000;
};

struct VmRecord {
    std::string report_id;  // hex, 64 characters
    std::string measurement;
    int64_t interval{0};
    int64_t last_seen{0};  // seconds since the epoch, the broker's clock
    bool simulated{false};
    bool stale{false};
    int64_t last_refused{0};  // 0: never since the last accepted heartbeat
    std::string refused_code;
};

// The gauges of /metrics at one instant.
struct VmSummary {
    size_t attesting{0};
    size_t stale{0};
    // (report_id, seconds since its last accepted heartbeat), the MAX_AGE_SERIES largest ages
    std::vector<std::pair<std::string, int64_t>> ages;
};

class HeartbeatRegistry {
public:
    // Per-VM age series in /metrics at most: the oldest heartbeats, the ones an operator looks
    // for; every VM is in GET /vms.
    static constexpr size_t MAX_AGE_SERIES = 50;

    HeartbeatRegistry(Store& store, HeartbeatOptions options = {}) : m_store(store), m_options(options) {}

    // A reload's [heartbeat] values; the records stay.
    void configure(HeartbeatOptions options);
    int64_t grace_seconds() const;
    // When `vm` is stale: last_seen + 2 * interval + grace.
    int64_t stale_at(const VmRecord& vm) const { return vm.last_seen + 2 * vm.interval + grace_seconds(); }

    // Records an accepted heartbeat (vm.last_seen = now). The Store's error, if any, is returned
    // after the record in memory is made.
    Result<void> accepted(VmRecord vm);

    // Notes a refusal of a known VM and returns its record as it was before; nullopt (and nothing
    // recorded) for an unknown REPORT_ID.
    std::optional<VmRecord> refused(const std::string& report_id, const std::string& code, int64_t now);

    // The record of `report_id`, if known.
    std::optional<VmRecord> find(const std::string& report_id) const;

    // The VMs that became stale at `now` and were claimed by this process (see above). Store
    // failures are skipped (the VM is looked at again on the next scan) and counted in `errors`.
    std::vector<VmRecord> scan(int64_t now, size_t* errors = nullptr);

    VmSummary summary(int64_t now) const;
    std::vector<VmRecord> all() const;

private:
    int64_t due(const VmRecord& vm) const
    {
        return vm.last_seen + 2 * vm.interval + m_options.grace_seconds;
    }  // m_mutex held
    static std::string key(const std::string& report_id);
    static std::string stale_key(const std::string& report_id, int64_t last_seen);
    // A later heartbeat of `vm` recorded by another replica, if any.
    Result<std::optional<VmRecord>> stored(const VmRecord& vm);

    Store& m_store;
    mutable std::mutex m_mutex;  // guards everything below
    HeartbeatOptions m_options;
    std::map<std::string, VmRecord> m_vms;
};

// Runs `task` every `period_ms` on its own thread until destroyed (the broker's stale scan).
class PeriodicTask {
public:
    PeriodicTask(int64_t period_ms, std::function<void()> task);
    ~PeriodicTask();
    PeriodicTask(const PeriodicTask&) = delete;
    PeriodicTask& operator=(const PeriodicTask&) = delete;

private:
    struct State;
    std::unique_ptr<State> m_state;
};

}  // namespace cvm::broker
