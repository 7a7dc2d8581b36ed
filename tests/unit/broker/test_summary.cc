// The configuration summary and the warnings about settings that weaken the policy.
#include <doctest.h>

#include <string>

#include "broker_fixture.h"
#include "config.h"
#include "summary.h"

using namespace cvm;
using namespace cvm::broker;

namespace {

const std::string MIN_TCB = "[policy.min_tcb.Genoa]\nbootloader = 9\ntee = 0\nsnp = 23\nmicrocode = 72\n";

BrokerConfig config(const test::BrokerFiles& files, const std::string& extra_policy)
{
    auto c = parse_broker_config(test::broker_config_text(extra_policy), files.dir());
    REQUIRE_MESSAGE(c.ok(), std::string(c.ok() ? "" : c.error().message()));
    return c.release_value();
}

bool has(const std::vector<std::string>& lines, const std::string& prefix)
{
    for (const std::string& l : lines) {
        if (l.rfind(prefix, 0) == 0)
            return true;
    }
    return false;
}

}  // namespace

TEST_CASE("summary: a strict policy, in one line, with no warning")
{
    test::BrokerFiles files;
    BrokerConfig c = config(files, MIN_TCB);
    std::string s = policy_summary(c);
    CHECK(s == "policy: accepts 2 measurements (aaaaaaaaaaaa…, cccccccccccc…); VMPL <= 0; debug refused; migration "
               "agent refused; SMT allowed; min_tcb Genoa bl=9 tee=0 snp=23 ucode=72; simulated evidence unknown; "
               "secrets: db (1 measurement), token (2 measurements); volumes: data (1 measurement); VCEKs from the "
               "KDS cache " +
                   files.dir() + "/kds-offline (offline); revocation on (AMD's CRLs from there too); nonces live 60 s");
    CHECK(s.find('\n') == std::string::npos);
    CHECK(s.find("s3cret") == std::string::npos);  // never a secret value
    CHECK(policy_warnings(c).empty());
}

TEST_CASE("summary: each weakening setting is warned about on its own line")
{
    test::BrokerFiles files;
    std::string extra;
    std::string expected;
    SUBCASE("allow_debug")
    {
        extra = "allow_debug = true\n" + MIN_TCB;
        expected = "WARNING: policy.allow_debug = true";
    }
    SUBCASE("allow_migration_agent")
    {
        extra = "allow_migration_agent = true\n" + MIN_TCB;
        expected = "WARNING: policy.allow_migration_agent = true";
    }
    SUBCASE("no min_tcb")
    {
        expected = "WARNING: no policy.min_tcb";
    }
    BrokerConfig c = config(files, extra);
    std::vector<std::string> w = policy_warnings(c);
    CHECK(w.size() == 1);
    CHECK(has(w, expected));
    if (expected.find("debug") != std::string::npos)
        CHECK(policy_summary(c).find("debug ALLOWED") != std::string::npos);
    if (expected.find("min_tcb") != std::string::npos)
        CHECK(policy_summary(c).find("min_tcb NONE (any firmware TCB)") != std::string::npos);
}
