#include "kernel-cmdline/cmdline.h"

#include <algorithm>
#include <array>

#include "base/bytes.h"
#include "kernel-cmdline/kernel_words.h"
#include "net/url.h"
#include "proto/messages.h"

namespace cvm::cmdline {

namespace {

constexpr std::string_view PREFIX = "cvminit.";

// The parameters as given, before the rules that tie keys together.
struct Draft {
    std::optional<std::string> broker_url;
    std::optional<proto::Ed25519PublicKey> broker_key;
    bool simulate{false};
    NetMode net{NetMode::Dhcp};
    std::optional<std::pair<Ipv4Address, uint8_t>> ip;
    std::optional<Ipv4Address> gateway;
    std::vector<Ipv4Address> dns;
    uint32_t deadline{DEFAULT_DEADLINE_SECONDS};
    std::vector<std::string> resources;
    std::optional<std::string> workload;
    std::optional<std::string> verity_data, verity_hash;
    std::optional<uint32_t> verity_blocks;
    std::optional<std::array<uint8_t, 32>> verity_root;
    std::optional<std::vector<uint8_t>> verity_salt;
    std::optional<std::string> data, data_key, data_mount;
    std::optional<DataKeyMode> data_key_mode;
    std::optional<DataKeyPolicy> data_key_policy;
    std::optional<BrokerProtocol> broker_protocol;
    std::optional<Transport> transport;
    std::optional<uint32_t> reattest;
    std::optional<ReattestFail> reattest_fail;
    InitdataSource initdata{InitdataSource::None};
};

// Stores `value` in `draft`; false when the value does not fit the key. `detail` may say why
// beyond the key's `expected` text.
using Apply = bool (*)(Draft& draft, std::string_view value, std::string& detail);

struct Key {
    std::string_view name;
    const char* expected;
    Apply apply;
};

// parse_url() says why a URL is refused after the URL it quotes: `invalid URL "<url>": <why>`.
// Only the reason is kept, so that a long value is shown once and shortened.
std::string url_reason(const Error& e)
{
    std::string_view m = e.message();
    size_t at = m.rfind("\": ");
    return at == std::string_view::npos ? std::string() : std::string(m.substr(at + 3));
}

bool apply_broker(Draft& d, std::string_view value, std::string& detail)
{
    d.broker_url = canonical_broker_url(value, detail);
    return d.broker_url.has_value();
}

bool apply_broker_key(Draft& d, std::string_view value, std::string&)
{
    auto key = proto::parse_ed25519_public_b64(value);
    if (key.ok())
        d.broker_key = key.value();
    return key.ok();
}

bool apply_simulate(Draft& d, std::string_view value, std::string&)
{
    d.simulate = value == "1";
    return value == "0" || value == "1";
}

bool apply_net(Draft& d, std::string_view value, std::string&)
{
    if (value == "dhcp")
        d.net = NetMode::Dhcp;
    else if (value == "static")
        d.net = NetMode::Static;
    else if (value == "none")
        d.net = NetMode::None;
    else
        return false;
    return true;
}

bool apply_ip(Draft& d, std::string_view value, std::string& detail)
{
    size_t slash = value.find('/');
    auto address = slash == std::string_view::npos ? std::nullopt : parse_ipv4(value.substr(0, slash));
    auto prefix = slash == std::string_view::npos ? std::nullopt : parse_decimal(value.substr(slash + 1), 32);
    if (!address || !prefix || *prefix == 0)
        return false;
    if (!is_unicast(*address)) {
        detail = "not a unicast address";
        return false;
    }
    // Below /31 (RFC 3021) the all-zeros and all-ones host parts name the subnet and its broadcast.
    uint32_t a =
        uint32_t{(*address)[0]} << 24 | uint32_t{(*address)[1]} << 16 | uint32_t{(*address)[2]} << 8 | (*address)[3];
    uint32_t host_mask = *prefix == 32 ? 0 : 0xffffffffu >> *prefix;
    if (*prefix <= 30 && ((a & host_mask) == 0 || (a & host_mask) == host_mask)) {
        detail = "the subnet's own or broadcast address";
        return false;
    }
    d.ip = {*address, static_cast<uint8_t>(*prefix)};
    return true;
}

bool apply_gateway(Draft& d, std::string_view value, std::string& detail)
{
    d.gateway = parse_ipv4(value);
    if (d.gateway && !is_unicast(*d.gateway))
        detail = "not a unicast address";
    return d.gateway && detail.empty();
}

bool apply_dns(Draft& d, std::string_view value, std::string& detail)
{
    std::vector<std::string_view> items = split(value, ',');
    if (items.size() > MAX_DNS_SERVERS) {
        detail = "more than 3";
        return false;
    }
    for (std::string_view item : items) {
        auto server = parse_ipv4(item);
        if (!server || !is_unicast(*server))
            return false;
        if (std::find(d.dns.begin(), d.dns.end(), *server) != d.dns.end()) {
            detail = "a server is listed twice";
            return false;
        }
        d.dns.push_back(*server);
    }
    return true;
}

bool apply_deadline(Draft& d, std::string_view value, std::string&)
{
    auto seconds = parse_decimal(value, MAX_DEADLINE_SECONDS);
    if (seconds && *seconds >= MIN_DEADLINE_SECONDS)
        d.deadline = *seconds;
    return seconds && *seconds >= MIN_DEADLINE_SECONDS;
}

bool apply_resources(Draft& d, std::string_view value, std::string& detail)
{
    std::vector<std::string_view> names = split(value, ',');
    if (names.size() > MAX_RESOURCES) {
        detail = "more than 64";
        return false;
    }
    for (std::string_view name : names) {
        if (!proto::valid_resource_name(name))
            return false;
        if (std::find(d.resources.begin(), d.resources.end(), name) != d.resources.end()) {
            detail = "'" + shown(name) + "' is listed twice";
            return false;
        }
        d.resources.emplace_back(name);
    }
    return true;
}

bool apply_workload(Draft& d, std::string_view value, std::string&)
{
    if (valid_absolute_path(value))
        d.workload = std::string(value);
    return valid_absolute_path(value);
}

bool device_path(std::optional<std::string>& out, std::string_view value, std::string& detail)
{
    if (!valid_absolute_path(value))
        return false;
    if (!is_below(value, "/dev")) {
        detail = "not below /dev";
        return false;
    }
    out = std::string(value);
    return true;
}

bool apply_verity_data(Draft& d, std::string_view value, std::string& detail)
{
    return device_path(d.verity_data, value, detail);
}

bool apply_verity_hash(Draft& d, std::string_view value, std::string& detail)
{
    return device_path(d.verity_hash, value, detail);
}

bool apply_verity_blocks(Draft& d, std::string_view value, std::string&)
{
    d.verity_blocks = parse_decimal(value, UINT32_MAX);
    return d.verity_blocks && *d.verity_blocks > 0;
}

// Lower case only, so that one root hash has one spelling on the measured line.
bool lower_hex(std::string_view value)
{
    return std::all_of(value.begin(), value.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool apply_verity_root(Draft& d, std::string_view value, std::string&)
{
    auto bytes = value.size() == 64 && lower_hex(value) ? from_hex(value) : std::nullopt;
    if (bytes)
        std::copy(bytes->begin(), bytes->end(), d.verity_root.emplace().begin());
    return bytes.has_value();
}

bool apply_verity_salt(Draft& d, std::string_view value, std::string&)
{
    if (value == "-") {
        d.verity_salt.emplace();
        return true;
    }
    auto bytes = value.size() <= 2 * MAX_VERITY_SALT && lower_hex(value) ? from_hex(value) : std::nullopt;
    if (!bytes || bytes->empty())
        return false;
    d.verity_salt = std::move(*bytes);
    return true;
}

bool apply_data(Draft& d, std::string_view value, std::string& detail)
{
    return device_path(d.data, value, detail);
}

bool apply_data_key(Draft& d, std::string_view value, std::string&)
{
    if (proto::valid_resource_name(value))
        d.data_key = std::string(value);
    return proto::valid_resource_name(value);
}

bool apply_data_mount(Draft& d, std::string_view value, std::string&)
{
    if (valid_absolute_path(value))
        d.data_mount = std::string(value);
    return valid_absolute_path(value);
}

bool apply_data_key_mode(Draft& d, std::string_view value, std::string&)
{
    d.data_key_mode = value == "hybrid" ? DataKeyMode::Hybrid : DataKeyMode::Broker;
    return value == "broker" || value == "hybrid";
}

bool apply_data_key_policy(Draft& d, std::string_view value, std::string&)
{
    auto policy = data_key_policy_from_name(value);
    d.data_key_policy = policy;
    return policy.has_value();
}

bool apply_transport(Draft& d, std::string_view value, std::string&)
{
    d.transport = value == "ratls" ? Transport::Ratls : Transport::Cvmkb;
    return value == "cvmkb" || value == "ratls";
}

bool apply_broker_protocol(Draft& d, std::string_view value, std::string&)
{
    d.broker_protocol = value == "kbs" ? BrokerProtocol::Kbs : BrokerProtocol::Cvmkb;
    return value == "cvmkb" || value == "kbs";
}

bool apply_initdata(Draft& d, std::string_view value, std::string&)
{
    d.initdata = value == "fw_cfg" ? InitdataSource::FwCfg : InitdataSource::None;
    return value == "fw_cfg" || value == "none";
}

bool apply_reattest(Draft& d, std::string_view value, std::string&)
{
    auto seconds = parse_decimal(value, MAX_REATTEST_SECONDS);
    if (seconds && *seconds >= MIN_REATTEST_SECONDS)
        d.reattest = *seconds;
    return seconds && *seconds >= MIN_REATTEST_SECONDS;
}

bool apply_reattest_fail(Draft& d, std::string_view value, std::string&)
{
    d.reattest_fail = value == "poweroff" ? ReattestFail::PowerOff : ReattestFail::Log;
    return value == "poweroff" || value == "log";
}

// The order of this table is the order compose_cmdline() writes.
constexpr std::array<Key, 25> KEYS{{
    {"cvminit.broker", "an http:// or https:// URL without a path", apply_broker},
    {"cvminit.broker_key", "the base64 of the broker's 32-byte Ed25519 public key (cvm broker keygen prints it)",
     apply_broker_key},
    {"cvminit.broker_protocol", "cvmkb or kbs", apply_broker_protocol},
    {"cvminit.simulate", "0 or 1", apply_simulate},
    {"cvminit.net", "dhcp, static or none", apply_net},
    {"cvminit.ip", "a unicast address and prefix length, A.B.C.D/N with N from 1 to 32", apply_ip},
    {"cvminit.gateway", "a unicast address A.B.C.D", apply_gateway},
    {"cvminit.dns", "1 to 3 distinct unicast addresses A.B.C.D separated by ','", apply_dns},
    {"cvminit.deadline", "whole seconds from 10 to 3600", apply_deadline},
    {"cvminit.resources", "1 to 64 distinct names of A-Z a-z 0-9 _ . - separated by ','", apply_resources},
    {"cvminit.workload", "an absolute path without '.', '..', empty components or spaces", apply_workload},
    {"cvminit.verity.data", "a device path below /dev", apply_verity_data},
    {"cvminit.verity.hash", "a device path below /dev", apply_verity_hash},
    {"cvminit.verity.blocks", "the number of 4096-byte data blocks, 1 to 4294967295", apply_verity_blocks},
    {"cvminit.verity.root", "the root hash, 64 lower-case hex digits (cvm verity cmdline prints it)",
     apply_verity_root},
    {"cvminit.verity.salt", "the salt in lower-case hex (at most 256 bytes), or - for none", apply_verity_salt},
    {"cvminit.data", "a device path below /dev", apply_data},
    {"cvminit.data_key", "a resource name of A-Z a-z 0-9 _ . -", apply_data_key},
    {"cvminit.data_mount", "an absolute path without '.', '..', empty components or spaces", apply_data_mount},
    {"cvminit.data_key_mode", "broker or hybrid", apply_data_key_mode},
    {"cvminit.data_key_policy", "chip-only, measurement-and-chip or measurement-only", apply_data_key_policy},
    {"cvminit.transport", "cvmkb or ratls", apply_transport},
    {"cvminit.reattest", "whole seconds from 30 to 86400", apply_reattest},
    {"cvminit.reattest_fail", "poweroff or log", apply_reattest_fail},
    {"cvminit.initdata", "fw_cfg or none", apply_initdata},
}};

Error key_error(std::string_view key, const char* what)
{
    std::string name = shown(key);
    return Error::make(Errc::Config, "cmdline key '%s': %s", name.c_str(), what);
}

Error unknown_key(std::string_view name)
{
    // The kernel treats '-' and '_' alike in the names of its own parameters, so a hyphenated
    // spelling is a likely slip; ours have exactly one spelling, which the hint gives.
    std::string underscored(name);
    std::replace(underscored.begin(), underscored.end(), '-', '_');
    for (const Key& k : KEYS) {
        if (k.name == underscored && underscored != name)
            return key_error(name, (std::string("unknown key (spelled ") + std::string(k.name) + ")").c_str());
    }
    return key_error(name, "unknown key (the keys are listed in kernel-cmdline/README.md and by cvm cmdline --help)");
}

Result<AgentCmdline> finish(Draft d)
{
    // With init-data the document may name the broker; merge_config() then requires it there.
    bool initdata = d.initdata != InitdataSource::None;
    if (!d.broker_url && !initdata)
        return key_error(KEYS[0].name, "missing: the agent needs its broker's URL (or cvminit.initdata=fw_cfg)");
    bool kbs = d.broker_protocol == BrokerProtocol::Kbs;
    if (kbs) {
        if (auto c = kbs_conflict(d.broker_url.value_or(""), d.broker_key.has_value(), d.simulate,
                                  d.transport.value_or(Transport::Cvmkb), d.reattest.value_or(0),
                                  d.data_key_mode == DataKeyMode::Hybrid))
            return key_error(c->key, (std::string("not with cvminit.broker_protocol=kbs: ") + c->why).c_str());
    }
    if (!d.broker_key && !initdata && !kbs)
        return key_error(KEYS[1].name, "missing: the agent needs the broker's public key to check its answers");
    bool is_static = d.net == NetMode::Static;
    if (is_static && !d.ip)
        return key_error("cvminit.ip", "missing: cvminit.net=static needs an address A.B.C.D/N");
    if (is_static && !d.gateway)
        return key_error("cvminit.gateway", "missing: cvminit.net=static needs a gateway A.B.C.D");
    if (!is_static && d.ip)
        return key_error("cvminit.ip", "only allowed with cvminit.net=static");
    if (!is_static && d.gateway)
        return key_error("cvminit.gateway", "only allowed with cvminit.net=static");
    if (d.net == NetMode::None && !d.dns.empty())
        return key_error("cvminit.dns", "not allowed with cvminit.net=none");
    if (is_static && d.ip->first == *d.gateway)
        return key_error("cvminit.gateway", "is the VM's own address (cvminit.ip)");

    int verity_keys = d.verity_data.has_value() + d.verity_hash.has_value() + d.verity_blocks.has_value() +
                      d.verity_root.has_value() + d.verity_salt.has_value();
    if (verity_keys != 0 && verity_keys != 5) {
        for (auto [name, given] : {std::pair{"cvminit.verity.data", d.verity_data.has_value()},
                                   {"cvminit.verity.hash", d.verity_hash.has_value()},
                                   {"cvminit.verity.blocks", d.verity_blocks.has_value()},
                                   {"cvminit.verity.root", d.verity_root.has_value()},
                                   {"cvminit.verity.salt", d.verity_salt.has_value()}}) {
            if (!given)
                return key_error(name, "missing: the verity root needs all five cvminit.verity.* keys");
        }
    }
    if (d.verity_data && *d.verity_data == *d.verity_hash)
        return key_error("cvminit.verity.hash", "is the data device too (the tree needs its own device)");
    if (!d.data && d.data_key)
        return key_error("cvminit.data_key", "only allowed with cvminit.data");
    if (!d.data && d.data_mount)
        return key_error("cvminit.data_mount", "only allowed with cvminit.data");
    if (!d.data && d.data_key_mode)
        return key_error("cvminit.data_key_mode", "only allowed with cvminit.data");
    if (d.data_key_policy && d.data_key_mode != DataKeyMode::Hybrid)
        return key_error("cvminit.data_key_policy", "only allowed with cvminit.data_key_mode=hybrid");
    if (d.data && d.verity_data && (*d.data == *d.verity_data || *d.data == *d.verity_hash))
        return key_error("cvminit.data", "is also a device of the verity root");
    if (d.transport == Transport::Ratls && d.broker_url && d.broker_url->rfind("https://", 0) != 0)
        return key_error("cvminit.transport", "ratls needs an https:// cvminit.broker (it is mutual TLS)");
    if (d.reattest_fail && !d.reattest && !initdata)
        return key_error("cvminit.reattest_fail", "only allowed with cvminit.reattest");

    AgentCmdline out;
    out.broker_url = d.broker_url.value_or("");
    out.broker_key = d.broker_key;
    out.simulate = d.simulate;
    out.net.mode = d.net;
    if (is_static)
        out.net.static_ipv4 = StaticIpv4{d.ip->first, d.ip->second, *d.gateway};
    out.net.dns = std::move(d.dns);
    out.deadline_seconds = d.deadline;
    out.resources = std::move(d.resources);
    out.workload = std::move(d.workload);
    if (verity_keys == 5)
        out.verity = VerityRoot{std::move(*d.verity_data), std::move(*d.verity_hash), *d.verity_blocks, *d.verity_root,
                                std::move(*d.verity_salt)};
    if (d.data) {
        out.data = DataVolume{std::move(*d.data)};
        if (d.data_key)
            out.data->key_name = std::move(*d.data_key);
        if (d.data_mount)
            out.data->mount = std::move(*d.data_mount);
        out.data->key_mode = d.data_key_mode.value_or(DataKeyMode::Broker);
        out.data->key_policy = d.data_key_policy.value_or(DataKeyPolicy::ChipOnly);
    }
    // Without init-data an explicit cvmkb is the default, composed away as it always was.
    out.transport = d.transport == Transport::Cvmkb && !initdata ? std::nullopt : d.transport;
    out.broker_protocol = d.broker_protocol == BrokerProtocol::Cvmkb && !initdata ? std::nullopt : d.broker_protocol;
    out.reattest_seconds = d.reattest.value_or(0);
    out.reattest_fail = d.reattest_fail.value_or(ReattestFail::Log);
    out.initdata = d.initdata;
    return out;
}

}  // namespace

std::optional<KbsConflict> kbs_conflict(std::string_view broker_url, bool broker_key, bool simulate,
                                        Transport transport, uint32_t reattest_seconds, bool hybrid_volume)
{
    if (broker_key)
        return KbsConflict{"cvminit.broker_key", "broker_key",
                           "a KBS signs nothing; its TLS certificate says who it is"};
    if (!simulate && broker_url.rfind("http://", 0) == 0)
        return KbsConflict{"cvminit.broker", "broker",
                           "a KBS over http:// could be anyone on the path (https://, or a simulated platform)"};
    if (transport == Transport::Ratls)
        return KbsConflict{"cvminit.transport", "transport", "ratls is cvmkb/1's"};
    if (reattest_seconds != 0)
        return KbsConflict{"cvminit.reattest", "reattest", "re-attestation is cvmkb/1's"};
    if (hybrid_volume)
        return KbsConflict{"cvminit.data_key_mode", "data_key_mode",
                           "hybrid needs cvmkb/1's recovery key for its recovery keyslot"};
    return std::nullopt;
}

const char* data_key_policy_name(DataKeyPolicy policy)
{
    switch (policy) {
    case DataKeyPolicy::ChipOnly: return "chip-only";
    case DataKeyPolicy::MeasurementAndChip: return "measurement-and-chip";
    case DataKeyPolicy::MeasurementOnly: return "measurement-only";
    }
    return "chip-only";
}

std::optional<DataKeyPolicy> data_key_policy_from_name(std::string_view name)
{
    for (DataKeyPolicy p : {DataKeyPolicy::ChipOnly, DataKeyPolicy::MeasurementAndChip, DataKeyPolicy::MeasurementOnly})
        if (name == data_key_policy_name(p))
            return p;
    return std::nullopt;
}

std::optional<std::string> canonical_broker_url(std::string_view value, std::string& why)
{
    auto url = net::parse_url(value);
    if (!url.ok()) {
        why = url_reason(url.error());
        return std::nullopt;
    }
    // The client appends the cvmkb/1 paths to the origin, so anything after it would be dropped
    // or misread; parse_url() silently drops a fragment, hence the check on the text.
    if (url->target != "/" || value.find('#') != std::string_view::npos) {
        why = "a path, query or fragment is not allowed";
        return std::nullopt;
    }
    return std::string(url->scheme == net::Scheme::Https ? "https://" : "http://") + url->authority();
}

Result<AgentCmdline> parse_parameters(std::span<const Parameter> parameters)
{
    Draft draft;
    std::array<bool, KEYS.size()> seen{};
    for (const Parameter& p : parameters) {
        auto key = std::find_if(KEYS.begin(), KEYS.end(), [&](const Key& k) { return k.name == p.name; });
        if (key == KEYS.end())
            return unknown_key(p.name);
        auto index = static_cast<size_t>(key - KEYS.begin());
        if (seen[index])
            return key_error(p.name, "given twice (the kernel would keep both; say it once)");
        seen[index] = true;
        std::string detail;
        if (p.value && key->apply(draft, *p.value, detail))
            continue;
        std::string got = p.value ? "\"" + shown(*p.value) + "\"" : "no value (write " + std::string(p.name) + "=...)";
        std::string why = detail.empty() ? "" : " (" + detail + ")";
        return Error::make(Errc::Config, "cmdline key '%.*s': expected %s, got %s%s", static_cast<int>(p.name.size()),
                           p.name.data(), key->expected, got.c_str(), why.c_str());
    }
    return finish(std::move(draft));
}

Result<AgentCmdline> parse_cmdline(std::string_view proc_cmdline)
{
    if (proc_cmdline.size() > MAX_PROC_CMDLINE_SIZE)
        return Error::make(Errc::Config, "kernel command line: %zu bytes, more than the %zu allowed",
                           proc_cmdline.size(), MAX_PROC_CMDLINE_SIZE);
    if (proc_cmdline.find('\0') != std::string_view::npos)
        return Error::make(Errc::Config, "kernel command line: contains a NUL byte");
    std::vector<KernelWord> words = TRY(split_kernel_words(proc_cmdline));
    std::vector<Parameter> ours;
    for (const KernelWord& w : words) {
        if (w.name.substr(0, PREFIX.size()) != PREFIX)
            continue;
        if (w.past_parameters)
            return key_error(w.name, "after \"--\", where the kernel hands words to init as arguments, not parameters");
        if (w.stray_quote)
            return key_error(w.name, "a '\"' inside the value: the kernel only strips quotes around a whole value");
        ours.push_back({w.name, w.value});
    }
    return parse_parameters(ours);
}

std::string compose_cmdline(const AgentCmdline& c)
{
    auto join = [](const auto& items, auto&& format) {
        std::string out;
        for (const auto& item : items)
            out += (out.empty() ? "" : ",") + format(item);
        return out;
    };
    std::string out;
    if (!c.broker_url.empty())
        out += "cvminit.broker=" + c.broker_url + " ";
    if (c.broker_key)
        out += "cvminit.broker_key=" + proto::ed25519_public_b64(*c.broker_key) + " ";
    if (c.broker_protocol == BrokerProtocol::Kbs)
        out += "cvminit.broker_protocol=kbs ";
    else if (c.broker_protocol && c.initdata != InitdataSource::None)
        out += "cvminit.broker_protocol=cvmkb ";  // pinned by the image: init-data may not choose it
    out += c.simulate ? "cvminit.simulate=1" : "cvminit.simulate=0";
    out += c.net.mode == NetMode::Dhcp ? " cvminit.net=dhcp"
                                       : (c.net.mode == NetMode::Static ? " cvminit.net=static" : " cvminit.net=none");
    if (c.net.static_ipv4) {
        const StaticIpv4& s = *c.net.static_ipv4;
        out += " cvminit.ip=" + format_ipv4(s.address) + "/" + std::to_string(s.prefix);
        out += " cvminit.gateway=" + format_ipv4(s.gateway);
    }
    if (!c.net.dns.empty())
        out += " cvminit.dns=" + join(c.net.dns, format_ipv4);
    out += " cvminit.deadline=" + std::to_string(c.deadline_seconds);
    if (!c.resources.empty())
        out += " cvminit.resources=" + join(c.resources, [](const std::string& s) { return s; });
    if (c.workload)
        out += " cvminit.workload=" + *c.workload;
    if (c.verity) {
        const VerityRoot& v = *c.verity;
        out += " cvminit.verity.data=" + v.data_device + " cvminit.verity.hash=" + v.hash_device;
        out += " cvminit.verity.blocks=" + std::to_string(v.data_blocks);
        out += " cvminit.verity.root=" + to_hex(v.root_hash);
        out += " cvminit.verity.salt=" + (v.salt.empty() ? std::string("-") : to_hex(v.salt));
    }
    if (c.data)
        out += " cvminit.data=" + c.data->device + " cvminit.data_key=" + c.data->key_name +
               " cvminit.data_mount=" + c.data->mount;
    if (c.data && c.data->key_mode == DataKeyMode::Hybrid)  // the default (broker) composed away
        out += std::string(" cvminit.data_key_mode=hybrid cvminit.data_key_policy=") +
               data_key_policy_name(c.data->key_policy);
    if (c.transport == Transport::Ratls)
        out += " cvminit.transport=ratls";
    else if (c.transport && c.initdata != InitdataSource::None)
        out += " cvminit.transport=cvmkb";  // pinned by the image: init-data may not choose it
    if (c.reattest_seconds != 0) {
        out += " cvminit.reattest=" + std::to_string(c.reattest_seconds);
        out += c.reattest_fail == ReattestFail::PowerOff ? " cvminit.reattest_fail=poweroff"
                                                         : " cvminit.reattest_fail=log";
    } else if (c.reattest_fail == ReattestFail::PowerOff) {
        out += " cvminit.reattest_fail=poweroff";  // with cvminit.initdata: the document may set the interval
    }
    if (c.initdata == InitdataSource::FwCfg)
        out += " cvminit.initdata=fw_cfg";
    return out;
}

}  // namespace cvm::cmdline
