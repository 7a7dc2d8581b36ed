// LUKS2, natively and strictly: inspect, unlock and authenticate, format, and rewrite one volume.
//
// The header lives on a disk the host controls (CVE-2025-59054, CVE-2025-58356: a header the
// guest does not check can make it set up a volume the host can read). So both header copies are
// read into memory once, validated against the one profile this agent writes or accepts, and
// every later step works from that validated copy; nothing is ever re-read and trusted. The
// profile's checks are structural: the host can still write a well-formed header of its own. What
// it cannot make is the HMAC in our token, which only the volume key opens: unlock() checks it
// right after the keyslot gives the key, before anything in the header is used or written.
//
// STRICT PROFILE (anything else is Errc::Format, or Errc::Unsupported for a well-formed LUKS2
// variant outside it, with a message naming the field, the value found and the value expected):
//  - binary header version 2, hdr_size 16384, checksum_alg "sha256" with a correct checksum,
//    copies at 0 and 16384 (luks2_header.h); same seqid, label and uuid and byte-identical JSON
//    in both (but see the crash rule);
//  - the JSON area: one object, a NUL, only NULs; no duplicate member anywhere; no member beyond
//    those below (keyslot 0's "priority" is the one optional member cryptsetup 2.6 may write);
//    and the text is exactly what write_metadata() makes of the Volume it describes (member
//    order, no whitespace): the canonical form the HMAC covers (see AUTHENTICATION), except in
//    a header without a token (see ADOPTION), whose text only has to mean the same;
//  - keyslot "0", or keyslots "0" and "1" (the recovery keyslot), each: luks2, key_size 64, af
//    luks1/4000 stripes/sha256, area raw aes-xts-plain64 key_size 64 inside the keyslots area and
//    at least 258048 bytes, kdf pbkdf2 sha256 with 1000..10,000,000 iterations and a 32-byte salt;
//    the two areas do not overlap; "priority" only on keyslot 0;
//  - exactly segment "0": crypt, aes-xts-plain64, iv_tweak "0", sector_size 512 or 4096, offset a
//    multiple of 4096 at or after the end of the keyslots area, size "dynamic" or a number, whole
//    sectors, inside the device;
//  - exactly digest "0": pbkdf2 sha256 over the keyslots ["0"] or ["0","1"] (those present) and
//    segment "0", iterations as above, 32-byte salt and digest;
//  - config: json_size "12288", keyslots_size a multiple of 4096 ending at or before the segment,
//    no flags, no requirements;
//  - tokens: exactly token "0" = {"type":"cvminit","keyslots":[],"state":"formatting"|"ready",
//    "generation":"<decimal u64>", "derivation":{"policy":P,"fields":"<dec>","guest_svn":"<dec>",
//    "tcb_version":"<dec>"} (optional; P one of POLICIES), "hmac":"<64 lower-case hex>"}; or
//    no token at all ("tokens":{}, see ADOPTION). The "cvminit-formatting" token of earlier
//    versions is refused as not written by this version; any other token is refused by its type.
//
// ADOPTION: a header with no token that passes every other rule above is Valid with
// Volume::adopt set, state ready, generation 0, no derivation and no hmac. That is a volume
// `cryptsetup luksFormat` made in this profile, or one cvminit formatted before it wrote a token
// (a finished volume of those versions has "tokens":{}); their JSON text is json-c's or our
// earlier serializer's, so for them alone it need not be the canonical form. Nothing in such a
// header is authenticated: unlock() proves only the key (the digest), and the first open rewrites
// the header into our canonical form with our token (adopt(), or reenroll_keyslot0()). Why that
// is safe: the agent reports the volume to the broker as ready with generation 0, and the broker
// accepts generation 0 only for a volume it knows no generation of. A host that strips the token
// from one of OUR volumes (to make the agent trust a header it edited, or to replay an older copy
// of the disk) therefore reports 0 below the generation the broker stored, and is refused as
// VOLUME_ROLLBACK before any key is released; the only volumes adopted are those the broker has
// never seen opened (or an operator reset with `cvm broker volume reset`).
//
// AUTHENTICATION: hmac = HMAC-SHA256(K, M) with K = HKDF-SHA256(IKM = the volume key, no salt,
// info "cvminit luks2 header/1", 32 bytes) and M = "cvminit luks2 header/1" NUL, version (be16,
// 2), seqid (be64), label (48 bytes), uuid (40), subsystem (48, zeros): the binary header fields
// that both copies share and that mean something (magic, hdr_offset, salt and csum differ per
// copy or per write and say nothing), then the JSON text as write_metadata() makes it without
// the token's "hmac" member. The canonical form is our own serializer's output, not RFC 8785:
// it is deterministic, and the profile admits no other text, so the bytes on the disk are
// exactly the bytes covered (plus the hmac). seqid is covered, so every rewrite re-MACs. Every
// field of Volume is therefore authenticated once unlock() returns; before that, a Volume from
// inspect() (its generation included) is what the host wrote and nothing more.
//
// BLANK: the primary binary header, bytes [0, 4096), is all zero AND the secondary copy is either
// all zero in its binary header or is the secondary of an interrupted format() (a valid copy with
// seqid 1 and state "formatting"). A zeroed primary in front of any other secondary (a volume
// that was finished) is refused by name, never formatted.
//
// CRASH RULE: every rewrite of ours (finish_formatting, set_generation, adopt, reenroll_keyslot0)
// writes the primary copy with seqid + 1, then the secondary. If it was interrupted between the
// two, both copies are valid, the primary's seqid is exactly one more than the secondary's, and
// they differ only in the token (state, generation, derivation, hmac) and in keyslot 0 (its area
// and kdf: a re-enrolment). The secondary may be a header without a token (an interrupted
// adoption: the original as cryptsetup or an earlier cvminit wrote it, in its own JSON text)
// when the primary carries our token in state ready; the primary never lacks the token (nothing
// of ours removes it). inspect() accepts exactly that state, returns the primary's Volume and
// sets repair_secondary; the caller unlocks (which authenticates the primary) and then calls
// repair_secondary(). Any other difference between the copies is rejected ("header copies differ
// in ..."), and so is a copy with a bad checksum: this agent never picks one copy over another on
// its own.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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

