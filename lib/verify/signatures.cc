#include "verify/signatures.h"

#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha512.h>
#include <mbedtls/x509_crt.h>

#include <algorithm>
#include <cstdio>
#include <optional>

#include "crypto/mbedtls_util.h"
#include "verify/rules.h"

// With MBEDTLS_USE_PSA_CRYPTO, mbedtls_pk_verify_ext ignores expected_salt_len (see pk.h), and the
// salt-length rule below would silently stop being enforced.
#if defined(MBEDTLS_USE_PSA_CRYPTO)
#error "verify/signatures.cc relies on legacy RSASSA-PSS verification that enforces the salt length"
#endif

// A ReportKey is shared by threads verifying at once. ECDSA verification (ecdsa.c:
// mbedtls_ecdsa_verify_restartable() -> ecp.c: mbedtls_ecp_muladd_restartable()) takes the
// group non-const for one reason: ecp.c: ecp_mul_comb() stores a comb table it computed for the
// base point in grp->T when the group has none. With the fixed-point optimisation, the library's
// default (ecp.h), ecp_curves.c: ecp_group_load() gives secp384r1 its static table secp384r1_T,
// so grp->T is never NULL and nothing in the key context is written. Without it, sharing would race.
#if !defined(MBEDTLS_ECP_FIXED_POINT_OPTIM) || MBEDTLS_ECP_FIXED_POINT_OPTIM != 1
#error "verify/signatures.cc shares one P-384 key context between threads: needs MBEDTLS_ECP_FIXED_POINT_OPTIM 1"
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

// A private copy of an issuer's RSA public key, parsed again from its SubjectPublicKeyInfo for
// one verification: mbedTLS RSA verification writes into the key context (it caches its
// Montgomery constant RN lazily in rsa.c: mbedtls_rsa_public()), so threads never share one.
// Parsing costs microseconds; the RSA operation it precedes costs a millisecond.
class OwnKey {
public:
    explicit OwnKey(const Certificate& cert)
    {
        mbedtls_pk_init(&m_pk);
        const mbedtls_x509_buf& spki = cert.crt().pk_raw;
        m_rc = mbedtls_pk_parse_public_key(&m_pk, spki.p, spki.len);
    }
    ~OwnKey() { mbedtls_pk_free(&m_pk); }
    OwnKey(const OwnKey&) = delete;
    OwnKey& operator=(const OwnKey&) = delete;

    int status() const { return m_rc; }
    mbedtls_pk_context* get() { return &m_pk; }

private:
    mbedtls_pk_context m_pk;
    int m_rc{0};
};

// The public exponent of an RSA key, when it fits 64 bits.
std::optional<uint64_t> rsa_exponent(const mbedtls_pk_context& pk)
{
    mbedtls_mpi e;
    mbedtls_mpi_init(&e);
    std::optional<uint64_t> out;
    const mbedtls_rsa_context* rsa = mbedtls_pk_rsa(pk);
    if (mbedtls_rsa_export(rsa, nullptr, nullptr, nullptr, nullptr, &e) == 0 && mbedtls_mpi_bitlen(&e) <= 64) {
        uint8_t be[8];
        if (mbedtls_mpi_write_binary(&e, be, sizeof be) == 0) {
            uint64_t v = 0;
            for (uint8_t b : be)
                v = v << 8 | b;
            out = v;
        }
    }
    mbedtls_mpi_free(&e);
    return out;
}

size_t rsa_exponent_bits(const mbedtls_pk_context& pk)
{
    mbedtls_mpi e;
    mbedtls_mpi_init(&e);
    size_t bits = 0;
    if (mbedtls_rsa_export(mbedtls_pk_rsa(pk), nullptr, nullptr, nullptr, nullptr, &e) == 0)
        bits = mbedtls_mpi_bitlen(&e);
    mbedtls_mpi_free(&e);
    return bits;
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

// Both scalars of the signature in [1, n-1] (FIPS 186-5 §6.4.2 step 1), refused before any arithmetic.
Result<void> check_scalars(const std::array<uint8_t, P384_SCALAR_SIZE>& r,
                           const std::array<uint8_t, P384_SCALAR_SIZE>& s)
{
    if (!in_scalar_range(r))
        return Error::make(Errc::Crypto, "SIGNATURE.R is %s, expected 0 < r < n (P-384 order)",
                           all_zero(r) ? "zero" : "not below n");
    if (!in_scalar_range(s))
        return Error::make(Errc::Crypto, "SIGNATURE.S is %s, expected 0 < s < n (P-384 order)",
                           all_zero(s) ? "zero" : "not below n");
    return {};
}

}  // namespace

