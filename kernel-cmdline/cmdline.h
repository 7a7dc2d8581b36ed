// The agent's parameters on the kernel command line: the one grammar that the agent parses from
// /proc/cmdline and `cvm cmdline` composes. The command line is measured (QEMU kernel-hashes=on
// puts its hash in the launch digest), so these values are as trustworthy as the agent's code.
//
//   cvminit.broker=URL          http:// or https://, no path, query or fragment       required*
//   cvminit.broker_key=BASE64   the broker's Ed25519 public key (32 bytes)            required*
//   cvminit.broker_protocol=cvmkb|kbs  the broker's protocol: ours (cvmkb/1), or Trustee's KBS
//                               (RCAR 0.4.0, docs/kbs.md), which has no broker key  default cvmkb
//   cvminit.simulate=0|1        use the simulated platform (never on real hardware)   default 0
//   cvminit.net=dhcp|static|none                                                      default dhcp
//   cvminit.ip=A.B.C.D/N        the static address and prefix length (1..32)          iff static
//   cvminit.gateway=A.B.C.D     the static default router                             iff static
//   cvminit.dns=A.B.C.D[,...]   up to 3 name servers (resolv.conf's MAXNS)            not with none
//   cvminit.deadline=SECONDS    the whole boot, 10..3600                              default 120
//   cvminit.resources=a[,b...]  the secrets to ask for, up to 64 distinct names       optional
//   cvminit.workload=/abs/path  the workload program (or command in cvminit.toml)     optional
//   cvminit.verity.data=/dev/X  the read-only root's data device (dm-verity)           all five
//   cvminit.verity.hash=/dev/Y  its hash device (superblock at 0, tree from block 1)   or none
//   cvminit.verity.blocks=N     data blocks of 4096 bytes, 1..2^32-1                   (cvm verity
//   cvminit.verity.root=HEX     the root hash, 64 lower-case hex digits                 cmdline
//   cvminit.verity.salt=HEX|-   the salt, 0..256 bytes in lower-case hex, '-' for none  prints them)
//   cvminit.data=/dev/Z         the LUKS2 data volume (formatted on first boot if blank) optional
//   cvminit.data_key=NAME       the broker resource with its keyslot passphrase     default data
//   cvminit.data_mount=/abs     where the workload sees it                         default /data
//   cvminit.data_key_mode=broker|hybrid  keyslot 0's passphrase: the broker's key as it is,
//                               or HKDF(broker key || SNP derived key, UUID) (docs/sealing.md) default broker
//   cvminit.data_key_policy=chip-only|measurement-and-chip|measurement-only  the derived key of
//                               a hybrid volume (bound to the chip; also to the measurement;
//                               to the measurement and a CSP's VLEK)      default chip-only, hybrid only
//   cvminit.transport=cvmkb|ratls  key retrieval: cvmkb/1 over HTTP(S), or over mutual TLS
//                               with the agent's RA-TLS client certificate (https only) default cvmkb
//   cvminit.reattest=SECONDS    attest again every SECONDS while the workload runs,
//                               30..86400 (docs/agent-api.md)                       default off
//   cvminit.reattest_fail=poweroff|log  what a refused re-attestation does       with reattest*
//   cvminit.initdata=fw_cfg|none  read a deployment's settings from the init-data document
//                               bound to HOST_DATA (QEMU fw_cfg opt/cvminit/initdata;
//                               deployment.h, docs/initdata.md)                     default none
//
// cvminit.broker_protocol=kbs refuses what kbs_conflict() below names. Without cvminit.initdata
// an explicit cvmkb is the default and composed away; with it an explicit value is kept, as for
// transport.
//
// The last four are written by compose_cmdline() only when not at their default, so a line
// composed without them is byte for byte what it was before they existed (and so is its
// MEASUREMENT); their defaults are what an agent without the key does, in every version.
//
// * With cvminit.initdata=fw_cfg, broker and broker_key may be left to the init-data document
// (merge_config in agent_config.h requires each from exactly one place), and reattest_fail is
// allowed without cvminit.reattest (the interval may come from the document). An explicit
// cvminit.transport=cvmkb is then kept (and composed), so the image can pin the transport;
// without cvminit.initdata it is the default and composed away, as before.
// A device is an absolute path below /dev. The verity root hash pins the root filesystem: with
// it, the workload runs in that filesystem instead of the initramfs's workload tree. The data
// volume's key is asked for with the resources (it is added to them when not listed).
//
// Only words whose name starts with "cvminit." are ours; every other word (console=, quiet,
// root=...) is the kernel's business and is ignored. The "cvminit." prefix also keeps them out of
// init's environment: the kernel treats a name with a '.' as a module parameter, never as an
// environment variable for init (init/main.c unknown_bootoption()).
//
// Refused, with Errc::Config naming the key, what was expected and the value found (shortened,
// see values.h shown()): an unknown cvminit.* key, a key given twice, a key without "=value", a
// bad value, a '"' left inside a value, a cvminit.* word after "--", a missing required key, and
// the cross-key rules above. Values are public (the command line is not secret).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "kernel-cmdline/values.h"
#include "proto/keys.h"

