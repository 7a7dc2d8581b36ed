// The deployment settings of an init-data document (kernel-cmdline/deployment.h): the deliberate
// list, strict parsing, and the merge that takes each setting from exactly one place.
#include "kernel-cmdline/deployment.h"

#include <doctest/doctest.h>

#include <string>

namespace cvm::cmdline {
namespace {

// RFC 8032 §7.1 TEST 1's and TEST 2's public keys, base64.
constexpr std::string_view KEY1 = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
constexpr std::string_view KEY2 = "PUAXw+hDiVqStwqnTRt+vJyYLM8uxJaMwM1V8Sr0Zgw=";

const std::string FULL = R"(broker = "HTTPS://kb-eu.example:443/"
broker_key = ")" + std::string(KEY2) +
                         R"("
transport = "ratls"
reattest = 300
resources = ["db", "api-token"]
[workload]
env = { REGION = "eu-west", B = "" }
)";

Deployment parse_ok(std::string_view text)
{
    auto parsed = parse_deployment(text);
    INFO(text);
    REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? std::string() : std::string(parsed.error().message())));
    return parsed.value();
}

void refused(std::string_view text, std::string_view fragment)
{
    auto parsed = parse_deployment(text);
    INFO(text);
    REQUIRE(!parsed.ok());
    INFO(parsed.error().message());
    CHECK(parsed.error().code() == Errc::Config);
    CHECK(parsed.error().message().find("init-data cvminit.toml") != std::string_view::npos);
    CHECK(parsed.error().message().find(fragment) != std::string_view::npos);
}

AgentCmdline cmdline(const std::string& words)
{
    auto parsed = parse_cmdline(words);
    INFO(words);
    REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? std::string() : std::string(parsed.error().message())));
    return parsed.value();
}

AgentFileConfig file_with_command()
{
    AgentFileConfig f;
    f.command = {"/usr/bin/app"};
    return f;
}

void merge_refused(const AgentCmdline& c, const AgentFileConfig& f, const Deployment* d, std::string_view fragment)
{
    auto merged = merge_config(c, f, d);
    REQUIRE(!merged.ok());
    INFO(merged.error().message());
    CHECK(merged.error().code() == Errc::Config);
    CHECK(merged.error().message().find(fragment) != std::string_view::npos);
}

TEST_CASE("deployment: every setting it may carry, canonical")
{
    Deployment d = parse_ok(FULL);
    CHECK(d.broker_url == "https://kb-eu.example");
    REQUIRE(d.broker_key);
    CHECK(proto::ed25519_public_b64(*d.broker_key) == KEY2);
    CHECK(d.transport == Transport::Ratls);
    CHECK(d.reattest_seconds == 300);
    CHECK(d.resources == std::vector<std::string>{"db", "api-token"});
    CHECK(d.env == EnvList{{"B", ""}, {"REGION", "eu-west"}});  // sorted by name
    CHECK(parse_ok("") == Deployment{});
    CHECK(parse_ok("transport = \"cvmkb\"").transport == Transport::Cvmkb);
}

TEST_CASE("deployment: measured-only settings are refused with the reason, unknown keys by name")
{
    for (const char* key :
         {"simulate = true", "net = \"none\"", "deadline = 3600", "verity = {}", "data = \"/dev/vdc\"",
          "data_key = \"x\"", "data_key_mode = \"hybrid\"", "data_key_policy = \"chip-only\"",
          "reattest_fail = \"log\"", "initdata = \"none\"", "[agent_api]", "[secrets]", "command = [\"/bin/sh\"]",
          "ip = \"10.0.0.2/24\"", "dns = \"1.1.1.1\""})
        refused(key, "measured-only");
    for (const char* key : {"[workload]\ncommand = [\"/bin/sh\"]", "[workload]\nuser = 0",
                            "[workload]\nisolation = \"off\"", "[workload]\nroot = \"/\""})
        refused(key, "measured-only");
    refused("brokers = \"http://a\"", "'brokers': unknown key");
    refused("\"bad\\u0007key\" = 1", "unknown key");
    refused("broker = ", "TOML syntax error");
    refused(std::string(MAX_DEPLOYMENT_TOML_SIZE + 1, ' '), "more than");
}

TEST_CASE("deployment: each value strictly")
{
    refused("broker = \"ftp://a\"", "'broker'");
    refused("broker = \"http://a/path\"", "path, query or fragment");
    refused("broker = \"http://a#frag\"", "path, query or fragment");
    refused("broker = 1", "'broker'");
    refused("broker_key = \"AAAA\"", "'broker_key'");
    refused("broker_key = \"" + std::string(KEY1) + "x\"", "'broker_key'");
    refused("transport = \"tls\"", "'transport'");
    refused("reattest = 29", "'reattest': expected an integer from 30 to 86400");
    refused("reattest = 86401", "'reattest'");
    refused("reattest = \"300\"", "'reattest'");
    refused("reattest = 300.0", "'reattest'");
    refused("resources = []", "'resources'");
    refused("resources = [\"a\", \"a\"]", "listed twice");
    refused("resources = [\".hidden\"]", "'resources'");
    refused("resources = \"db\"", "'resources'");
    std::string many = "resources = [\"r0\"";
    for (int i = 1; i < 65; ++i)
        many += ", \"r" + std::to_string(i) + "\"";
    refused(many + "]", "1 to 64");
    refused("workload = 1", "'workload'");
    refused("[workload]\nenv = 1", "'workload.env'");
    refused("[workload.env]\nlower = \"x\"", "'workload.env.lower'");
    refused("[workload.env]\nX = 1", "'workload.env.X'");
    refused("[workload.env]\nX = \"a\\u0000b\"", "without NUL");
    refused("[workload.env]\nX = \"" + std::string(4097, 'a') + "\"", "at most 4096");
}