struct ReportKey::Impl {
    mbedtls_pk_context pk;
    Impl() { mbedtls_pk_init(&pk); }
    ~Impl() { mbedtls_pk_free(&pk); }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
};

ReportKey::ReportKey(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
ReportKey::~ReportKey() = default;

Result<std::shared_ptr<const ReportKey>> ReportKey::create(const Certificate& vek)
{
    TRY(check_p384_key(vek));
    auto impl = std::make_unique<Impl>();
    const mbedtls_x509_buf& spki = vek.crt().pk_raw;
    if (int rc = mbedtls_pk_parse_public_key(&impl->pk, spki.p, spki.len); rc != 0)
        return crypto::mbedtls_failure(Errc::Crypto, rc, "cannot load the VEK's public key");
    return std::shared_ptr<const ReportKey>(new ReportKey(std::move(impl)));
}

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
    // The issuer's key shape before any arithmetic with it: an RSA-8192 key with a 8192-bit
    // exponent costs ~0.4 s per verification, and AMD never signs with anything but RSA-4096/65537.
    if (!check_rsa4096_key(issuer).ok())
        return Error::make(Errc::Chain, "certificate %s: issuer key is %s, expected RSA-4096 e=65537",
                           printable(cert.subject_cn()).c_str(), public_key_name(issuer).c_str());
    OwnKey key(issuer);
    if (key.status() != 0)
        return crypto::mbedtls_failure(Errc::Chain, key.status(), "cannot load the issuer's public key");
    uint8_t digest[48];
    mbedtls_sha512(crt.tbs.p, crt.tbs.len, digest, /*is384=*/1);
    const mbedtls_pk_rsassa_pss_options opts{MBEDTLS_MD_SHA384, AMD_PSS_SALT_LENGTH};
    int rc = mbedtls_pk_verify_ext(MBEDTLS_PK_RSASSA_PSS, &opts, key.get(), MBEDTLS_MD_SHA384, digest, sizeof digest,
                                   crt.MBEDTLS_PRIVATE(sig).p, crt.MBEDTLS_PRIVATE(sig).len);
    if (rc != 0)
        return crypto::mbedtls_failure(Errc::Chain, rc, "RSASSA-PSS signature does not verify under the issuer's key");
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
    std::string out = buf;
    if (type == MBEDTLS_PK_RSA) {  // the exponent only when it is not AMD's
        std::optional<uint64_t> e = rsa_exponent(pk);
        if (!e)
            out += " e of " + std::to_string(rsa_exponent_bits(pk)) + " bits";
        else if (*e != RSA_AMD_EXPONENT)
            out += " e=" + std::to_string(*e);
    }
    return out;
}

Result<void> check_rsa4096_key(const Certificate& cert)
{
    const mbedtls_pk_context& pk = cert.crt().pk;
    if (mbedtls_pk_get_type(&pk) != MBEDTLS_PK_RSA || mbedtls_pk_get_bitlen(&pk) != RSA_AMD_KEY_BITS ||
        rsa_exponent(pk) != RSA_AMD_EXPONENT)
        return Error::make(Errc::Chain, "certificate %s: public key is %s, expected RSA-4096 e=65537",
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
                                     const std::array<uint8_t, P384_SCALAR_SIZE>& s, const ReportKey& key)
{
    TRY(check_scalars(r, s));
    uint8_t digest[48];
    mbedtls_sha512(signed_bytes.data(), signed_bytes.size(), digest, /*is384=*/1);
    Bytes sig = {0x30, 0};
    append_integer(sig, r);
    append_integer(sig, s);
    sig[1] = static_cast<uint8_t>(sig.size() - 2);
    // Read-only for an EC key (see the #error above), hence shared and const.
    auto* pk = const_cast<mbedtls_pk_context*>(&key.impl().pk);
    int rc = mbedtls_pk_verify(pk, MBEDTLS_MD_SHA384, digest, sizeof digest, sig.data(), sig.size());
    if (rc != 0)
        return crypto::mbedtls_failure(Errc::Crypto, rc, "ECDSA P-384 report signature does not verify under the VEK");
    return {};
}

Result<void> verify_report_signature(ByteView signed_bytes, const std::array<uint8_t, P384_SCALAR_SIZE>& r,
                                     const std::array<uint8_t, P384_SCALAR_SIZE>& s, const Certificate& vek)
{
    TRY(check_scalars(r, s));  // before any key is parsed
    std::shared_ptr<const ReportKey> key = TRY(ReportKey::create(vek));
    return verify_report_signature(signed_bytes, r, s, *key);
}

}  // namespace cvm::verify
