// A release: the reference values of one measured image for every VM shape it may run as,
// published so that anyone can check them (docs/release.md).
//
// The statement is an in-toto Statement v1 (in-toto/attestation spec/v1/statement.md):
//   {"_type": "https://in-toto.io/Statement/v1",
//    "subject": [{"name": "firmware" | "kernel" | "initrd" | "init-data", "digest": {"sha256": hex}}],
//    "predicateType": PREDICATE_TYPE,
//    "predicate": {"tool": "cvm 0.1.0", "source_date_epoch": N, "not_after": N?,
//                  "mode": "snp", "policy": "0x30000", "guest_features": "0x1",
//                  "cmdline": "...", "host_data": hex?,
//                  "shapes": [{"vcpus": 4, "vcpu_type": "EPYC-Milan", "vmm_type": "QEMU",
//                              "measurement": hex96}, ...]}}
// serialised as RFC 8785 JSON (proto/jcs.h), so one release gives one byte string whoever runs
// `cvm release`, wherever, with whatever umask. It names no host path and no wall-clock time:
// source_date_epoch is the build's SOURCE_DATE_EPOCH, not_after is source_date_epoch plus the
// validity the release engineer chose.
//
// It is signed as a DSSE envelope (secure-systems-lab/dsse protocol.md: PAE, payloadType
// "application/vnd.in-toto+json") inside a Sigstore bundle v0.3 (sigstore/protobuf-specs,
// "application/vnd.dev.sigstore.bundle.v0.3+json") whose verification material is the release
// key's hint; a pipeline may add Rekor transparency-log entries (tlog.h) to the same bundle.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace cvm::release {

inline constexpr const char* STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
inline constexpr const char* PREDICATE_TYPE = "https://cvminit.dev/release/v1";
inline constexpr const char* PAYLOAD_TYPE = "application/vnd.in-toto+json";
inline constexpr const char* BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";
inline constexpr size_t MAX_BUNDLE_SIZE = 1 << 20;
inline constexpr size_t MAX_SHAPES = 4096;

using Measurement = std::array<uint8_t, 48>;

struct Shape {
    uint32_t vcpus{0};
    std::string vcpu_type;  // as launch.toml names it (measure/vcpu_types.h)
    std::string vmm_type;   // QEMU | ec2 | gce
    bool operator==(const Shape&) const = default;
};

struct ShapeMeasurement {
    Shape shape;
    Measurement measurement{};
    bool operator==(const ShapeMeasurement&) const = default;
};

struct Subject {
    std::string name;  // "firmware", "kernel", "initrd", "init-data"
    std::array<uint8_t, 32> sha256{};
    bool operator==(const Subject&) const = default;
};

struct Predicate {
    std::string tool;  // "cvm <version>"
    int64_t source_date_epoch{0};
    std::optional<int64_t> not_after;  // seconds since the epoch; nullopt: no expiry of its own
    std::string mode{"snp"};
    uint64_t policy{0};
    uint64_t guest_features{0};
    std::string cmdline;
    std::optional<std::array<uint8_t, 32>> host_data;  // when the release names its init-data
    std::vector<ShapeMeasurement> shapes;              // at least one, at most MAX_SHAPES
    bool operator==(const Predicate&) const = default;
};

struct Statement {
    std::vector<Subject> subjects;
    Predicate predicate;
    bool operator==(const Statement&) const = default;

    // The shape entry whose MEASUREMENT this is, or nullptr.
    const ShapeMeasurement* find(const Measurement& measurement) const;
};

// The statement's canonical JSON (RFC 8785).
std::string to_json(const Statement& statement);

// Parses a statement strictly: exactly the members above, `_type` and `predicateType` as
// defined, lower-case hex of the right lengths, integers in range, unique shapes. Errc::Format
// naming the member ("statement.predicate.shapes[3].measurement").
Result<Statement> parse_statement(std::string_view json);

// DSSE's pre-authentication encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body.
Bytes pae(std::string_view payload_type, ByteView payload);

}  // namespace cvm::release
