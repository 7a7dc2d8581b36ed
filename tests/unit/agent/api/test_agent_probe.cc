// The whole API path with the simulated PSP: the agent's server in-process, the demo workload's
// --agent-probe against it, and what the probe wrote verified as the host would (lib/verify for
// the evidence, lib/ratls for the certificate), so a broken binding or certificate order shows
// here before it shows in a QEMU boot.
#include <doctest.h>
#include <sys/stat.h>

#include "agent_probe.h"
#include "api/server.h"
#include "base/base64.h"
#include "base/file.h"
#include "proto/tags.h"
#include "providers/report_provider_sim.h"
#include "ratls/verify.h"
#include "sim_fixture.h"
#include "snp/report.h"
#include "verify/evidence.h"

using namespace cvm;
using namespace cvm::agent;

namespace {

Bytes read(const std::string& path)
{
    auto bytes = read_file(path, 1024 * 1024);
    CAPTURE(path);
    CAPTURE((bytes.ok() ? std::string() : std::string(bytes.error().message())));
    REQUIRE(bytes.ok());
    return bytes.release_value();
}

}  // namespace

TEST_CASE("demo-workload --agent-probe against the agent's API on the simulated platform: the host verifies both")
{
    test::TempDir dir;
    SimulatedProvider provider(test::psp_for(test::genoa()));
    api::ProviderGate gate(provider);
    auto boot = provider.get_report(test::report_data(1));
    REQUIRE(boot.ok());
    api::ServerConfig config;
    config.dir = dir / "run";
    auto server = api::serve_workload_api(gate, boot->report, config);
    REQUIRE(server.ok());
    std::string out = dir / "out";
    REQUIRE(mkdir(out.c_str(), 0755) == 0);
    REQUIRE(workload::agent_probe(out.c_str(), server.value()->socket_path().c_str()) == 0);

    // The evidence: a report bound to the probe's user data, with a chain that verifies.
    Bytes report = read(out + "/report.bin");
    CHECK(snp::parse_report(report).value().report_data ==
          proto::workload_user_data(as_bytes(workload::PROBE_USER_DATA)));
    // certs/ as cvm verify --certs reads it: the VCEK in DER, the ASK and ARK in PEM.
    verify::Evidence evidence{
        report, read(out + "/certs/vcek.der"), read(out + "/certs/ask.pem"), read(out + "/certs/ark.pem"), {}};
    evidence.crl = test::crl_of(test::genoa());
    auto verifier = test::verifier_trusting({&test::genoa()});
    auto verified = verifier->verify(evidence);
    CAPTURE(test::dump(verified));
    CHECK(verified.pass());
    Bytes hex = read(out + "/user_data.hex");
    CHECK(std::string(hex.begin(), hex.end()) == to_hex(as_bytes(workload::PROBE_USER_DATA)) + "\n");

    // The certificate: every ratls.* claim and both reports pass.
    auto leaf = ratls::parse_certificate(read(out + "/leaf.pem"));
    REQUIRE(leaf.ok());
    CHECK(leaf->dns_names == std::vector<std::string>{workload::PROBE_DNS_NAME});
    auto add_crl = [](verify::Evidence& e) { e.crl = test::crl_of(test::genoa()); };
    auto checked = ratls::verify_certificate(leaf.value(), {std::string(proto::WORKLOAD_RATLS_TAG), Bytes{}}, *verifier,
                                             verify::VerifyOptions{}, add_crl);
    for (const Claim& c : checked.claims) {
        CAPTURE(c.name);
        CAPTURE(c.found);
        CHECK(c.pass);
    }
    CHECK(checked.pass());
    auto issuer = ratls::parse_certificate(read(out + "/issuer.pem"));
    REQUIRE(issuer.ok());
    CHECK(issuer->spki == leaf->evidence.issuer->spki);
}
