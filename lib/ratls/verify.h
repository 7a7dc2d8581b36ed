// Verifying an RA-TLS certificate's evidence (docs/ratls.md "The verifier's rules").
//
// verify_certificate() checks what a certificate's id-pe-cmw extension claims about the
// certificate: that its subject report binds the certificate's own key (and the nonce the
// verifier expects), that its issuer report binds the key that signed it, that the signature
// verifies under that key, and that both reports come from one launch. It does not decide which
// launches are acceptable: the caller evaluates its policy (lib/policy) on
// `subject.verified_report()` (the issuer report is from the same launch when every claim
// passes), exactly as for any other report. Nor does it prove that the peer holds the
// certificate's private key: the TLS handshake does (CertificateVerify, RFC 8446 §4.4.3).
//
// Claims, each present on every call, in this order (a claim that could not be evaluated
// because its input is missing or failed is present and failing with found "not checked"):
//
//   ratls.subject_binding  the subject evidence's binding is expect.binding, and its report's
//                          REPORT_DATA equals that binding (proto/tags.h) over the certificate's
//                          SPKI and the evidence's nonce
//   ratls.nonce            the evidence's nonce equals expect.nonce; passes with found
//                          "not requested" when expect.nonce is nullopt
//   ratls.issuer_binding   self-signed: passes with found "self-signed"; otherwise the issuer
//                          evidence's binding is AGENT_KEY_TAG and its REPORT_DATA binds the
//                          issuer SPKI it carries
//   ratls.signature        the certificate's signature verifies under the issuer evidence's SPKI,
//                          or under its own SPKI when there is no issuer evidence
//   ratls.same_launch      self-signed: passes with found "self-signed"; otherwise MEASUREMENT,
//                          HOST_DATA, REPORT_ID, CHIP_ID and POLICY of both reports are equal
//
// Every failing claim names the value found and the value expected. `subject` and `issuer` are
// the verify layer's own outcomes (chain, report signature, VEK binding) for each report.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/claim.h"
#include "ratls/ratls.h"
#include "verify/evidence.h"
#include "verify/verification.h"
#include "verify/verifier.h"

namespace cvm::ratls {

struct Expectation {
    // The tag the subject evidence must carry (proto/tags.h): WORKLOAD_RATLS_TAG for a workload's
    // server certificate, RATLS_BROKER_TAG for the agent's client certificate at the broker,
    // AGENT_KEY_TAG for the agent's self-signed certificate. Required: a certificate is never
    // accepted for whatever binding it happens to name.
    std::string binding;
    // The nonce the subject evidence must have been made with (for RATLS_BROKER_TAG: the cvmkb/1
    // report_data, 64 bytes); nullopt: not checked, and ratls.nonce says so.
    std::optional<Bytes> nonce;
};

struct RatlsVerification {
    std::vector<Claim> claims;                   // the ratls.* claims above, each present
    verify::Verification subject;                // the subject report (chain, signature, VEK)
    std::optional<verify::Verification> issuer;  // the issuer report; nullopt when self-signed
    // Every claim of `claims`, `subject` and `issuer` (when present) passes.
    bool pass() const;
    // The claim named `name` among the three lists, or null.
    const Claim* find(std::string_view name) const;
};

// Called with each report's verify::Evidence (built from the CertEvidence's report and certs)
// just before it is verified, so the caller can add what the certificate does not carry: the
// CRL (VerifyOptions' revocation rules apply), or the VEK from KDS when it is absent.
using CompleteEvidence = std::function<void(verify::Evidence&)>;

// Never fails as a call: every problem is a failing claim (a malformed certificate never gets
// here: parse_certificate refuses it).
RatlsVerification verify_certificate(const Certificate& cert, const Expectation& expect, verify::Verifier& verifier,
                                     const verify::VerifyOptions& options, const CompleteEvidence& complete = {});

}  // namespace cvm::ratls
