// check_crl_signature, CrlSignatureCache and check_revocation (crl.h).
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha512.h>
#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_crt.h>

#include <cstring>

#include "crypto/mbedtls_util.h"
#include "verify/crl.h"
#include "verify/rules.h"
#include "verify/signatures.h"

// As signatures.cc: legacy RSASSA-PSS verification is what enforces the salt length.
#if defined(MBEDTLS_USE_PSA_CRYPTO)
#error "verify/revocation.cc relies on legacy RSASSA-PSS verification that enforces the salt length"
#endif

namespace cvm::verify {

namespace {

constexpr const char* EXPECTED = REVOCATION_EXPECTED;

std::string crl_algorithm_name(const mbedtls_x509_crl& crl)
{
    if (crl.MBEDTLS_PRIVATE(sig_pk) == MBEDTLS_PK_RSASSA_PSS) {
        const auto* opts = static_cast<const mbedtls_pk_rsassa_pss_options*>(crl.MBEDTLS_PRIVATE(sig_opts));
        const char* md = mbedtls_md_get_name(mbedtls_md_info_from_type(crl.MBEDTLS_PRIVATE(sig_md)));
        const char* mgf =
            opts ? mbedtls_md_get_name(mbedtls_md_info_from_type(static_cast<mbedtls_md_type_t>(opts->mgf1_hash_id)))
                 : nullptr;
        return std::string("RSASSA-PSS (") + (md ? md : "?") + ", MGF1-" + (mgf ? mgf : "?") + ", salt " +
               std::to_string(opts ? opts->expected_salt_len : -1) + ")";
    }
    const char* md = mbedtls_md_get_name(mbedtls_md_info_from_type(crl.MBEDTLS_PRIVATE(sig_md)));
    switch (crl.MBEDTLS_PRIVATE(sig_pk)) {
    case MBEDTLS_PK_RSA: return std::string("RSA PKCS#1 v1.5 with ") + (md ? md : "?");
    case MBEDTLS_PK_ECDSA: return std::string("ECDSA with ") + (md ? md : "?");
    default: return "an unsupported signature algorithm";
    }
}

bool is_amd_pss(const mbedtls_x509_crl& crl)
{
    if (crl.MBEDTLS_PRIVATE(sig_pk) != MBEDTLS_PK_RSASSA_PSS || crl.MBEDTLS_PRIVATE(sig_md) != MBEDTLS_MD_SHA384)
        return false;
    const auto* opts = static_cast<const mbedtls_pk_rsassa_pss_options*>(crl.MBEDTLS_PRIVATE(sig_opts));
    return opts && opts->mgf1_hash_id == MBEDTLS_MD_SHA384 && opts->expected_salt_len == AMD_PSS_SALT_LENGTH;
}

ByteView serial_of(const Certificate& cert)
{
    return {cert.crt().serial.p, cert.crt().serial.len};
}

}  // namespace

Result<void> check_crl_signature(const Crl& crl, const Certificate& ark)
{
    const mbedtls_x509_crl& c = crl.crl();
    if (!is_amd_pss(c))
        return Error::make(Errc::Chain,
                           "CRL signature algorithm is %s, expected RSASSA-PSS (SHA384, MGF1-SHA384, salt 48)",
                           crl_algorithm_name(c).c_str());
    // The key's shape before any arithmetic with it (signatures.h); the ARK passed it already
    // when it was trusted, so this is the same rule stated where the key is used.
    TRY(check_rsa4096_key(ark));
    // A private key context per verification, as signatures.cc does: mbedTLS writes into it.
    mbedtls_pk_context key;
    mbedtls_pk_init(&key);
    const mbedtls_x509_buf& spki = ark.crt().pk_raw;
    int rc = mbedtls_pk_parse_public_key(&key, spki.p, spki.len);
    if (rc == 0) {
        uint8_t digest[48];
        mbedtls_sha512(c.tbs.p, c.tbs.len, digest, /*is384=*/1);
        const mbedtls_pk_rsassa_pss_options opts{MBEDTLS_MD_SHA384, AMD_PSS_SALT_LENGTH};
        rc = mbedtls_pk_verify_ext(MBEDTLS_PK_RSASSA_PSS, &opts, &key, MBEDTLS_MD_SHA384, digest, sizeof digest,
                                   c.MBEDTLS_PRIVATE(sig).p, c.MBEDTLS_PRIVATE(sig).len);
    }
    mbedtls_pk_free(&key);
    if (rc != 0)
        return crypto::mbedtls_failure(Errc::Chain, rc,
                                       "CRL: RSASSA-PSS signature does not verify under the ARK's key");
    return {};
}

bool CrlSignatureCache::contains(const Fingerprint& crl, const Fingerprint& ark) const
{
    std::lock_guard lock(m_mutex);
    return m_passed.count({crl, ark}) != 0;
}

void CrlSignatureCache::put(const Fingerprint& crl, const Fingerprint& ark)
{
    std::lock_guard lock(m_mutex);
    if (m_passed.size() >= CAPACITY)
        m_passed.clear();
    m_passed.insert({crl, ark});
}

void CrlSignatureCache::clear()
{
    std::lock_guard lock(m_mutex);
    m_passed.clear();
}

Claim check_revocation(ByteView crl_bytes, const Certificate& ark, const Certificate& ask, const Certificate& vek,
                       std::time_t now, Anchor anchor, VekKind kind, CrlSignatureCache* cache)
{
    const char* ask_role = kind == VekKind::Vlek ? "ASVK" : "ASK";
    const std::string vek_role(vek_kind_name(kind));
    if (crl_bytes.empty()) {
        std::string where = anchor == Anchor::CallerSupplied
                                ? "pass the CRL of that root's platform (a simulated platform's crl.der: cvm verify "
                                  "--crl DIR/crl.der) or turn revocation off explicitly (--no-revocation)"
                                : std::string("pass AMD's CRL (KDS /") + (kind == VekKind::Vlek ? "vlek" : "vcek") +
                                      "/v1/{product}/crl, --crl FILE) or turn revocation off explicitly "
                                      "(--no-revocation)";
        return make_claim("chain.revocation", false, "no CRL", EXPECTED, "the evidence has no CRL: " + where);
    }
    auto parsed = Crl::parse(crl_bytes);
    if (!parsed.ok())
        return make_claim("chain.revocation", false, "a CRL that does not parse", EXPECTED,
                          std::string(parsed.error().message()));
    const Crl& crl = parsed.value();
    std::string id = "CRL sha256:" + to_hex(ByteView(crl.fingerprint()).first(8));
    Rules r("chain.revocation", "not revoked (" + id + ")", EXPECTED);
    ByteView issuer = crl.issuer_raw(), subject = ark.subject_raw();
    if (!r.need(issuer.size() == subject.size() && memcmp(issuer.data(), subject.data(), issuer.size()) == 0,
                id + " issued by another Name", "issuer = the ARK's subject (" + printable(ark.subject_cn()) + ")",
                "the CRL's issuer Name differs from the ARK's subject, byte for byte"))
        return std::move(r).finish("");
    if (!cache || !cache->contains(crl.fingerprint(), ark.fingerprint())) {
        if (!r.need(check_crl_signature(crl, ark), id + " not signed by the ARK", "RSASSA-PSS signature by the ARK"))
            return std::move(r).finish("");
        if (cache)
            cache->put(crl.fingerprint(), ark.fingerprint());
    }
    // Dates on every call: a cached signature says nothing about today.
    if (!r.need(crl.started_by(now), "thisUpdate " + crl.this_update(), "thisUpdate <= now",
                "the CRL is not yet valid (a wrong clock, or a CRL from the future)") ||
        !r.need(crl.current_at(now), "nextUpdate " + crl.next_update(), "now <= nextUpdate",
                "the CRL expired: fetch a current one"))
        return std::move(r).finish("");
    for (auto [cert, role] : {std::pair{&ask, std::string(ask_role)}, std::pair{&vek, vek_role}}) {
        std::string serial = serial_hex(serial_of(*cert));
        if (auto when = crl.revoked(serial_of(*cert)))
            r.need(false, "serial " + serial + " (" + role + ") revoked " + *when, "not revoked",
                   role + " " + printable(cert->subject_cn()) + " is listed in " + id);
    }
    return std::move(r).finish(id + " by " + printable(ark.subject_cn()) + ", thisUpdate " + crl.this_update() +
                               ", nextUpdate " + crl.next_update() + ", " + std::to_string(crl.entries()) +
                               " entries: " + ask_role + " serial " + serial_hex(serial_of(ask)) + " and " + vek_role +
                               " serial " + serial_hex(serial_of(vek)) + " not listed");
}

}  // namespace cvm::verify
