// The agent's re-attestation loop (agent/reattest.h): against an in-process broker with the
// simulated PSP behind the ProviderGate, and with a scripted broker for what a real one would
// rarely say. Only a signed refusal of the evidence stops the workload, and only with
// reattest_fail=poweroff; transport errors, unsigned and exchange refusals never do.
#include <doctest.h>

#include <csignal>
#include <vector>

#include "attest_harness.h"
#include "providers/report_provider_sim.h"
#include "reattest.h"

using namespace cvm;
using namespace cvm::test;

namespace {

agent::ReattestSettings settings_for(const BrokerHarness& h, cmdline::ReattestFail fail)
{
    agent::ReattestSettings s;
    s.broker_url = h.url();
    s.broker_key = h.broker->public_key();
    s.interval_seconds = 60;
    s.fail = fail;
    s.workload = 4242;
    s.kill_grace = std::chrono::milliseconds(50);
    return s;
}

std::unique_ptr<agent::ReportProvider> simulated(const sim::LaunchState& launch)
{
    return std::make_unique<agent::SimulatedProvider>(
        sim::SimulatedPsp::create(simulated_platform(), launch).release_value());
}

// A provider that fails like hardware (the gate closes after it).
class FailingProvider final : public agent::ReportProvider {
public:
    const char* name() const override { return agent::PROVIDER_SEV_GUEST; }
    Result<agent::Evidence> get_report(const agent::ReportData&) override
    {
        ++calls;
        return Error::make(Errc::Io, "SNP_GET_EXT_REPORT: firmware error 0x16");
    }
    int calls{0};
};

struct Kills {
    std::vector<std::pair<pid_t, int>> sent;
    agent::ReattestSeams seams()
    {
        agent::ReattestSeams s;
        s.kill = [this](pid_t pid, int sig) {
            sent.emplace_back(pid, sig);
            return 0;
        };
        return s;
    }
};

proto::HeartbeatVerdict refused(proto::ErrorCode code)
{
    proto::HeartbeatVerdict v;
    v.refusal = proto::error_body(code, "scripted");
    v.refusal->claim = "scripted.claim";
    return v;
}

}  // namespace

TEST_CASE("reattest: heartbeats through the gate are accepted by a real broker, which records the VM")
{
    BrokerHarness h;
    auto provider = simulated(good_launch());
    agent::api::ProviderGate gate(*provider);
    Kills kills;
    agent::Reattester r(settings_for(h, cmdline::ReattestFail::PowerOff), gate, kills.seams());
    CHECK(r.attest_once() == agent::Reattester::Outcome::Accepted);
    CHECK(r.attest_once() == agent::Reattester::Outcome::Accepted);
    CHECK_FALSE(r.refused());
    CHECK(kills.sent.empty());
    std::string metrics = h.broker->metrics_text();
    CHECK(metrics.find("cvmkb_heartbeats_total{outcome=\"accepted\",code=\"OK\",simulated=\"true\"} 2\n") !=
          std::string::npos);
    CHECK(metrics.find("cvmkb_vms{state=\"attesting\"} 1\n") != std::string::npos);
    CHECK(h.broker->vms_json().find("\"interval\":60") != std::string::npos);
}

TEST_CASE("reattest: a refused measurement stops the workload with poweroff, and only logs with log")
{
    BrokerHarness h;
    sim::LaunchState other = good_launch();
    other.measurement.fill(0xbb);
    auto provider = simulated(other);
    agent::api::ProviderGate gate(*provider);
    {
        Kills kills;
        agent::Reattester r(settings_for(h, cmdline::ReattestFail::Log), gate, kills.seams());
        CHECK(r.attest_once() == agent::Reattester::Outcome::Refused);
        CHECK_FALSE(r.refused());
        CHECK(kills.sent.empty());
    }
    Kills kills;
    agent::Reattester r(settings_for(h, cmdline::ReattestFail::PowerOff), gate, kills.seams());
    CHECK(r.attest_once() == agent::Reattester::Outcome::Refused);
    CHECK(r.refused());
    // SIGTERM, then (nobody reaped it within the grace) SIGKILL, to the workload only.
    REQUIRE(kills.sent.size() == 2);
    CHECK(kills.sent[0] == std::pair<pid_t, int>(4242, SIGTERM));
    CHECK(kills.sent[1] == std::pair<pid_t, int>(4242, SIGKILL));
}

