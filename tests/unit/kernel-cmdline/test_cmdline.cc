#include "kernel-cmdline/cmdline.h"

#include <doctest/doctest.h>

#include <string>

namespace cvm::cmdline {
namespace {

// RFC 8032 §7.1 TEST 1's public key, base64.
constexpr std::string_view KEY = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
const std::string BASE = "cvminit.broker=http://10.0.2.2:8080 cvminit.broker_key=" + std::string(KEY);

AgentCmdline parse_ok(const std::string& text)
{
    auto parsed = parse_cmdline(text);
    INFO(text);
    REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? std::string() : std::string(parsed.error().message())));
    return parsed.value();
}

// Fails and names `key` in the message, with `fragment` in it as well.
void refused(const std::string& text, std::string_view key, std::string_view fragment = "")
{
    auto parsed = parse_cmdline(text);
    INFO(text);
    REQUIRE(!parsed.ok());
    std::string message(parsed.error().message());
    INFO(message);
    CHECK(parsed.error().code() == Errc::Config);
    CHECK(message.find("'" + std::string(key) + "'") != std::string::npos);
    CHECK(message.find(fragment) != std::string::npos);
}

TEST_CASE("cmdline: the minimal line and its defaults")
{
    AgentCmdline c = parse_ok("BOOT_IMAGE=/vmlinuz console=ttyS0 quiet " + BASE + "\n");
    CHECK(c.broker_url == "http://10.0.2.2:8080");
    REQUIRE(c.broker_key);
    CHECK(proto::ed25519_public_b64(*c.broker_key) == KEY);
    CHECK(c.initdata == InitdataSource::None);
    CHECK(!c.simulate);
    CHECK(c.net.mode == NetMode::Dhcp);
    CHECK(!c.net.static_ipv4);
    CHECK(c.net.dns.empty());
    CHECK(c.deadline_seconds == 120);
    CHECK(c.resources.empty());
    CHECK(!c.workload);
}

TEST_CASE("cmdline: every key, and compose -> parse round trips")
{
    AgentCmdline c =
        parse_ok(BASE + " cvminit.simulate=1 cvminit.net=static cvminit.ip=192.168.1.10/24"
                        " cvminit.gateway=192.168.1.1 cvminit.dns=1.1.1.1,9.9.9.9,8.8.8.8 cvminit.deadline=3600"
                        " cvminit.resources=db,data.key,a-b_c cvminit.workload=/usr/bin/app");
    CHECK(c.simulate);
    REQUIRE(c.net.static_ipv4);
    CHECK(c.net.static_ipv4->address == Ipv4Address{192, 168, 1, 10});
    CHECK(c.net.static_ipv4->prefix == 24);
    CHECK(c.net.static_ipv4->gateway == Ipv4Address{192, 168, 1, 1});
    CHECK(c.net.dns.size() == 3);
    CHECK(c.deadline_seconds == 3600);
    CHECK(c.resources == std::vector<std::string>{"db", "data.key", "a-b_c"});
    CHECK(c.workload == "/usr/bin/app");

    std::string composed = compose_cmdline(c);
    CHECK(composed ==
          "cvminit.broker=http://10.0.2.2:8080 cvminit.broker_key=" + std::string(KEY) +
              " cvminit.simulate=1 cvminit.net=static cvminit.ip=192.168.1.10/24 cvminit.gateway=192.168.1.1"
              " cvminit.dns=1.1.1.1,9.9.9.9,8.8.8.8 cvminit.deadline=3600 cvminit.resources=db,data.key,a-b_c"
              " cvminit.workload=/usr/bin/app");
    CHECK(parse_ok(composed) == c);
    CHECK(compose_cmdline(parse_ok(composed)) == composed);

    AgentCmdline minimal = parse_ok(BASE + " cvminit.net=none");
    CHECK(parse_ok(compose_cmdline(minimal)) == minimal);
    CHECK(compose_cmdline(minimal).find("cvminit.net=none cvminit.deadline=120") != std::string::npos);
}

