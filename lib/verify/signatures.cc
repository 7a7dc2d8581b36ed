#include "verify/signatures.h"

#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha512.h>
#include <mbedtls/x509_crt.h>

#include <algorithm>
#include <cstdio>

#include "verify/mbedtls_error.h"
#include "verify/rules.h"

// With MBEDTLS_USE_PSA_CRYPTO, mbedtls_pk_verify_ext ignores expected_salt_len (see pk.h), and the
// salt-length rule below would silently stop being enforced.
#if defined(MBEDTLS_USE_PSA_CRYPTO)
#error "verify/signatures.cc relies on legacy RSASSA-PSS verification that enforces the salt length"
#endif

namespace cvm::verify {

namespace {

// The NIST P-384 group order n (FIPS 186-5 / SP 800-186 §3.2.1.4), big-endian.
constexpr std::array<uint8_t, P384_SCALAR_SIZE> P384_ORDER = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC7, 0x63, 0x4D, 0x81, 0xF4, 0x37, 0x2D, 0xDF,
    0x58, 0x1A, 0x0D, 0xB2, 0x48, 0xB0, 0xA7, 0x7A, 0xEC, 0xEC, 0x19, 0x6A, 0xCC, 0xC5, 0x29, 0x73};

const char* md_name(mbedtls_md_type_t md)
{
    const char* name = mbedtls_md_get_name(mbedtls_md_info_from_type(md));
    return name ? name : "unknown hash";
}

// mbedTLS's verify functions take non-const key contexts; see the note in signatures.h.
mbedtls_pk_context* key_of(const Certificate& cert)
{
    return const_cast<mbedtls_pk_context*>(&cert.crt().pk);
}

bool is_amd_pss(const mbedtls_x509_crt& crt)
{
    if (crt.MBEDTLS_PRIVATE(sig_pk) != MBEDTLS_PK_RSASSA_PSS || crt.MBEDTLS_PRIVATE(sig_md) != MBEDTLS_MD_SHA384)
        return false;
    const auto* opts = static_cast<const mbedtls_pk_rsassa_pss_options*>(crt.MBEDTLS_PRIVATE(sig_opts));
    return opts && opts->mgf1_hash_id == MBEDTLS_MD_SHA384 && opts->expected_salt_len == AMD_PSS_SALT_LENGTH;
}

// DER ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279 §2.2.3) from 48-byte
// big-endian scalars, as mbedtls_pk_verify takes it.
void append_integer(Bytes& out, ByteView be)
{
    size_t skip = 0;
    while (skip + 1 < be.size() && be[skip] == 0)
        ++skip;
    bool pad = be[skip] & 0x80;
    out.push_back(0x02);
    out.push_back(static_cast<uint8_t>(be.size() - skip + (pad ? 1 : 0)));
    if (pad)
        out.push_back(0);
    out.insert(out.end(), be.begin() + static_cast<std::ptrdiff_t>(skip), be.end());
}

bool in_scalar_range(const std::array<uint8_t, P384_SCALAR_SIZE>& v)
{
    return !all_zero(v) && std::lexicographical_compare(v.begin(), v.end(), P384_ORDER.begin(), P384_ORDER.end());
}

}  // namespace

std::string signature_algorithm_name(const Certificate& cert)
{
    const mbedtls_x509_crt& crt = cert.crt();
    char buf[96];
    if (crt.MBEDTLS_PRIVATE(sig_pk) == MBEDTLS_PK_RSASSA_PSS) {
        const auto* opts = static_cast<const mbedtls_pk_rsassa_pss_options*>(crt.MBEDTLS_PRIVATE(sig_opts));
        snprintf(buf, sizeof buf, "RSASSA-PSS (%s, MGF1-%s, salt %d)", md_name(crt.MBEDTLS_PRIVATE(sig_md)),
                 opts ? md_name(opts->mgf1_hash_id) : "?", opts ? opts->expected_salt_len : -1);
        return buf;
    }
    const char* desc = nullptr;
    if (mbedtls_oid_get_sig_alg_desc(&crt.sig_oid, &desc) == 0 && desc)
        return desc;
    if (mbedtls_oid_get_numeric_string(buf, sizeof buf, &crt.sig_oid) > 0)
        return buf;
    return "unknown signature algorithm";
}

