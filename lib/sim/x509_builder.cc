#include "sim/x509_builder.h"

#include <mbedtls/rsa.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha512.h>

#include "base/der.h"
#include "base/reader.h"
#include "base/asn1.h"

namespace cvm::sim {

namespace {

Bytes sha384_identifier()
{
    // id-sha384 (RFC 4055 §2.1) with NULL parameters, as AMD encodes it.
    return asn1::sequence({asn1::oid({2, 16, 840, 1, 101, 3, 4, 2, 2}), asn1::null()});
}

Bytes attribute(std::initializer_list<uint32_t> type, std::string_view value)
{
    return asn1::set_of_one(asn1::sequence({asn1::oid(type), asn1::utf8_string(value)}));
}

}  // namespace

Bytes pss_sha384_algorithm(TrailerField trailer)
{
    // RFC 4055 §3.1: RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0], maskGenAlgorithm [1],
    // saltLength [2], trailerField [3] }; id-RSASSA-PSS 1.2.840.113549.1.1.10, id-mgf1 ...1.8.
    Bytes params = asn1::concat({
        asn1::explicit_tag(0, sha384_identifier()),
        asn1::explicit_tag(1, asn1::sequence({asn1::oid({1, 2, 840, 113549, 1, 1, 8}), sha384_identifier()})),
        asn1::explicit_tag(2, asn1::integer(PSS_SALT_LENGTH)),
    });
    if (trailer == TrailerField::Explicit)
        params = asn1::concat({params, asn1::explicit_tag(3, asn1::integer(1))});
    return asn1::sequence({asn1::oid({1, 2, 840, 113549, 1, 1, 10}), asn1::element(der::SEQUENCE, params)});
}

Bytes pkcs1_sha384_algorithm()
{
    return asn1::sequence({asn1::oid({1, 2, 840, 113549, 1, 1, 12}), asn1::null()});
}

Result<Bytes> rsa_sign_sha384(ByteView tbs, PkKey& key, Drbg& drbg, RsaPadding padding)
{
    if (mbedtls_pk_get_type(&key.pk) != MBEDTLS_PK_RSA)
        return Error::make(Errc::Crypto, "signing key is not RSA");
    uint8_t digest[48];
    mbedtls_sha512(tbs.data(), tbs.size(), digest, /*is384=*/1);
    mbedtls_rsa_context* rsa = mbedtls_pk_rsa(key.pk);
    // For PSS the MGF1 hash is the one set on the context (RFC 8017 §9.1.1, MGF1 with SHA-384).
    int rc = mbedtls_rsa_set_padding(rsa, padding == RsaPadding::Pss ? MBEDTLS_RSA_PKCS_V21 : MBEDTLS_RSA_PKCS_V15,
                                     MBEDTLS_MD_SHA384);
    if (rc != 0)
        return mbedtls_failure(Errc::Crypto, rc, "cannot select the RSA padding with SHA-384");
    Bytes signature(mbedtls_rsa_get_len(rsa));
    if (padding == RsaPadding::Pss)
        rc = mbedtls_rsa_rsassa_pss_sign_ext(rsa, Drbg::random, drbg.context(), MBEDTLS_MD_SHA384, sizeof digest,
                                             digest, PSS_SALT_LENGTH, signature.data());
    else
        rc = mbedtls_rsa_pkcs1_sign(rsa, Drbg::random, drbg.context(), MBEDTLS_MD_SHA384, sizeof digest, digest,
                                    signature.data());
    if (rc != 0)
        return mbedtls_failure(Errc::Crypto, rc, "RSA signing failed");
    return signature;
}

Bytes distinguished_name(std::string_view ou, std::string_view o, std::string_view cn)
{
    return asn1::sequence({attribute({2, 5, 4, 11}, ou), attribute({2, 5, 4, 10}, o), attribute({2, 5, 4, 3}, cn)});
}

Bytes extension(ByteView oid, Critical critical, ByteView value)
{
    if (critical == Critical::Yes)
        return asn1::sequence({oid, asn1::boolean(true), asn1::octet_string(value)});
    return asn1::sequence({oid, asn1::octet_string(value)});  // DEFAULT FALSE is omitted in DER
}

Result<Bytes> key_identifier(ByteView spki)
{
    Reader r(spki, "SubjectPublicKeyInfo");
    Reader fields(TRY(der::read(r, der::SEQUENCE, "SubjectPublicKeyInfo")), "SubjectPublicKeyInfo");
    TRY(r.finish());
    TRY(der::read(fields, der::SEQUENCE, "algorithm"));
    ByteView bits = TRY(der::read(fields, 0x03, "subjectPublicKey"));
    TRY(fields.finish());
    if (bits.empty() || bits[0] != 0)
        return Error::make(Errc::Format, "SubjectPublicKeyInfo: subjectPublicKey has unused bits");
    Bytes id(20);
    mbedtls_sha1(bits.data() + 1, bits.size() - 1, id.data());
    return id;
}

Result<Bytes> sign_certificate(const CertificateSpec& spec, PkKey& issuer_key, Drbg& drbg)
{
    if (mbedtls_pk_get_type(&issuer_key.pk) != MBEDTLS_PK_RSA)
        return Error::make(Errc::Crypto, "certificate issuer key is not RSA");
    Bytes algorithm = pss_sha384_algorithm(spec.trailer);
    Bytes validity = asn1::sequence({TRY(asn1::x509_time(spec.not_before)), TRY(asn1::x509_time(spec.not_after))});
    Bytes extensions;
    if (!spec.extensions.empty())
        extensions = asn1::explicit_tag(3, asn1::element(der::SEQUENCE, spec.extensions));
    // RFC 5280 §4.1: TBSCertificate ::= SEQUENCE { version [0] v3(2), serialNumber, signature,
    // issuer, validity, subject, subjectPublicKeyInfo, extensions [3] }.
    Bytes tbs = asn1::sequence({asn1::explicit_tag(0, asn1::integer(2)), asn1::integer(spec.serial), algorithm,
                                spec.issuer, validity, spec.subject, spec.subject_public_key_info, extensions});

    Bytes signature = TRY(rsa_sign_sha384(tbs, issuer_key, drbg, RsaPadding::Pss));
    // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }.
    return asn1::sequence({tbs, algorithm, asn1::bit_string(signature)});
}

}  // namespace cvm::sim