TEST_CASE("deployment: environment the loader or libc acts on is refused")
{
    for (const char* name : {"LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "LD_ANYTHING", "GCONV_PATH", "GLIBC_TUNABLES",
                             "LOCPATH", "TMPDIR", "TZDIR", "RES_OPTIONS", "HOSTALIASES", "NLSPATH"}) {
        CHECK(loader_env_name(name));
        refused("[workload.env]\n" + std::string(name) + " = \"x\"", "dynamic loader or libc");
    }
    for (const char* name : {"LD", "LDAP_URI", "PATH", "LANG", "TZ", "XLD_PRELOAD"})
        CHECK(!loader_env_name(name));
    CHECK(parse_ok("[workload.env]\nPATH = \"/bin\"").env == EnvList{{"PATH", "/bin"}});
}

TEST_CASE("merge: the document fills in what the measured line leaves out")
{
    AgentCmdline c = cmdline("cvminit.initdata=fw_cfg cvminit.reattest_fail=poweroff");
    AgentFileConfig f = file_with_command();
    f.env = {{"LANG", "C.UTF-8"}};
    Deployment d = parse_ok(FULL);
    auto merged = merge_config(c, f, &d);
    REQUIRE_MESSAGE(merged.ok(), std::string(merged.ok() ? "" : merged.error().message()));
    CHECK(merged->broker_url == "https://kb-eu.example");
    CHECK(merged->broker_key == *d.broker_key);
    CHECK(merged->transport == Transport::Ratls);
    CHECK(merged->reattest_seconds == 300);
    CHECK(merged->reattest_fail == ReattestFail::PowerOff);  // measured
    CHECK(merged->resources == d.resources);
    CHECK(merged->workload_env == EnvList{{"B", ""}, {"LANG", "C.UTF-8"}, {"REGION", "eu-west"}});
    CHECK(merged->initdata == InitdataSource::FwCfg);

    // Stage config's merge, before the document: the measured part only.
    auto measured = merge_config(c, f);
    REQUIRE(measured.ok());
    CHECK(measured->broker_url.empty());
    CHECK(measured->transport == Transport::Cvmkb);

    // The data volume's key joins the document's resources.
    AgentCmdline with_data = cmdline("cvminit.initdata=fw_cfg cvminit.data=/dev/vdc");
    CHECK(merge_config(with_data, f, &d)->resources == std::vector<std::string>{"db", "api-token", "data"});

    // The broker may stay measured while the document names the rest.
    AgentCmdline pinned = cmdline("cvminit.initdata=fw_cfg cvminit.broker_key=" + std::string(KEY1));
    Deployment url_only = parse_ok("broker = \"http://kb:8080\"");
    auto half = merge_config(pinned, f, &url_only);
    REQUIRE(half.ok());
    CHECK(proto::ed25519_public_b64(half->broker_key) == KEY1);
    CHECK(half->broker_url == "http://kb:8080");
}

TEST_CASE("merge: a setting in both places is refused naming it; missing ones are named")
{
    AgentFileConfig f = file_with_command();
    std::string key1 = " cvminit.broker_key=" + std::string(KEY1);
    Deployment d = parse_ok(FULL);
    merge_refused(cmdline("cvminit.initdata=fw_cfg cvminit.broker=https://a" + key1), f, &d,
                  "broker: set both by cvminit.broker on the command line and by broker in init-data");
    merge_refused(cmdline("cvminit.initdata=fw_cfg" + key1), f, &d, "broker_key: set both");
    merge_refused(cmdline("cvminit.initdata=fw_cfg cvminit.transport=cvmkb"), f, &d, "transport: set both");
    merge_refused(cmdline("cvminit.initdata=fw_cfg cvminit.reattest=60"), f, &d, "reattest: set both");
    merge_refused(cmdline("cvminit.initdata=fw_cfg cvminit.resources=x"), f, &d, "resources: set both");
    AgentFileConfig with_resources = f;
    with_resources.resources = {"x"};
    merge_refused(cmdline("cvminit.initdata=fw_cfg"), with_resources, &d, "secrets.resources in /etc/cvminit.toml");
    AgentFileConfig with_env = f;
    with_env.env = {{"REGION", "us"}};
    merge_refused(cmdline("cvminit.initdata=fw_cfg"), with_env, &d, "workload.env.REGION: set both");

    Deployment empty;
    merge_refused(cmdline("cvminit.initdata=fw_cfg"), f, &empty, "broker: not set");
    Deployment no_key = parse_ok("broker = \"http://kb\"");
    merge_refused(cmdline("cvminit.initdata=fw_cfg"), f, &no_key, "broker_key: not set");
    Deployment ratls_http = parse_ok("broker = \"http://kb\"\nbroker_key = \"" + std::string(KEY1) + "\"");
    merge_refused(cmdline("cvminit.initdata=fw_cfg cvminit.transport=ratls"), f, &ratls_http,
                  "transport: ratls needs an https:// broker");
    // Without cvminit.initdata no document may be merged at all.
    merge_refused(cmdline("cvminit.broker=http://a" + key1), f, &empty, "no cvminit.initdata");
}

}  // namespace
}  // namespace cvm::cmdline

