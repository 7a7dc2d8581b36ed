#include <doctest.h>

#include <string>

#include "attest_harness.h"
#include "broker_fixture.h"
#include "config.h"
#include "summary.h"
#include "vectors.h"

using namespace cvm;
using namespace cvm::broker;

namespace {

std::string error_of(const test::BrokerFiles& files, const std::string& text)
{
    auto c = parse_broker_config(text, files.dir());
    REQUIRE_FALSE(c.ok());
    return std::string(c.error().message());
}

}  // namespace

TEST_CASE("broker config: a complete file parses with every resource")
{
    test::BrokerFiles files;
    auto c = parse_broker_config(test::broker_config_text(), files.dir());
    REQUIRE(c.ok());
    CHECK(c->server.address == "127.0.0.1");
    CHECK(c->server.port == 0);
    REQUIRE(c->signing_key);
    CHECK(c->signing_key->public_key() == files.broker_key());
    REQUIRE(c->nonce_key);
    CHECK(c->nonce_key->expose()[0] == 1);
    CHECK(c->nonce_key->expose()[31] == 32);
    REQUIRE(c->secrets.size() == 2);
    CHECK(c->secrets[0].name == "db");
    CHECK(c->secrets[0].env == std::optional<std::string>("DB_PASSWORD"));
    CHECK(c->secrets[0].value.size() == 18);
    CHECK(c->secrets[1].measurements.size() == 2);
    REQUIRE(c->volumes.size() == 1);
    CHECK(c->volumes[0].key.size() == 64);
    REQUIRE(c->kds);  // the fixture's offline one: revocation is on, and AMD's CRLs come from KDS
    CHECK(c->kds->mode == kds::Mode::Offline);
    CHECK(c->policy.revocation);
    CHECK(c->simulated_crls.empty());
    CHECK_FALSE(c->server.tls);
    CHECK(c->simulated_roots.empty());
}

TEST_CASE("broker config: listen addresses, IPv6, metrics, limits, kds")
{
    test::BrokerFiles files;
    std::string text = test::broker_config_text(
        "", "metrics_listen = \"[::1]:9464\"\nmax_connections = 8\nnonce_lifetime = 30\n"
            "[kds]\nurl = \"http://127.0.0.1:1\"\ncache_dir = \"kds\"\nttl = 60\noffline = false\ntimeout = 3\n");
    auto c = parse_broker_config(text, files.dir());
    REQUIRE(c.ok());
    REQUIRE(c->metrics_server);
    CHECK(c->metrics_server->address == "::1");
    CHECK(c->metrics_server->port == 9464);
    CHECK(c->server.max_connections == 8);
    CHECK(c->nonce_lifetime == 30);
    REQUIRE(c->kds);
    CHECK(c->kds->cache_dir == files.dir() + "/kds");
    CHECK(c->kds->http.total_timeout_ms == 3000);
}

TEST_CASE("broker config: each mistake is named")
{
    test::BrokerFiles files;
    std::string ok = test::broker_config_text();
    CHECK(error_of(files, ok + "bogus = 1\n").find("'volume[0].bogus'") != std::string::npos);
    CHECK(error_of(files, "colour = 1\n" + ok).find("broker config key 'colour': unknown key") != std::string::npos);
    std::string no_listen = ok.substr(ok.find('\n') + 1);
    CHECK(error_of(files, no_listen).find("'listen': missing") != std::string::npos);
    std::string bad_listen = "listen = \"127.0.0.1\"\n" + no_listen;
    CHECK(error_of(files, bad_listen).find("'listen': expected address:port") != std::string::npos);
    CHECK(error_of(files, "listen = \"1.2.3.4:70000\"\n" + no_listen).find("'listen'") != std::string::npos);
    CHECK(error_of(files, ok + "\n[[secret]]\nname = \"db\"\nvalue = \"x\"\nmeasurements = [\"" +
                              test::GOOD_MEASUREMENT + "\"]\n")
              .find("'secret[2].name': a resource of this name is already defined") != std::string::npos);
    CHECK(error_of(files, ok + "\n[[secret]]\nname = \"x\"\nvalue = \"x\"\nmeasurements = [\"" +
                              test::OTHER_MEASUREMENT + "\"]\n")
              .find("policy.measurements does not accept") != std::string::npos);
    CHECK(error_of(files, ok + "\n[[secret]]\nname = \"../etc\"\nvalue = \"x\"\nmeasurements = [\"" +
                              test::GOOD_MEASUREMENT + "\"]\n")
              .find("secret[2].name") != std::string::npos);
    CHECK(error_of(files, ok + "\n[[secret]]\nname = \"e\"\nvalue = \"x\"\nenv = \"lower\"\nmeasurements = [\"" +
                              test::GOOD_MEASUREMENT + "\"]\n")
              .find("secret[2].env") != std::string::npos);
    CHECK(error_of(files, ok + "\n[[secret]]\nname = \"n\"\nvalue = \"x\"\n").find("secret[2].measurements") !=
          std::string::npos);
    CHECK(error_of(files, ok +
                              "\n[[secret]]\nname = \"both\"\nvalue = \"x\"\nfile = \"db.secret\"\nmeasurements = [\"" +
                              test::GOOD_MEASUREMENT + "\"]\n")
              .find("exactly one of 'file'") != std::string::npos);
}

