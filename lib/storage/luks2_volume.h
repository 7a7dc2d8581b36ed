// LUKS2, natively and strictly: inspect, unlock, format and finish formatting one volume.
//
// The header lives on a disk the host controls (CVE-2025-59054, CVE-2025-58356: a header the
// guest does not check can make it set up a volume the host can read). So both header copies are
// read into memory once, validated against the one profile this agent writes or accepts, and
// every later step works from that validated copy; nothing is ever re-read and trusted.
//
// STRICT PROFILE (anything else is Errc::Format, or Errc::Unsupported for a well-formed LUKS2
// variant outside it, with a message naming the field, the value found and the value expected):
//  - binary header version 2, hdr_size 16384, checksum_alg "sha256" with a correct checksum,
//    copies at 0 and 16384 (luks2_header.h); same seqid, label and uuid and byte-identical JSON
//    in both (but see the crash rule);
//  - the JSON area: one object, a NUL, only NULs; no duplicate member anywhere; no member beyond
//    those below (keyslot "priority" is the one optional member cryptsetup 2.6 may write);
//  - exactly keyslot "0": luks2, key_size 64, af luks1/4000 stripes/sha256, area raw
//    aes-xts-plain64 key_size 64 inside the keyslots area and at least 258048 bytes, kdf pbkdf2
//    sha256 with 1000..10,000,000 iterations and a 32-byte salt;
//  - exactly segment "0": crypt, aes-xts-plain64, iv_tweak "0", sector_size 512 or 4096, offset a
//    multiple of 4096 at or after the end of the keyslots area, size "dynamic" or a number, whole
//    sectors, inside the device;
//  - exactly digest "0": pbkdf2 sha256 over keyslot "0" and segment "0", iterations as above,
//    32-byte salt and digest;
//  - config: json_size "12288", keyslots_size a multiple of 4096 ending at or before the segment,
//    no flags, no requirements;
//  - tokens: none, or only token "0" = {"type":"cvminit-formatting","keyslots":[]}.
//
// CRASH RULE: finish_formatting() rewrites the primary copy, then the secondary. If it was
// interrupted between the two, both copies are valid, the primary's seqid is exactly one more
// than the secondary's, the secondary carries the formatting token and the primary does not, and
// nothing else differs. inspect() accepts exactly that state, returns the primary's Volume and
// sets repair_secondary; the caller then calls repair_secondary(). Any other difference between
// the copies is rejected ("header copies differ in ..."), and so is a copy with a bad checksum:
// this agent never picks one copy over another on its own.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "base/bytes.h"
#include "base/result.h"
#include "base/secret.h"
#include "storage/block_device.h"

