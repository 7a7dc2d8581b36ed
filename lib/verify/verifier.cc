#include "verify/verifier.h"

#include "snp/amd_extensions.h"
#include "verify/binding.h"
#include "verify/cache.h"
#include "verify/chain.h"
#include "verify/crl.h"
#include "verify/rules.h"
#include "verify/selection.h"
#include "verify/signatures.h"

namespace cvm::verify {

// Shared by concurrent verify() calls: the trust is read-only after create(), the cache locks
// itself briefly, and each signature check parses its own key context (signatures.h), so no lock
// is held across any cryptography.
struct Verifier::State {
    const Trust trust;
    VerificationCache cache;
    CrlSignatureCache crl_cache;

    State(Trust t, size_t capacity) : trust(std::move(t)), cache(capacity) {}
};

namespace {

constexpr const char* REPORT_SIGNATURE = "ECDSA P-384/SHA-384 over report bytes [0x000, 0x2A0) by the VEK";

// One verify() call: the partial results of each step, so that later steps can run, or say why
// they cannot, when an earlier one failed.
class Run {
public:
    Run(Verifier::State& state, const Evidence& evidence, const VerifyOptions& options)
            : m_state(state), m_evidence(evidence), m_options(options)
    {
    }

    Verification go();

private:
    void report_claims();
    void chain_claims(const Selection& sel);
    void revocation_claim(const Selection& sel);
    void binding_claims();
    void signature_claim();
    void add(Claim c) { m_out.claims.push_back(std::move(c)); }