TEST_CASE("broker config: keys, simulation and policy are checked")
{
    test::BrokerFiles files;
    std::string ok = test::broker_config_text();
    files.write("short.key", std::string(16, 'k'));
    std::string short_volume = ok + "\n[[volume]]\nname = \"v2\"\nkey_file = \"short.key\"\nmeasurements = [\"" +
                               test::GOOD_MEASUREMENT + "\"]\n";
    CHECK(error_of(files, short_volume).find("32 to 512 bytes") != std::string::npos);
    files.write("bad-nonce.key", "not base64\n");
    std::string bad_nonce = ok;
    bad_nonce.replace(bad_nonce.find("nonce.key"), 9, "bad-nonce.key");
    CHECK(error_of(files, bad_nonce).find("'nonce_key'") != std::string::npos);
    files.write("junk.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    std::string bad_key = ok;
    bad_key.replace(bad_key.find("broker.key"), 10, "junk.pem");
    CHECK(error_of(files, bad_key).find("signing_key") != std::string::npos);
    CHECK(error_of(files, test::broker_config_text("allow_simulated = true\n")).find("'simulated_root': missing") !=
          std::string::npos);
    CHECK(error_of(files, test::broker_config_text("", "simulated_root = \"ark.pem\"\n")).find("simulated_root: ") !=
          std::string::npos);  // no such file
    CHECK(error_of(files, test::broker_config_text("allow_debugg = true\n")).find("policy key 'allow_debugg'") !=
          std::string::npos);
    std::string values = ok;
    // The value of a secret never appears in an error message, even when its neighbour is wrong.
    std::string leak = error_of(files, values +
                                           "\n[[secret]]\nname = \"v\"\nvalue = \"TOPSECRET\"\nenv = \"bad env\"\n"
                                           "measurements = [\"" +
                                           test::GOOD_MEASUREMENT + "\"]\n");
    CHECK(leak.find("TOPSECRET") == std::string::npos);
}

namespace {

// The fixture's configuration without its offline [kds] table.
std::string without_kds(std::string text)
{
    const std::string kds = "[kds]\noffline = true\ncache_dir = \"kds-offline\"\n";
    REQUIRE(text.find(kds) != std::string::npos);
    return text.erase(text.find(kds), kds.size());
}

bool has_line(const std::vector<std::string>& lines, const std::string& part)
{
    for (const std::string& l : lines) {
        if (l.find(part) != std::string::npos)
            return true;
    }
    return false;
}

}  // namespace

TEST_CASE("broker config: revocation needs a CRL for every kind of evidence the broker may accept")
{
    test::BrokerFiles files;
    const std::string sim = test::simulated_top(files);
    const std::string sim_root_only = "simulated_root = \"sim-ark.der\"\n";

    // The simulated root and its CRL: parsed, and named in the summary.
    auto c = parse_broker_config(test::broker_config_text("allow_simulated = true\n", sim), files.dir());
    REQUIRE_MESSAGE(c.ok(), std::string(c.ok() ? "" : c.error().message()));
    REQUIRE(c->simulated_crls.size() == 1);
    CHECK(c->simulated_crls[0] == test::simulated_crl());
    CHECK(policy_summary(c.value()).find("revocation on (AMD's CRLs from there too; the simulated CRL " + files.dir() +
                                         "/sim-crl.der)") != std::string::npos);

    // A simulated root without its CRL: simulated evidence could never pass, said at start.
    std::string e = error_of(files, test::broker_config_text("allow_simulated = true\n", sim_root_only));
    CHECK(e.find("'simulated_crl': missing") != std::string::npos);
    CHECK(e.find("cvm sim init") != std::string::npos);
    CHECK(e.find("revocation = false") != std::string::npos);

    // No [kds] and AMD evidence possible (a production broker): AMD's CRLs have no source.
    e = error_of(files, without_kds(test::broker_config_text()));
    CHECK(e.find("'kds': missing") != std::string::npos);
    CHECK(e.find("revocation = false") != std::string::npos);

    // A development broker (allow_simulated) without [kds] starts, warned that AMD evidence is refused.
    c = parse_broker_config(without_kds(test::broker_config_text("allow_simulated = true\n", sim)), files.dir());
    REQUIRE(c.ok());
    CHECK(has_line(policy_warnings(c.value()), "WARNING: no [kds]: revocation needs AMD's CRLs"));
    CHECK(policy_summary(c.value()).find("AMD's CRLs from nowhere: no [kds], AMD evidence refused") !=
          std::string::npos);

    // Revocation off: neither is needed, and the choice is warned about.
    c = parse_broker_config(without_kds(test::broker_config_text("revocation = false\n", sim_root_only)), files.dir());
    REQUIRE_MESSAGE(c.ok(), std::string(c.ok() ? "" : c.error().message()));
    CHECK_FALSE(c->policy.revocation);
    CHECK(policy_summary(c.value()).find("revocation OFF (policy.revocation = false)") != std::string::npos);
    CHECK(has_line(policy_warnings(c.value()), "WARNING: policy.revocation = false"));

    // simulated_crl without the root it belongs to, and a file that is no CRL.
    e = error_of(files, test::broker_config_text("", "simulated_crl = \"sim-crl.der\"\n"));
    CHECK(e.find("'simulated_crl': is set without simulated_root") != std::string::npos);
    e = error_of(files, test::broker_config_text("", sim_root_only + "simulated_crl = \"sim-ark.der\"\n"));
    CHECK(e.find("simulated_crl ") != std::string::npos);  // names the key and the file
    // AMD's real Milan CRL: a CRL, but not the simulated ARK's.
    Bytes amd = test::read_vector("snp-reports/amd_crls/milan_vcek_reprobuild-n12.crl");
    files.write("amd.crl", std::string_view(reinterpret_cast<const char*>(amd.data()), amd.size()));
    e = error_of(files, test::broker_config_text("", sim_root_only + "simulated_crl = \"amd.crl\"\n"));
    CHECK(e.find("'simulated_crl': is not issued by simulated_root's ARK") != std::string::npos);
    e = error_of(files, test::broker_config_text("", sim_root_only + "simulated_crl = \"missing.der\"\n"));
    CHECK(e.find("simulated_crl") != std::string::npos);
}
