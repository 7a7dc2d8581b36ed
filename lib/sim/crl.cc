#include "sim/crl.h"

#include <mbedtls/x509_crt.h>

#include "base/der.h"
#include "base/asn1.h"

namespace cvm::sim {

namespace {

constexpr std::time_t CLOCK_SLACK = 24 * 60 * 60;

// The ARK certificate's subject Name and SubjectPublicKeyInfo, as encoded in it.
struct ArkIdentity {
    Bytes subject;
    Bytes spki;
};

Result<ArkIdentity> ark_identity(ByteView ark_der)
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    int rc = mbedtls_x509_crt_parse_der(&crt, ark_der.data(), ark_der.size());
    if (rc != 0) {
        mbedtls_x509_crt_free(&crt);
        return mbedtls_failure(Errc::Format, rc, "ARK certificate: not an X.509 certificate");
    }
    // subject_raw and pk_raw span the whole elements, tag and length included.
    ArkIdentity id{Bytes(crt.subject_raw.p, crt.subject_raw.p + crt.subject_raw.len),
                   Bytes(crt.pk_raw.p, crt.pk_raw.p + crt.pk_raw.len)};
    mbedtls_x509_crt_free(&crt);
    return id;
}

}  // namespace

Result<Bytes> sign_crl(const CrlSpec& spec, PkKey& key, Drbg& drbg)
{
    Bytes algorithm =
        spec.padding == RsaPadding::Pss ? pss_sha384_algorithm(TrailerField::Omitted) : pkcs1_sha384_algorithm();
    Bytes version = spec.version ? asn1::integer(*spec.version) : Bytes{};
    Bytes next_update = spec.next_update ? TRY(asn1::x509_time(*spec.next_update)) : Bytes{};
    Bytes revoked;
    for (const RevokedEntry& e : spec.revoked)
        revoked =
            asn1::concat({revoked, asn1::sequence({asn1::integer(e.serial), TRY(asn1::x509_time(e.revoked_at))})});
    if (!spec.revoked.empty())
        revoked = asn1::element(der::SEQUENCE, revoked);
    Bytes extensions;
    if (!spec.extensions.empty())
        extensions = asn1::explicit_tag(0, asn1::element(der::SEQUENCE, spec.extensions));
    // RFC 5280 §5.1: TBSCertList ::= SEQUENCE { version OPTIONAL (v2), signature, issuer,
    // thisUpdate, nextUpdate OPTIONAL, revokedCertificates OPTIONAL, crlExtensions [0] OPTIONAL }.
    Bytes tbs = asn1::sequence(
        {version, algorithm, spec.issuer, TRY(asn1::x509_time(spec.this_update)), next_update, revoked, extensions});
    Bytes signature = TRY(rsa_sign_sha384(tbs, key, drbg, spec.padding));
    // CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }.
    return asn1::sequence({tbs, algorithm, asn1::bit_string(signature)});
}

Result<Bytes> make_crl(const Platform& platform, const CrlOptions& options)
{
    if (platform.ark_key_der.size() == 0)
        return Error::make(Errc::Config,
                           "the platform has no ARK private key to sign a CRL with (made before `cvm sim init` kept "
                           "ark-key.pem? make a new platform)");
    std::time_t this_update = options.this_update.value_or(time(nullptr) - CLOCK_SLACK);
    std::time_t next_update = options.next_update.value_or(this_update + DEFAULT_CRL_VALIDITY);
    if (next_update < this_update)
        return Error::make(Errc::Config, "CRL nextUpdate %lld precedes thisUpdate %lld",
                           static_cast<long long>(next_update), static_cast<long long>(this_update));
    ArkIdentity ark = TRY(ark_identity(platform.ark_der));
    auto drbg = TRY(Drbg::create("cvm sim crl"));
    auto key = TRY(parse_rsa4096_private_key(platform.ark_key_der.expose(), *drbg, "ARK private key"));

    CrlSpec spec;
    spec.issuer = ark.subject;
    spec.this_update = this_update;
    spec.next_update = next_update;
    for (uint64_t serial : options.revoked)
        spec.revoked.push_back({serial, this_update});
    // authorityKeyIdentifier { keyIdentifier [0] } (RFC 5280 §5.2.1) and cRLNumber (§5.2.3).
    Bytes aki = asn1::sequence({asn1::element(0x80, TRY(key_identifier(ark.spki)))});
    spec.extensions =
        asn1::concat({extension(asn1::oid({2, 5, 29, 35}), Critical::No, aki),
                      extension(asn1::oid({2, 5, 29, 20}), Critical::No, asn1::integer(options.crl_number))});
    return sign_crl(spec, *key, *drbg);
}

}  // namespace cvm::sim
