// parse_certificate: the X.509 v3 structure (RFC 5280 §4.1) walked with the strict DER reader,
// not mbedTLS's x509_crt: mbedTLS 3.6 parses no Ed25519 SubjectPublicKeyInfo
// (pkparse.c: mbedtls_pk_parse_subpubkey() -> MBEDTLS_ERR_PK_UNKNOWN_PK_ALG), and a workload's
// key may be Ed25519. Only what the profile (docs/ratls.md) produces is accepted.
#include <algorithm>
#include <cstring>

#include "base/der.h"
#include "proto/pem.h"
#include "ratls/internal.h"
#include "ratls/ratls.h"
#include "ratls/writer.h"
#include "verify/evidence.h"

namespace cvm::ratls {
namespace {

constexpr size_t MAX_CERTIFICATE_SIZE = 96 * 1024;
constexpr size_t MAX_SIGNATURE_SIZE = 72;  // ECDSA-Sig-Value of two 33-byte INTEGERs
constexpr uint8_t BIT_STRING = 0x03;
constexpr uint8_t UTC_TIME = 0x17;
constexpr uint8_t GENERALIZED_TIME = 0x18;
constexpr uint8_t DNS_NAME = 0x82;  // GeneralName dNSName [2] IMPLICIT IA5String

// The whole encoding (tag, length, content) of the next element.
Result<ByteView> read_whole(Reader& r, ByteView input, uint8_t tag, const char* field)
{
    size_t start = r.offset();
    TRY(der::read(r, tag, field));
    return input.subspan(start, r.offset() - start);
}

Result<int> digits(std::string_view text, size_t at, size_t count, const char* field)
{
    int v = 0;
    for (size_t i = at; i < at + count; ++i) {
        if (text[i] < '0' || text[i] > '9')
            return Error::make(Errc::Format, "certificate %s: '%c' in a time, expected a digit", field, text[i]);
        v = v * 10 + (text[i] - '0');
    }
    return v;
}

// RFC 5280 §4.1.2.5.1/.2: UTCTime YYMMDDHHMMSSZ (YY >= 50 is 19YY), GeneralizedTime
// YYYYMMDDHHMMSSZ, always in UTC with seconds.
Result<std::time_t> read_time(Reader& r, const char* field)
{
    der::Element e = TRY(der::read_any(r, field));
    std::string_view text(reinterpret_cast<const char*>(e.content.data()), e.content.size());
    size_t year_digits = e.tag == UTC_TIME ? 2 : 4;
    if ((e.tag != UTC_TIME && e.tag != GENERALIZED_TIME) || text.size() != year_digits + 11 || text.back() != 'Z')
        return Error::make(Errc::Format,
                           "certificate %s: expected UTCTime YYMMDDHHMMSSZ or GeneralizedTime "
                           "YYYYMMDDHHMMSSZ (RFC 5280 §4.1.2.5)",
                           field);
    struct tm tm {};
    int year = TRY(digits(text, 0, year_digits, field));
    if (e.tag == UTC_TIME)
        year += year >= 50 ? 1900 : 2000;
    tm.tm_year = year - 1900;
    tm.tm_mon = TRY(digits(text, year_digits, 2, field)) - 1;
    tm.tm_mday = TRY(digits(text, year_digits + 2, 2, field));
    tm.tm_hour = TRY(digits(text, year_digits + 4, 2, field));
    tm.tm_min = TRY(digits(text, year_digits + 6, 2, field));
    tm.tm_sec = TRY(digits(text, year_digits + 8, 2, field));
    if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
        return Error::make(Errc::Format, "certificate %s: \"%.*s\" is not a valid time", field,
                           static_cast<int>(text.size()), text.data());
    return timegm(&tm);
}

Result<void> read_alt_names(ByteView value, std::vector<std::string>& out)
{
    Reader outer(value, "subjectAltName");
    ByteView names = TRY(der::read(outer, der::SEQUENCE, "subjectAltName"));
    TRY(outer.finish());
    Reader r(names, "subjectAltName");
    while (!r.at_end()) {
        der::Element name = TRY(der::read_any(r, "subjectAltName.GeneralName"));
        if (name.tag != DNS_NAME)
            return Error::make(Errc::Format,
                               "subjectAltName: GeneralName with tag 0x%02x, expected dNSName (0x82) only", name.tag);
        std::string dns(reinterpret_cast<const char*>(name.content.data()), name.content.size());
        TRY_PREFIX(check_dns_name(dns), "subjectAltName: dNSName");
        out.push_back(std::move(dns));
    }
    if (out.empty())
        return Error::make(Errc::Format, "subjectAltName is empty, expected at least one dNSName (RFC 5280 §4.2.1.6)");
    return {};
}

struct Parsed {
    Certificate cert;
    bool have_cmw{false};
};

// Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension. RFC 5280 §4.2: "A certificate MUST NOT
// include more than one instance of a particular extension", and a certificate with an
// unrecognised critical extension MUST be rejected.
Result<void> read_extensions(ByteView explicit_content, Parsed& p)
{
    Reader outer(explicit_content, "extensions");
    ByteView list = TRY(der::read(outer, der::SEQUENCE, "extensions"));
    TRY(outer.finish());
    Reader r(list, "extensions");
    std::vector<ByteView> seen;
    while (!r.at_end()) {
        Reader e(TRY(der::read(r, der::SEQUENCE, "Extension")), "Extension");
        ByteView id = TRY(der::read(e, der::OID, "Extension.extnID"));
        bool critical = false;
        der::Element next = TRY(der::read_any(e, "Extension"));
        if (next.tag == der::BOOLEAN) {
            // DER: a DEFAULT value is never encoded (X.690 §11.5), so an explicit critical is TRUE.
            if (next.content.size() != 1 || next.content[0] != 0xFF)
                return Error::make(Errc::Format, "Extension.critical is not DER TRUE (FALSE is the DEFAULT and "
                                                 "must be omitted)");
            critical = true;
            next = TRY(der::read_any(e, "Extension.extnValue"));
        }
        if (next.tag != der::OCTET_STRING)
            return Error::make(Errc::Format, "Extension.extnValue has tag 0x%02x, expected OCTET STRING", next.tag);
        TRY(e.finish());
        if (std::any_of(seen.begin(), seen.end(), [&](ByteView s) { return detail::same(s, id); })) {
            if (detail::same(id, detail::OID_PE_CMW))
                return Error::make(Errc::Format, "certificate has two id-pe-cmw extensions, expected exactly one");
            return Error::make(Errc::Format,
                               "certificate repeats an extension (%s), expected each at most once "
                               "(RFC 5280 §4.2)",
                               to_hex(id).c_str());
        }
        seen.push_back(id);
        if (detail::same(id, detail::OID_PE_CMW)) {
            p.cert.evidence = TRY(parse_extension(next.content));
            p.have_cmw = true;
        } else if (detail::same(id, detail::OID_SUBJECT_ALT_NAME)) {
            TRY(read_alt_names(next.content, p.cert.dns_names));
        } else if (detail::same(id, detail::OID_BASIC_CONSTRAINTS)) {
            Reader b(next.content, "basicConstraints");
            Reader inner(TRY(der::read(b, der::SEQUENCE, "basicConstraints")), "basicConstraints");
            TRY(b.finish());
            if (!inner.at_end()) {
                ByteView ca = TRY(der::read(inner, der::BOOLEAN, "basicConstraints.cA"));
                p.cert.ca = ca.size() == 1 && ca[0] == 0xFF;
                if (!p.cert.ca)
                    return Error::make(Errc::Format, "basicConstraints.cA is not DER TRUE (FALSE must be omitted)");
            }
        } else if (critical && !detail::same(id, detail::OID_KEY_USAGE) &&
                   !detail::same(id, detail::OID_EXT_KEY_USAGE)) {
            return Error::make(Errc::Format,
                               "certificate has an unknown critical extension %s, refusing (RFC 5280 "
                               "§4.2)",
                               to_hex(id).c_str());
        }
    }
    return {};
}

Result<void> read_tbs(ByteView tbs_whole, Parsed& p, ByteView& algorithm)
{
    Reader outer(tbs_whole, "TBSCertificate");
    ByteView body = TRY(der::read(outer, der::SEQUENCE, "TBSCertificate"));
    TRY(outer.finish());
    Reader r(body, "TBSCertificate");
    Reader v(TRY(der::read(r, 0xA0, "TBSCertificate.version")), "version");
    uint32_t version = TRY(der::read_small_uint(TRY(der::read(v, der::INTEGER, "version")), "version"));
    TRY(v.finish());
    if (version != 2)
        return Error::make(Errc::Format, "certificate version is %u, expected 2 (v3)", version + 1);
    ByteView serial = TRY(der::read(r, der::INTEGER, "TBSCertificate.serialNumber"));
    if (serial.empty() || serial.size() > 21 || (serial[0] & 0x80))
        return Error::make(Errc::Format,
                           "certificate serialNumber of %zu bytes, expected a positive INTEGER of at "
                           "most 20 octets (RFC 5280 §4.1.2.2)",
                           serial.size());
    algorithm = TRY(der::read(r, der::SEQUENCE, "TBSCertificate.signature"));
    TRY(der::read(r, der::SEQUENCE, "TBSCertificate.issuer"));
    Reader validity(TRY(der::read(r, der::SEQUENCE, "TBSCertificate.validity")), "validity");
    p.cert.not_before = TRY(read_time(validity, "notBefore"));
    p.cert.not_after = TRY(read_time(validity, "notAfter"));
    TRY(validity.finish());
    TRY(der::read(r, der::SEQUENCE, "TBSCertificate.subject"));
    ByteView spki = TRY(read_whole(r, body, der::SEQUENCE, "TBSCertificate.subjectPublicKeyInfo"));
    p.cert.spki.assign(spki.begin(), spki.end());
    TRY(detail::classify_spki(p.cert.spki, "certificate subjectPublicKeyInfo"));
    if (r.at_end())
        return Error::make(Errc::Format, "certificate has no extensions, expected id-pe-cmw");
    der::Element next = TRY(der::read_any(r, "TBSCertificate.extensions"));
    if (next.tag != 0xA3)
        return Error::make(Errc::Format,
                           "TBSCertificate has element 0x%02x after the key, expected extensions [3] "
                           "(no unique identifiers)",
                           next.tag);
    TRY(read_extensions(next.content, p));
    TRY(r.finish());
    if (!p.have_cmw)
        return Error::make(Errc::Format, "certificate has no id-pe-cmw extension, expected exactly one");
    return {};
}

Result<Bytes> certificate_der(ByteView der_or_pem)
{
    if (der_or_pem.size() > MAX_CERTIFICATE_SIZE * 4 / 3 + 4096)
        return Error::make(Errc::Format, "certificate input of %zu bytes, expected at most %zu bytes of DER",
                           der_or_pem.size(), MAX_CERTIFICATE_SIZE);
    std::string_view text(reinterpret_cast<const char*>(der_or_pem.data()), der_or_pem.size());
    size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos || text[first] != '-')
        return Bytes(der_or_pem.begin(), der_or_pem.end());
    SecretBytes der = TRY(proto::pem_decode(text, "CERTIFICATE"));
    return Bytes(der.expose().begin(), der.expose().end());
}

}  // namespace

