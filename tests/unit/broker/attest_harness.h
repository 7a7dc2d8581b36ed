// An in-process broker on 127.0.0.1 (simulated root configured) and a simulated platform whose
// PSP signs the agent's reports: the whole cvmkb/1 exchange without QEMU or hardware.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "broker.h"
#include "broker_fixture.h"
#include "client/session.h"
#include "kds/clock.h"
#include "kds/kds_client.h"
#include "net/http_server.h"
#include "sim/chain.h"
#include "sim/psp.h"

namespace cvm::test {

class FakeClock final : public kds::Clock {
public:
    int64_t now() override { return m_now.load(); }
    void sleep(int64_t seconds) override { m_now += seconds; }
    void advance(int64_t seconds) { m_now += seconds; }

private:
    std::atomic<int64_t> m_now{1'800'000'000};
};

// One simulated Genoa platform per test process (two RSA-4096 key generations).
const sim::Platform& simulated_platform();

// The simulated platform's CRL (sim/crl.h: nothing revoked, valid for a year from yesterday, so
// it covers FakeClock's start), made once.
const Bytes& simulated_crl();

// The configuration lines that name the simulated root and its CRL, and writes both files
// (sim-ark.der, sim-crl.der) into `files`: revocation stays on for simulated evidence. `crl`
// replaces simulated_crl() (a revoking or expired one).
std::string simulated_top(const BrokerFiles& files, const Bytes* crl = nullptr);

// The launch the tests' policies accept: MEASUREMENT = GOOD_MEASUREMENT, no debug, SMT allowed.
sim::LaunchState good_launch();

class BrokerHarness {
public:
    // `extra_policy` and `extra_top` as broker_config_text(); allow_simulated is added unless
    // `allow_simulated` is false (the simulated root is configured either way). `store` (must
    // outlive the harness) is shared with other brokers; nullptr: the broker's own. `crl` as
    // simulated_top's.
    explicit BrokerHarness(const std::string& extra_policy = "", const std::string& extra_top = "",
                           bool allow_simulated = true, broker::Store* store = nullptr, const Bytes* crl = nullptr);
    // A broker on the whole configuration text `config_text` makes once the files exist (the
    // simulated root's among them: simulated_top()).
    explicit BrokerHarness(const std::function<std::string(const BrokerFiles&)>& config_text);
    ~BrokerHarness();

    client::ClientOptions client(std::vector<std::string> resources) const;
    std::string url() const;

    // A report for `report_data` from the simulated PSP, with the platform's certificates.
    struct SignedReport {
        Bytes report;
        std::vector<Bytes> certs;
    };
    SignedReport report(const proto::ReportData& report_data, const sim::LaunchState& launch = good_launch(),
                        uint32_t vmpl = 0) const;

    // Runs a session for `resources` with `launch` and returns its result.
    Result<proto::Release> attest(std::vector<std::string> resources, const sim::LaunchState& launch = good_launch(),
                                  uint32_t vmpl = 0, std::optional<proto::ErrorBody>* refusal = nullptr);

    std::vector<std::string> log_lines() const;

    BrokerFiles files;
    FakeClock clock;
    std::unique_ptr<broker::Broker> broker;
    std::unique_ptr<net::HttpServer> server;

private:
    void start(const std::string& config_text, broker::Store* store);
    mutable std::mutex m_mutex;
    std::vector<std::string> m_log;
};

// The DER certificates of a GUID table (VCEK, ASK, ARK), as an agent sends them.
std::vector<Bytes> certs_of_table(ByteView table);

// A KDS client for `base_url` on `clock`, with timeouts short enough for loopback fakes.
std::unique_ptr<kds::KdsClient> kds_client(const std::string& base_url, kds::Clock& clock);

}  // namespace cvm::test