namespace cvm::storage::luks2 {

constexpr size_t VOLUME_KEY_SIZE = 64;  // aes-xts-plain64 with two AES-256 keys
constexpr size_t PASSPHRASE_MIN = 16, PASSPHRASE_MAX = 512;
constexpr uint32_t PBKDF2_MIN_ITERATIONS = 1000, PBKDF2_MAX_ITERATIONS = 10'000'000;
// The bytes of both header copies together: inspect() reads exactly this much.
constexpr size_t HEADERS_SIZE = 32768;

struct Pbkdf2Params {
    uint32_t iterations{};
    std::array<uint8_t, 32> salt{};
    bool operator==(const Pbkdf2Params&) const = default;
};

// A validated volume. Nothing in it is secret (the digest is public LUKS2 metadata).
struct Volume {
    uint64_t seqid{};
    std::string uuid;   // canonical lower-case form
    std::string label;  // "" when none
    uint64_t segment_offset{};
    uint64_t segment_size{};  // bytes; for "dynamic" the device size less the offset
    bool segment_size_dynamic{};
    uint32_t sector_size{};
    bool formatting{};  // our "cvminit-formatting" token is present
    uint64_t keyslots_size{};
    uint64_t keyslot_area_offset{}, keyslot_area_size{};
    std::optional<uint32_t> keyslot_priority;  // as found; absent means normal
    Pbkdf2Params keyslot_kdf;
    Pbkdf2Params digest_kdf;
    std::array<uint8_t, 32> digest{};
    bool operator==(const Volume&) const = default;
};

enum class HeaderState : uint8_t { Blank, Valid };

struct Inspection {
    HeaderState state{HeaderState::Blank};
    std::optional<Volume> volume;  // set exactly when Valid
    bool repair_secondary{};       // see the crash rule
};

// Reads the first HEADERS_SIZE bytes of `dev` and judges them with parse_headers(). Errc::Io when
// the device is smaller or a read fails.
Result<Inspection> inspect(BlockDevice& dev);

// The pure judgement over both copies (`headers` is the device's first HEADERS_SIZE bytes) for a
// device of `device_size` bytes. BLANK exactly when the primary copy's binary header, bytes
// [0, 4096), is all zero: format() writes that 4 KiB last, and all its non-zero content lies in
// its first 512 bytes, so a device is either Blank (never committed, or a format interrupted
// before its commit point; whatever else lies on it is leftovers) or has a primary copy. Any
// other device is Valid or an error; a non-blank invalid device is never Blank.
Result<Inspection> parse_headers(ByteView headers, uint64_t device_size);

// Opens keyslot 0 with `passphrase` (PASSPHRASE_MIN..PASSPHRASE_MAX bytes, Errc::Config
// otherwise): PBKDF2-SHA256 gives the 64-byte area key, the area's first 256000 bytes are
// decrypted (aes-xts-plain64, 512-byte sectors, IV 0 at the area start) and AF-merged (LUKS1 AF,
// 4000 stripes, SHA-256 diffuser), and the result is checked against the digest. Returns the
// volume key; Errc::Crypto "...does not open keyslot 0" when the digest does not match, Errc::Io
// when the area cannot be read. Every intermediate buffer is wiped.
Result<SecretBytes> unlock(BlockDevice& dev, const Volume& volume, ByteView passphrase);

struct FormatOptions {
    uint32_t sector_size = 4096;                         // 512 or 4096
    uint32_t pbkdf2_iterations = PBKDF2_MIN_ITERATIONS;  // keyslot and digest alike
    uint64_t segment_offset = 16 << 20;                  // cryptsetup's default; a multiple of 4096, >= 290816
    std::string label;                                   // printable ASCII, at most 47 bytes
};

// First boot, on a device inspect() called Blank (Errc::Config otherwise, nothing written):
// a fresh random volume key, UUID and salts, keyslot 0 opened by `passphrase` (length as for
// unlock), a "dynamic" segment of whole sectors (Errc::Config when the device leaves none, or a
// partial one), and the "cvminit-formatting" token. Writes, flushing after each step: zeros over
// the keyslots area and the keyslot, the secondary copy, the primary JSON area, and last the
// primary binary header (the commit point). Then re-inspects and returns the Volume it reads
// back (seqid 1, formatting true) and the volume key.
Result<std::pair<Volume, SecretBytes>> format(BlockDevice& dev, ByteView passphrase, const FormatOptions& options);

// Removes the formatting token: rewrites the primary copy with seqid + 1, flushes, then the
// secondary, flushes. `volume` must be what inspect() returns now and carry the token
// (Errc::Config otherwise, nothing written). Idempotent across the crash rule: when the device
// is already in the interrupted state that follows `volume`, it only repairs the secondary.
// Returns the new Volume as read back.
Result<Volume> finish_formatting(BlockDevice& dev, const Volume& volume);

// Rewrites the secondary copy from the primary after an interrupted finish_formatting():
// `volume` must be what inspect() returns now with repair_secondary set (Errc::Config otherwise,
// nothing written). The secondary gets the primary's JSON bytes, seqid, label and uuid.
Result<void> repair_secondary(BlockDevice& dev, const Volume& volume);

}  // namespace cvm::storage::luks2
