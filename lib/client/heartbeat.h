// The agent's side of the cvmkb/1 heartbeat (docs/cvmkb-1.md §9; proto/heartbeat.h): a fresh
// challenge, a fresh X25519 key (bound in REPORT_DATA as in attest, never used to open
// anything: a heartbeat releases nothing, so no key of the boot outlives the handoff), a fresh
// report through `evidence`, the POST, and the broker's verdict checked with the pinned key over
// the exact body sent.
//
// Returns the verdict only when it is the broker's signed verdict on this request: accepted, or
// refused with its error object. Everything else is an Error, never a verdict: transport
// failures (the net layer's errors), an unsigned error object (anyone on the path could have
// written it: Errc::Network "unsigned refusal ..."), a signature that does not verify
// (Errc::Crypto), and the `evidence` callback's own error (returned as it is).
#pragma once

#include <functional>
#include <vector>

#include "net/http_client.h"
#include "proto/heartbeat.h"
#include "proto/keys.h"

namespace cvm::client {

struct HeartbeatOptions {
    std::string broker_url;  // http(s)://host[:port], no path
    proto::Ed25519PublicKey broker_key{};
    int64_t interval{0};  // seconds, declared to the broker
    net::HttpOptions http;
};

struct HeartbeatEvidence {
    Bytes report;
    std::vector<Bytes> certs;  // DER
};
using EvidenceSource = std::function<Result<HeartbeatEvidence>(const proto::ReportData& report_data)>;

Result<proto::HeartbeatVerdict> heartbeat(const HeartbeatOptions& options, const EvidenceSource& evidence);

// Whether a signed refusal is the broker's judgement of the evidence itself (the report's
// format, binding, signature, chain or policy), which the agent may act on; false for refusals
// of the exchange (nonce, store, KDS, internal), which a retry at the next interval may cure
// and which someone replaying the request could provoke.
bool is_evidence_refusal(proto::ErrorCode code);

}  // namespace cvm::client
