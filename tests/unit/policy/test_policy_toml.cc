#include <doctest.h>

#include <string>

#include "policy/policy.h"

using namespace cvm;
using namespace cvm::policy;

namespace {

const std::string M = std::string(96, 'a');

std::string error_of(const std::string& text)
{
    auto p = parse_policy_toml(text);
    REQUIRE_FALSE(p.ok());
    CHECK(p.error().code() == Errc::Config);
    return std::string(p.error().message());
}

}  // namespace

TEST_CASE("a full policy file parses")
{
    auto p = parse_policy_toml("measurements = [\"" + M +
                               "\"]\n"
                               "allow_debug = true\nmax_vmpl = 2\nmin_abi = \"1.51\"\nmin_guest_svn = 3\n"
                               "require_platform_info = [\"tsme\", \"alias_check_complete\"]\n"
                               "host_data = \"" +
                               std::string(64, '0') +
                               "\"\n"
                               "[min_tcb.Turin]\nfmc = 1\nbootloader = 2\ntee = 3\nsnp = 4\nmicrocode = 5\n")
                 .value();
    CHECK(p.measurements.size() == 1);
    CHECK(p.measurements[0][0] == 0xaa);
    CHECK(p.allow_debug);
    CHECK(p.max_vmpl == 2);
    CHECK(p.min_abi_major == 1);
    CHECK(p.min_abi_minor == 51);
    CHECK(p.min_guest_svn == 3);
    CHECK(p.required_platform_info == 0x22);
    CHECK(p.host_data);
    CHECK(p.min_tcb.at(snp::Product::Turin) == snp::TcbVersion{1, 2, 3, 4, 5});
    CHECK_FALSE(p.is_baseline);
}

TEST_CASE("a [policy] section is accepted")
{
    CHECK(parse_policy_toml("[policy]\nmeasurements = [\"" + M + "\"]\n").ok());
}

TEST_CASE("bad policies are rejected naming the key")
{
    CHECK(error_of("") == "policy key 'measurements': missing: a policy must list the launch measurements it accepts");
    CHECK(error_of("measurements = []").find("'measurements'") != std::string::npos);
    CHECK(error_of("measurements = [\"abcd\"]") == "policy key 'measurements': expected 96 hex digits");
    const std::string ok = "measurements = [\"" + M + "\"]\n";
    CHECK(error_of(ok + "allow_debugg = true") == "policy key 'allow_debugg': unknown key");
    CHECK(error_of(ok + "allow_debug = 1") == "policy key 'allow_debug': expected true or false");
    CHECK(error_of(ok + "max_vmpl = 4") == "policy key 'max_vmpl': expected an integer from 0 to 3");
    CHECK(error_of(ok + "max_vmpl = -1").find("'max_vmpl'") != std::string::npos);
    CHECK(error_of(ok + "min_abi = \"1\"") == "policy key 'min_abi': expected \"MAJOR.MINOR\"");
    CHECK(error_of(ok + "min_abi = \"1.2x\"").find("'min_abi'") != std::string::npos);
    CHECK(error_of(ok + "require_platform_info = [\"turbo\"]").find("unknown bit") != std::string::npos);
    CHECK(error_of(ok + "[min_tcb.Naples]\nsnp = 1").find("'min_tcb.Naples'") != std::string::npos);
    CHECK(error_of(ok + "[min_tcb.Milan]\nsnp = 256").find("'min_tcb.Milan.snp'") != std::string::npos);
    CHECK(error_of(ok + "[min_tcb.Milan]\nspeed = 1").find("unknown TCB component") != std::string::npos);
    CHECK(error_of("measurements = [").find("TOML syntax error at line 1") != std::string::npos);
}
