#include "kernel-cmdline/agent_config.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

namespace cvm::cmdline {
namespace {

constexpr std::string_view FULL = R"(
[workload]
command = ["/usr/bin/app", "--flag", "two words"]
root = "/srv/root"
env = { LANG = "C.UTF-8", _X1 = "" }
[secrets]
dir = "/run/cvm/secrets"
resources = ["db", "data"]
)";

AgentFileConfig parse_ok(std::string_view text)
{
    auto parsed = parse_agent_toml(text);
    REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? std::string() : std::string(parsed.error().message())));
    return parsed.value();
}

void refused(std::string_view text, std::string_view fragment)
{
    auto parsed = parse_agent_toml(text);
    INFO(text);
    REQUIRE(!parsed.ok());
    INFO(parsed.error().message());
    CHECK(parsed.error().code() == Errc::Config);
    CHECK(parsed.error().message().find(fragment) != std::string_view::npos);
}

AgentCmdline cmdline_with(const std::string& extra)
{
    auto c = parse_cmdline("cvminit.broker=http://a cvminit.broker_key=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo= " +
                           extra);
    REQUIRE(c.ok());
    return c.value();
}

TEST_CASE("cvminit.toml: every key")
{
    AgentFileConfig f = parse_ok(FULL);
    CHECK(f.command == std::vector<std::string>{"/usr/bin/app", "--flag", "two words"});
    CHECK(f.root == "/srv/root");
    CHECK(f.env == EnvList{{"LANG", "C.UTF-8"}, {"_X1", ""}});
    CHECK(f.secrets_dir == "/run/cvm/secrets");
    CHECK(f.resources == std::vector<std::string>{"db", "data"});
}

TEST_CASE("cvminit.toml: defaults, and env in either table form")
{
    AgentFileConfig empty = parse_ok("");
    CHECK(empty.command.empty());
    CHECK(empty.root == "/workload");
    CHECK(empty.env.empty());
    CHECK(empty.secrets_dir == "/run/secrets");
    CHECK(empty.resources.empty());
    CHECK(parse_ok("[workload.env]\nB = \"2\"\nA = \"1\"\n").env == EnvList{{"A", "1"}, {"B", "2"}});
    CHECK(parse_ok("[workload]\n[secrets]\n") == empty);
}

TEST_CASE("cvminit.toml: the workload's user, group and isolation, and the agent API")
{
    AgentFileConfig f = parse_ok("[workload]\nuser = 1000\ngroup = 100\nisolation = \"off\"\n"
                                 "[agent_api]\nenabled = false\ngroup = 100\n");
    CHECK(f.user == 1000);
    CHECK(f.group == 100);
    CHECK(f.isolation == Isolation::Off);
    CHECK_FALSE(f.api_enabled);
    CHECK(f.api_group == 100u);
    AgentFileConfig d = parse_ok("");
    CHECK(d.user == 0);
    CHECK(d.group == 0);
    CHECK(d.isolation == Isolation::Strict);
    CHECK(d.api_enabled);
    CHECK_FALSE(d.api_group);
    refused("[workload]\nuser = -1\n", "workload.user");
    refused("[workload]\nuser = 4294967295\n", "workload.user");
    refused("[workload]\nuser = \"app\"\n", "workload.user");
    refused("[workload]\ngroup = 1.5\n", "workload.group");
    refused("[workload]\nisolation = \"none\"\n", "\"strict\" or \"off\"");
    refused("[agent_api]\nenabled = 1\n", "agent_api.enabled");
    refused("[agent_api]\nsocket = \"/tmp/x\"\n", "agent_api.socket");

    auto merged = merge_config(cmdline_with("cvminit.workload=/app cvminit.reattest=60"), f);
    REQUIRE(merged.ok());
    CHECK(merged->workload_user == 1000);
    CHECK(merged->workload_group == 100);
    CHECK(merged->isolation == Isolation::Off);
    CHECK_FALSE(merged->api_enabled);
    CHECK(merged->api_group == 100u);
    CHECK(merged->reattest_seconds == 60);
    CHECK(merged->reattest_fail == ReattestFail::Log);
}

TEST_CASE("cvminit.toml: unknown keys are named")
{
    refused("[workload]\ncomand = [\"/a\"]\n", "cvminit.toml key 'workload.comand': unknown key");
    refused("[secret]\n", "key 'secret': unknown key");
    refused("[secrets]\ndirectory = \"/run/x\"\n", "key 'secrets.directory': unknown key");
    refused("broker = \"http://a\"\n", "key 'broker': unknown key");
    refused("\"\\u001b[2J\" = 1\n", "key '?[2J': unknown key");
    refused("workload = 1\n", "key 'workload': expected a table");
    refused("[workload\n", "TOML syntax error at line 1");
}