const std::string ROOT_HASH = "4a5f9f7a4d0f4f2e8e9b4ab0c1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4";
const std::string VERITY = " cvminit.verity.data=/dev/vdb cvminit.verity.hash=/dev/vdc cvminit.verity.blocks=1024"
                           " cvminit.verity.root=" +
                           ROOT_HASH + " cvminit.verity.salt=00ff";

TEST_CASE("cmdline: the verity root and the data volume")
{
    AgentCmdline c = parse_ok(BASE + VERITY + " cvminit.data=/dev/vdd");
    REQUIRE(c.verity);
    CHECK(c.verity->data_device == "/dev/vdb");
    CHECK(c.verity->hash_device == "/dev/vdc");
    CHECK(c.verity->data_blocks == 1024);
    CHECK(to_hex(c.verity->root_hash) == ROOT_HASH);
    CHECK(c.verity->salt == std::vector<uint8_t>{0x00, 0xff});
    REQUIRE(c.data);
    CHECK(c.data->device == "/dev/vdd");
    CHECK(c.data->key_name == "data");
    CHECK(c.data->mount == "/data");
    std::string composed = compose_cmdline(c);
    CHECK(composed.find("cvminit.data_key=data cvminit.data_mount=/data") != std::string::npos);
    CHECK(parse_ok(composed) == c);

    AgentCmdline none = parse_ok(BASE +
                                 " cvminit.verity.data=/dev/vdb cvminit.verity.hash=/dev/vdc "
                                 "cvminit.verity.blocks=1 cvminit.verity.root=" +
                                 ROOT_HASH +
                                 " cvminit.verity.salt=- cvminit.data=/dev/vdd cvminit.data_key=vol.1 "
                                 "cvminit.data_mount=/var/lib/app");
    CHECK(none.verity->salt.empty());
    CHECK(none.data->key_name == "vol.1");
    CHECK(none.data->mount == "/var/lib/app");
    CHECK(parse_ok(compose_cmdline(none)) == none);
    CHECK(none.data->key_mode == DataKeyMode::Broker);
    CHECK(compose_cmdline(none).find("data_key_mode") == std::string::npos);  // the default composed away
}

TEST_CASE("cmdline: a hybrid data volume key, and the derived key's policy")
{
    std::string data = BASE + " cvminit.data=/dev/vdd";
    AgentCmdline hybrid = parse_ok(data + " cvminit.data_key_mode=hybrid");
    CHECK(hybrid.data->key_mode == DataKeyMode::Hybrid);
    CHECK(hybrid.data->key_policy == DataKeyPolicy::ChipOnly);
    std::string composed = compose_cmdline(hybrid);
    CHECK(composed.find("cvminit.data_key_mode=hybrid cvminit.data_key_policy=chip-only") != std::string::npos);
    CHECK(parse_ok(composed) == hybrid);
    for (auto [name, policy] : {std::pair{"measurement-and-chip", DataKeyPolicy::MeasurementAndChip},
                                {"measurement-only", DataKeyPolicy::MeasurementOnly},
                                {"chip-only", DataKeyPolicy::ChipOnly}}) {
        AgentCmdline c = parse_ok(data + " cvminit.data_key_mode=hybrid cvminit.data_key_policy=" + name);
        CHECK(c.data->key_policy == policy);
        CHECK(parse_ok(compose_cmdline(c)) == c);
    }
    CHECK(parse_ok(data + " cvminit.data_key_mode=broker") == parse_ok(data));
    refused(data + " cvminit.data_key_mode=chip", "cvminit.data_key_mode", "broker or hybrid");
    refused(BASE + " cvminit.data_key_mode=hybrid", "cvminit.data_key_mode", "only allowed with cvminit.data");
    refused(data + " cvminit.data_key_policy=chip-only", "cvminit.data_key_policy",
            "only allowed with cvminit.data_key_mode=hybrid");
    refused(data + " cvminit.data_key_mode=broker cvminit.data_key_policy=chip-only", "cvminit.data_key_policy");
    refused(data + " cvminit.data_key_mode=hybrid cvminit.data_key_policy=measurement", "cvminit.data_key_policy",
            "measurement-only");
}