// What a hybrid volume's keyslot 0 passphrase was derived with (the agent's sealing code computes
// the passphrase; the volume only stores this, authenticated, in its token). `policy` is one of
// POLICIES; `field_select` is SNP_GET_DERIVED_KEY's GUEST_FIELD_SELECT.
struct Derivation {
    std::string policy;
    uint64_t field_select{};
    uint32_t guest_svn{};
    uint64_t tcb_version{};
    bool operator==(const Derivation&) const = default;
};
inline constexpr std::string_view POLICIES[] = {"measurement-and-chip", "measurement-only", "chip-only"};

// A validated volume. Nothing in it is secret (the digest and hmac are public LUKS2 metadata).
// From inspect() every field is UNTRUSTED (structurally valid, written by whoever wrote the disk;
// the agent may report `generation` to the broker as a claim, nothing more); once unlock() has
// returned a key for it, every field is authenticated (see AUTHENTICATION).
struct Volume {
    uint64_t seqid{};
    std::string uuid;   // canonical lower-case form
    std::string label;  // "" when none
    uint64_t segment_offset{};
    uint64_t segment_size{};  // bytes; for "dynamic" the device size less the offset
    bool segment_size_dynamic{};
    uint32_t sector_size{};
    // The token:
    bool adopt{};                          // no token at all (ADOPTION): ready, generation 0, no hmac
    bool formatting{};                     // state "formatting" (first boot not finished), else "ready"
    uint64_t generation{};                 // bumped by every boot that opens the volume
    std::optional<Derivation> derivation;  // keyslot 0's passphrase is a hybrid one derived so
    std::array<uint8_t, 32> hmac{};
    uint64_t keyslots_size{};
    // Keyslot 0, opened by the broker's key or a hybrid passphrase:
    uint64_t keyslot_area_offset{}, keyslot_area_size{};
    std::optional<uint32_t> keyslot_priority;  // as found; absent means normal
    Pbkdf2Params keyslot_kdf;
    // Keyslot 1, the recovery keyslot (the broker's recovery key), when present:
    bool recovery_keyslot{};
    uint64_t recovery_area_offset{}, recovery_area_size{};
    Pbkdf2Params recovery_kdf;
    Pbkdf2Params digest_kdf;
    std::array<uint8_t, 32> digest{};
    bool operator==(const Volume&) const = default;
};