TEST_CASE("cvminit.toml: the workload command")
{
    refused("[workload]\ncommand = [\"usr/bin/app\"]\n", "'workload.command': expected an absolute path");
    refused("[workload]\ncommand = [\"./app\"]\n", "'workload.command'");
    refused("[workload]\ncommand = []\n", "'workload.command': expected a list of 1 to 256");
    refused("[workload]\ncommand = \"/bin/app\"\n", "'workload.command': expected a list");
    refused("[workload]\ncommand = [\"/bin/app\", 1]\n", "'workload.command': expected a string");
    refused("[workload]\ncommand = [\"/bin/app\", \"a\\u0000b\"]\n", "without NUL");
    refused("[workload]\ncommand = [\"/bin/app\", \"" + std::string(4097, 'x') + "\"]\n", "at most 4096 bytes");
    std::string many = "[workload]\ncommand = [\"/bin/app\"";
    for (int i = 0; i < 256; ++i)
        many += ", \"x\"";
    refused(many + "]\n", "1 to 256");
}

TEST_CASE("cvminit.toml: root and secrets.dir")
{
    refused("[workload]\nroot = \"workload\"\n", "'workload.root': expected an absolute path");
    refused("[workload]\nroot = \"/\"\n", "'workload.root'");
    refused("[workload]\nroot = \"/a/../b\"\n", "'workload.root'");
    refused("[workload]\nroot = 1\n", "'workload.root': expected a string");
    refused("[secrets]\ndir = \"/tmp/secrets\"\n", "'secrets.dir': expected an absolute path below /run");
    refused("[secrets]\ndir = \"/run\"\n", "'secrets.dir'");
    refused("[secrets]\ndir = \"/runx/s\"\n", "'secrets.dir'");
    refused("[secrets]\ndir = \"/run/../etc\"\n", "'secrets.dir'");
    CHECK(parse_ok("[secrets]\ndir = \"/run/s\"\n").secrets_dir == "/run/s");
}

TEST_CASE("cvminit.toml: env names and values")
{
    refused("[workload]\nenv = { lang = \"C\" }\n", "'workload.env.lang': expected a name of [A-Z_][A-Z0-9_]*");
    refused("[workload]\nenv = { 1A = \"C\" }\n", "'workload.env.1A'");
    refused("[workload]\nenv = { \"A-B\" = \"C\" }\n", "'workload.env.A-B'");
    refused("[workload]\nenv = { \"" + std::string(129, 'A') + "\" = \"C\" }\n", "expected a name");
    refused("[workload]\nenv = { A = 1 }\n", "'workload.env.A': expected a string");
    refused("[workload]\nenv = { A = \"x\\u0000y\" }\n", "'workload.env.A': expected at most 4096 bytes without NUL");
    refused("[workload]\nenv = [\"A=1\"]\n", "'workload.env': expected a table");
}

TEST_CASE("cvminit.toml: resources")
{
    refused("[secrets]\nresources = []\n", "'secrets.resources': expected a list of 1 to 64");
    refused("[secrets]\nresources = [\"a\", \"a\"]\n", "listed twice");
    refused("[secrets]\nresources = [\".a\"]\n", "expected names");
    refused("[secrets]\nresources = [\"a/b\"]\n", "expected names");
    refused("[secrets]\nresources = [1]\n", "expected a string");
}

TEST_CASE("cvminit.toml: secrets.kbs_paths")
{
    AgentFileConfig f = parse_ok("[secrets]\nkbs_paths = { tls = \"a/b/c\", db = \"prod/db/password\" }");
    CHECK(f.kbs_paths == KbsPaths{{"db", "prod/db/password"}, {"tls", "a/b/c"}});  // sorted by name
    refused("[secrets]\nkbs_paths = { db = \"prod/db\" }", "secrets.kbs_paths.db");
    refused("[secrets]\nkbs_paths = { db = \"prod/db/pass word\" }", "repository/type/tag");
    refused("[secrets]\nkbs_paths = { db = 1 }", "secrets.kbs_paths.db");
    refused("[secrets]\nkbs_paths = \"a/b/c\"", "secrets.kbs_paths");
    refused("[secrets]\nkbs_paths = {}", "secrets.kbs_paths");
    refused("[secrets]\nkbs_paths = { \".x\" = \"a/b/c\" }", "secrets.kbs_paths..x");
}

