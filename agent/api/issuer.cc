#include "api/issuer.h"

#include "proto/tags.h"
#include "snp/cert_table.h"

namespace cvm::agent::api {

Result<std::vector<Bytes>> ordered_certificates(const Evidence& evidence, Ark ark)
{
    std::vector<Bytes> out;
    if (evidence.cert_table.empty())
        return out;
    auto entries = TRY_PREFIX(snp::parse_cert_table(evidence.cert_table), "certificate table");
    for (snp::CertKind kind : {snp::CertKind::Vcek, snp::CertKind::Vlek, snp::CertKind::Ask, snp::CertKind::Ark}) {
        if (kind == snp::CertKind::Ark && ark == Ark::Omit)
            continue;
        for (const snp::CertEntry& entry : entries) {
            if (entry.kind == kind && out.size() < ratls::MAX_CERTS_PER_EVIDENCE)
                out.push_back(entry.der);
        }
    }
    return out;
}

Result<ratls::CertEvidence> cert_evidence(const Evidence& evidence, std::string_view binding, ByteView nonce)
{
    ratls::CertEvidence out;
    out.report = evidence.report;
    out.certs = TRY(ordered_certificates(evidence, Ark::Omit));
    out.binding.assign(binding);
    out.nonce.assign(nonce.begin(), nonce.end());
    out.provider = evidence.provider;
    return out;
}

Result<std::unique_ptr<AgentIssuer>> AgentIssuer::create(ProviderGate& gate, WallClock now)
{
    auto key = TRY_PREFIX(ratls::KeyPair::generate(), "the agent's certificate key");
    if (!now)
        now = [] { return std::time(nullptr); };
    return std::unique_ptr<AgentIssuer>(new AgentIssuer(gate, std::move(key), std::move(now)));
}

Result<void> AgentIssuer::make_issuer_certificate(GateFailure* failure)
{
    ByteView spki = m_key->spki_der();
    Evidence evidence = TRY(m_gate.get_report(proto::agent_key(spki), failure));
    ratls::EvidenceSet set;
    set.subject = TRY(cert_evidence(evidence, proto::AGENT_KEY_TAG, {}));
    std::time_t now = m_now();
    m_issuer_der = TRY_PREFIX(m_key->issue({}, ratls::AGENT_CN, {}, set, now - BACKDATE_S, now + ISSUER_LIFETIME_S),
                              "the agent's issuer certificate");
    ratls::CertEvidence issuer = std::move(set.subject);
    issuer.spki.assign(spki.begin(), spki.end());
    m_evidence = std::move(issuer);
    return {};
}

Result<AgentIssuer::Issued> AgentIssuer::issue(ByteView spki_der, const std::vector<std::string>& dns_names,
                                               ByteView nonce, GateFailure* failure)
{
    std::lock_guard lock(m_mutex);
    if (failure)
        *failure = GateFailure::None;
    if (m_issuer_der.empty())
        TRY(make_issuer_certificate(failure));
    Evidence evidence = TRY(m_gate.get_report(proto::workload_ratls(spki_der, nonce), failure));
    ratls::EvidenceSet set;
    set.subject = TRY(cert_evidence(evidence, proto::WORKLOAD_RATLS_TAG, nonce));
    set.issuer = m_evidence;
    std::time_t now = m_now();
    Issued issued;
    issued.certificate =
        TRY_PREFIX(m_key->issue(spki_der, dns_names.front(), dns_names, set, now - BACKDATE_S, now + LEAF_LIFETIME_S),
                   "the workload's certificate");
    issued.issuer = m_issuer_der;
    return issued;
}

}  // namespace cvm::agent::api