TEST_CASE("cmdline: verity and data volume keys refused")
{
    std::string base = BASE + VERITY;
    refused(BASE + " cvminit.verity.data=/dev/vdb", "cvminit.verity.hash", "all five");
    refused(base + " cvminit.verity.data=/dev/vde", "cvminit.verity.data", "given twice");
    auto with = [&](const std::string& key, const std::string& value) {
        std::string line = base;
        size_t at = line.find(key + "=");
        size_t end = line.find(' ', at);
        return line.replace(at, end == std::string::npos ? std::string::npos : end - at, key + "=" + value);
    };
    refused(with("cvminit.verity.data", "/tmp/x"), "cvminit.verity.data", "not below /dev");
    refused(with("cvminit.verity.data", "/dev"), "cvminit.verity.data", "not below /dev");
    refused(with("cvminit.verity.hash", "/dev/vdb"), "cvminit.verity.hash", "is the data device too");
    refused(with("cvminit.verity.blocks", "0"), "cvminit.verity.blocks", "got \"0\"");
    refused(with("cvminit.verity.blocks", "4294967296"), "cvminit.verity.blocks");
    refused(with("cvminit.verity.root", ROOT_HASH.substr(2)), "cvminit.verity.root", "64 lower-case hex");
    std::string upper = ROOT_HASH;
    upper[0] = 'A';
    refused(with("cvminit.verity.root", upper), "cvminit.verity.root");
    refused(with("cvminit.verity.salt", ""), "cvminit.verity.salt", "- for none");
    refused(with("cvminit.verity.salt", "0"), "cvminit.verity.salt");
    refused(with("cvminit.verity.salt", std::string(514, 'a')), "cvminit.verity.salt");
    refused(BASE + " cvminit.data_key=data", "cvminit.data_key", "only allowed with cvminit.data");
    refused(BASE + " cvminit.data_mount=/data", "cvminit.data_mount", "only allowed with cvminit.data");
    refused(base + " cvminit.data=/dev/vdc", "cvminit.data", "also a device of the verity root");
    refused(BASE + " cvminit.data=/dev/vdd cvminit.data_key=a/b", "cvminit.data_key");
    refused(BASE + " cvminit.data=/dev/vdd cvminit.data_mount=data", "cvminit.data_mount");
}

TEST_CASE("cmdline: transport and re-attestation, written only when not at their defaults")
{
    const std::string HTTPS = "cvminit.broker=https://b.example cvminit.broker_key=" + std::string(KEY);
    AgentCmdline off = parse_ok(BASE);
    CHECK(!off.transport);  // cvmkb
    CHECK(off.reattest_seconds == 0);
    CHECK(compose_cmdline(off).find("transport") == std::string::npos);
    CHECK(compose_cmdline(off).find("reattest") == std::string::npos);
    CHECK(parse_ok(BASE + " cvminit.transport=cvmkb") == off);

    AgentCmdline on = parse_ok(HTTPS + " cvminit.transport=ratls cvminit.reattest=300 cvminit.reattest_fail=poweroff");
    CHECK(on.transport == Transport::Ratls);
    CHECK(on.reattest_seconds == 300);
    CHECK(on.reattest_fail == ReattestFail::PowerOff);
    std::string line = compose_cmdline(on);
    CHECK(line.find(" cvminit.transport=ratls cvminit.reattest=300 cvminit.reattest_fail=poweroff") !=
          std::string::npos);
    CHECK(parse_ok(line) == on);
    // The default reaction is written out once re-attestation is on.
    CHECK(compose_cmdline(parse_ok(BASE + " cvminit.reattest=30")).find("cvminit.reattest_fail=log") !=
          std::string::npos);

    refused(BASE + " cvminit.transport=ratls", "cvminit.transport", "https://");
    refused(BASE + " cvminit.transport=tls", "cvminit.transport", "cvmkb or ratls");
    refused(BASE + " cvminit.reattest=29", "cvminit.reattest", "30 to 86400");
    refused(BASE + " cvminit.reattest=86401", "cvminit.reattest", "30 to 86400");
    refused(BASE + " cvminit.reattest=0", "cvminit.reattest");
    refused(BASE + " cvminit.reattest_fail=log", "cvminit.reattest_fail", "only allowed with cvminit.reattest");
    refused(BASE + " cvminit.reattest=60 cvminit.reattest_fail=halt", "cvminit.reattest_fail", "poweroff or log");
}

