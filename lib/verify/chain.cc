#include "verify/chain.h"

#include "verify/rules.h"
#include "verify/signatures.h"

namespace cvm::verify {

namespace {

constexpr const char* AMD_SIGNATURE = "RSASSA-PSS (SHA384, MGF1-SHA384, salt 48)";

std::string cn_of(const Certificate& cert)
{
    std::string cn = cert.subject_cn();
    return cn.empty() ? "(no CN)" : printable(cn);
}

std::string issuer_cn_of(const Certificate& cert)
{
    std::string cn = cert.issuer_cn();
    return cn.empty() ? "(no CN)" : printable(cn);
}

void need_v3(Rules& rules, const Certificate& cert)
{
    rules.need(cert.x509_version() == 3, "X.509 v" + std::to_string(cert.x509_version()), "X.509 v3",
               cn_of(cert) + " is not an X.509 v3 certificate");
}

void need_ca(Rules& rules, const Certificate& cert)
{
    rules.need(cert.is_ca(), "basicConstraints cA absent or FALSE", "basicConstraints cA TRUE",
               cn_of(cert) + " is not a CA certificate");
    rules.need(cert.may_sign_certificates(), "keyUsage without keyCertSign", "keyUsage keyCertSign",
               cn_of(cert) + " may not sign certificates");
}

void need_rsa4096(Rules& rules, const Certificate& cert)
{
    rules.need(check_rsa4096_key(cert), public_key_name(cert), "RSA-4096 e=65537");
}

void need_issued_by(Rules& rules, const Certificate& cert, const Certificate& issuer)
{
    ByteView a = cert.issuer_raw(), b = issuer.subject_raw();
    bool same = a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
    rules.need(same, "issuer CN=" + issuer_cn_of(cert), "issuer CN=" + cn_of(issuer),
               "the issuer Name of " + cn_of(cert) + " is not the subject Name of " + cn_of(issuer));
}

// Only once every other rule held: the signature is the one costly rule, and a certificate
// already refused must not make us compute it (check_amd_signature also checks the issuer's key
// shape before anything else).
void need_signed_by(Rules& rules, const Certificate& cert, const Certificate& issuer)
{
    if (!rules.ok())
        return;
    rules.need(check_amd_signature(cert, issuer), signature_algorithm_name(cert) + " by " + cn_of(issuer),
               std::string(AMD_SIGNATURE) + " by " + cn_of(issuer));
}

}  // namespace

std::string describe(const Certificate& cert)
{
    return cn_of(cert) + " sha256:" + cert.fingerprint_hex();
}

Claim check_ark(const Certificate& ark, Anchor anchor, std::optional<snp::Product> product)
{
    const bool pinned = anchor == Anchor::AmdPinned;
    std::string expected = pinned && product ? amd_common_name(*product, RootKind::Ark) +
                                                   " sha256:" + std::string(pinned_fingerprint(*product, RootKind::Ark))
                                             : "caller-supplied root sha256:" + ark.fingerprint_hex();
    Rules rules("chain.ark", describe(ark), expected);
    if (pinned) {
        rules.need(product.has_value(), "no product", "a product line", "a pinned ARK needs a product line");
        if (product) {
            rules.need(ark.fingerprint_hex() == pinned_fingerprint(*product, RootKind::Ark), describe(ark), expected,
                       "not AMD's pinned ARK for " + std::string(snp::product_name(*product)));
            std::string cn = amd_common_name(*product, RootKind::Ark);
            rules.need(ark.subject_cn() == cn, "CN=" + cn_of(ark), "CN=" + cn, "the ARK is not named as AMD names it");
        }
    }
    need_v3(rules, ark);
    rules.need(ark.self_issued(), "issuer CN=" + issuer_cn_of(ark), "issuer CN=" + cn_of(ark),
               "a root must be self-issued");
    need_rsa4096(rules, ark);
    need_ca(rules, ark);
    need_signed_by(rules, ark, ark);
    return std::move(rules).finish(pinned ? "pinned AMD root, self-signed with " + std::string(AMD_SIGNATURE)
                                          : "caller-supplied trusted root (AMD names not required), self-signed with " +
                                                std::string(AMD_SIGNATURE));
}

Claim check_intermediate(const Certificate& ask, const Certificate& ark, VekKind kind, Anchor anchor,
                         std::optional<snp::Product> product)
{
    const bool amd_names = anchor == Anchor::AmdPinned && product.has_value();
    const RootKind role = issuer_of(kind);
    std::string expected =
        (amd_names ? amd_common_name(*product, role) : std::string(root_kind_name(role))) + " signed by " + cn_of(ark);
    Rules rules("chain.ask", describe(ask), expected);
    need_v3(rules, ask);
    if (amd_names) {
        std::string cn = amd_common_name(*product, role);
        rules.need(ask.subject_cn() == cn, "CN=" + cn_of(ask), "CN=" + cn,
                   std::string(root_kind_name(role)) + " for a " + std::string(vek_kind_name(kind)) +
                       " is not named as AMD names it");
    }
    need_issued_by(rules, ask, ark);
    need_rsa4096(rules, ask);
    need_ca(rules, ask);
    need_signed_by(rules, ask, ark);
    return std::move(rules).finish(std::string(root_kind_name(role)) + " signed by the ARK with " + AMD_SIGNATURE);
}

Claim check_vek_certificate(const Certificate& vek, const Certificate& ask, VekKind kind)
{
    std::string cn(amd_common_name(kind));
    Rules rules("chain.vek", describe(vek), cn + " (EC P-384) signed by " + cn_of(ask));
    need_v3(rules, vek);
    rules.need(vek.subject_cn() == cn, "CN=" + cn_of(vek), "CN=" + cn,
               "the endorsement key certificate is not a " + std::string(vek_kind_name(kind)));
    need_issued_by(rules, vek, ask);
    rules.need(!vek.is_ca(), "basicConstraints cA TRUE", "not a CA", "an endorsement key must not be a CA");
    rules.need(check_p384_key(vek), public_key_name(vek), "EC secp384r1");
    need_signed_by(rules, vek, ask);
    return std::move(rules).finish(std::string(vek_kind_name(kind)) + " signed by the " +
                                   std::string(root_kind_name(issuer_of(kind))) + " with " + AMD_SIGNATURE);
}

Claim check_validity(const Certificate& ark, const Certificate& ask, const Certificate& vek, std::time_t now)
{
    char when[32];
    struct tm tm {};
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    Rules rules("chain.validity", "all three certificates valid", std::string("valid at ") + when);
    for (const Certificate* cert : {&ark, &ask, &vek}) {
        rules.need(cert->valid_at(now), cn_of(*cert) + " valid " + cert->not_before() + " to " + cert->not_after(),
                   std::string("valid at ") + when, cn_of(*cert) + " is not valid at the time given");
    }
    return std::move(rules).finish("dates checked because the caller supplied the time");
}

}  // namespace cvm::verify
