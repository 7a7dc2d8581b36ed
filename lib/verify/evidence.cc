#include "verify/evidence.h"

#include "snp/cert_table.h"
#include "snp/report.h"
#include "verify/certificate.h"

namespace cvm::verify {

namespace {

const snp::CertEntry* find(const std::vector<snp::CertEntry>& entries, snp::CertKind kind)
{
    for (const snp::CertEntry& e : entries) {
        if (e.kind == kind)
            return &e;
    }
    return nullptr;
}

// The entry SIGNING_KEY names; the report is only peeked at here; Verifier checks it fully.
snp::CertKind preferred_signer(ByteView report)
{
    auto parsed = snp::parse_report(report);
    if (parsed.ok() && parsed->signing_key == snp::SigningKey::Vlek)
        return snp::CertKind::Vlek;
    return snp::CertKind::Vcek;
}

}  // namespace

Result<Evidence> evidence_from_cert_table(ByteView report, ByteView table)
{
    std::vector<snp::CertEntry> entries = TRY(snp::parse_cert_table(table));
    const snp::CertEntry* vcek = find(entries, snp::CertKind::Vcek);
    const snp::CertEntry* vlek = find(entries, snp::CertKind::Vlek);
    const snp::CertEntry* vek = vcek ? vcek : vlek;
    if (vcek && vlek)
        vek = preferred_signer(report) == snp::CertKind::Vlek ? vlek : vcek;
    if (!vek)
        return Error::make(Errc::Format, "certificate table has no VCEK (%s) or VLEK (%s) entry",
                           snp::guid_to_string(snp::GUID_VCEK).c_str(), snp::guid_to_string(snp::GUID_VLEK).c_str());
    Evidence out;
    out.report.assign(report.begin(), report.end());
    out.vek = vek->der;
    if (const snp::CertEntry* ask = find(entries, snp::CertKind::Ask))
        out.ask = ask->der;
    if (const snp::CertEntry* ark = find(entries, snp::CertKind::Ark))
        out.ark = ark->der;
    return out;
}

Result<void> add_chain_pem(Evidence& evidence, std::string_view pem)
{
    std::vector<Certificate> certs = TRY(Certificate::parse_pem_bundle(pem));
    if (certs.size() > 2)
        return Error::make(Errc::Format, "certificate chain holds %zu certificates, expected an ASK and/or an ARK",
                           certs.size());
    for (const Certificate& cert : certs) {
        const bool root = cert.self_issued();
        Bytes& slot = root ? evidence.ark : evidence.ask;
        if (!slot.empty())
            return Error::make(Errc::Format, "certificate chain: a second %s certificate",
                               root ? "ARK (self-issued)" : "ASK");
        ByteView der = cert.der();
        slot.assign(der.begin(), der.end());
    }
    return {};
}

Result<Evidence> evidence_from_cert_list(ByteView report, std::span<const Bytes> ders)
{
    if (ders.size() > 3)
        return Error::make(Errc::Format, "%zu certificates, expected at most a VEK, an ASK and an ARK", ders.size());
    Evidence out;
    out.report.assign(report.begin(), report.end());
    for (size_t i = 0; i < ders.size(); ++i) {
        Certificate cert = TRY_PREFIX(Certificate::parse_der(ders[i]), "certificate %zu", i);
        const char* role = cert.self_issued() ? "ARK (self-issued)" : cert.is_ca() ? "ASK (CA)" : "VEK (not a CA)";
        Bytes& slot = cert.self_issued() ? out.ark : cert.is_ca() ? out.ask : out.vek;
        if (!slot.empty())
            return Error::make(Errc::Format, "certificate %zu: a second %s certificate", i, role);
        slot = ders[i];
    }
    return out;
}

}  // namespace cvm::verify