TEST_CASE("cmdline: cvminit.initdata lets the document name the broker; absent, nothing changes")
{
    // Without the key every line composes as before: no new word, so no new MEASUREMENT.
    AgentCmdline plain = parse_ok(BASE + " cvminit.initdata=none");
    CHECK(plain.initdata == InitdataSource::None);
    CHECK(plain == parse_ok(BASE));
    CHECK(compose_cmdline(plain).find("initdata") == std::string::npos);

    AgentCmdline bare = parse_ok("console=ttyS0 cvminit.initdata=fw_cfg cvminit.simulate=1");
    CHECK(bare.initdata == InitdataSource::FwCfg);
    CHECK(bare.broker_url.empty());
    CHECK(!bare.broker_key);
    CHECK(compose_cmdline(bare) == "cvminit.simulate=1 cvminit.net=dhcp cvminit.deadline=120 cvminit.initdata=fw_cfg");
    CHECK(parse_ok(compose_cmdline(bare)) == bare);

    // With init-data an explicit cvmkb pins the transport, and reattest_fail may wait for the
    // document's interval; both compose and parse back.
    AgentCmdline pinned =
        parse_ok(BASE + " cvminit.transport=cvmkb cvminit.reattest_fail=poweroff cvminit.initdata=fw_cfg");
    CHECK(pinned.transport == Transport::Cvmkb);
    CHECK(pinned.reattest_fail == ReattestFail::PowerOff);
    std::string line = compose_cmdline(pinned);
    CHECK(line.find(" cvminit.transport=cvmkb cvminit.reattest_fail=poweroff cvminit.initdata=fw_cfg") !=
          std::string::npos);
    CHECK(parse_ok(line) == pinned);
    AgentCmdline log = parse_ok("cvminit.initdata=fw_cfg cvminit.reattest_fail=log");
    CHECK(parse_ok(compose_cmdline(log)) == log);

    refused("cvminit.simulate=1", "cvminit.broker", "cvminit.initdata=fw_cfg");
    refused("cvminit.broker=http://a", "cvminit.broker_key", "missing");
    refused(BASE + " cvminit.initdata=disk", "cvminit.initdata", "fw_cfg or none");
    refused(BASE + " cvminit.initdata", "cvminit.initdata", "no value");
    refused(BASE + " cvminit.initdata=fw_cfg cvminit.initdata=fw_cfg", "cvminit.initdata", "given twice");
    refused("cvminit.initdata=fw_cfg cvminit.broker=http://a cvminit.transport=ratls", "cvminit.transport", "https://");
}

