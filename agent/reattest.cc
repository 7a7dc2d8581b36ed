#include "reattest.h"

#include <sodium.h>

#include <csignal>

#include "console.h"
#include "snp/cert_table.h"

namespace cvm::agent {
namespace {

std::chrono::milliseconds jittered(uint32_t interval_seconds)
{
    // Uniform in [0.9, 1.1] x interval: the broker's stale limit (2 x interval + grace) holds
    // even after the longest draw.
    uint64_t ms = uint64_t{interval_seconds} * 1000;
    uint64_t spread = ms / 5;
    uint64_t draw = spread ? randombytes_uniform(static_cast<uint32_t>(std::min<uint64_t>(spread, UINT32_MAX))) : 0;
    return std::chrono::milliseconds(ms - ms / 10 + draw);
}

}  // namespace

Reattester::Reattester(ReattestSettings settings, api::ProviderGate& gate, ReattestSeams seams)
        : m_settings(std::move(settings)), m_gate(gate), m_seams(std::move(seams))
{
    if (!m_seams.next_delay)
        m_seams.next_delay = jittered;
    if (!m_seams.kill)
        m_seams.kill = [](pid_t pid, int sig) { return ::kill(pid, sig); };
}

Reattester::~Reattester()
{
    stop();
}

void Reattester::start()
{
    // The first heartbeat at once: the broker learns of the VM from heartbeats only (an attest
    // does not say how often to expect one), so a VM that dies within its first interval is
    // reported stale too.
    m_thread = std::thread([this] {
        do {
            if (attest_once() == Outcome::Refused && m_refused.load())
                return;  // the workload is being stopped; stage_handoff powers off
        } while (wait(m_seams.next_delay(m_settings.interval_seconds)));
    });
}

void Reattester::stop()
{
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable() && m_thread.get_id() != std::this_thread::get_id())
        m_thread.join();
}

bool Reattester::wait(std::chrono::milliseconds delay)
{
    std::unique_lock lock(m_mutex);
    return !m_wake.wait_for(lock, delay, [this] { return m_stop; });
}

Result<client::HeartbeatEvidence> Reattester::evidence(const proto::ReportData& report_data)
{
    Evidence got = TRY(m_gate.get_report(report_data));
    client::HeartbeatEvidence out;
    out.report = std::move(got.report);
    if (!got.cert_table.empty())
        out.certs = snp::cert_ders(TRY_PREFIX(snp::parse_cert_table(got.cert_table), "certificate table"));
    return out;
}

Reattester::Outcome Reattester::attest_once()
{
    client::HeartbeatOptions options;
    options.broker_url = m_settings.broker_url;
    options.broker_key = m_settings.broker_key;
    options.interval = m_settings.interval_seconds;
    options.http.connect_timeout_ms = 5000;
    options.http.total_timeout_ms = 30000;
    if (!m_settings.ca_file.empty())
        options.http.ca_file = m_settings.ca_file;
    auto verdict = m_seams.send(options, [this](const proto::ReportData& rd) { return evidence(rd); });
    if (!verdict) {
        m_quiet = false;
        say("reattest: heartbeat failed, next in about %u s: %.*s", m_settings.interval_seconds,
            static_cast<int>(verdict.error().message().size()), verdict.error().message().data());
        return Outcome::Failed;
    }
    if (verdict->accepted) {
        if (!m_quiet)
            say("reattest: accepted by the broker (report_id %.16s..., every %u s)", verdict->report_id.c_str(),
                m_settings.interval_seconds);
        m_quiet = true;
        return Outcome::Accepted;
    }
    m_quiet = false;
    const proto::ErrorBody& e = *verdict->refusal;
    std::string_view code = proto::error_code_name(e.code);
    if (!client::is_evidence_refusal(e.code)) {
        say("reattest: broker could not judge the heartbeat, next in about %u s: %.*s (%s): %s",
            m_settings.interval_seconds, static_cast<int>(code.size()), code.data(),
            e.claim.empty() ? "-" : e.claim.c_str(), e.detail.c_str());
        return Outcome::Failed;
    }
    if (m_settings.fail == cmdline::ReattestFail::Log) {
        say("reattest: REFUSED by the broker: %.*s (%s): %s; the workload keeps running (cvminit.reattest_fail=log)",
            static_cast<int>(code.size()), code.data(), e.claim.empty() ? "-" : e.claim.c_str(), e.detail.c_str());
        return Outcome::Refused;
    }
    say("FATAL reattest: broker refused re-attestation: %.*s (%s): %s (Policy) — stopping the workload and powering "
        "off (cvminit.reattest_fail=poweroff)",
        static_cast<int>(code.size()), code.data(), e.claim.empty() ? "-" : e.claim.c_str(), e.detail.c_str());
    m_refused.store(true);
    stop_workload();
    return Outcome::Refused;
}

void Reattester::stop_workload()
{
    m_seams.kill(m_settings.workload, SIGTERM);
    if (!wait(m_settings.kill_grace))
        return;  // stop(): stage_handoff saw the workload end
    // Still not reaped after the grace (stage_handoff stops this thread once it has been).
    if (m_seams.kill(m_settings.workload, SIGKILL) == 0)
        say("reattest: workload did not stop within %lld s of SIGTERM: SIGKILL",
            static_cast<long long>(m_settings.kill_grace.count() / 1000));
}

}  // namespace cvm::agent