TEST_CASE("reattest: no broker, a forged or unsigned refusal, or an exchange refusal is never fatal")
{
    BrokerHarness h;
    auto provider = simulated(good_launch());
    agent::api::ProviderGate gate(*provider);
    Kills kills;
    agent::ReattestSettings s = settings_for(h, cmdline::ReattestFail::PowerOff);

    // Nobody listening.
    agent::ReattestSettings gone = s;
    gone.broker_url = "http://127.0.0.1:1";
    agent::Reattester unreachable(gone, gate, kills.seams());
    CHECK(unreachable.attest_once() == agent::Reattester::Outcome::Failed);

    // A broker with another key: its verdicts, refusals included, are not the pinned broker's.
    agent::ReattestSettings wrong_key = s;
    wrong_key.broker_key[0] ^= 1;
    agent::Reattester forged(wrong_key, gate, kills.seams());
    CHECK(forged.attest_once() == agent::Reattester::Outcome::Failed);

    // Scripted answers: exchange refusals (signed) and a transport error.
    for (proto::ErrorCode code :
         {proto::ErrorCode::NonceReused, proto::ErrorCode::NonceExpired, proto::ErrorCode::StoreUnavailable,
          proto::ErrorCode::KdsUnavailable, proto::ErrorCode::Internal, proto::ErrorCode::BadRequest}) {
        CAPTURE(proto::error_code_name(code));
        agent::ReattestSeams seams = kills.seams();
        seams.send = [code](const client::HeartbeatOptions&, const client::EvidenceSource&) {
            return Result<proto::HeartbeatVerdict>(refused(code));
        };
        agent::Reattester r(s, gate, seams);
        CHECK(r.attest_once() == agent::Reattester::Outcome::Failed);
        CHECK_FALSE(r.refused());
    }
    agent::ReattestSeams seams = kills.seams();
    seams.send = [](const client::HeartbeatOptions&, const client::EvidenceSource&) {
        return Result<proto::HeartbeatVerdict>(Error::make(Errc::Network, "unsigned refusal, not acted on: ..."));
    };
    agent::Reattester unsigned_refusal(s, gate, seams);
    CHECK(unsigned_refusal.attest_once() == agent::Reattester::Outcome::Failed);
    CHECK(kills.sent.empty());

    // Every evidence refusal is one the agent acts on.
    for (proto::ErrorCode code : {proto::ErrorCode::Chain, proto::ErrorCode::TcbTooLow, proto::ErrorCode::Signature,
                                  proto::ErrorCode::PolicyDenied}) {
        CAPTURE(proto::error_code_name(code));
        Kills k;
        agent::ReattestSeams scripted = k.seams();
        scripted.send = [code](const client::HeartbeatOptions&, const client::EvidenceSource&) {
            return Result<proto::HeartbeatVerdict>(refused(code));
        };
        agent::Reattester r(s, gate, scripted);
        CHECK(r.attest_once() == agent::Reattester::Outcome::Refused);
        CHECK(r.refused());
        CHECK_FALSE(k.sent.empty());
    }
}

TEST_CASE("reattest: a provider error is reported, not retried, and closes a hardware gate")
{
    BrokerHarness h;
    FailingProvider provider;
    agent::api::ProviderGate gate(provider);
    Kills kills;
    agent::Reattester r(settings_for(h, cmdline::ReattestFail::PowerOff), gate, kills.seams());
    CHECK(r.attest_once() == agent::Reattester::Outcome::Failed);
    CHECK(r.attest_once() == agent::Reattester::Outcome::Failed);
    CHECK(provider.calls == 1);  // the second heartbeat never reached the provider
    CHECK(gate.closed());
    CHECK_FALSE(r.refused());
    CHECK(kills.sent.empty());
}

TEST_CASE("reattest: the thread beats after each delay and stops when asked")
{
    BrokerHarness h;
    auto provider = simulated(good_launch());
    agent::api::ProviderGate gate(*provider);
    std::atomic<int> beats{0};
    agent::ReattestSeams seams;
    seams.next_delay = [](uint32_t) { return std::chrono::milliseconds(10); };
    seams.send = [&beats](const client::HeartbeatOptions& o, const client::EvidenceSource&) {
        CHECK(o.interval == 60);
        ++beats;
        proto::HeartbeatVerdict v;
        v.accepted = true;
        return Result<proto::HeartbeatVerdict>(std::move(v));
    };
    agent::Reattester r(settings_for(h, cmdline::ReattestFail::Log), gate, seams);
    r.start();
    for (int i = 0; i < 500 && beats.load() < 3; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    r.stop();
    int after_stop = beats.load();
    CHECK(after_stop >= 3);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(beats.load() == after_stop);
}

TEST_CASE("reattest: the first heartbeat goes at once, and stop() cuts a long wait short")
{
    BrokerHarness h;
    auto provider = simulated(good_launch());
    agent::api::ProviderGate gate(*provider);
    std::atomic<int> beats{0};
    agent::ReattestSeams seams;
    seams.next_delay = [](uint32_t) { return std::chrono::milliseconds(3'600'000); };
    seams.send = [&beats](const client::HeartbeatOptions&, const client::EvidenceSource&) {
        ++beats;
        proto::HeartbeatVerdict v;
        v.accepted = true;
        return Result<proto::HeartbeatVerdict>(std::move(v));
    };
    agent::Reattester r(settings_for(h, cmdline::ReattestFail::Log), gate, seams);
    r.start();
    for (int i = 0; i < 500 && beats.load() < 1; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(beats.load() == 1);
    auto before = std::chrono::steady_clock::now();
    r.stop();
    CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(5));
    CHECK(beats.load() == 1);
}