TEST_CASE("cmdline: cvminit.broker_protocol=kbs needs no broker key and refuses cvmkb/1's keys")
{
    const std::string KBS = "cvminit.broker=https://kbs.example:8080 cvminit.broker_protocol=kbs";
    AgentCmdline kbs = parse_ok(KBS + " cvminit.data=/dev/vdb");
    CHECK(kbs.broker_protocol == BrokerProtocol::Kbs);
    CHECK(!kbs.broker_key);
    std::string line = compose_cmdline(kbs);
    CHECK(line.rfind("cvminit.broker=https://kbs.example:8080 cvminit.broker_protocol=kbs cvminit.simulate=0", 0) == 0);
    CHECK(parse_ok(line) == kbs);

    // The default composes away, so no existing MEASUREMENT changes; with init-data it is pinned.
    CHECK(parse_ok(BASE + " cvminit.broker_protocol=cvmkb") == parse_ok(BASE));
    CHECK(compose_cmdline(parse_ok(BASE + " cvminit.broker_protocol=cvmkb")).find("protocol") == std::string::npos);
    AgentCmdline pinned = parse_ok(BASE + " cvminit.broker_protocol=cvmkb cvminit.initdata=fw_cfg");
    CHECK(pinned.broker_protocol == BrokerProtocol::Cvmkb);
    CHECK(compose_cmdline(pinned).find(" cvminit.broker_protocol=cvmkb ") != std::string::npos);
    CHECK(parse_ok(compose_cmdline(pinned)) == pinned);

    refused(KBS + " cvminit.broker_key=" + std::string(KEY), "cvminit.broker_key", "broker_protocol=kbs");
    // Nothing signs a KBS's answers: http:// only where nothing is confidential anyway.
    refused("cvminit.broker=http://kbs:8080 cvminit.broker_protocol=kbs", "cvminit.broker", "https://");
    CHECK(parse_ok("cvminit.broker=http://kbs:8080 cvminit.broker_protocol=kbs cvminit.simulate=1").broker_protocol ==
          BrokerProtocol::Kbs);
    refused(KBS + " cvminit.transport=ratls", "cvminit.transport", "cvmkb/1's");
    refused(KBS + " cvminit.reattest=60", "cvminit.reattest", "cvmkb/1's");
    refused(KBS + " cvminit.data=/dev/vdb cvminit.data_key_mode=hybrid", "cvminit.data_key_mode", "recovery key");
    refused(BASE + " cvminit.broker_protocol=trustee", "cvminit.broker_protocol", "cvmkb or kbs");
    refused("cvminit.broker=http://a cvminit.broker_protocol=cvmkb", "cvminit.broker_key", "missing");
}

TEST_CASE("cmdline: the broker URL is kept as its origin")
{
    CHECK(parse_ok("cvminit.broker_key=" + std::string(KEY) + " cvminit.broker=HTTPS://kb.example:443/").broker_url ==
          "https://kb.example");
    CHECK(parse_ok("cvminit.broker_key=" + std::string(KEY) + " cvminit.broker=\"http://a:1\"").broker_url ==
          "http://a:1");
    CHECK(parse_ok("cvminit.broker_key=" + std::string(KEY) + " cvminit.broker=http://[::1]:99").broker_url ==
          "http://[::1]:99");
    std::string key = " cvminit.broker_key=" + std::string(KEY);
    for (const char* bad : {"http://a/x", "http://a/?q", "http://a?q", "http://a#f", "ftp://a", "http://", "a:80",
                            "http://u@a", "http://a:0", "http://a:65536", ""})
        refused("cvminit.broker=" + std::string(bad) + key, "cvminit.broker", "expected an http:// or https:// URL");
    refused("cvminit.broker=ftp://a" + key, "cvminit.broker", "only http and https");
}

TEST_CASE("cmdline: required keys")
{
    refused("cvminit.broker_key=" + std::string(KEY), "cvminit.broker", "missing");
    refused("cvminit.broker=http://a", "cvminit.broker_key", "missing");
    refused("console=ttyS0\n", "cvminit.broker", "missing");
}

