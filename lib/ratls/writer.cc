#include "ratls/writer.h"

#include "base/asn1.h"
#include "base/der.h"
#include "crypto/digest.h"
#include "ratls/internal.h"

namespace cvm::ratls::detail {
namespace {

Bytes oid(ByteView content)
{
    return asn1::element(der::OID, content);
}

// Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING };
// DER leaves a FALSE critical out (X.690 §11.5).
Bytes extension(ByteView extn_id, bool critical, ByteView value)
{
    if (critical)
        return asn1::sequence({oid(extn_id), asn1::boolean(true), asn1::octet_string(value)});
    return asn1::sequence({oid(extn_id), asn1::octet_string(value)});
}

Bytes name(std::string_view cn)
{
    return asn1::sequence({asn1::set_of_one(asn1::sequence({oid(OID_COMMON_NAME), asn1::utf8_string(cn)}))});
}

Bytes extensions(const TbsSpec& spec, ByteView subject_key_id, ByteView authority_key_id)
{
    bool ca = spec.kind == CertKind::SelfSignedCa;
    // RFC 5280 §4.2.1.9: CAs "MUST mark the extension as critical"; pathLenConstraint 0: the
    // agent's key issues end-entity certificates only.
    Bytes basic = ca ? asn1::sequence({asn1::boolean(true), asn1::integer(0)}) : asn1::sequence({});
    // KeyUsage BIT STRING, named bits with trailing zero bits removed (X.690 §11.2.2):
    // digitalSignature (0) and keyCertSign (5) = 1000 0100, 2 unused; digitalSignature = 1, 7 unused.
    const uint8_t ca_usage = 0x84;
    const uint8_t leaf_usage = 0x80;
    Bytes usage = ca ? asn1::bit_string(ByteView(&ca_usage, 1), 2) : asn1::bit_string(ByteView(&leaf_usage, 1), 7);

    Bytes all = asn1::concat({extension(OID_BASIC_CONSTRAINTS, true, basic), extension(OID_KEY_USAGE, true, usage),
                              extension(OID_SUBJECT_KEY_ID, false, asn1::octet_string(subject_key_id))});
    if (!ca) {
        // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING }
        Bytes aki = asn1::sequence({asn1::element(0x80, authority_key_id)});
        all = asn1::concat({all, extension(OID_AUTHORITY_KEY_ID, false, aki)});
    }
    if (!spec.dns_names.empty()) {
        Bytes names;
        for (const std::string& dns : spec.dns_names)
            names = asn1::concat({names, asn1::element(0x82, as_bytes(dns))});  // dNSName [2] IA5String
        all = asn1::concat({all, extension(OID_SUBJECT_ALT_NAME, false, asn1::element(der::SEQUENCE, names))});
    }
    // draft-ietf-rats-msg-wrap §6: "This extension SHOULD NOT be marked critical."
    all = asn1::concat({all, extension(OID_PE_CMW, false, spec.cmw)});
    return asn1::explicit_tag(3, asn1::element(der::SEQUENCE, all));
}

}  // namespace

Result<Bytes> key_identifier(ByteView spki_der)
{
    Reader outer(spki_der, "SubjectPublicKeyInfo");
    ByteView spki = TRY(der::read(outer, der::SEQUENCE, "SubjectPublicKeyInfo"));
    Reader r(spki, "SubjectPublicKeyInfo");
    TRY(der::read(r, der::SEQUENCE, "SubjectPublicKeyInfo.algorithm"));
    ByteView key = TRY(der::read(r, 0x03, "SubjectPublicKeyInfo.subjectPublicKey"));
    if (key.empty())
        return Error::make(Errc::Format, "SubjectPublicKeyInfo.subjectPublicKey is empty");
    auto digest = crypto::Sha256::of(key.subspan(1));
    return Bytes(digest.begin(), digest.begin() + 20);
}

Result<Bytes> tbs_certificate(const TbsSpec& spec)
{
    Bytes algorithm = asn1::sequence({oid(OID_ECDSA_WITH_SHA256)});  // RFC 5758 §3.2: no parameters
    Bytes validity = asn1::sequence({TRY(asn1::x509_time(spec.not_before)), TRY(asn1::x509_time(spec.not_after))});
    Bytes subject_key_id = TRY(key_identifier(spec.subject_spki));
    Bytes authority_key_id = TRY(key_identifier(spec.issuer_spki));
    return asn1::sequence({
        asn1::explicit_tag(0, asn1::integer(2)),  // version v3
        asn1::integer_from_magnitude(spec.serial),
        algorithm,
        name(spec.issuer_cn),
        validity,
        name(spec.subject_cn),
        spec.subject_spki,
        extensions(spec, subject_key_id, authority_key_id),
    });
}

Bytes certificate(ByteView tbs, ByteView ecdsa_sig_der)
{
    return asn1::sequence({tbs, asn1::sequence({oid(OID_ECDSA_WITH_SHA256)}), asn1::bit_string(ecdsa_sig_der)});
}

}  // namespace cvm::ratls::detail