Result<Certificate> parse_certificate(ByteView der_or_pem)
{
    Parsed p;
    p.cert.der = TRY(certificate_der(der_or_pem));
    if (p.cert.der.size() > MAX_CERTIFICATE_SIZE)
        return Error::make(Errc::Format, "certificate of %zu bytes, expected at most %zu", p.cert.der.size(),
                           MAX_CERTIFICATE_SIZE);
    ByteView input = p.cert.der;
    Reader outer(input, "certificate");
    ByteView content = TRY(der::read(outer, der::SEQUENCE, "Certificate"));
    TRY(outer.finish());
    Reader r(content, "Certificate");
    ByteView tbs = TRY(read_whole(r, content, der::SEQUENCE, "Certificate.tbsCertificate"));
    ByteView inner_algorithm;
    TRY(read_tbs(tbs, p, inner_algorithm));
    ByteView algorithm = TRY(der::read(r, der::SEQUENCE, "Certificate.signatureAlgorithm"));
    ByteView signature = TRY(der::read(r, BIT_STRING, "Certificate.signatureValue"));
    TRY(r.finish());

    Reader a(algorithm, "signatureAlgorithm");
    ByteView oid = TRY(der::read(a, der::OID, "signatureAlgorithm.algorithm"));
    if (!detail::same(oid, detail::OID_ECDSA_WITH_SHA256) || !a.at_end())
        return Error::make(Errc::Format,
                           "certificate signatureAlgorithm is %s, expected ecdsa-with-SHA256 without "
                           "parameters (RFC 5758 §3.2)",
                           to_hex(oid).c_str());
    // RFC 5280 §4.1.1.2: the field "MUST contain the same algorithm identifier as the signature
    // field in the sequence tbsCertificate".
    if (!detail::same(algorithm, inner_algorithm))
        return Error::make(Errc::Format, "certificate signatureAlgorithm differs from TBSCertificate.signature, "
                                         "expected the same (RFC 5280 §4.1.1.2)");
    if (signature.size() < 2 || signature[0] != 0 || signature.size() - 1 > MAX_SIGNATURE_SIZE)
        return Error::make(Errc::Format,
                           "certificate signatureValue of %zu bytes, expected an ECDSA P-256 "
                           "signature of at most %zu with 0 unused bits",
                           signature.size(), MAX_SIGNATURE_SIZE);
    p.cert.tbs.assign(tbs.begin(), tbs.end());
    p.cert.signature.assign(signature.begin() + 1, signature.end());

    // The certificates of each report must form an AMD chain the verifier can take.
    for (const CertEvidence* e :
         {&p.cert.evidence.subject, p.cert.evidence.issuer ? &*p.cert.evidence.issuer : nullptr}) {
        if (!e)
            continue;
        auto roles = verify::evidence_from_cert_list(e->report, e->certs);
        if (!roles.ok()) {
            Error error = roles.release_error();
            error.prefix("id-pe-cmw %s.certs", e == &p.cert.evidence.subject ? "subject" : "issuer");
            return error;
        }
    }
    return p.cert;
}

}  // namespace cvm::ratls