TEST_CASE("cmdline: bad values of every key")
{
    const std::pair<const char*, const char*> BAD[] = {
        {"cvminit.broker_key", "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHUR=="},  // not canonical base64 of 32
        {"cvminit.broker_key", "AAAA"},
        {"cvminit.broker_key", ""},
        {"cvminit.simulate", "yes"},
        {"cvminit.simulate", "2"},
        {"cvminit.simulate", ""},
        {"cvminit.simulate", "01"},
        {"cvminit.net", "DHCP"},
        {"cvminit.net", "dhcp6"},
        {"cvminit.deadline", "9"},
        {"cvminit.deadline", "3601"},
        {"cvminit.deadline", "0120"},
        {"cvminit.deadline", "+60"},
        {"cvminit.deadline", "60s"},
        {"cvminit.deadline", "99999999999999999999"},
        {"cvminit.dns", "1.1.1.1,"},
        {"cvminit.dns", "1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4"},
        {"cvminit.dns", "1.1.1.1,1.1.1.1"},
        {"cvminit.dns", "127.0.0.1"},
        {"cvminit.dns", "1.1.1"},
        {"cvminit.dns", "1.1.1.01"},
        {"cvminit.dns", "1.1.1.256"},
        {"cvminit.resources", ""},
        {"cvminit.resources", "a,,b"},
        {"cvminit.resources", "a,a"},
        {"cvminit.resources", ".hidden"},
        {"cvminit.resources", "a/b"},
        {"cvminit.workload", "app"},
        {"cvminit.workload", "/"},
        {"cvminit.workload", "/usr/../bin/sh"},
        {"cvminit.workload", "/usr//bin"},
        {"cvminit.workload", "/usr/bin/"},
        {"cvminit.workload", "/usr/./bin"},
    };
    for (const auto& [key, value] : BAD) {
        std::string base = key == std::string_view("cvminit.broker_key") ? "cvminit.broker=http://a" : BASE;
        refused(base + " " + key + "=" + value, key, "expected ");
    }
    std::string many;
    for (int i = 0; i < 65; ++i)
        many += (i ? "," : "") + std::to_string(i);
    refused(BASE + " cvminit.resources=" + many, "cvminit.resources", "more than 64");
    refused(BASE + " cvminit.resources=db,db", "cvminit.resources", "'db' is listed twice");
}

TEST_CASE("cmdline: static network needs ip and gateway, and only static takes them")
{
    std::string net = BASE + " cvminit.net=static";
    refused(net, "cvminit.ip", "missing");
    refused(net + " cvminit.ip=10.0.0.2/24", "cvminit.gateway", "missing");
    refused(net + " cvminit.gateway=10.0.0.1", "cvminit.ip", "missing");
    refused(BASE + " cvminit.ip=10.0.0.2/24", "cvminit.ip", "only allowed with cvminit.net=static");
    refused(BASE + " cvminit.net=none cvminit.gateway=10.0.0.1", "cvminit.gateway", "only allowed");
    refused(BASE + " cvminit.net=none cvminit.dns=1.1.1.1", "cvminit.dns", "not allowed with cvminit.net=none");
    refused(net + " cvminit.ip=10.0.0.2/24 cvminit.gateway=10.0.0.2", "cvminit.gateway", "own address");
    for (const char* bad : {"10.0.0.2", "10.0.0.2/0", "10.0.0.2/33", "10.0.0.2/024", "10.0.0.0/24", "10.0.0.255/24",
                            "127.0.0.2/8", "224.0.0.1/4", "0.1.2.3/8", "10.0.0.2/", "/24"})
        refused(net + " cvminit.gateway=10.0.0.1 cvminit.ip=" + bad, "cvminit.ip", "expected ");
    refused(net + " cvminit.ip=10.0.0.2/24 cvminit.gateway=255.255.255.255", "cvminit.gateway", "unicast");
    // A /31 (RFC 3021) and a /32 with an off-subnet gateway, as clouds hand out, are fine.
    CHECK(parse_ok(net + " cvminit.ip=10.0.0.0/31 cvminit.gateway=10.0.0.1").net.static_ipv4->prefix == 31);
    CHECK(parse_ok(net + " cvminit.ip=10.1.2.3/32 cvminit.gateway=10.1.0.1").net.static_ipv4->prefix == 32);
    CHECK(parse_ok(BASE + " cvminit.dns=10.0.0.53").net.dns.size() == 1);
}

