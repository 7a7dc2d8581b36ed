// Crl: an owning, immutable X.509 certificate revocation list (RAII over mbedtls_x509_crl), and
// the claim chain.revocation that checks a chain against one.
//
// AMD publishes one CRL per product line and key family (KDS spec 57230 §4: /vcek/v1/{product}/crl
// and /vlek/v1/{product}/crl), issued and signed by the product's ARK, listing revoked ASK/ASVK
// and VLEK serials.
//
// Scope: AMD issues every VCEK with serial 0 and does not revoke VCEKs; a VCEK for a vulnerable
// firmware is superseded by TCB instead (a newer TCB, a new VCEK; the policy's TCB minimums judge
// the old one; ../shared/reference/report.md §3.3). So for VCEK evidence the CRL protects against
// a revoked ASK, and a listed serial 0 would revoke every VCEK of the product at once; VLEKs have
// real serials and are revocable one by one. Both serials are looked up either way.
//
// Parsing is strict where mbedTLS is lenient: exactly one CRL, DER or a single PEM "X509 CRL"
// block with only whitespace around it, no trailing bytes, version 2, nextUpdate present, at
// most CRL_MAX_DER_SIZE bytes (mbedTLS allocates per entry, so the size bounds the work).
#pragma once

#include <cstddef>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "base/bytes.h"
#include "base/claim.h"
#include "base/result.h"
#include "verify/certificate.h"
#include "verify/chain.h"

struct mbedtls_x509_crl;

namespace cvm::verify {

// AMD's CRLs are about 1-2 KiB; 64 KiB admits a few thousand revoked serials.
inline constexpr size_t CRL_MAX_DER_SIZE = 64 * 1024;
inline constexpr size_t CRL_MAX_PEM_SIZE = CRL_MAX_DER_SIZE * 2;

class Crl {
public:
    // Exactly one DER CRL. Errc::Format naming the bound, the mbedTLS error, the version found or
    // the missing nextUpdate.
    static Result<Crl> parse_der(ByteView der);
    // DER, or one PEM "X509 CRL" block (detected by a leading "-----BEGIN" after whitespace).
    static Result<Crl> parse(ByteView der_or_pem);

    Crl(Crl&&) noexcept;
    Crl& operator=(Crl&&) noexcept;
    ~Crl();

    ByteView der() const;
    const Fingerprint& fingerprint() const { return m_fingerprint; }
    // The DER Name of the issuer, tag included, for a byte-for-byte comparison with the ARK's.
    ByteView issuer_raw() const;
    // "2026-12-05T11:00:00Z"
    std::string this_update() const;
    std::string next_update() const;
    // thisUpdate <= now / now <= nextUpdate (UTC).
    bool started_by(std::time_t now) const;
    bool current_at(std::time_t now) const;
    std::optional<std::time_t> next_update_time() const;
    size_t entries() const { return m_entries; }
    // The revocationDate ("2026-...Z") of the certificate whose serialNumber is `serial` (the
    // INTEGER content bytes as mbedTLS keeps them; leading zero bytes do not matter), or nullopt.
    std::optional<std::string> revoked(ByteView serial) const;

    // The parsed CRL, for the signature code in this layer. Not for other layers.
    const mbedtls_x509_crl& crl() const { return *m_crl; }

private:
    struct Free {
        void operator()(mbedtls_x509_crl* crl) const;
    };
    Crl() = default;

    std::unique_ptr<mbedtls_x509_crl, Free> m_crl;
    Fingerprint m_fingerprint{};
    size_t m_entries{0};
};

// "0x10001": a serialNumber's INTEGER content bytes as hex without leading zeros.
std::string serial_hex(ByteView serial);

// `crl` declares RSASSA-PSS/SHA-384/MGF1-SHA-384/salt 48, `ark`'s key is RSA-4096 e=65537, and
// then the signature over the TBSCertList verifies under it. Errc::Chain naming what differs.
Result<void> check_crl_signature(const Crl& crl, const Certificate& ark);

// Passing CRL signature checks, by (CRL fingerprint, ARK fingerprint), so a broker verifying the
// same CRL per request pays its RSA verification once. Dates and serials are not cached: they
// are checked on every call. Thread-safe; bounded (emptied when full).
class CrlSignatureCache {
public:
    bool contains(const Fingerprint& crl, const Fingerprint& ark) const;
    void put(const Fingerprint& crl, const Fingerprint& ark);
    void clear();

private:
    static constexpr size_t CAPACITY = 64;
    mutable std::mutex m_mutex;
    std::set<std::pair<Fingerprint, Fingerprint>> m_passed;
};

// What chain.revocation expects, as its claims say it.
inline constexpr const char* REVOCATION_EXPECTED =
    "a CRL signed by the ARK (RSASSA-PSS SHA-384), current, listing neither the ASK/ASVK nor the VEK serial";

// The claim chain.revocation for the chain `ark` -> `ask` -> `vek` (the ARK already trusted) and
// the CRL bytes `crl_bytes` (DER or PEM; empty: no CRL), at `now`. Rules in order, the first
// broken one deciding the claim: a CRL is present; it parses; its issuer Name equals the ARK's
// subject byte for byte; its signature is AMD's RSASSA-PSS by the ARK (looked up in, and on
// success added to, `cache` when given); thisUpdate <= now <= nextUpdate; neither the ASK/ASVK
// serial nor the VEK serial is listed ("serial 0x10001 (ASK) revoked 2026-..."). A hostile CRL
// costs at most one RSA-4096 verification. `anchor` and `kind` only word the messages (where to
// get a missing CRL; ASK or ASVK, VCEK or VLEK).
Claim check_revocation(ByteView crl_bytes, const Certificate& ark, const Certificate& ask, const Certificate& vek,
                       std::time_t now, Anchor anchor, VekKind kind, CrlSignatureCache* cache);

}  // namespace cvm::verify