Result<void> check_amd_signature(const Certificate& cert, const Certificate& issuer)
{
    const mbedtls_x509_crt& crt = cert.crt();
    if (!is_amd_pss(crt))
        return Error::make(
            Errc::Chain,
            "certificate %s: signature algorithm is %s, expected RSASSA-PSS (SHA384, MGF1-SHA384, salt 48)",
            printable(cert.subject_cn()).c_str(), signature_algorithm_name(cert).c_str());
    if (mbedtls_pk_get_type(&issuer.crt().pk) != MBEDTLS_PK_RSA)
        return Error::make(Errc::Chain, "certificate %s: issuer key is %s, expected RSA",
                           printable(cert.subject_cn()).c_str(), public_key_name(issuer).c_str());
    uint8_t digest[48];
    mbedtls_sha512(crt.tbs.p, crt.tbs.len, digest, /*is384=*/1);
    const mbedtls_pk_rsassa_pss_options opts{MBEDTLS_MD_SHA384, AMD_PSS_SALT_LENGTH};
    int rc = mbedtls_pk_verify_ext(MBEDTLS_PK_RSASSA_PSS, &opts, key_of(issuer), MBEDTLS_MD_SHA384, digest,
                                   sizeof digest, crt.MBEDTLS_PRIVATE(sig).p, crt.MBEDTLS_PRIVATE(sig).len);
    if (rc != 0)
        return mbedtls_error(Errc::Chain, rc, "RSASSA-PSS signature does not verify under the issuer's key");
    return {};
}

std::string public_key_name(const Certificate& cert)
{
    const mbedtls_pk_context& pk = cert.crt().pk;
    char buf[64];
    mbedtls_pk_type_t type = mbedtls_pk_get_type(&pk);
    if (type == MBEDTLS_PK_ECKEY || type == MBEDTLS_PK_ECKEY_DH || type == MBEDTLS_PK_ECDSA) {
        const mbedtls_ecp_curve_info* info =
            mbedtls_ecp_curve_info_from_grp_id(mbedtls_ecp_keypair_get_group_id(mbedtls_pk_ec(pk)));
        snprintf(buf, sizeof buf, "EC %s", info ? info->name : "unknown curve");
        return buf;
    }
    const char* name = mbedtls_pk_get_name(&pk);
    snprintf(buf, sizeof buf, "%s-%zu", name ? name : "unknown", mbedtls_pk_get_bitlen(&pk));
    return buf;
}

Result<void> check_rsa4096_key(const Certificate& cert)
{
    const mbedtls_pk_context& pk = cert.crt().pk;
    if (mbedtls_pk_get_type(&pk) != MBEDTLS_PK_RSA || mbedtls_pk_get_bitlen(&pk) != RSA_AMD_KEY_BITS)
        return Error::make(Errc::Chain, "certificate %s: public key is %s, expected RSA-4096",
                           printable(cert.subject_cn()).c_str(), public_key_name(cert).c_str());
    return {};
}

Result<void> check_p384_key(const Certificate& cert)
{
    const mbedtls_pk_context& pk = cert.crt().pk;
    if (mbedtls_pk_get_type(&pk) != MBEDTLS_PK_ECKEY ||
        mbedtls_ecp_keypair_get_group_id(mbedtls_pk_ec(pk)) != MBEDTLS_ECP_DP_SECP384R1)
        return Error::make(Errc::Chain, "certificate %s: public key is %s, expected EC secp384r1 (P-384)",
                           printable(cert.subject_cn()).c_str(), public_key_name(cert).c_str());
    return {};
}

Result<void> verify_report_signature(ByteView signed_bytes, const std::array<uint8_t, P384_SCALAR_SIZE>& r,
                                     const std::array<uint8_t, P384_SCALAR_SIZE>& s, const Certificate& vek)
{
    if (!in_scalar_range(r))
        return Error::make(Errc::Crypto, "SIGNATURE.R is %s, expected 0 < r < n (P-384 order)",
                           all_zero(r) ? "zero" : "not below n");
    if (!in_scalar_range(s))
        return Error::make(Errc::Crypto, "SIGNATURE.S is %s, expected 0 < s < n (P-384 order)",
                           all_zero(s) ? "zero" : "not below n");
    TRY(check_p384_key(vek));
    uint8_t digest[48];
    mbedtls_sha512(signed_bytes.data(), signed_bytes.size(), digest, /*is384=*/1);
    Bytes sig = {0x30, 0};
    append_integer(sig, r);
    append_integer(sig, s);
    sig[1] = static_cast<uint8_t>(sig.size() - 2);
    int rc = mbedtls_pk_verify(key_of(vek), MBEDTLS_MD_SHA384, digest, sizeof digest, sig.data(), sig.size());
    if (rc != 0)
        return mbedtls_error(Errc::Crypto, rc, "ECDSA P-384 report signature does not verify under the VEK");
    return {};
}

}  // namespace cvm::verify
