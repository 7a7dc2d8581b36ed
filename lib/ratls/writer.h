// The DER of an RA-TLS certificate (docs/ratls.md "The certificate profile"), built with the DER
// writers of base/asn1.h: mbedtls_x509write_crt cannot carry an Ed25519 subject key, which a
// workload may send. Internal to lib/ratls (KeyPair::issue signs what this builds).
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace cvm::ratls::detail {

enum class CertKind : uint8_t {
    SelfSignedCa,  // the agent's own certificate: basicConstraints CA:TRUE, pathLen 0; keyCertSign
    Leaf,          // a certificate for another key: CA:FALSE; digitalSignature only
};

struct TbsSpec {
    CertKind kind{CertKind::Leaf};
    Bytes serial;  // 16 random bytes; the writer keeps the INTEGER positive and minimal
    std::string issuer_cn;
    std::string subject_cn;
    std::time_t not_before{0};
    std::time_t not_after{0};
    Bytes subject_spki;  // DER, checked by classify_spki
    Bytes issuer_spki;   // DER, for the authorityKeyIdentifier
    std::vector<std::string> dns_names;
    Bytes cmw;  // the id-pe-cmw extnValue (encode_extension)
};

// The DER TBSCertificate (RFC 5280 §4.1) for `spec`, signature algorithm ecdsa-with-SHA256.
// Errc::Config for a date X.509 cannot represent.
Result<Bytes> tbs_certificate(const TbsSpec& spec);

// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
// with `ecdsa_sig_der` the DER ECDSA-Sig-Value (RFC 5758 §3.2, RFC 3279 §2.2.3).
Bytes certificate(ByteView tbs, ByteView ecdsa_sig_der);

// RFC 7093 §2 method 1: the leftmost 160 bits of SHA-256 over the subjectPublicKey BIT STRING's
// value of a DER SPKI that classify_spki accepted.
Result<Bytes> key_identifier(ByteView spki_der);

}  // namespace cvm::ratls::detail