TEST_CASE("cvminit.toml: size bound")
{
    std::string big = "# " + std::string(MAX_AGENT_TOML_SIZE, 'x');
    refused(big, "more than the 65536 allowed");
}

TEST_CASE("merge: the workload comes from exactly one place")
{
    AgentFileConfig file = parse_ok(FULL);
    auto both = merge_config(cmdline_with("cvminit.workload=/bin/app"), file);
    REQUIRE(!both.ok());
    CHECK(both.error().message().find("both by cvminit.workload") != std::string_view::npos);
    CHECK(both.error().message().find("workload.command") != std::string_view::npos);
    auto neither = merge_config(cmdline_with(""), AgentFileConfig{});
    REQUIRE(!neither.ok());
    CHECK(neither.error().message().find("workload: not set") != std::string_view::npos);

    auto from_cmdline = merge_config(cmdline_with("cvminit.workload=/bin/app cvminit.resources=x"), AgentFileConfig{});
    REQUIRE(from_cmdline.ok());
    CHECK(from_cmdline->workload_argv == std::vector<std::string>{"/bin/app"});
    CHECK(from_cmdline->workload_root == "/workload");
    CHECK(from_cmdline->resources == std::vector<std::string>{"x"});
    CHECK(from_cmdline->secrets_dir == "/run/secrets");
}

TEST_CASE("merge: resources from exactly one place, and everything carried over")
{
    AgentFileConfig file = parse_ok(FULL);
    auto both = merge_config(cmdline_with("cvminit.resources=db"), file);
    REQUIRE(!both.ok());
    CHECK(both.error().message().find("resources: set both by cvminit.resources") != std::string_view::npos);

    AgentCmdline c = cmdline_with("cvminit.simulate=1 cvminit.net=none cvminit.deadline=30");
    auto merged = merge_config(c, file);
    REQUIRE(merged.ok());
    const AgentConfig& m = merged.value();
    CHECK(m.broker_url == "http://a");
    CHECK(m.broker_key == *c.broker_key);
    CHECK(m.simulate);
    CHECK(m.net.mode == NetMode::None);
    CHECK(m.deadline_seconds == 30);
    CHECK(m.resources == file.resources);
    CHECK(m.workload_argv == file.command);
    CHECK(m.workload_root == "/srv/root");
    CHECK(m.workload_env == file.env);
    CHECK(m.secrets_dir == "/run/cvm/secrets");
    CHECK(merge_config(cmdline_with("cvminit.workload=/bin/a"), AgentFileConfig{})->resources.empty());
}

TEST_CASE("load_agent_toml: a missing file is the empty configuration, a bad one is named")
{
    char dir[] = "/tmp/cvm-cmdline-XXXXXX";
    REQUIRE(mkdtemp(dir));
    std::string path = std::string(dir) + "/cvminit.toml";
    auto missing = load_agent_toml(path);
    REQUIRE(missing.ok());
    CHECK(missing.value() == AgentFileConfig{});
    std::ofstream(path) << "[workload]\nroot = \"x\"\n";
    auto bad = load_agent_toml(path);
    REQUIRE(!bad.ok());
    CHECK(bad.error().message().find(path + ": cvminit.toml key 'workload.root'") != std::string_view::npos);
    std::ofstream(path) << FULL;
    auto good = load_agent_toml(path);
    REQUIRE(good.ok());
    CHECK(good->command.size() == 3);
    CHECK(!load_agent_toml(dir).ok());  // a directory is not a missing file
    unlink(path.c_str());
    rmdir(dir);
}

}  // namespace
TEST_CASE("merge: the data volume's key is asked for with the resources")
{
    auto listed = merge_config(cmdline_with("cvminit.workload=/bin/a cvminit.resources=db,data cvminit.data=/dev/vdd"),
                               AgentFileConfig{});
    REQUIRE(listed.ok());
    CHECK(listed->resources == std::vector<std::string>{"db", "data"});
    REQUIRE(listed->data);
    CHECK(listed->data->device == "/dev/vdd");
    auto added = merge_config(cmdline_with("cvminit.data=/dev/vdd cvminit.data_key=vol"), parse_ok(FULL));
    REQUIRE(added.ok());
    CHECK(added->resources.back() == "vol");
    std::string many = "cvminit.workload=/bin/a cvminit.data=/dev/vdd cvminit.resources=r0";
    for (int i = 1; i < 64; ++i)
        many += ",r" + std::to_string(i);
    auto full = merge_config(cmdline_with(many), AgentFileConfig{});
    REQUIRE(!full.ok());
    CHECK(full.error().message().find("'data' are more than 64") != std::string_view::npos);
}

}  // namespace cvm::cmdline