namespace cvm::cmdline {

// /proc/cmdline is refused past this size before anything is parsed. x86 kernels keep at most
// COMMAND_LINE_SIZE = 2048 bytes with the NUL (arch/x86/include/asm/setup.h), and /proc/cmdline
// adds a newline (fs/proc/cmdline.c); bootconfig and init arguments can lengthen the saved line,
// hence the margin.
inline constexpr size_t MAX_PROC_CMDLINE_SIZE = 4096;
// What a boot loader may hand an x86 kernel: the boot protocol's cmdline_size (Documentation/
// arch/x86/boot.rst: "the maximum size of the command line without the terminating zero"), which
// is COMMAND_LINE_SIZE - 1. `cvm cmdline compose` refuses longer lines: the kernel truncates them.
inline constexpr size_t X86_MAX_CMDLINE_LENGTH = 2047;

inline constexpr uint32_t MIN_DEADLINE_SECONDS = 10;
inline constexpr uint32_t MAX_DEADLINE_SECONDS = 3600;
inline constexpr uint32_t DEFAULT_DEADLINE_SECONDS = 120;
inline constexpr size_t MAX_DNS_SERVERS = 3;  // glibc and musl resolv.conf: MAXNS
inline constexpr size_t MAX_RESOURCES = 64;
inline constexpr uint32_t MIN_REATTEST_SECONDS = 30;
inline constexpr uint32_t MAX_REATTEST_SECONDS = 86400;

enum class NetMode : uint8_t { Dhcp, Static, None };
enum class Transport : uint8_t { Cvmkb, Ratls };
enum class BrokerProtocol : uint8_t { Cvmkb, Kbs };
enum class ReattestFail : uint8_t { Log, PowerOff };
enum class InitdataSource : uint8_t { None, FwCfg };

struct StaticIpv4 {
    Ipv4Address address{};
    uint8_t prefix{0};  // 1..32
    Ipv4Address gateway{};
    bool operator==(const StaticIpv4&) const = default;
};

struct NetConfig {
    NetMode mode{NetMode::Dhcp};
    std::optional<StaticIpv4> static_ipv4;  // present exactly when mode is Static
    std::vector<Ipv4Address> dns;           // empty: the DHCP lease's (or none)
    bool operator==(const NetConfig&) const = default;
};

// The strict dm-verity profile (format 1, sha256, 4096-byte blocks), veritysetup's default layout.
struct VerityRoot {
    std::string data_device;
    std::string hash_device;
    uint32_t data_blocks{0};
    std::array<uint8_t, 32> root_hash{};
    std::vector<uint8_t> salt;  // at most MAX_VERITY_SALT bytes
    bool operator==(const VerityRoot&) const = default;
};

enum class DataKeyMode : uint8_t { Broker, Hybrid };
enum class DataKeyPolicy : uint8_t { ChipOnly, MeasurementAndChip, MeasurementOnly };

struct DataVolume {
    std::string device;
    std::string key_name{"data"};
    std::string mount{"/data"};
    DataKeyMode key_mode{DataKeyMode::Broker};
    DataKeyPolicy key_policy{DataKeyPolicy::ChipOnly};  // Hybrid only
    bool operator==(const DataVolume&) const = default;
};

// "chip-only", "measurement-and-chip", "measurement-only" (the sealing policies' names, docs/sealing.md).
const char* data_key_policy_name(DataKeyPolicy policy);
std::optional<DataKeyPolicy> data_key_policy_from_name(std::string_view name);

inline constexpr size_t MAX_VERITY_SALT = 256;

struct AgentCmdline {
    // canonical: "http[s]://host[:port]", the default port left out; empty only with
    // cvminit.initdata (the document then names it)
    std::string broker_url;
    std::optional<proto::Ed25519PublicKey> broker_key;  // nullopt only with cvminit.initdata or kbs
    // nullopt: not on the line (cvmkb unless init-data says otherwise); as `transport` below
    std::optional<BrokerProtocol> broker_protocol;
    bool simulate{false};
    NetConfig net;
    uint32_t deadline_seconds{DEFAULT_DEADLINE_SECONDS};
    std::vector<std::string> resources;   // empty: not on the command line
    std::optional<std::string> workload;  // absolute path of the workload program
    std::optional<VerityRoot> verity;
    std::optional<DataVolume> data;
    // nullopt: not on the line (cvmkb unless init-data says otherwise); without cvminit.initdata
    // only Ratls is kept, an explicit cvmkb being the default
    std::optional<Transport> transport;
    uint32_t reattest_seconds{0};  // 0: not on the line (off unless init-data sets it)
    ReattestFail reattest_fail{ReattestFail::Log};
    InitdataSource initdata{InitdataSource::None};
    bool operator==(const AgentCmdline&) const = default;
};

// What broker_protocol=kbs cannot go with, wherever each setting came from (the command line,
// or init-data for the broker URL, broker key, transport and reattest): a broker key (a KBS signs
// nothing: its TLS certificate, checked with the initramfs's CA bundle, is all that says who it
// is), so an http:// broker too unless the platform is simulated (anyone on the path could
// answer with resources encrypted to the TEE key, which the attest request carries in clear);
// ratls and reattest (cvmkb/1's); a hybrid data volume (its recovery keyslot needs cvmkb/1's
// recovery key). The first conflict found, or nullopt.
struct KbsConflict {
    const char* key;      // the cvminit.* key
    const char* setting;  // the setting's name in cvminit.toml and init-data ("broker_key", ...)
    const char* why;
};
std::optional<KbsConflict> kbs_conflict(std::string_view broker_url, bool broker_key, bool simulate,
                                        Transport transport, uint32_t reattest_seconds, bool hybrid_volume);

// Parses /proc/cmdline as read (trailing newline included). Errc::Config as described above, and
// for input over MAX_PROC_CMDLINE_SIZE, a NUL byte, or a double quote left open.
Result<AgentCmdline> parse_cmdline(std::string_view proc_cmdline);

// One cvminit.* parameter, already split from the text: `name` includes the "cvminit." prefix;
// `value` is nullopt for a word without '='.
struct Parameter {
    std::string_view name;
    std::optional<std::string_view> value;
};

// The checks of parse_cmdline() on parameters that were split already (by the kernel, or by
// `cvm cmdline compose` from its flags). Every name must be a cvminit.* key.
Result<AgentCmdline> parse_parameters(std::span<const Parameter> parameters);

// cvminit.broker's grammar, for the other place that may name the broker (deployment.h): the
// canonical "http[s]://host[:port]", or nullopt with `why` set when a reason beyond "not an http://
// or https:// URL without a path" is known.
std::optional<std::string> canonical_broker_url(std::string_view value, std::string& why);

// The canonical words for `cmdline`, space-separated, in the fixed order of the table above,
// defaults written out (so the measured line says what the agent will do, whatever a later
// version's defaults are) and no quotes (no value can contain a space or '"'). For any value
// parse_cmdline() returned, parse_cmdline(compose_cmdline(v)) == v. `cmdline` must be valid.
std::string compose_cmdline(const AgentCmdline& cmdline);

}  // namespace cvm::cmdline
