// KeyPair: a P-256 key in an mbedtls_pk_context (mbedtls_pk_free zeroises the private scalar,
// pk.c -> ecp.c: mbedtls_ecp_keypair_free -> mbedtls_mpi_free), and the certificates it signs.
#include <mbedtls/ecdsa.h>
#include <mbedtls/pk.h>

#include <cstring>
#include <mutex>

#include "crypto/digest.h"
#include "ratls/internal.h"
#include "ratls/ratls.h"
#include "ratls/writer.h"

namespace cvm::ratls {
namespace {

constexpr size_t MAX_DNS_NAMES = 16;
constexpr size_t MAX_CN_SIZE = 64;  // ub-common-name (RFC 5280 Appendix A.1)
constexpr size_t SERIAL_SIZE = 16;  // 128 random bits; RFC 5280 §4.1.2.2 allows up to 20 octets

Result<void> check_cn(std::string_view cn, const char* what)
{
    if (cn.empty() || cn.size() > MAX_CN_SIZE)
        return Error::make(Errc::Config, "%s is %zu bytes, expected 1 to %zu", what, cn.size(), MAX_CN_SIZE);
    for (char c : cn) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
            return Error::make(Errc::Config, "%s contains control character 0x%02x, expected printable text", what,
                               static_cast<unsigned char>(c));
    }
    return {};
}

class MbedKeyPair final : public KeyPair {
public:
    MbedKeyPair() { mbedtls_pk_init(&m_pk); }
    ~MbedKeyPair() override { mbedtls_pk_free(&m_pk); }
    MbedKeyPair(const MbedKeyPair&) = delete;
    MbedKeyPair& operator=(const MbedKeyPair&) = delete;

    Result<void> init()
    {
        int rc = mbedtls_pk_setup(&m_pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
        if (rc != 0)
            return detail::mbedtls_failure(Errc::Crypto, rc, "P-256 key setup");
        rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(m_pk), detail::random_bytes, nullptr);
        if (rc != 0)
            return detail::mbedtls_failure(Errc::Crypto, rc, "P-256 key generation");
        uint8_t buf[detail::MAX_SPKI_SIZE];
        int n = mbedtls_pk_write_pubkey_der(&m_pk, buf, sizeof buf);  // writes at the end of buf
        if (n < 0)
            return detail::mbedtls_failure(Errc::Crypto, n, "P-256 SubjectPublicKeyInfo");
        m_spki.assign(buf + sizeof buf - n, buf + sizeof buf);
        return {};
    }

    ByteView spki_der() const override { return m_spki; }

    Result<SecretBytes> private_key_pem() const override
    {
        SecretBytes buf(512);
        std::lock_guard lock(m_mutex);
        int rc = mbedtls_pk_write_key_pem(const_cast<mbedtls_pk_context*>(&m_pk), buf.expose().data(), buf.size());
        if (rc != 0)
            return detail::mbedtls_failure(Errc::Crypto, rc, "P-256 private key PEM");
        size_t length = strnlen(reinterpret_cast<const char*>(buf.expose().data()), buf.size());
        return SecretBytes::copy_of(buf.expose().first(length));
    }

