// The agent's attest and retrieve stages with cvminit.transport=ratls against an in-process
// https broker: stage attest puts the report in an RA-TLS client certificate for a fresh key,
// stage retrieve presents it over mutual TLS, and the release is what cvmkb/1 would release.
#include <doctest.h>

#include "attest_harness.h"
#include "proto/tags.h"
#include "providers/report_provider_sim.h"
#include "ratls/ratls.h"
#include "snp/report.h"
#include "stages.h"
#include "test_pki.h"

using namespace cvm;
using namespace cvm::test;

namespace cvm::agent {
Result<void> challenge(Context& ctx);     // stage_attest.cc
Result<void> fetch_report(Context& ctx);  // stage_attest.cc
}  // namespace cvm::agent

namespace {

bool log_has(const BrokerHarness& h, const std::string& needle)
{
    for (const std::string& line : h.log_lines()) {
        if (line.find(needle) != std::string::npos)
            return true;
    }
    return false;
}

// An https broker (test CA) and an agent context for it with `transport`.
struct Setup {
    explicit Setup(cmdline::Transport transport, const sim::LaunchState& launch = good_launch())
    {
        fakes::PemIdentity id = pki.issue("broker", std::string("127.0.0.1"));
        std::string cert = tls.write("tls.crt", id.cert);
        std::string key = tls.write("tls.key", id.key);
        h = std::make_unique<BrokerHarness>("", "[tls]\ncert = \"" + cert + "\"\nkey = \"" + key + "\"\n");
        ctx.transport = transport;
        ctx.broker_url = "https://127.0.0.1:" + std::to_string(h->server->port());
        ctx.broker_ca_file = tls.write("ca.crt", pki.ca_pem());
        ctx.broker_key = h->broker->public_key();
        ctx.resources = {"db", "data"};
        ctx.provider = std::make_unique<agent::SimulatedProvider>(
            sim::SimulatedPsp::create(simulated_platform(), launch).release_value());
    }
    fakes::TestPki pki;
    BrokerFiles tls;
    std::unique_ptr<BrokerHarness> h;
    agent::Context ctx;
};

}  // namespace

TEST_CASE("agent over RA-TLS: stage retrieve presents the certificate stage attest made, and gets the resources")
{
    Setup s(cmdline::Transport::Ratls);
    REQUIRE(agent::challenge(s.ctx).ok());
    REQUIRE(agent::fetch_report(s.ctx).ok());
    REQUIRE(s.ctx.ratls_identity);
    // The certificate carries the report, bound to its own key and the session's report_data.
    auto cert = ratls::parse_certificate(s.ctx.ratls_identity->cert_der);
    REQUIRE_MESSAGE(cert.ok(), std::string(cert.ok() ? "" : cert.error().message()));
    CHECK(cert->evidence.subject.report == s.ctx.report);
    CHECK(cert->evidence.subject.binding == proto::RATLS_BROKER_TAG);
    CHECK(cert->evidence.subject.provider == agent::PROVIDER_SIMULATED);
    CHECK(cert->evidence.subject.nonce ==
          Bytes(s.ctx.session->report_data().begin(), s.ctx.session->report_data().end()));
    CHECK_FALSE(cert->evidence.issuer);
    proto::ReportData bound = proto::ratls_broker(cert->spki, s.ctx.session->report_data());
    CHECK(std::equal(bound.begin(), bound.end(), s.ctx.report.begin() + snp::REPORT_DATA_OFFSET));

    auto summary = agent::stage_retrieve(s.ctx);
    REQUIRE_MESSAGE(summary.ok(), std::string(summary.ok() ? "" : summary.error().message()));
    CHECK(summary->find("over RA-TLS") != std::string::npos);
    REQUIRE(s.ctx.release);
    CHECK(s.ctx.release->secrets.size() == 1);
    CHECK(s.ctx.release->volumes.size() == 1);
    CHECK(log_has(*s.h, "transport=ratls"));

    s.ctx.wipe();
    CHECK_FALSE(s.ctx.ratls_identity);
    CHECK_FALSE(s.ctx.release);
}

TEST_CASE("agent over RA-TLS: each report gets a fresh key; the cvmkb transport makes no certificate")
{
    Setup s(cmdline::Transport::Ratls);
    REQUIRE(agent::challenge(s.ctx).ok());
    REQUIRE(agent::fetch_report(s.ctx).ok());
    auto first = ratls::parse_certificate(s.ctx.ratls_identity->cert_der).release_value();
    REQUIRE(agent::challenge(s.ctx).ok());
    REQUIRE(agent::fetch_report(s.ctx).ok());
    auto second = ratls::parse_certificate(s.ctx.ratls_identity->cert_der).release_value();
    CHECK(first.spki != second.spki);
    CHECK(first.evidence.subject.nonce != second.evidence.subject.nonce);

    Setup plain(cmdline::Transport::Cvmkb);
    REQUIRE(agent::challenge(plain.ctx).ok());
    REQUIRE(agent::fetch_report(plain.ctx).ok());
    CHECK_FALSE(plain.ctx.ratls_identity);
    CHECK(std::equal(plain.ctx.session->report_data().begin(), plain.ctx.session->report_data().end(),
                     plain.ctx.report.begin() + snp::REPORT_DATA_OFFSET));  // the cvmkb/1 binding itself
    auto summary = agent::stage_retrieve(plain.ctx);
    REQUIRE(summary.ok());
    CHECK(summary->find("RA-TLS") == std::string::npos);
    CHECK_FALSE(log_has(*plain.h, "transport=ratls"));
}

TEST_CASE("agent over RA-TLS: a refusal is final as over cvmkb/1, with the broker's code in the error")
{
    sim::LaunchState other = good_launch();
    other.measurement.fill(0xbb);
    Setup s(cmdline::Transport::Ratls, other);
    s.ctx.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    REQUIRE(agent::challenge(s.ctx).ok());
    REQUIRE(agent::fetch_report(s.ctx).ok());
    auto summary = agent::stage_retrieve(s.ctx);
    REQUIRE_FALSE(summary.ok());
    CHECK(summary.error().code() == Errc::Policy);
    CHECK(std::string(summary.error().message()).find("MEASUREMENT_MISMATCH") != std::string::npos);
    REQUIRE(s.ctx.session->last_refusal());
    CHECK(s.ctx.session->last_refusal()->claim == "policy.measurement");
    CHECK_FALSE(s.ctx.release);
}
