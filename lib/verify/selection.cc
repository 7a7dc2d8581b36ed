#include "verify/selection.h"

#include <algorithm>
#include <cstdio>

#include "verify/rules.h"

namespace cvm::verify {

using snp::Product;

namespace {

constexpr Product PRODUCTS[] = {Product::Milan, Product::Genoa, Product::Turin};

bool same(ByteView a, ByteView b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

std::string cn_or_none(const std::string& cn)
{
    return cn.empty() ? "(no CN)" : printable(cn);
}

std::optional<snp::AttestationReport> parsed_report(const Evidence& evidence)
{
    auto r = snp::parse_report(evidence.report);
    return r.ok() ? std::optional(r.release_value()) : std::nullopt;
}

// An ARK that came with the evidence is only ever used if it is, byte for byte, a root we trust.
void select_evidence_ark(Selection& out, const Trust& trust, const Evidence& evidence, std::optional<Product> product)
{
    const std::string expected = product ? amd_common_name(*product, RootKind::Ark) +
                                               " sha256:" + std::string(pinned_fingerprint(*product, RootKind::Ark))
                                         : "a caller-supplied trusted root";
    auto parsed = Certificate::parse(evidence.ark);
    if (!parsed.ok()) {
        out.ark_failure =
            make_claim("chain.ark", false, "unparseable ARK", expected, std::string(parsed.error().message()));
        return;
    }
    out.evidence_ark = parsed.release_value();
    const Fingerprint& fp = out.evidence_ark->fingerprint();
    if (product && fp == trust.roots(*product).ark.fingerprint()) {
        out.ark = &trust.roots(*product).ark;
        out.anchor = Anchor::AmdPinned;
        return;
    }
    for (const Certificate& root : trust.caller_roots) {
        if (fp == root.fingerprint()) {
            out.ark = &root;
            out.anchor = Anchor::CallerSupplied;
            return;
        }
    }
    std::string why = "the ARK in the evidence is not a trusted root";
    if (!product) {
        auto report = parsed_report(evidence);
        why = unknown_product_reason(report ? &*report : nullptr) + ", and " + why;
    }
    out.ark_failure = make_claim("chain.ark", false, describe(*out.evidence_ark), expected, why);
}

// Without an ARK in the evidence: the trusted root whose subject Name issued the ASK/ASVK.
void select_root_by_name(Selection& out, const Trust& trust, const Evidence& evidence, std::optional<Product> product)
{
    if (product && (!out.ask || same(trust.roots(*product).ark.subject_raw(), out.ask->issuer_raw()))) {
        out.ark = &trust.roots(*product).ark;
        out.anchor = Anchor::AmdPinned;
        return;
    }
    if (out.ask) {
        for (const Certificate& root : trust.caller_roots) {
            if (same(root.subject_raw(), out.ask->issuer_raw())) {
                out.ark = &root;
                out.anchor = Anchor::CallerSupplied;
                return;
            }
        }
    }
    if (product) {  // checked against AMD's root anyway, so the claims say what is wrong
        out.ark = &trust.roots(*product).ark;
        out.anchor = Anchor::AmdPinned;
        return;
    }
    std::string issuer = out.ask ? cn_or_none(out.ask->issuer_cn()) : "unknown";
    auto report = parsed_report(evidence);
    out.ark_failure =
        make_claim("chain.ark", false, "issuer CN=" + issuer, "a trusted root",
                   unknown_product_reason(report ? &*report : nullptr) + " and no trusted root issued the ASK/ASVK");
}

}  // namespace

Result<Trust> load_trust(std::vector<Certificate> caller_roots)
{
    Trust trust;
    for (Product p : PRODUCTS)
        trust.amd.push_back(TRY(load_amd_roots(p)));
    for (const Certificate& root : caller_roots) {
        Claim c = check_ark(root, Anchor::CallerSupplied, std::nullopt);
        if (!c.pass)
            return Error::make(Errc::Config, "trusted root %s: %s (found %s, expected %s)", describe(root).c_str(),
                               c.detail.c_str(), c.found.c_str(), c.expected.c_str());
    }
    trust.caller_roots = std::move(caller_roots);
    return trust;
}

VekKind decide_kind(const snp::AttestationReport* report, const Certificate* vek)
{
    if (report && report->signing_key == snp::SigningKey::Vlek)
        return VekKind::Vlek;
    if (report && report->signing_key == snp::SigningKey::Vcek)
        return VekKind::Vcek;
    return vek && vek->subject_cn() == amd_common_name(VekKind::Vlek) ? VekKind::Vlek : VekKind::Vcek;
}

std::optional<Product> decide_product(const Trust& trust, std::optional<Product> requested,
                                      const snp::AttestationReport* report, const Certificate* vek,
                                      const snp::AmdExtensions* ext, VekKind kind)
{
    if (report && report->version >= 3 &&
        snp::unsupported_product_from_cpuid(report->cpuid_fam_id, report->cpuid_mod_id))
        return std::nullopt;  // refused, never parsed with another product's TCB layout
    if (requested)
        return requested;
    if (report && report->version >= 3 && report->cpuid_product())
        return report->cpuid_product();
    if (ext && ext->product_name) {
        if (auto p = snp::product_from_name(*ext->product_name))
            return p;
    }
    for (Product p : PRODUCTS) {
        if (vek && same(trust.roots(p).intermediate(kind).subject_raw(), vek->issuer_raw()))
            return p;
    }
    return std::nullopt;
}

std::string unknown_product_reason(const snp::AttestationReport* report)
{
    auto refused = report && report->version >= 3
                       ? snp::unsupported_product_from_cpuid(report->cpuid_fam_id, report->cpuid_mod_id)
                       : std::nullopt;
    if (!refused)
        return "the product line is unknown";
    char buf[200];
    snprintf(buf, sizeof buf,
             "%s (CPUID family %02Xh model %02Xh, Zen 6) is not supported until AMD publishes its KDS format "
             "(product name, certificate chain, TCB layout)",
             refused->data(), report->cpuid_fam_id, report->cpuid_mod_id);
    return buf;
}

void select_chain(Selection& out, const Trust& trust, const Evidence& evidence, std::optional<Product> product,
                  VekKind kind)
{
    const std::string role(root_kind_name(issuer_of(kind)));
    if (!evidence.ask.empty()) {
        auto parsed = Certificate::parse(evidence.ask);
        if (parsed.ok()) {
            out.evidence_ask = parsed.release_value();
            out.ask = &*out.evidence_ask;
        } else {
            out.ask_failure = make_claim("chain.ask", false, "unparseable " + role, role + " signed by a trusted root",
                                         std::string(parsed.error().message()));
        }
    } else if (product) {
        out.ask = &trust.roots(*product).intermediate(kind);
    } else {
        auto report = parsed_report(evidence);
        out.ask_failure =
            make_claim("chain.ask", false, "no " + role, role + " signed by a trusted root",
                       "the evidence has no " + role + " and " + unknown_product_reason(report ? &*report : nullptr));
    }
    if (!evidence.ark.empty())
        select_evidence_ark(out, trust, evidence, product);
    else
        select_root_by_name(out, trust, evidence, product);
}

}  // namespace cvm::verify
