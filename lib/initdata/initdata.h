// Init-data: one deployment's configuration, outside the measured image, bound to the launch
// through HOST_DATA. The document is Trustee's init-data format (trustee kbs/docs/initdata.md),
// so the same file works with a Confidential Containers KBS:
//
//   algorithm = "sha384"        # sha256 | sha384 | sha512: the digest over the exact bytes
//   version = "0.1.0"           # the only version defined
//   [data]                      # string values only, keyed by name
//   "cvminit.toml" = '''
//   broker = "https://kb-eu.example:8443"
//   broker_key = "<base64 Ed25519>"
//   '''
//
// HOST_DATA (32 bytes) is the digest truncated to 32 bytes (sha384, sha512) or equal to it
// (sha256), as Trustee's verifier compares it. The digest covers the document's exact bytes,
// not a re-serialisation: a document is never re-encoded between the host and the guest.
//
// cvminit reads the value of "cvminit.toml" (the deployment settings, agent_initdata.h in
// kernel-cmdline); other [data] entries are kept for other consumers (Trustee's own "aa.toml",
// "cdh.toml", "policy.rego") and ignored by the agent.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"

namespace cvm::initdata {

// fw_cfg files are small; a deployment document is a few hundred bytes.
inline constexpr size_t MAX_INITDATA_SIZE = 64 * 1024;
inline constexpr const char* INITDATA_VERSION = "0.1.0";
// The QEMU fw_cfg name under which `cvm launch` passes the document and the agent reads it
// (/sys/firmware/qemu_fw_cfg/by_name/opt/cvminit/initdata/raw).
inline constexpr const char* FW_CFG_NAME = "opt/cvminit/initdata";
// The [data] entry cvminit reads.
inline constexpr const char* AGENT_ENTRY = "cvminit.toml";

enum class Algorithm : uint8_t { Sha256, Sha384, Sha512 };

std::string_view algorithm_name(Algorithm algorithm);  // "sha256", "sha384", "sha512"

using HostData = std::array<uint8_t, 32>;

struct Document {
    Algorithm algorithm{Algorithm::Sha384};
    std::string version;
    std::map<std::string, std::string> data;  // [data], each value a string
    std::string text;                         // the exact bytes, which the digest covers
};

// Parses a document. Errc::Config naming the key for: text over MAX_INITDATA_SIZE, a NUL byte,
// TOML errors (duplicate keys and invalid UTF-8 among them), a missing or unknown `algorithm`, a
// `version` other than INITDATA_VERSION, any top-level key besides the three, a missing [data],
// a [data] value that is not a string, or a NUL decoded from an escape in a [data] name or value.
// CRLF line ends are TOML and accepted; values read back with LF, the digest keeps the CRs.
Result<Document> parse(std::string_view text);

// The full digest of `text` with `algorithm` (32, 48 or 64 bytes).
Bytes digest(Algorithm algorithm, std::string_view text);

// HOST_DATA for the document: digest() truncated to 32 bytes.
HostData host_data(const Document& document);

// A document in the canonical form `cvm initdata compose` writes: the two keys, then [data] with
// the entries in name order, each value a TOML multi-line literal string. Errc::Config for a
// value that a literal string cannot hold (a "'''" sequence, a NUL, a CR or another control
// character but tab and LF, invalid UTF-8), a name that is not printable ASCII, or a document
// over MAX_INITDATA_SIZE. parse(compose(a, d)) gives back `a` and `d`.
Result<std::string> compose(Algorithm algorithm, const std::map<std::string, std::string>& data);

}  // namespace cvm::initdata