namespace cvm::cmdline {
namespace {

TEST_CASE("merge: broker_protocol kbs, and every resource's KBS path")
{
    AgentFileConfig f = file_with_command();
    f.kbs_paths = {{"db", "prod/db/password"}};
    auto kbs = merge_config(cmdline("cvminit.broker=https://kbs:8080 cvminit.broker_protocol=kbs "
                                    "cvminit.resources=db,tls cvminit.data=/dev/vdb"),
                            f);
    REQUIRE_MESSAGE(kbs.ok(), std::string(kbs.ok() ? "" : kbs.error().message()));
    CHECK(kbs->broker_protocol == BrokerProtocol::Kbs);
    CHECK(kbs->broker_key == proto::Ed25519PublicKey{});
    CHECK(kbs->kbs_paths ==
          KbsPaths{{"db", "prod/db/password"}, {"tls", "default/cvminit/tls"}, {"data", "default/cvminit/data"}});

    // The document may choose the protocol (once), but never the paths: which resource is the
    // volume's key is the image's to say.
    Deployment d = parse_ok("broker = \"https://kbs\"\nbroker_protocol = \"kbs\"\nresources = [\"db\"]");
    CHECK(d.broker_protocol == BrokerProtocol::Kbs);
    auto deployed = merge_config(cmdline("cvminit.initdata=fw_cfg"), f, &d);
    REQUIRE_MESSAGE(deployed.ok(), std::string(deployed.ok() ? "" : deployed.error().message()));
    CHECK(deployed->kbs_paths == KbsPaths{{"db", "prod/db/password"}});
    refused("kbs_paths = { data = \"prod/db/password\" }", "measured-only: set it with secrets.kbs_paths");
    merge_refused(cmdline("cvminit.initdata=fw_cfg cvminit.broker_protocol=kbs"), file_with_command(), &d,
                  "broker_protocol: set both");
    // What the document sets is judged as if it were measured.
    merge_refused(cmdline("cvminit.initdata=fw_cfg cvminit.data=/dev/vdb cvminit.data_key_mode=hybrid"),
                  file_with_command(), &d, "data_key_mode: not with broker_protocol kbs");
    Deployment keyed =
        parse_ok("broker = \"https://kbs\"\nbroker_protocol = \"kbs\"\nbroker_key = \"" + std::string(KEY1) + "\"");
    merge_refused(cmdline("cvminit.initdata=fw_cfg"), file_with_command(), &keyed, "broker_key: not with");
    Deployment reattest = parse_ok("broker = \"https://kbs\"\nbroker_protocol = \"kbs\"\nreattest = 60");
    merge_refused(cmdline("cvminit.initdata=fw_cfg"), file_with_command(), &reattest, "reattest: not with");
    Deployment plain = parse_ok("broker = \"http://kbs\"\nbroker_protocol = \"kbs\"");
    merge_refused(cmdline("cvminit.initdata=fw_cfg"), file_with_command(), &plain, "broker: not with");
    CHECK(merge_config(cmdline("cvminit.initdata=fw_cfg cvminit.simulate=1"), file_with_command(), &plain).ok());

    // A path for a resource nobody asks for is a slip; two resources on one path could make a
    // volume key a secret the workload reads; paths under cvmkb/1 mean nothing.
    AgentFileConfig stray = file_with_command();
    stray.kbs_paths = {{"other", "a/b/c"}};
    merge_refused(cmdline("cvminit.broker=https://kbs cvminit.broker_protocol=kbs cvminit.resources=db"), stray,
                  nullptr, "kbs_paths.other: not among the resources");
    AgentFileConfig shared = file_with_command();
    shared.kbs_paths = {{"db", "default/cvminit/data"}};
    merge_refused(cmdline("cvminit.broker=https://kbs cvminit.broker_protocol=kbs cvminit.resources=db "
                          "cvminit.data=/dev/vdb"),
                  shared, nullptr, "kbs_paths: db and data are both default/cvminit/data");
    merge_refused(
        cmdline("cvminit.broker=https://kbs cvminit.broker_key=" + std::string(KEY1) + " cvminit.resources=other"),
        stray, nullptr, "kbs_paths: 1 paths given, but the broker protocol is cvmkb");

    refused("broker_protocol = \"trustee\"", "broker_protocol");
}

}  // namespace
}  // namespace cvm::cmdline