    Verifier::State& m_state;
    const Evidence& m_evidence;
    const VerifyOptions& m_options;
    Verification m_out;
    std::optional<Certificate> m_vek;
    std::string m_vek_error;                        // why m_vek is empty
    std::shared_ptr<const ReportKey> m_report_key;  // m_vek's key, once chain.vek passed
    std::optional<snp::AmdExtensions> m_ext;
    std::string m_ext_error;
    bool m_ark_passed{false};  // the root passed its rules: a CRL may be checked under it
};

Verification Run::go()
{
    const bool have_report = !m_evidence.report.empty();
    if (have_report)
        report_claims();
    if (m_evidence.vek.empty()) {
        m_vek_error = "the evidence has no VCEK/VLEK certificate";
    } else if (auto vek = Certificate::parse(m_evidence.vek); vek.ok()) {
        m_vek = vek.release_value();
        auto ext = snp::parse_amd_extensions(m_vek->extensions());
        if (ext.ok())
            m_ext = ext.release_value();
        else
            m_ext_error = std::string(ext.error().message());
    } else {
        m_vek_error = std::string(vek.error().message());
    }
    if (!m_vek)
        m_ext_error = "no VEK certificate: " + m_vek_error;

    const snp::AttestationReport* report = m_out.report ? &*m_out.report : nullptr;
    m_out.vek_kind = decide_kind(report, m_vek ? &*m_vek : nullptr);
    m_out.product = decide_product(m_state.trust, m_options.product, report, m_vek ? &*m_vek : nullptr,
                                   m_ext ? &*m_ext : nullptr, *m_out.vek_kind);
    Selection sel;
    select_chain(sel, m_state.trust, m_evidence, m_out.product, *m_out.vek_kind);
    m_out.anchor = sel.anchor;
    chain_claims(sel);
    if (m_options.now) {
        if (sel.ark && sel.ask && m_vek)
            add(check_validity(*sel.ark, *sel.ask, *m_vek, *m_options.now));
        else
            add(not_checked("chain.validity", "valid at the time given", "the chain is incomplete"));
    }
    revocation_claim(sel);
    binding_claims();
    if (have_report)
        signature_claim();
    return std::move(m_out);
}

void Run::report_claims()
{
    auto report = snp::parse_report(m_evidence.report);
    if (!report.ok()) {
        add(make_claim("report.format", false, std::to_string(m_evidence.report.size()) + " bytes, not a valid report",
                       "ATTESTATION_REPORT version 2, 3, 4 or 5", std::string(report.error().message())));
        add(not_checked("report.signing_key", "SIGNING_KEY VCEK or VLEK", "the report did not parse"));
        return;
    }
    add(make_claim("report.format", true, "version " + std::to_string(report->version),
                   "ATTESTATION_REPORT version 2, 3, 4 or 5", "well-formed, reserved fields zero"));
    add(check_signing_key(report.value()));
    m_out.report = report.release_value();
}

void Run::chain_claims(const Selection& sel)
{
    const VekKind kind = *m_out.vek_kind;
    bool ask_passed = false;  // the ARK and the ASK/ASVK under it passed every rule
    if (!sel.ark) {
        add(sel.ark_failure);
        add(sel.ask ? not_checked("chain.ask", "ASK/ASVK signed by a trusted root", "no trusted root")
                    : sel.ask_failure);
    } else if (!sel.ask) {
        Claim ark = check_ark(*sel.ark, *sel.anchor, m_out.product);
        m_ark_passed = ark.pass;
        add(std::move(ark));
        add(sel.ask_failure);
    } else if (auto cached = m_state.cache.find_chain(
                   cache_key(sel.ark->fingerprint(), sel.ask->fingerprint(), kind, *sel.anchor))) {
        ask_passed = m_ark_passed = true;
        add(std::move(cached->first));
        add(std::move(cached->second));
    } else {
        Claim ark = check_ark(*sel.ark, *sel.anchor, m_out.product);
        Claim ask = check_intermediate(*sel.ask, *sel.ark, kind, *sel.anchor, m_out.product);
        m_ark_passed = ark.pass;
        ask_passed = ark.pass && ask.pass;
        if (ask_passed)
            m_state.cache.put_chain(cache_key(sel.ark->fingerprint(), sel.ask->fingerprint(), kind, *sel.anchor), ark,
                                    ask);
        add(std::move(ark));
        add(std::move(ask));
    }
    std::string want = std::string(amd_common_name(kind)) + " signed by the ASK/ASVK";
    if (!m_vek) {
        add(make_claim("chain.vek", false, "no usable certificate", want, m_vek_error));
    } else if (!sel.ask) {
        add(not_checked("chain.vek", want, "no ASK/ASVK to check it against"));
    } else if (!ask_passed) {
        // A failed ASK ends the chain: nothing is verified under a key we do not trust, so a
        // hostile intermediate costs no signature computation.
        add(not_checked("chain.vek", want, "the ASK/ASVK or its root failed its checks"));
    } else {
        CacheKey key = cache_key(m_vek->fingerprint(), sel.ask->fingerprint(), kind);
        if (auto cached = m_state.cache.find_vek(key)) {
            m_report_key = std::move(cached->key);
            add(std::move(cached->claim));
        } else {
            Claim vek = check_vek_certificate(*m_vek, *sel.ask, kind);
            // A passing VEK has a P-384 key (chain.h), so create() fails only when mbedTLS cannot
            // load it; then nothing is cached and the signature check reports why.
            if (vek.pass) {
                if (auto report_key = ReportKey::create(*m_vek)) {
                    m_report_key = report_key.release_value();
                    m_state.cache.put_vek(key, {vek, m_report_key});
                }
            }
            add(std::move(vek));
        }
    }
}

void Run::revocation_claim(const Selection& sel)
{
    const std::string& who = m_options.revocation_off_by;
    if (!who.empty())
        return add(make_claim("chain.revocation", true, "disabled by " + who, REVOCATION_EXPECTED,
                              "revocation checking turned off by " + who +
                                  ": a revoked ASK/ASVK or VEK would not be noticed"));
    if (!sel.ark || !sel.ask || !m_vek)
        return add(not_checked("chain.revocation", REVOCATION_EXPECTED, "the chain is incomplete"));
    if (!m_ark_passed)  // no CRL signature is computed under a key we do not trust
        return add(not_checked("chain.revocation", REVOCATION_EXPECTED, "the root failed its checks"));
    std::time_t now = m_options.crl_now.value_or(time(nullptr));
    add(check_revocation(m_evidence.crl, *sel.ark, *sel.ask, *m_vek, now, *sel.anchor, *m_out.vek_kind,
                         &m_state.crl_cache));
}

void Run::binding_claims()
{
    const bool have_report = !m_evidence.report.empty();
    const snp::AttestationReport* report = m_out.report ? &*m_out.report : nullptr;
    std::string why = !m_ext ? m_ext_error : !m_out.product ? unknown_product_reason(report) : "";
    if (m_ext)
        add(make_claim("vek.extensions", true, "AMD extensions", "well-formed AMD extensions", "parsed"));
    else
        add(make_claim("vek.extensions", false, "malformed or missing", "well-formed AMD extensions", m_ext_error));
    if (!why.empty()) {
        for (const char* name : {"vek.struct_version", "vek.product", "vek.kind"})
            add(not_checked(name, "VEK extension checks", why));
        if (have_report) {
            add(not_checked("vek.tcb", "SPLs == REPORTED_TCB", why));
            add(not_checked("vek.hwid", "hwID == CHIP_ID", why));
        }
        return;
    }
    const snp::Product product = *m_out.product;
    if (auto tcb = m_ext->tcb(product); tcb.ok())
        m_out.vek_tcb = tcb.value();
    add(check_struct_version(*m_ext, product));
    add(check_product(*m_ext, product, report));
    add(check_kind(*m_ext, *m_out.vek_kind));
    if (!have_report)
        return;
    if (!report) {
        add(not_checked("vek.tcb", "SPLs == REPORTED_TCB", "the report did not parse"));
        add(not_checked("vek.hwid", "hwID == CHIP_ID", "the report did not parse"));
        return;
    }
    add(check_tcb(*m_ext, product, *report));
    add(check_hwid(*m_ext, *m_out.vek_kind, product, *report));
}

void Run::signature_claim()
{
    if (!m_out.report)
        return add(not_checked("report.signature", REPORT_SIGNATURE, "the report did not parse"));
    if (!signer_of(*m_out.report))
        return add(make_claim("report.signature", false, "no signature", REPORT_SIGNATURE,
                              "the report is unsigned (SIGNING_KEY NONE or MASK_CHIP_KEY)"));
    if (!m_vek)
        return add(not_checked("report.signature", REPORT_SIGNATURE, m_vek_error));
    const snp::AttestationReport& report = *m_out.report;
    ByteView signed_bytes = ByteView(m_evidence.report).first(snp::SIGNED_SIZE);
    auto verified = m_report_key
                        ? verify_report_signature(signed_bytes, report.signature_r, report.signature_s, *m_report_key)
                        : verify_report_signature(signed_bytes, report.signature_r, report.signature_s, *m_vek);
    if (verified.ok())
        add(make_claim("report.signature", true, "valid signature", REPORT_SIGNATURE,
                       "verified under " + describe(*m_vek)));
    else
        add(make_claim("report.signature", false, "invalid signature", REPORT_SIGNATURE,
                       std::string(verified.error().message())));
}

}  // namespace

Result<std::unique_ptr<Verifier>> Verifier::create(VerifierOptions options)
{
    Trust trust = TRY(load_trust(std::move(options.trusted_roots)));
    return std::unique_ptr<Verifier>(
        new Verifier(std::make_unique<State>(std::move(trust), options.vek_cache_capacity)));
}

Verifier::Verifier(std::unique_ptr<State> state) : m_state(std::move(state)) {}
Verifier::~Verifier() = default;

Verification Verifier::verify(const Evidence& evidence, const VerifyOptions& options)
{
    return Run(*m_state, evidence, options).go();
}

void Verifier::clear_cache()
{
    m_state->cache.clear();
    m_state->crl_cache.clear();
}

CacheStats Verifier::cache_stats() const
{
    return m_state->cache.stats();
}

}  // namespace cvm::verify
