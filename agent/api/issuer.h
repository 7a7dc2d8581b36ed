// The agent's per-boot certificate issuer for POST /v1/tls-certificate (docs/agent-api.md,
// lib/ratls/ratls.h): a P-256 key generated at handoff that never leaves the agent's memory, and
// its self-signed certificate carrying a report bound to the key's SPKI under
// proto::AGENT_KEY_TAG, made once (on the first request) and reused for every leaf of this boot.
// Each leaf carries a fresh report bound to the workload key's SPKI and nonce under
// proto::WORKLOAD_RATLS_TAG, plus the issuer's evidence, and is signed by the per-boot key.
//
// Reports come through the ProviderGate, so a provider error is reported once and never retried
// (`failure` says whether the provider failed or the gate was already closed).
#pragma once

#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/provider_gate.h"
#include "base/bytes.h"
#include "base/result.h"
#include "ratls/ratls.h"

namespace cvm::agent::api {

inline constexpr std::time_t ISSUER_LIFETIME_S = 365 * 24 * 3600;
inline constexpr std::time_t LEAF_LIFETIME_S = 30 * 24 * 3600;
inline constexpr std::time_t BACKDATE_S = 3600;  // the guest's clock is the host's to set

// Whether ordered_certificates() includes the ARK.
enum class Ark : uint8_t { Include, Omit };

// The certificates of an evidence's table in the order a verifier expects them (VEK, then
// ASK/ASVK, then ARK unless Ark::Omit; unknown GUIDs left out), at most
// ratls::MAX_CERTS_PER_EVIDENCE.
Result<std::vector<Bytes>> ordered_certificates(const Evidence& evidence, Ark ark = Ark::Include);

// An Evidence as a certificate extension carries it: without the ARK, which the verifier brings
// as its trust anchor (AMD's pinned roots, or --trusted-root) and which, twice in one leaf (its
// evidence and its issuer's), would take the certificate past 16 KiB: more than mbedTLS can send
// or receive as one TLS Certificate message (library/ssl_misc.h: MBEDTLS_SSL_OUT_CONTENT_LEN and
// MBEDTLS_SSL_IN_CONTENT_LEN at most 16384; outgoing handshake messages are not fragmented).
Result<ratls::CertEvidence> cert_evidence(const Evidence& evidence, std::string_view binding, ByteView nonce);

class AgentIssuer {
public:
    using WallClock = std::function<std::time_t()>;
    // Generates the key pair. `gate` must outlive the issuer; `now` is time() unless a test sets it.
    static Result<std::unique_ptr<AgentIssuer>> create(ProviderGate& gate, WallClock now = {});

    struct Issued {
        Bytes certificate;  // DER, the leaf for the workload's key
        Bytes issuer;       // DER, the agent key's self-signed certificate
    };
    // The leaf for `spki_der` (already checked by ratls::subject_spki_from_pem) with `dns_names`
    // (checked by check_dns_name) and `nonce` (0..proto::MAX_RATLS_NONCE bytes). Serialized: one
    // certificate at a time.
    Result<Issued> issue(ByteView spki_der, const std::vector<std::string>& dns_names, ByteView nonce,
                         GateFailure* failure);

    ByteView spki_der() const { return m_key->spki_der(); }

private:
    AgentIssuer(ProviderGate& gate, std::unique_ptr<ratls::KeyPair> key, WallClock now)
            : m_gate(gate), m_key(std::move(key)), m_now(std::move(now))
    {
    }
    Result<void> make_issuer_certificate(GateFailure* failure);

    ProviderGate& m_gate;
    std::unique_ptr<ratls::KeyPair> m_key;
    WallClock m_now;
    std::mutex m_mutex;
    Bytes m_issuer_der;                             // empty until the first request
    std::optional<ratls::CertEvidence> m_evidence;  // the issuer's, with its SPKI, for every leaf
};

}  // namespace cvm::agent::api
