// The encoder: raw report -> virtee/sev's serde JSON (evidence_layout.h cites the sev sources),
// and the cert_chain. The decoder is evidence_decode.cc.
#include <yyjson.h>

#include <cstdlib>

#include "kbs/evidence.h"
#include "kbs/evidence_layout.h"
#include "proto/json.h"
#include "snp/report.h"

namespace cvm::kbs {
namespace {

using detail::TcbLayout;

// yyjson fails only on allocation; like proto::write_json, that ends the process.
void add(yyjson_mut_doc* doc, yyjson_mut_val* object, const char* key, yyjson_mut_val* value)
{
    if (!yyjson_mut_obj_add_val(doc, object, key, value))
        abort();
}

yyjson_mut_val* byte_array(yyjson_mut_doc* doc, ByteView bytes)
{
    return yyjson_mut_arr_with_uint8(doc, bytes.data(), bytes.size());
}

// sev's TcbVersion (host/types/snp.rs:509): fmc is Some only in the Turin layout.
yyjson_mut_val* tcb_json(yyjson_mut_doc* doc, uint64_t raw, TcbLayout layout)
{
    auto tcb = snp::TcbVersion::decode(raw, detail::layout_product(layout));
    yyjson_mut_val* o = yyjson_mut_obj(doc);
    add(doc, o, "fmc", layout == TcbLayout::Turin ? yyjson_mut_uint(doc, tcb.fmc) : yyjson_mut_null(doc));
    add(doc, o, "bootloader", yyjson_mut_uint(doc, tcb.boot_loader));
    add(doc, o, "tee", yyjson_mut_uint(doc, tcb.tee));
    add(doc, o, "snp", yyjson_mut_uint(doc, tcb.snp));
    add(doc, o, "microcode", yyjson_mut_uint(doc, tcb.microcode));
    return o;
}

yyjson_mut_val* version_json(yyjson_mut_doc* doc, uint8_t major, uint8_t minor, uint8_t build)
{
    yyjson_mut_val* o = yyjson_mut_obj(doc);
    add(doc, o, "major", yyjson_mut_uint(doc, major));
    add(doc, o, "minor", yyjson_mut_uint(doc, minor));
    add(doc, o, "build", yyjson_mut_uint(doc, build));
    return o;
}

// The JSON carries only the components of the product's layout (to_legacy_bytes/to_turin_bytes
// write zeros elsewhere), so a TCB_VERSION with a reserved byte set cannot be rebuilt.
Result<void> check_tcb_reserved(uint64_t raw, TcbLayout layout, const char* field)
{
    snp::Product product = detail::layout_product(layout);
    if (snp::TcbVersion::decode(raw, product).encode(product) == raw)
        return {};
    return Error::make(Errc::Format,
                       "ATTESTATION_REPORT: %s is 0x%016llx, whose reserved bytes (%s layout) are not zero: virtee/sev "
                       "would rebuild other bytes and Trustee's signature check would fail",
                       field, static_cast<unsigned long long>(raw),
                       layout == TcbLayout::Turin ? "Turin" : "Milan/Genoa");
}

Result<TcbLayout> report_layout(const snp::AttestationReport& r)
{
    auto layout = detail::tcb_layout(r.version, r.cpuid_fam_id, r.cpuid_mod_id, r.chip_id);
    if (!layout)
        return Error::make(Errc::Unsupported,
                           "ATTESTATION_REPORT: CPUID_FAM_ID 0x%02x CPUID_MOD_ID 0x%02x is not a product virtee/sev "
                           "knows (Milan, Genoa, Turin): Trustee could not rebuild the report's bytes",
                           r.cpuid_fam_id, r.cpuid_mod_id);
    TRY(check_tcb_reserved(r.current_tcb, *layout, "CURRENT_TCB"));
    TRY(check_tcb_reserved(r.reported_tcb, *layout, "REPORTED_TCB"));
    TRY(check_tcb_reserved(r.committed_tcb, *layout, "COMMITTED_TCB"));
    TRY(check_tcb_reserved(r.launch_tcb, *layout, "LAUNCH_TCB"));
    return *layout;
}

// sev's CertType::CRL (virtee/sev host/types/snp.rs, CertType's Display and TryFrom<Uuid>):
// 92f81bc3-5811-4d3d-97ff-d19f88dc67ea. snp::CertKind has no Crl (the agent does not read a CRL
// from the table), so the entry arrives as CertKind::Other; sev would serialise it as "CRL".
constexpr snp::Guid CRL_GUID = {0x92, 0xf8, 0x1b, 0xc3, 0x58, 0x11, 0x4d, 0x3d,
                                0x97, 0xff, 0xd1, 0x9f, 0x88, 0xdc, 0x67, 0xea};

yyjson_mut_val* optional_uint(yyjson_mut_doc* doc, bool present, uint64_t value)
{
    return present ? yyjson_mut_uint(doc, value) : yyjson_mut_null(doc);
}

}  // namespace

Result<yyjson_mut_val*> report_to_json(yyjson_mut_doc* doc, ByteView raw)
{
    // parse_report refuses a wrong size, an unknown VERSION and every reserved range that is not
    // zero (report.h): the JSON does not carry them, so only such reports can round-trip.
    snp::AttestationReport r = TRY(snp::parse_report(raw));
    TcbLayout layout = TRY(report_layout(r));
    bool v3 = r.version >= 3;
    bool v5 = r.version >= 5;
    auto u = [doc](uint64_t v) { return yyjson_mut_uint(doc, v); };

    // Members in the order of sev's struct (guest/types/snp.rs:245), which serde follows.
    yyjson_mut_val* o = yyjson_mut_obj(doc);
    add(doc, o, "version", u(r.version));
    add(doc, o, "guest_svn", u(r.guest_svn));
    add(doc, o, "policy", u(r.policy.raw));
    add(doc, o, "family_id", byte_array(doc, r.family_id));
    add(doc, o, "image_id", byte_array(doc, r.image_id));
    add(doc, o, "vmpl", u(r.vmpl));
    add(doc, o, "sig_algo", u(r.signature_algo));
    add(doc, o, "current_tcb", tcb_json(doc, r.current_tcb, layout));
    add(doc, o, "plat_info", u(r.platform_info.raw));
    add(doc, o, "key_info", u(get_le32(raw.data() + 0x048)));
    add(doc, o, "report_data", byte_array(doc, r.report_data));
    add(doc, o, "measurement", byte_array(doc, r.measurement));
    add(doc, o, "host_data", byte_array(doc, r.host_data));
    add(doc, o, "id_key_digest", byte_array(doc, r.id_key_digest));
    add(doc, o, "author_key_digest", byte_array(doc, r.author_key_digest));
    add(doc, o, "report_id", byte_array(doc, r.report_id));
    add(doc, o, "report_id_ma", byte_array(doc, r.report_id_ma));
    add(doc, o, "reported_tcb", tcb_json(doc, r.reported_tcb, layout));
    add(doc, o, "cpuid_fam_id", optional_uint(doc, v3, r.cpuid_fam_id));
    add(doc, o, "cpuid_mod_id", optional_uint(doc, v3, r.cpuid_mod_id));
    add(doc, o, "cpuid_step", optional_uint(doc, v3, r.cpuid_step));
    add(doc, o, "chip_id", byte_array(doc, r.chip_id));
    add(doc, o, "committed_tcb", tcb_json(doc, r.committed_tcb, layout));
    add(doc, o, "current", version_json(doc, r.current_major, r.current_minor, r.current_build));
    add(doc, o, "committed", version_json(doc, r.committed_major, r.committed_minor, r.committed_build));
    add(doc, o, "launch_tcb", tcb_json(doc, r.launch_tcb, layout));
    add(doc, o, "launch_mit_vector", optional_uint(doc, v5, r.launch_mit_vector));
    add(doc, o, "current_mit_vector", optional_uint(doc, v5, r.current_mit_vector));

    // sev keeps R and S as the report's 72-byte little-endian fields, high bytes included.
    yyjson_mut_val* sig = yyjson_mut_obj(doc);
    add(doc, sig, "r", byte_array(doc, raw.subspan(snp::SIGNATURE_OFFSET, detail::SIG_FIELD)));
    add(doc, sig, "s", byte_array(doc, raw.subspan(snp::SIGNATURE_OFFSET + detail::SIG_FIELD, detail::SIG_FIELD)));
    add(doc, o, "signature", sig);
    return o;
}

Result<std::string> report_to_json_text(ByteView report)
{
    proto::MutJson d;
    d.set_root(TRY(report_to_json(d.doc(), report)));
    return d.text();
}

// Trustee decodes cert_chain as Option<Vec<sev::firmware::host::CertTableEntry>>
// (deps/verifier/src/snp/mod.rs:39); CertType (virtee/sev host/types/snp.rs:54) is an externally
// tagged serde enum: unit variants as their names (CRL for CRL_GUID, as sev maps it), OTHER(Uuid)
// as {"OTHER": "<hyphenated uuid>"}.
// The verifier uses ARK (checked against its pinned one), ASK, VCEK and VLEK and skips the rest.
yyjson_mut_val* cert_chain_to_json(yyjson_mut_doc* doc, const std::vector<snp::CertEntry>& certs)
{
    if (certs.empty())
        return yyjson_mut_null(doc);
    yyjson_mut_val* list = yyjson_mut_arr(doc);
    for (const snp::CertEntry& cert : certs) {
        yyjson_mut_val* type = nullptr;
        if (cert.kind == snp::CertKind::Other && cert.guid == CRL_GUID) {
            type = yyjson_mut_strcpy(doc, "CRL");
        } else if (cert.kind == snp::CertKind::Other) {
            type = yyjson_mut_obj(doc);
            add(doc, type, "OTHER", yyjson_mut_strcpy(doc, snp::guid_to_string(cert.guid).c_str()));
        } else {
            std::string_view name = snp::cert_kind_name(cert.kind);
            type = yyjson_mut_strncpy(doc, name.data(), name.size());
        }
        yyjson_mut_val* entry = yyjson_mut_obj(doc);
        add(doc, entry, "cert_type", type);
        add(doc, entry, "data", byte_array(doc, cert.der));
        if (!yyjson_mut_arr_append(list, entry))
            abort();
    }
    return list;
}

}  // namespace cvm::kbs
