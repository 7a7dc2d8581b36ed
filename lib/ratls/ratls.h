// Attested TLS certificates (DESIGN.md §4, §10; docs/ratls.md): X.509 v3 certificates whose
// extension id-pe-cmw (1.3.6.1.5.5.7.1.35, draft-ietf-rats-msg-wrap) carries SEV-SNP evidence
// for the certificate's own key, and, when the certificate was issued by the agent's per-boot
// key, evidence for that key too.
//
// Every piece of evidence names its binding (a tag of proto/tags.h) and the nonce it was made
// with; its report's REPORT_DATA must be exactly that binding over the key it speaks for:
//
//   subject  WORKLOAD_RATLS_TAG  SHA-512(tag || 0 || u16be|SPKI| || SPKI || u16be|nonce| || nonce)
//            RATLS_BROKER_TAG    the same with the cvmkb/1 report_data as the nonce (64 bytes)
//            AGENT_KEY_TAG       the agent's self-signed certificate: SPKI only
//   issuer   AGENT_KEY_TAG       over the issuer's SPKI (absent in a self-signed certificate)
//
// The certificate's key is the workload's: the agent never sees its private key. A verifier
// recomputes the bindings from this certificate's SPKI and from the key that verifies its
// signature, verifies both reports (chain, signature, policy) and requires that they come from
// the same launch (MEASUREMENT, HOST_DATA, REPORT_ID, CHIP_ID, POLICY equal); TLS itself then
// proves possession of the private key (the handshake signature is checked as usual).
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "base/secret.h"

namespace cvm::ratls {

inline constexpr std::string_view CMW_OID = "1.3.6.1.5.5.7.1.35";
inline constexpr size_t MAX_EXTENSION_SIZE = 64 * 1024;        // refused above, before parsing
inline constexpr size_t MAX_CERTS_PER_EVIDENCE = 4;            // VEK, ASK, ARK (and nothing more)
inline constexpr std::string_view AGENT_CN = "cvminit agent";  // the issuer CN of every leaf

// One report with what a verifier needs to check it.
struct CertEvidence {
    Bytes report;              // snp::REPORT_SIZE bytes
    std::vector<Bytes> certs;  // DER: the VEK first, then ASK and ARK when the host supplied them
    std::string binding;       // a tag of proto/tags.h
    Bytes nonce;               // 0..proto::MAX_RATLS_NONCE bytes (64 for RATLS_BROKER_TAG)
    std::string provider;      // agent::PROVIDER_* name; "simulated" must reach the verifier
    // The DER SubjectPublicKeyInfo this evidence binds, when the certificate does not carry it
    // itself: required in the issuer evidence (the signing key, which the verifier needs for the
    // binding and the signature); empty in the subject evidence, whose key is the certificate's.
    Bytes spki;
    bool operator==(const CertEvidence&) const = default;
};

struct EvidenceSet {
    CertEvidence subject;                // for the certificate's SPKI
    std::optional<CertEvidence> issuer;  // for the signing key; absent when self-signed
    bool operator==(const EvidenceSet&) const = default;
};

// The extnValue of id-pe-cmw for `set` (a CMW collection, documented in docs/ratls.md).
Bytes encode_extension(const EvidenceSet& set);
// The inverse, bounded (MAX_EXTENSION_SIZE, MAX_CERTS_PER_EVIDENCE, report size, tags known);
// errors name the field, what was found and what was expected.
Result<EvidenceSet> parse_extension(ByteView extn_value);

// A P-256 key pair held in memory (the agent's per-boot signing key, or its RA-TLS client key
// for the broker); the private key is wiped with the object.
class KeyPair {
public:
    static Result<std::unique_ptr<KeyPair>> generate();
    virtual ~KeyPair() = default;
    virtual ByteView spki_der() const = 0;
    // The PEM private key for a TLS stack (SEC1 "EC PRIVATE KEY"), in a wiping buffer.
    virtual Result<SecretBytes> private_key_pem() const = 0;
    // A certificate signed by this key (ECDSA with SHA-256): for `subject_spki_der` (P-256 or
    // Ed25519, see subject_spki_from_pem) or, when it is empty, this key's own SPKI (self-signed).
    // Random 128-bit serial; subject CN `subject_cn` (empty: AGENT_CN, for self-signed only);
    // issuer CN the subject's when self-signed, else AGENT_CN, so leaves chain by name to the
    // self-signed certificate made with AGENT_CN (the agent's issuer); `dns_names` as
    // subjectAltName dNSName (each a valid host name, at most 16); the id-pe-cmw extension with
    // `set`. Self-signed: basicConstraints CA:TRUE pathLen 0, keyUsage keyCertSign and
    // digitalSignature; otherwise CA:FALSE and digitalSignature (docs/ratls.md). `set` must have
    // issuer evidence exactly when the certificate is not self-signed, for this key's SPKI, and no
    // SPKI in the subject evidence; its REPORT_DATA is not checked here (verify_certificate does).
    // Errc::Config naming the offending argument.
    virtual Result<Bytes> issue(ByteView subject_spki_der, std::string_view subject_cn,
                                const std::vector<std::string>& dns_names, const EvidenceSet& set,
                                std::time_t not_before, std::time_t not_after) const = 0;
};

// A host name as a subjectAltName dNSName carries it (RFC 5280 §4.2.1.6, RFC 1034 §3.5, RFC 1123
// §2.1): 1 to MAX_DNS_NAME_LENGTH bytes of labels of 1 to 63 letters, digits and hyphens, none
// starting or ending with a hyphen; no wildcard, no trailing dot. Errc::Format naming the name
// (its first 80 bytes) and the rule.
inline constexpr size_t MAX_DNS_NAME_LENGTH = 253;  // RFC 1035 §2.3.4, without the final dot
Result<void> check_dns_name(std::string_view name);

// The DER SubjectPublicKeyInfo of a PEM public key: "PUBLIC KEY" holding a P-256 (id-ecPublicKey,
// prime256v1) or Ed25519 (1.3.101.112) key, checked on the curve; anything else is refused by
// name (RSA, P-384, a private key, two blocks).
Result<Bytes> subject_spki_from_pem(std::string_view pem);

// A certificate as an RA-TLS peer presents it, parsed: its own SPKI, the signing key's SPKI when
// the evidence names an issuer (the verifier then checks the signature with it), and the evidence.
struct Certificate {
    Bytes der;
    Bytes spki;
    std::vector<std::string> dns_names;
    EvidenceSet evidence;
    Bytes tbs;        // the DER TBSCertificate: what the signature covers
    Bytes signature;  // the DER ECDSA-Sig-Value (ecdsa-with-SHA256)
    std::time_t not_before{0};
    std::time_t not_after{0};
    bool ca{false};  // basicConstraints cA
};

// DER or one PEM "CERTIFICATE" block, at most 96 KiB of DER: X.509 v3, ecdsa-with-SHA256, a
// P-256 or Ed25519 key, no unknown critical extension, no extension twice, subjectAltName only
// dNSNames, exactly one id-pe-cmw extension (parse_extension), whose certificates form a chain
// verify::evidence_from_cert_list accepts. Dates are read, not judged. Errc::Format naming the
// field, what was found and what was expected.
Result<Certificate> parse_certificate(ByteView der_or_pem);

}  // namespace cvm::ratls