TEST_CASE("cmdline: unknown keys, repeats and words without a value")
{
    refused(BASE + " cvminit.brokr=x", "cvminit.brokr", "unknown key");
    refused(BASE + " cvminit.=x", "cvminit.", "unknown key");
    refused(BASE + " cvminit.broker-key=x", "cvminit.broker-key", "spelled cvminit.broker_key");
    refused(BASE + " cvminit.simulate", "cvminit.simulate", "no value");
    refused(BASE + " cvminit.deadline=60 cvminit.deadline=60", "cvminit.deadline", "given twice");
    refused(BASE + " cvminit.broker=http://a", "cvminit.broker", "given twice");
    // Not ours: other prefixes, other case, and a name that only contains ours.
    parse_ok(BASE + " CVMINIT.x=1 cvminit=1 xcvminit.y=2 module.cvminit.z=3");
}

TEST_CASE("cmdline: quoting as the kernel's parse_args() allows")
{
    CHECK(parse_ok(BASE + " cvminit.deadline=\"60\"").deadline_seconds == 60);
    CHECK(parse_ok(BASE + " \"cvminit.deadline=60\"").deadline_seconds == 60);
    CHECK(parse_ok(BASE + " x=\"cvminit.deadline=5 y\"").deadline_seconds == 120);
    refused(BASE + " cvminit.deadline=6\"0\"", "cvminit.deadline", "'\"' inside the value");
    refused(BASE + " cvminit.workload=\"/a b\"", "cvminit.workload", "expected an absolute path");
    auto open = parse_cmdline(BASE + " cvminit.deadline=\"60");
    REQUIRE(!open.ok());
    CHECK(open.error().message().find("never closed") != std::string_view::npos);
}

TEST_CASE("cmdline: words after -- are init's arguments")
{
    refused(BASE + " -- cvminit.simulate=1", "cvminit.simulate", "after \"--\"");
    CHECK(!parse_ok(BASE + " -- single").simulate);
}

TEST_CASE("cmdline: input bounds and bytes")
{
    std::string padded = BASE + " " + std::string(MAX_PROC_CMDLINE_SIZE - BASE.size() - 2, 'x') + "\n";
    CHECK(padded.size() == MAX_PROC_CMDLINE_SIZE);
    parse_ok(padded);
    auto big = parse_cmdline(padded + " ");
    REQUIRE(!big.ok());
    CHECK(big.error().message().find("more than the 4096 allowed") != std::string_view::npos);
    auto nul = parse_cmdline(BASE + std::string(" \0x", 3));
    REQUIRE(!nul.ok());
    CHECK(nul.error().message().find("NUL") != std::string_view::npos);
}

TEST_CASE("cmdline: errors show at most 64 bytes of a value, sanitized")
{
    std::string value = "/" + std::string(200, 'a') + "\x1b[2J";
    auto parsed = parse_cmdline(BASE + " cvminit.workload=" + value + "/..");
    REQUIRE(!parsed.ok());
    std::string message(parsed.error().message());
    CHECK(message.find(std::string(60, 'a') + "...\"") != std::string::npos);
    CHECK(message.find(std::string(61, 'a')) == std::string::npos);
    auto control = parse_cmdline(BASE + " cvminit.net=\x1b[31m");
    REQUIRE(!control.ok());
    CHECK(control.error().message().find("got \"?[31m\"") != std::string_view::npos);
}

TEST_CASE("cmdline: parse_parameters takes words split elsewhere")
{
    std::string key(KEY);
    std::vector<Parameter> params = {
        {"cvminit.broker", "http://a"}, {"cvminit.broker_key", key}, {"cvminit.workload", "/bin/app"}};
    auto c = parse_parameters(params);
    REQUIRE(c.ok());
    CHECK(c->workload == "/bin/app");
    params.push_back({"console", "ttyS0"});
    CHECK(!parse_parameters(params).ok());  // the caller passes only cvminit.* words
}

}  // namespace
}  // namespace cvm::cmdline
