#include "attest_harness.h"

#include <doctest.h>

#include "sim/crl.h"
#include "snp/cert_table.h"

namespace cvm::test {

const sim::Platform& simulated_platform()
{
    static const sim::Platform platform = sim::create_platform({}).release_value();
    return platform;
}

const Bytes& simulated_crl()
{
    static const Bytes crl = sim::make_crl(simulated_platform(), {}).release_value();
    return crl;
}

std::string simulated_top(const BrokerFiles& files, const Bytes* chosen)
{
    const sim::Platform& p = simulated_platform();
    files.write("sim-ark.der", std::string_view(reinterpret_cast<const char*>(p.ark_der.data()), p.ark_der.size()));
    const Bytes& crl = chosen ? *chosen : simulated_crl();
    files.write("sim-crl.der", std::string_view(reinterpret_cast<const char*>(crl.data()), crl.size()));
    return "simulated_root = \"sim-ark.der\"\nsimulated_crl = \"sim-crl.der\"\n";
}

sim::LaunchState good_launch()
{
    sim::LaunchState launch;
    auto m = from_hex(GOOD_MEASUREMENT);
    std::copy(m->begin(), m->end(), launch.measurement.begin());
    return launch;
}

std::vector<Bytes> certs_of_table(ByteView table)
{
    std::vector<Bytes> out;
    for (const snp::CertEntry& e : snp::parse_cert_table(table).release_value())
        out.push_back(e.der);
    return out;
}

BrokerHarness::BrokerHarness(const std::string& extra_policy, const std::string& extra_top, bool allow_simulated,
                             broker::Store* store, const Bytes* crl)
{
    std::string policy = (allow_simulated ? "allow_simulated = true\n" : "") + extra_policy;
    std::string top = simulated_top(files, crl) + extra_top;
    start(broker_config_text(policy, top), store);
}

BrokerHarness::BrokerHarness(const std::function<std::string(const BrokerFiles&)>& config_text)
{
    start(config_text(files), nullptr);
}

void BrokerHarness::start(const std::string& config_text, broker::Store* store)
{
    auto config = broker::parse_broker_config(config_text, files.dir());
    REQUIRE_MESSAGE(config.ok(), std::string(config.ok() ? "" : config.error().message()));
    net::ServerOptions options = config->server;
    broker::BrokerOptions broker_options;
    broker_options.clock = &clock;
    broker_options.store = store;
    broker_options.log = [this](const std::string& line) {
        std::lock_guard lock(m_mutex);
        m_log.push_back(line);
    };
    auto created = broker::Broker::create(config.release_value(), broker_options);
    REQUIRE_MESSAGE(created.ok(), std::string(created.ok() ? "" : created.error().message()));
    broker = created.release_value();
    broker::Broker* b = broker.get();
    server = net::HttpServer::start(options, [b](const net::HttpRequest& r) { return b->handle(r); }).release_value();
}

BrokerHarness::~BrokerHarness()
{
    server->stop();
}

std::string BrokerHarness::url() const
{
    return "http://127.0.0.1:" + std::to_string(server->port());
}

client::ClientOptions BrokerHarness::client(std::vector<std::string> resources) const
{
    client::ClientOptions o;
    o.broker_url = url();
    o.broker_key = broker->public_key();
    o.resources = std::move(resources);
    return o;
}

BrokerHarness::SignedReport BrokerHarness::report(const proto::ReportData& report_data, const sim::LaunchState& launch,
                                                  uint32_t vmpl) const
{
    auto psp = sim::SimulatedPsp::create(simulated_platform(), launch).release_value();
    SignedReport out;
    out.report = psp.get_report(report_data, vmpl).release_value();
    out.certs = certs_of_table(psp.cert_table());
    return out;
}

Result<proto::Release> BrokerHarness::attest(std::vector<std::string> resources, const sim::LaunchState& launch,
                                             uint32_t vmpl, std::optional<proto::ErrorBody>* refusal)
{
    client::Session session = TRY(client::Session::begin(client(std::move(resources))));
    SignedReport signed_report = report(session.report_data(), launch, vmpl);
    auto released = session.complete(std::move(signed_report.report), std::move(signed_report.certs));
    if (refusal)
        *refusal = session.last_refusal();
    return released;
}

std::vector<std::string> BrokerHarness::log_lines() const
{
    std::lock_guard lock(m_mutex);
    return m_log;
}

std::unique_ptr<kds::KdsClient> kds_client(const std::string& base_url, kds::Clock& clock)
{
    kds::KdsOptions o;
    o.base_url = base_url;
    o.clock = &clock;
    o.http.connect_timeout_ms = 1000;
    o.http.total_timeout_ms = 5000;
    return kds::KdsClient::create(o).release_value();
}

}  // namespace cvm::test
