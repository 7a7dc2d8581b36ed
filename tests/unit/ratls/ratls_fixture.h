// Shared by the RA-TLS tests: real simulated evidence (sim::SimulatedPsp on the sim tests'
// Genoa platform) for an agent key and a workload key, the certificates the agent issues with
// it, and a verifier that trusts the platform and checks revocation against its CRL.
#pragma once

#include <memory>
#include <string>

#include "../sim/sim_fixture.h"
#include "proto/tags.h"
#include "ratls/ratls.h"
#include "ratls/verify.h"

namespace cvm::test {

// One launch: a PSP, the agent's per-boot key and its evidence (AGENT_KEY_TAG over its SPKI).
struct RatlsLaunch {
    sim::SimulatedPsp psp;
    std::unique_ptr<ratls::KeyPair> agent;
    ratls::CertEvidence agent_evidence;  // with spki set: usable as a certificate's issuer evidence
};

// Made once per executable: the launch every test uses, and a second launch of the same
// platform with another MEASUREMENT (for "different launch" cases).
const RatlsLaunch& launch();
const RatlsLaunch& other_launch();

// Evidence from `psp` whose REPORT_DATA is `report_data`, with the platform's VCEK, ASK, ARK.
ratls::CertEvidence evidence(const sim::SimulatedPsp& psp, const proto::ReportData& report_data,
                             std::string_view binding, ByteView nonce = {});

// The workload's evidence under WORKLOAD_RATLS_TAG for `spki` and `nonce`, from `l`.
ratls::CertEvidence workload_evidence(const RatlsLaunch& l, ByteView spki, ByteView nonce);

// A leaf for `spki` signed by `l`'s agent key with issuer evidence, DER; fails the test on error.
Bytes issue_leaf(const RatlsLaunch& l, ByteView spki, ByteView nonce,
                 const std::vector<std::string>& dns = {"app.example"});
// The agent's self-signed certificate of `l`.
Bytes self_signed(const RatlsLaunch& l);

ratls::Certificate parse(ByteView der);

// A fresh workload key's SPKI: P-256 (a KeyPair) or Ed25519 (libsodium).
Bytes p256_spki();
Bytes ed25519_spki();

// Verifies with a verifier trusting genoa(), revocation checked against its CRL.
ratls::RatlsVerification check(const ratls::Certificate& cert, const ratls::Expectation& expect);

// "name pass|FAIL found=... expected=..." for every ratls.* claim, and the names that fail
// among all three lists.
std::string dump(const ratls::RatlsVerification& v);
std::vector<std::string> failing(const ratls::RatlsVerification& v);

inline constexpr std::time_t NOT_BEFORE = 1767225600;  // 2026-01-01
inline constexpr std::time_t NOT_AFTER = 1798761600;   // 2027-01-01

}  // namespace cvm::test