enum class HeaderState : uint8_t { Blank, Valid };

struct Inspection {
    HeaderState state{HeaderState::Blank};
    std::optional<Volume> volume;  // set exactly when Valid
    bool repair_secondary{};       // see the crash rule
    bool operator==(const Inspection&) const = default;
};

// Reads the first HEADERS_SIZE bytes of `dev` and judges them with parse_headers(). Errc::Io when
// the device is smaller or a read fails.
Result<Inspection> inspect(BlockDevice& dev);

// The pure judgement over both copies (`headers` is the device's first HEADERS_SIZE bytes) for a
// device of `device_size` bytes: Blank as BLANK above says (format() writes the primary binary
// header last, and all its non-zero content lies in its first 512 bytes; the secondary's binary
// header likewise last of the secondary), Valid, or an error. Writes nothing, checks no HMAC.
Result<Inspection> parse_headers(ByteView headers, uint64_t device_size);

// Opens keyslot `keyslot` (0, or 1 when the volume has the recovery keyslot; Errc::Config
// otherwise) with `passphrase` (PASSPHRASE_MIN..PASSPHRASE_MAX bytes, Errc::Config otherwise):
// PBKDF2-SHA256 gives the 64-byte area key, the area's first 256000 bytes are decrypted
// (aes-xts-plain64, 512-byte sectors, IV 0 at the area start) and AF-merged (LUKS1 AF, 4000
// stripes, SHA-256 diffuser), and the result is checked against the digest (Errc::Crypto "...does
// not open keyslot N"). Then the header's HMAC is checked with that key (Errc::Crypto "LUKS2
// header authentication failed: ... (edited by the host?)"). Returns the volume key only when
// both hold; Errc::Io when the area cannot be read. Every intermediate buffer is wiped. A volume
// without a token (volume.adopt) has no HMAC: the key is returned once the digest holds, and the
// header is authenticated by nothing until adopt() or reenroll_keyslot0() gives it our token.
Result<SecretBytes> unlock(BlockDevice& dev, const Volume& volume, ByteView passphrase, unsigned keyslot = 0);

// Checks volume.hmac against header_hmac(volume, volume_key): Errc::Crypto "LUKS2 header
// authentication failed: ..." naming `dev` otherwise, and for a volume without a token
// (volume.adopt), which has no HMAC. unlock() calls it; so does every rewrite of a volume with
// our token.
Result<void> authenticate(BlockDevice& dev, const Volume& volume, const SecretBytes& volume_key);

// The token's HMAC for `volume` (all its fields but `hmac`) under `volume_key`.
std::array<uint8_t, 32> header_hmac(const Volume& volume, ByteView volume_key);

// A fresh random RFC 9562 version 4 UUID in canonical lower-case form.
std::string random_uuid();

struct FormatOptions {
    uint32_t sector_size = 4096;                         // 512 or 4096
    uint32_t pbkdf2_iterations = PBKDF2_MIN_ITERATIONS;  // keyslots and digest alike
    uint64_t segment_offset = 16 << 20;                  // cryptsetup's default; a multiple of 4096,
                                                         // >= 290816, or 806912 with a recovery keyslot
    std::string label;                                   // printable ASCII, at most 47 bytes
    std::string uuid;                                    // canonical lower-case; "" for random_uuid()
    uint64_t generation = 1;                             // the token's generation
    std::optional<Derivation> derivation;                // stored in the token
};

