// Verifier: evidence -> Verification, with AMD's roots built in and the RSA work cached.
//
// Order (report.md §3.6): parse the report and its signer -> parse the VEK and its AMD
// extensions -> product line -> root, ASK/ASVK, VEK (chain.h) -> dates -> revocation (crl.h)
// -> VEK extensions against the report (binding.h) -> ECDSA report signature. Every step yields claims
// (verification.h); the first failure does not stop the others, so one run shows every bad field.
//
// Product line: VerifyOptions::product when given; else the report's CPUID (version 3 and later);
// else the VEK's productName; else the product whose built-in ASK/ASVK subject is the VEK's
// issuer. Whatever decides it, vek.product requires productName and CPUID to agree with it.
//
// Root: an ARK in the evidence must be the pinned ARK of that product or one of the caller's
// trusted roots, byte for byte. Without one, the root is the pinned ARK of the product when its
// Name issued the ASK, else the caller's trusted root whose Name did. Validity dates are checked
// only when VerifyOptions::now is set.
//
// Revocation: chain.revocation is always present. It passes with found "disabled by <who>"
// when VerifyOptions::revocation_off_by is set; it is not checked when the chain is incomplete
// or the root failed; otherwise Evidence::crl must be the root's CRL (AMD's for a pinned ARK,
// the caller's for a caller-supplied root: same rules), current at VerifyOptions::crl_now or the
// system clock, listing neither the ASK/ASVK nor the VEK serial. A missing CRL fails the claim.
//
// Caching: a passing ARK -> ASK/ASVK pair is remembered by (ARK, ASK, kind) fingerprints, and a
// passing VEK certificate by (VEK, ASK, kind), so repeated verification with the same VCEK costs
// one ECDSA verification; a passing CRL signature is remembered by (CRL, ARK) fingerprints, its
// dates and serials checked on every call. Failures are never cached.
//
// Cost under attack: every issuer key must have AMD's shape before a signature is computed with
// it (signatures.h), and a failed ARK or ASK/ASVK ends the chain (chain.vek is not checked under
// it), so a hostile chain costs at most the RSA-4096 check of its ASK under a trusted root, and
// a hostile CRL one more RSA-4096 check (under a trusted root only; its size is bounded first).
//
// Thread-safe and parallel: concurrent verify() calls share no lock but the cache's short one
// (cache.h), so N threads do about N times the work of one on N cores.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "verify/evidence.h"
#include "verify/verification.h"

namespace cvm::verify {

struct VerifierOptions {
    // Roots trusted in addition to AMD's built-in ARKs (the simulated ARK of `cvm sim`). Each must
    // pass the root rules (self-signed RSA-4096 RSASSA-PSS CA certificate, chain.h) at create().
    std::vector<Certificate> trusted_roots;
    size_t vek_cache_capacity = 256;  // oldest entries are evicted first
};

struct VerifyOptions {
    // The product line the evidence must be for; nullopt: as the evidence says (see above).
    std::optional<snp::Product> product;
    // When set (seconds since the epoch, UTC), every certificate must be valid at this time.
    std::optional<std::time_t> now;
    // Revocation (claim chain.revocation) is checked unless `revocation_off_by` names who turned
    // it off ("--no-revocation", "policy revocation = false"); then the claim passes with found
    // "disabled by <who>", so the choice shows in every verdict. Never silently skipped.
    std::string revocation_off_by;
    // The time the CRL's thisUpdate/nextUpdate are checked against; nullopt: the system clock at
    // verify(). (A CRL is only as fresh as this clock says: docs/verify.md.)
    std::optional<std::time_t> crl_now;
};

// Counters are cumulative over the Verifier's life; clear_cache() empties the cache, not them.
struct CacheStats {
    uint64_t chain_hits{0}, chain_misses{0};  // ARK -> ASK/ASVK pairs
    uint64_t vek_hits{0}, vek_misses{0};      // VEK certificates
    size_t vek_entries{0};
};

class Verifier {
public:
    // Loads the nine built-in AMD certificates, checking each against its pinned fingerprint
    // (Errc::Chain on a mismatch: a build defect), and checks every caller-supplied root
    // (Errc::Config naming the root and the broken rule).
    static Result<std::unique_ptr<Verifier>> create(VerifierOptions options = {});

    ~Verifier();
    Verifier(const Verifier&) = delete;
    Verifier& operator=(const Verifier&) = delete;

    // Never fails as a call: every problem is a failing claim. See Verification::status().
    Verification verify(const Evidence& evidence, const VerifyOptions& options = {});

    // Forgets every cached chain and VEK, so the next verify() does the cold RSA work again.
    void clear_cache();
    CacheStats cache_stats() const;

    struct State;  // implementation detail, public so the helpers in verifier.cc can name it

private:
    explicit Verifier(std::unique_ptr<State> state);
    std::unique_ptr<State> m_state;
};

}  // namespace cvm::verify
