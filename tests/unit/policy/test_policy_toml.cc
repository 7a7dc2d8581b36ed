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

TEST_CASE("the keys of issue 14 parse")
{
    const std::string chip = std::string(126, '0') + "01";
    auto p = parse_policy_toml("measurements = [\"" + M +
                               "\"]\n"
                               "require_guest_policy = [\"single_socket\", \"page_swap_disable\"]\n"
                               "forbid_guest_policy = [\"smt\", \"cxl_allow\"]\n"
                               "forbid_platform_info = [\"tio\"]\n"
                               "chip_ids = [\"" +
                               chip +
                               "\"]\n"
                               "report_id_ma = \"" +
                               std::string(64, 'f') +
                               "\"\n"
                               "min_report_version = 5\nmin_launch_mit_vector = 0x1\nmin_current_mit_vector = 3\n"
                               "permit_provisional_firmware = true\nmin_build = 40\nmin_version = \"1.55\"\n"
                               "revocation = false\n"
                               "[min_committed_tcb.Genoa]\nbootloader = 9\nsnp = 21\nmicrocode = 84\n"
                               "[min_launch_tcb.Turin]\nfmc = 1\nmicrocode = 71\n")
                 .value();
    CHECK(p.required_guest_policy == (1u << 20 | 1u << 25));
    CHECK(p.forbidden_guest_policy == (1u << 16 | 1u << 21));
    CHECK(p.forbidden_platform_info == 0x80);
    REQUIRE(p.chip_ids.size() == 1);
    CHECK(p.chip_ids[0][63] == 1);
    CHECK(p.report_id_ma);
    CHECK(p.min_report_version == 5);
    CHECK(p.min_launch_mit_vector == 1);
    CHECK(p.min_current_mit_vector == 3);
    CHECK(p.permit_provisional_firmware);
    CHECK(p.min_build == 40);
    CHECK(p.min_version == std::pair<uint8_t, uint8_t>(1, 55));
    CHECK_FALSE(p.revocation);
    CHECK(p.min_committed_tcb.at(snp::Product::Genoa) == snp::TcbVersion{0, 9, 0, 21, 84});
    CHECK(p.min_launch_tcb.at(snp::Product::Turin) == snp::TcbVersion{1, 0, 0, 0, 71});
    CHECK(parse_policy_toml("measurements = [\"" + M + "\"]").value().revocation);
}

TEST_CASE("the keys of issue 14 are refused by name when wrong")
{
    const std::string ok = "measurements = [\"" + M + "\"]\n";
    CHECK(error_of(ok + "revocation = \"no\"") == "policy key 'revocation': expected true or false");
    CHECK(error_of(ok + "permit_provisional_firmware = 1") ==
          "policy key 'permit_provisional_firmware': expected true or false");
    CHECK(error_of(ok + "require_guest_policy = [\"debug\"]").find("'require_guest_policy': unknown bit (smt,") !=
          std::string::npos);
    CHECK(error_of(ok + "forbid_guest_policy = \"smt\"") ==
          "policy key 'forbid_guest_policy': expected a list of names");
    CHECK(error_of(ok + "forbid_platform_info = [\"bit6\"]").find("'forbid_platform_info': unknown bit") !=
          std::string::npos);
    CHECK(error_of(ok + "forbid_platform_info = [1]").find("unknown bit") != std::string::npos);
    CHECK(error_of(ok + "require_platform_info = [\"tsme\"]\nforbid_platform_info = [\"tsme\"]") ==
          "policy key 'forbid_platform_info': also in require_platform_info: 0x2 (tsme)");
    CHECK(error_of(ok + "allow_smt = false\nrequire_guest_policy = [\"smt\"]")
              .find("'forbid_guest_policy': also "
                    "required") != std::string::npos);
    CHECK(error_of(ok + "require_single_socket = true\nforbid_guest_policy = [\"single_socket\"]")
              .find("single_socket") != std::string::npos);
    CHECK(error_of(ok + "chip_ids = [\"" + std::string(128, '0') + "\"]") ==
          "policy key 'chip_ids': an all-zero CHIP_ID is a masked one and identifies no chip");
    CHECK(error_of(ok + "chip_ids = [\"" + std::string(126, '0') + "\"]") ==
          "policy key 'chip_ids': expected 128 hex digits");
    CHECK(error_of(ok + "chip_ids = []").find("'chip_ids'") != std::string::npos);
    CHECK(error_of(ok + "report_id_ma = \"" + std::string(64, 'g') + "\"").find("'report_id_ma'") != std::string::npos);
    CHECK(error_of(ok + "min_report_version = 1") ==
          "policy key 'min_report_version': expected an integer from 2 to 5");
    CHECK(error_of(ok + "min_report_version = 6").find("'min_report_version'") != std::string::npos);
    CHECK(error_of(ok + "min_launch_mit_vector = -1").find("'min_launch_mit_vector'") != std::string::npos);
    CHECK(error_of(ok + "min_current_mit_vector = \"0x1\"").find("'min_current_mit_vector'") != std::string::npos);
    CHECK(error_of(ok + "min_build = 256").find("'min_build'") != std::string::npos);
    CHECK(error_of(ok + "min_version = \"1.55.40\"") == "policy key 'min_version': expected \"MAJOR.MINOR\"");
    CHECK(error_of(ok + "min_version = \" 1.55\"") == "policy key 'min_version': expected \"MAJOR.MINOR\"");
    CHECK(error_of(ok + "min_version = 1.55") == "policy key 'min_version': expected \"MAJOR.MINOR\"");
    CHECK(error_of(ok + "[min_committed_tcb.Venice]\nsnp = 1").find("'min_committed_tcb.Venice': unknown product") !=
          std::string::npos);
    CHECK(error_of(ok + "[min_launch_tcb.Milan]\nfmc = 1") ==
          "policy key 'min_launch_tcb.Milan.fmc': only Turin has an FMC component");
    CHECK(error_of(ok + "min_launch_tcb = 3").find("'min_launch_tcb': expected tables") != std::string::npos);
}