// First boot, on a device inspect() calls Blank (Errc::Config otherwise, nothing written): a
// fresh random volume key and salts, keyslot 0 opened by `passphrase`, keyslot 1 opened by
// `recovery_passphrase` unless it is empty (lengths as for unlock; keyslot 1's area follows
// keyslot 0's, and a third area after it stays free for reenroll_keyslot0), a "dynamic" segment
// of whole sectors (Errc::Config when the device leaves none, or a partial one), and the token in
// state "formatting" with options.generation, options.derivation and its HMAC. Writes, flushing
// after each step: zeros over the keyslots area and the keyslots, the secondary JSON area, the
// secondary binary header, the primary JSON area, and last the primary binary header (the commit
// point). Then re-inspects and returns the Volume it reads back (seqid 1) and the volume key.
Result<std::pair<Volume, SecretBytes>> format(BlockDevice& dev, ByteView passphrase, const FormatOptions& options,
                                              ByteView recovery_passphrase = {});

// The rewrites. Each takes `volume` as unlock() authenticated it and `volume_key` from that
// unlock (the HMAC is checked again, or for a volume without a token the digest: Errc::Crypto
// when they do not match), checks that the
// device holds exactly `volume` (Valid, nothing to repair; Errc::Config otherwise, nothing
// written), rewrites the primary copy with seqid + 1 and a new HMAC, flushes, then the secondary,
// flushes, reads back and returns the new Volume. Interrupted between the copies, the next
// inspect() sees the crash rule's state.
//
// finish_formatting: state "formatting" -> "ready" (Errc::Config when already ready). Idempotent
// across the crash rule: when the device is already in the interrupted state that follows
// `volume`, it only repairs the secondary.
Result<Volume> finish_formatting(BlockDevice& dev, const Volume& volume, const SecretBytes& volume_key);
// set_generation: the token's generation becomes `generation` (state and all else kept).
// Errc::Config for a volume without a token (adopt() writes its first).
Result<Volume> set_generation(BlockDevice& dev, const Volume& volume, const SecretBytes& volume_key,
                              uint64_t generation);
// adopt: a volume without a token (volume.adopt; Errc::Config otherwise) gets our token, in state
// ready with `generation` (at least 1, Errc::Config otherwise), `derivation` (a policy of
// POLICIES, Errc::Config otherwise) and its HMAC, and both copies are written in the canonical
// form. There is no HMAC to check before: `volume_key` must open the digest instead (Errc::Crypto
// otherwise, nothing written), which proves it is the key the keyslots hold; everything else of
// `volume` is kept as inspect() read it (see ADOPTION for why that is safe).
Result<Volume> adopt(BlockDevice& dev, const Volume& volume, const SecretBytes& volume_key, uint64_t generation,
                     const std::optional<Derivation>& derivation);
// reenroll_keyslot0: after a recovery open (a volume moved to another chip), keyslot 0 is made
// anew for `new_passphrase` with fresh salts, in the first free AF-sized area of the keyslots area
// that overlaps neither keyslot (so the old keyslot 0 stays intact until the header commits), and
// the token gets `derivation` and `generation`. After both copies are written the old keyslot 0
// area is zeroed (an interrupted run leaves it, unreferenced). Requires the recovery keyslot
// (Errc::Config), and room for a third area (Errc::Config). A volume without a token is adopted
// by the same rewrite (its key checked against the digest, as adopt() does; state ready).
Result<Volume> reenroll_keyslot0(BlockDevice& dev, const Volume& volume, const SecretBytes& volume_key,
                                 ByteView new_passphrase, const std::optional<Derivation>& derivation,
                                 uint64_t generation);

// Rewrites the secondary copy from the primary after an interrupted rewrite: `volume` must be
// what inspect() returns now with repair_secondary set (Errc::Config otherwise, nothing written)
// and its HMAC must verify under `volume_key` (Errc::Crypto otherwise, nothing written). The
// secondary gets the primary's JSON bytes, seqid, label and uuid.
Result<void> repair_secondary(BlockDevice& dev, const Volume& volume, const SecretBytes& volume_key);

}  // namespace cvm::storage::luks2
