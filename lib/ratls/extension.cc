// The id-pe-cmw extension (docs/ratls.md "The extension"): a CMW (draft-ietf-rats-msg-wrap §6,
// "Transporting CMW in X.509 Messages") in its JSON form, holding a CMW collection (§3.3) of one
// JSON record (§3.1) per piece of evidence:
//
//   extnValue = DER( CMW ::= CHOICE { json UTF8String, cbor OCTET STRING } ), the json choice
//   {"__cmwc_t": COLLECTION_TYPE,
//    "subject": [MEDIA_TYPE, base64url(evidence JSON), 4],
//    "issuer":  [MEDIA_TYPE, base64url(evidence JSON), 4]}        (absent when self-signed)
//   evidence JSON = {"binding", "nonce", "provider", "report", "certs": [...], "spki"?}, base64
//   (RFC 4648 §4, padded) for bytes as in cvmkb/1.
#include <algorithm>
#include <array>

#include "base/asn1.h"
#include "base/base64.h"
#include "base/der.h"
#include "proto/json.h"
#include "proto/tags.h"
#include "ratls/internal.h"
#include "ratls/ratls.h"
#include "snp/report.h"

namespace cvm::ratls {
namespace {

constexpr uint8_t UTF8_STRING = 0x0C;
constexpr std::string_view COLLECTION_TYPE = "urn:cvminit:ratls:sev-snp-evidence-1";
constexpr std::string_view MEDIA_TYPE = "application/vnd.cvminit.sev-snp-evidence+json";
// cm-type (draft-ietf-rats-msg-wrap §3.1, "ind"): bit 2, evidence.
constexpr int64_t IND_EVIDENCE = 4;
constexpr size_t MAX_CERT_SIZE = 8 * 1024;  // AMD's VCEK, ASK and ARK are 1.3 to 1.7 KiB
constexpr size_t MAX_PROVIDER_SIZE = 32;
constexpr std::array<std::string_view, 3> PROVIDERS = {"configfs-tsm", "sev-guest", "simulated"};

std::string evidence_json(const CertEvidence& e)
{
    proto::MutJson d;
    yyjson_mut_val* root = d.root();
    d.add(root, "binding", d.str(e.binding));
    d.add(root, "nonce", d.str(base64_encode(e.nonce)));
    d.add(root, "provider", d.str(e.provider));
    d.add(root, "report", d.str(base64_encode(e.report)));
    yyjson_mut_val* certs = yyjson_mut_arr(d.doc());
    for (const Bytes& cert : e.certs)
        yyjson_mut_arr_append(certs, d.str(base64_encode(cert)));
    d.add(root, "certs", certs);
    if (!e.spki.empty())
        d.add(root, "spki", d.str(base64_encode(e.spki)));
    return d.text();
}

void add_record(proto::MutJson& d, yyjson_mut_val* collection, const char* label, const CertEvidence& e)
{
    yyjson_mut_val* record = yyjson_mut_arr(d.doc());
    yyjson_mut_arr_append(record, d.str(MEDIA_TYPE));
    yyjson_mut_arr_append(record, d.str(base64url_encode(as_bytes(evidence_json(e)))));
    yyjson_mut_arr_append(record, yyjson_mut_int(d.doc(), IND_EVIDENCE));
    d.add(collection, label, record);
}

// The first 64 bytes of untrusted text, for an error message.
std::string shown(std::string_view text)
{
    std::string out(text.substr(0, 64));
    for (char& c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
            c = '?';
    }
    return out;
}

enum class Role : uint8_t { Subject, Issuer };

Result<void> check_binding(std::string_view binding, const Bytes& nonce, Role role, const std::string& what)
{
    const char* w = what.c_str();
    if (role == Role::Issuer) {
        if (binding != proto::AGENT_KEY_TAG)
            return Error::make(Errc::Format, "%s.binding is \"%s\", expected \"%.*s\" (the agent's signing key)", w,
                               shown(binding).c_str(), static_cast<int>(proto::AGENT_KEY_TAG.size()),
                               proto::AGENT_KEY_TAG.data());
    } else if (binding != proto::WORKLOAD_RATLS_TAG && binding != proto::RATLS_BROKER_TAG &&
               binding != proto::AGENT_KEY_TAG) {
        return Error::make(Errc::Format, "%s.binding is \"%s\", expected one of \"%s\", \"%s\", \"%s\"", w,
                           shown(binding).c_str(), proto::WORKLOAD_RATLS_TAG.data(), proto::RATLS_BROKER_TAG.data(),
                           proto::AGENT_KEY_TAG.data());
    }
    if (binding == proto::AGENT_KEY_TAG && !nonce.empty())
        return Error::make(Errc::Format, "%s.nonce is %zu bytes, expected none for \"%s\"", w, nonce.size(),
                           proto::AGENT_KEY_TAG.data());
    if (binding == proto::RATLS_BROKER_TAG && nonce.size() != sizeof(proto::ReportData))
        return Error::make(Errc::Format, "%s.nonce is %zu bytes, expected %zu (the cvmkb/1 report_data)", w,
                           nonce.size(), sizeof(proto::ReportData));
    if (nonce.size() > proto::MAX_RATLS_NONCE)
        return Error::make(Errc::Format, "%s.nonce is %zu bytes, expected at most %zu", w, nonce.size(),
                           proto::MAX_RATLS_NONCE);
    return {};
}

Result<CertEvidence> parse_evidence(ByteView json, Role role, const std::string& what)
{
    std::string_view text(reinterpret_cast<const char*>(json.data()), json.size());
    proto::JsonDoc doc = TRY(proto::JsonDoc::parse(text, what.c_str()));
    yyjson_val* root = doc.root();
    if (role == Role::Issuer)
        TRY(proto::check_members(root, what, {"binding", "nonce", "provider", "report", "certs", "spki"}));
    else
        TRY(proto::check_members(root, what, {"binding", "nonce", "provider", "report", "certs"}));
    CertEvidence e;
    e.binding = std::string(TRY(proto::string_member(root, "binding", what)));
    e.nonce = TRY(proto::base64_member(root, "nonce", what, proto::MAX_RATLS_NONCE));
    TRY(check_binding(e.binding, e.nonce, role, what));

    std::string_view provider = TRY(proto::string_member(root, "provider", what));
    if (provider.size() > MAX_PROVIDER_SIZE ||
        std::find(PROVIDERS.begin(), PROVIDERS.end(), provider) == PROVIDERS.end())
        return Error::make(Errc::Format, "%s.provider is \"%s\", expected configfs-tsm, sev-guest or simulated",
                           what.c_str(), shown(provider).c_str());
    e.provider = std::string(provider);

    e.report = TRY(proto::base64_member(root, "report", what, snp::REPORT_SIZE));
    if (e.report.size() != snp::REPORT_SIZE)
        return Error::make(Errc::Format, "%s.report is %zu bytes, expected %zu (ATTESTATION_REPORT)", what.c_str(),
                           e.report.size(), snp::REPORT_SIZE);

    yyjson_val* certs = yyjson_obj_get(root, "certs");
    if (!yyjson_is_arr(certs))
        return Error::make(Errc::Format, "%s.certs: expected an array", what.c_str());
    if (yyjson_arr_size(certs) > MAX_CERTS_PER_EVIDENCE)
        return Error::make(Errc::Format, "%s.certs has %zu certificates, expected at most %zu", what.c_str(),
                           yyjson_arr_size(certs), MAX_CERTS_PER_EVIDENCE);
    size_t index = 0;
    yyjson_val* item = nullptr;
    yyjson_arr_iter it = yyjson_arr_iter_with(certs);
    while ((item = yyjson_arr_iter_next(&it))) {
        std::string name = what + ".certs[" + std::to_string(index++) + "]";
        Bytes cert = TRY(proto::base64_value(item, name, MAX_CERT_SIZE));
        if (cert.empty())
            return Error::make(Errc::Format, "%s is empty, expected a DER certificate", name.c_str());
        e.certs.push_back(std::move(cert));
    }

    if (role == Role::Issuer) {
        e.spki = TRY(proto::base64_member(root, "spki", what, detail::MAX_SPKI_SIZE));
        std::string name = what + ".spki";
        // The issuer signs with ECDSA P-256 (KeyPair): no other key can have signed the certificate.
        detail::KeyType type = TRY(detail::classify_spki(e.spki, name.c_str()));
        if (type != detail::KeyType::P256)
            return Error::make(Errc::Format, "%s is an Ed25519 key, expected P-256 (the signature is ECDSA)",
                               name.c_str());
    }
    return e;
}

Result<CertEvidence> parse_record(yyjson_val* collection, const char* label, Role role)
{
    std::string what = std::string("id-pe-cmw ") + label;
    yyjson_val* record = yyjson_obj_get(collection, label);
    if (!yyjson_is_arr(record) || yyjson_arr_size(record) != 3)
        return Error::make(Errc::Format, "%s: expected a CMW JSON record [type, value, ind] of 3 items", what.c_str());
    yyjson_val* type = yyjson_arr_get(record, 0);
    yyjson_val* value = yyjson_arr_get(record, 1);
    yyjson_val* ind = yyjson_arr_get(record, 2);
    if (!yyjson_is_str(type) || std::string_view(yyjson_get_str(type), yyjson_get_len(type)) != MEDIA_TYPE)
        return Error::make(Errc::Format, "%s: type is \"%s\", expected \"%s\"", what.c_str(),
                           yyjson_is_str(type) ? shown(yyjson_get_str(type)).c_str() : "(not a string)",
                           MEDIA_TYPE.data());
    if (!yyjson_is_int(ind) || yyjson_get_int(ind) != IND_EVIDENCE)
        return Error::make(Errc::Format, "%s: ind is not %lld, expected %lld (evidence)", what.c_str(),
                           static_cast<long long>(IND_EVIDENCE), static_cast<long long>(IND_EVIDENCE));
    if (!yyjson_is_str(value))
        return Error::make(Errc::Format, "%s: value is not a string, expected base64url", what.c_str());
    auto json = base64url_decode({yyjson_get_str(value), yyjson_get_len(value)});
    if (!json)
        return Error::make(Errc::Format, "%s: value is not canonical base64url (RFC 4648 §5, unpadded)", what.c_str());
    return parse_evidence(*json, role, what);
}

}  // namespace

Bytes encode_extension(const EvidenceSet& set)
{
    proto::MutJson d;
    yyjson_mut_val* collection = d.root();
    d.add(collection, "__cmwc_t", d.str(COLLECTION_TYPE));
    add_record(d, collection, "subject", set.subject);
    if (set.issuer)
        add_record(d, collection, "issuer", *set.issuer);
    std::string text = d.text();
    return asn1::element(UTF8_STRING, as_bytes(text));
}

Result<EvidenceSet> parse_extension(ByteView extn_value)
{
    if (extn_value.size() > MAX_EXTENSION_SIZE)
        return Error::make(Errc::Format, "id-pe-cmw: extension of %zu bytes, expected at most %zu", extn_value.size(),
                           MAX_EXTENSION_SIZE);
    Reader r(extn_value, "id-pe-cmw");
    der::Element cmw = TRY(der::read_any(r, "CMW"));
    TRY(r.finish());
    if (cmw.tag == der::OCTET_STRING)
        return Error::make(Errc::Unsupported, "id-pe-cmw: the cbor choice of CMW, expected the json choice "
                                              "(UTF8String)");
    if (cmw.tag != UTF8_STRING)
        return Error::make(Errc::Format, "id-pe-cmw: CMW has tag 0x%02x, expected 0x0c (json UTF8String)", cmw.tag);
    std::string_view text(reinterpret_cast<const char*>(cmw.content.data()), cmw.content.size());
    proto::JsonDoc doc = TRY(proto::JsonDoc::parse(text, "id-pe-cmw"));
    yyjson_val* root = doc.root();
    if (!yyjson_is_obj(root))
        return Error::make(Errc::Format, "id-pe-cmw: expected a CMW collection (a JSON object)");
    TRY(proto::check_members(root, "id-pe-cmw", {"__cmwc_t", "subject"}, {"issuer"}));
    std::string_view type = TRY(proto::string_member(root, "__cmwc_t", "id-pe-cmw"));
    if (type != COLLECTION_TYPE)
        return Error::make(Errc::Format, "id-pe-cmw: __cmwc_t is \"%s\", expected \"%s\"", shown(type).c_str(),
                           COLLECTION_TYPE.data());
    EvidenceSet set;
    set.subject = TRY(parse_record(root, "subject", Role::Subject));
    if (yyjson_obj_get(root, "issuer"))
        set.issuer = TRY(parse_record(root, "issuer", Role::Issuer));
    return set;
}

}  // namespace cvm::ratls
