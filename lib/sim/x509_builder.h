// X.509 v3 certificates (RFC 5280 §4.1) signed RSASSA-PSS the way AMD signs its SEV-SNP
// certificates: SHA-384, MGF1 with SHA-384, salt length 48 (RFC 8017 §8.1, RFC 4055 §3.1).
//
// mbedTLS's x509write cannot emit RSASSA-PSS certificates, so the TBSCertificate is built here
// with the DER encoders of asn1.h, hashed with SHA-384 and signed with
// mbedtls_rsa_rsassa_pss_sign_ext. Internal to lib/sim.
#pragma once

#include <cstdint>
#include <ctime>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "sim/mbedtls_util.h"

namespace cvm::sim {

inline constexpr int PSS_SALT_LENGTH = 48;

// AMD's certificates differ in one DER detail of the RSASSA-PSS-params: the ARK-signed ones (ARK,
// ASK) spell out trailerField [3] INTEGER 1, which is the DEFAULT and so, strictly, not DER; the
// KDS-issued VCEKs omit it. The simulator reproduces each, so parsers meet both forms.
enum class TrailerField : uint8_t { Explicit, Omitted };

// AlgorithmIdentifier { id-RSASSA-PSS, RSASSA-PSS-params { sha384, mgf1SHA384, 48 [, 1] } }.
Bytes pss_sha384_algorithm(TrailerField trailer);

// sha384WithRSAEncryption (RFC 4055 §5), PKCS#1 v1.5: not what AMD uses; for the tests of
// what a verifier must refuse.
Bytes pkcs1_sha384_algorithm();

// The RSA padding of a signature: RSASSA-PSS as above (AMD's), or PKCS#1 v1.5.
enum class RsaPadding : uint8_t { Pss, Pkcs1v15 };

// The signature value over SHA-384(`tbs`) with `key` (RSA). Errc::Crypto when the key is not RSA
// or mbedTLS cannot sign.
Result<Bytes> rsa_sign_sha384(ByteView tbs, PkKey& key, Drbg& drbg, RsaPadding padding);

// Name ::= RDNSequence of OU, O, CN (UTF8String), one attribute per RDN.
Bytes distinguished_name(std::string_view ou, std::string_view o, std::string_view cn);

// Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }.
enum class Critical : uint8_t { No, Yes };
Bytes extension(ByteView oid, Critical critical, ByteView value);

// SubjectKeyIdentifier: SHA-1 of the subjectPublicKey BIT STRING value (RFC 5280 §4.2.1.2 (1)).
Result<Bytes> key_identifier(ByteView subject_public_key_info);

struct CertificateSpec {
    uint64_t serial{0};
    Bytes issuer;   // DER Name
    Bytes subject;  // DER Name
    std::time_t not_before{0};
    std::time_t not_after{0};
    Bytes subject_public_key_info;  // DER SPKI
    Bytes extensions;               // concatenated Extension elements; none when empty
    TrailerField trailer{TrailerField::Explicit};
};

// The DER certificate: `spec` as TBSCertificate, signed by `issuer_key` (RSA). Errc::Crypto when
// mbedTLS cannot sign, Errc::Config for an unrepresentable date.
Result<Bytes> sign_certificate(const CertificateSpec& spec, PkKey& issuer_key, Drbg& drbg);

}  // namespace cvm::sim
