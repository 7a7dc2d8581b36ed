// Re-attestation while the workload runs (cvminit.reattest = SECONDS; docs/agent-api.md,
// "Re-attestation"; docs/cvmkb-1.md §9).
//
// After handoff a thread of PID 1 sends a heartbeat to the broker at once (the broker learns of
// the VM from heartbeats only), then every interval, with a jitter of up to ±10% so a fleet
// booted together does not arrive together: a fresh challenge, a fresh
// report through the ProviderGate it shares with the workload API (never two requests at once),
// and the broker's signed verdict. The broker counts a VM stale after 2 x interval + its grace,
// so one failed heartbeat is not yet an alarm.
//
//   accepted             one console line for the first and for each after a failure, then quiet
//   refused (signed, about the evidence itself: client::is_evidence_refusal)
//                        one console line with the code and claim; with
//                        cvminit.reattest_fail=poweroff a FATAL line, SIGTERM to the workload,
//                        SIGKILL 10 s later if it is still there, and refused() becomes true:
//                        stage_handoff then closes the storage and powers off with status 1
//   anything else        transport errors, unsigned or exchange refusals (nonce, store, KDS),
//                        a provider error: one console line, retried at the next interval, never
//                        fatal (a host that drops the traffic can only make the VM look stale,
//                        which the broker reports; a forged refusal is never signed)
//
// A provider error on hardware closes the gate (VMPCK may be wiped); every later heartbeat then
// fails the same way and the broker sees the VM go stale.
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "api/provider_gate.h"
#include "client/heartbeat.h"
#include "kernel-cmdline/cmdline.h"

namespace cvm::agent {

struct ReattestSettings {
    std::string broker_url;
    std::array<uint8_t, 32> broker_key{};
    std::string ca_file;  // for an https:// broker (Context::broker_ca_file)
    uint32_t interval_seconds{0};
    cmdline::ReattestFail fail{cmdline::ReattestFail::Log};
    pid_t workload{0};
    std::chrono::milliseconds kill_grace{10000};  // SIGTERM to SIGKILL
};

// What tests replace: the exchange, the jitter and the signal sender.
struct ReattestSeams {
    std::function<Result<proto::HeartbeatVerdict>(const client::HeartbeatOptions&, const client::EvidenceSource&)>
        send = client::heartbeat;
    std::function<std::chrono::milliseconds(uint32_t interval_seconds)> next_delay;  // empty: interval ±10%
    std::function<int(pid_t, int)> kill;                                             // empty: kill(2)
};

class Reattester {
public:
    enum class Outcome : uint8_t { Accepted, Refused, Failed };

    Reattester(ReattestSettings settings, api::ProviderGate& gate, ReattestSeams seams = {});
    ~Reattester();  // stop()
    Reattester(const Reattester&) = delete;
    Reattester& operator=(const Reattester&) = delete;

    // Starts the thread: a heartbeat now and after each delay until stop() or a refusal that
    // powers off.
    void start();
    // Wakes and joins the thread (a heartbeat in progress finishes first).
    void stop();

    // One heartbeat and what follows from its outcome (see above); what the thread runs.
    Outcome attest_once();

    // A refusal under reattest_fail=poweroff has stopped the workload: power off with status 1.
    bool refused() const { return m_refused.load(); }

private:
    // Sleeps `delay` unless stop() is called first; false when stopped.
    bool wait(std::chrono::milliseconds delay);
    void stop_workload();
    Result<client::HeartbeatEvidence> evidence(const proto::ReportData& report_data);

    ReattestSettings m_settings;
    api::ProviderGate& m_gate;
    ReattestSeams m_seams;
    std::atomic<bool> m_refused{false};
    bool m_quiet{false};  // the last heartbeat was accepted: say nothing for the next
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stop{false};
    std::thread m_thread;
};

}  // namespace cvm::agent