    Result<Bytes> issue(ByteView subject_spki_der, std::string_view subject_cn,
                        const std::vector<std::string>& dns_names, const EvidenceSet& set, std::time_t not_before,
                        std::time_t not_after) const override
    {
        bool self_signed = subject_spki_der.empty();
        detail::TbsSpec spec;
        spec.kind = self_signed ? detail::CertKind::SelfSignedCa : detail::CertKind::Leaf;
        spec.subject_cn = self_signed && subject_cn.empty() ? std::string(AGENT_CN) : std::string(subject_cn);
        TRY(check_cn(spec.subject_cn, "subject CN"));
        // A self-signed certificate names itself as issuer; a leaf names AGENT_CN, the subject
        // Name of the agent's self-signed certificate, which is how a path finds its issuer
        // (RFC 5280 §6.1, name chaining).
        spec.issuer_cn = self_signed ? spec.subject_cn : std::string(AGENT_CN);
        spec.subject_spki = self_signed ? m_spki : Bytes(subject_spki_der.begin(), subject_spki_der.end());
        if (auto type = detail::classify_spki(spec.subject_spki, "subject public key"); !type.ok())
            return Error::make(Errc::Config, "%.*s", static_cast<int>(type.error().message().size()),
                               type.error().message().data());
        spec.issuer_spki = m_spki;

        if (dns_names.size() > MAX_DNS_NAMES)
            return Error::make(Errc::Config, "%zu DNS names, expected at most %zu", dns_names.size(), MAX_DNS_NAMES);
        for (const std::string& dns : dns_names) {
            if (auto checked = check_dns_name(dns); !checked)
                return Error::make(Errc::Config, "DNS name: %.*s", static_cast<int>(checked.error().message().size()),
                                   checked.error().message().data());
        }
        spec.dns_names = dns_names;
        if (not_after <= not_before)
            return Error::make(Errc::Config, "validity ends at %lld, expected after its start %lld",
                               static_cast<long long>(not_after), static_cast<long long>(not_before));
        spec.not_before = not_before;
        spec.not_after = not_after;

        TRY(check_evidence(set, self_signed));
        spec.cmw = encode_extension(set);
        if (spec.cmw.size() > MAX_EXTENSION_SIZE)
            return Error::make(Errc::Config, "id-pe-cmw extension of %zu bytes, expected at most %zu", spec.cmw.size(),
                               MAX_EXTENSION_SIZE);

        spec.serial.resize(SERIAL_SIZE);
        detail::random_bytes(nullptr, spec.serial.data(), spec.serial.size());
        spec.serial[0] = (spec.serial[0] & 0x7F) | 0x40;  // positive, and always 16 octets long
        Bytes tbs = TRY(detail::tbs_certificate(spec));
        Bytes signature = TRY(sign(tbs));
        return detail::certificate(tbs, signature);
    }

private:
    // What the certificate's shape requires of the evidence (its REPORT_DATA is the verifier's
    // business): issuer evidence exactly when another key is certified, and it speaks for this key.
    Result<void> check_evidence(const EvidenceSet& set, bool self_signed) const
    {
        if (!set.subject.spki.empty())
            return Error::make(Errc::Config, "subject evidence carries an SPKI, expected none (the certificate's "
                                             "own key is the subject's)");
        if (self_signed && set.issuer)
            return Error::make(Errc::Config, "issuer evidence in a self-signed certificate, expected none");
        if (!self_signed && !set.issuer)
            return Error::make(Errc::Config, "no issuer evidence, expected the evidence for the signing key");
        if (set.issuer && set.issuer->spki != m_spki)
            return Error::make(Errc::Config, "issuer evidence is for another key, expected this key's SPKI");
        return {};
    }

    Result<Bytes> sign(ByteView tbs) const
    {
        auto digest = crypto::Sha256::of(tbs);
        uint8_t sig[MBEDTLS_ECDSA_MAX_SIG_LEN(256)];
        size_t length = 0;
        // ecdsa.c takes the group non-const (it caches a comb table there): one signer at a time.
        std::lock_guard lock(m_mutex);
        int rc = mbedtls_pk_sign(const_cast<mbedtls_pk_context*>(&m_pk), MBEDTLS_MD_SHA256, digest.data(),
                                 digest.size(), sig, sizeof sig, &length, detail::random_bytes, nullptr);
        if (rc != 0)
            return detail::mbedtls_failure(Errc::Crypto, rc, "ECDSA P-256 signature");
        return Bytes(sig, sig + length);
    }

    mbedtls_pk_context m_pk;
    Bytes m_spki;
    mutable std::mutex m_mutex;
};

}  // namespace

Result<std::unique_ptr<KeyPair>> KeyPair::generate()
{
    auto pair = std::make_unique<MbedKeyPair>();
    TRY(pair->init());
    return std::unique_ptr<KeyPair>(std::move(pair));
}

}  // namespace cvm::ratls
