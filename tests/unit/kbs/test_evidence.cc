// SNP evidence in Trustee's form (lib/kbs/evidence.h), what is accepted: Trustee's own e2e evidence
// fixture (tests/vectors/trustee_kbs/evidence.json), every real report round-tripped, the
// cert_chain. The refusals are test_evidence_refusals.cc.
#include <doctest.h>
#include <yyjson.h>

#include <string>

#include "evidence_edit.h"
#include "kbs/evidence.h"
#include "proto/json.h"
#include "snp/report.h"
#include "vectors.h"
#include "verify/amd_roots.h"
#include "verify/chain.h"
#include "verify/signatures.h"

using namespace cvm;
using namespace cvm::evidence_test;

namespace {

const char* FIXTURE = "trustee_kbs/evidence.json";

std::string fixture_text()
{
    Bytes b = test::read_vector(FIXTURE);
    return std::string(b.begin(), b.end());
}

}  // namespace

TEST_CASE("Trustee's e2e evidence fixture decodes to the bytes it describes")
{
    proto::JsonDoc doc = parse(fixture_text());
    auto bytes = kbs::report_from_json(yyjson_obj_get(doc.root(), "attestation_report"));
    REQUIRE(bytes.ok());
    REQUIRE(bytes->size() == snp::REPORT_SIZE);
    const uint8_t* b = bytes->data();
    auto r = snp::parse_report(bytes.value()).release_value();
    CHECK(r.version == 3);
    CHECK(r.policy.raw == 196608);
    CHECK(r.vmpl == 0);
    CHECK(r.platform_info.raw == 37);
    CHECK(r.cpuid_fam_id == 0x19);
    CHECK(r.cpuid_mod_id == 0xA0);  // Siena, a Genoa-line part
    CHECK(r.cpuid_step == 2);
    // {"fmc":null,"bootloader":10,"tee":0,"snp":23,"microcode":25} in the Milan/Genoa layout.
    CHECK(r.reported_tcb == 0x1917'0000'0000'000Aull);
    CHECK(r.current_tcb == r.reported_tcb);
    CHECK(r.launch_tcb == r.reported_tcb);
    CHECK(b[0x1E8] == 40);  // current {"major":1,"minor":55,"build":40}
    CHECK(b[0x1E9] == 55);
    CHECK(b[0x1EA] == 1);
    CHECK(b[0x050] == 126);                    // report_data[0]
    CHECK(b[0x08F] == 176);                    // report_data[63]
    CHECK(b[0x090] == 106);                    // measurement[0]
    CHECK(b[0x1A0] == 55);                     // chip_id[0]
    CHECK(b[0x1DF] == 232);                    // chip_id[63]
    CHECK(all_zero(ByteView(b + 0x0C0, 32)));  // host_data
    for (size_t i = 0x160; i < 0x180; i++)
        CHECK(b[i] == 255);  // report_id_ma
    CHECK(b[0x2A0] == 248);  // signature.r[0], little-endian
    CHECK(b[0x2E8] == 7);    // signature.s[0]
}

TEST_CASE("our encoding of the fixture's bytes has the fixture's members and values")
{
    proto::JsonDoc fixture = parse(fixture_text());
    yyjson_val* theirs = yyjson_obj_get(fixture.root(), "attestation_report");
    Bytes bytes = kbs::report_from_json(theirs).release_value();
    std::string text = kbs::report_to_json_text(bytes).release_value();
    proto::JsonDoc ours_doc = parse(text);
    yyjson_val* ours = ours_doc.root();

    // Member by member, as parsed JSON (numbers by value, arrays element by element).
    size_t compared = 0;
    yyjson_obj_iter it = yyjson_obj_iter_with(theirs);
    while (yyjson_val* key = yyjson_obj_iter_next(&it)) {
        std::string name = yyjson_get_str(key);
        CAPTURE(name);
        yyjson_val* mine = yyjson_obj_get(ours, name.c_str());
        REQUIRE(mine);
        CHECK(yyjson_equals(mine, yyjson_obj_iter_get_val(key)));
        compared++;
    }
    CHECK(compared == 27);
    // The fixture predates sev's mitigation vectors; sev 7.1.0 serialises them as null before v5.
    CHECK(yyjson_obj_size(ours) == 29);
    CHECK(yyjson_is_null(yyjson_obj_get(ours, "launch_mit_vector")));
    CHECK(yyjson_is_null(yyjson_obj_get(ours, "current_mit_vector")));
    CHECK(kbs::report_from_json_text(text).value() == bytes);
}

TEST_CASE("the fixture's AMD signature holds over the rebuilt bytes, and fails when one field changes")
{
    proto::JsonDoc fixture = parse(fixture_text());
    yyjson_val* chain = yyjson_obj_get(fixture.root(), "cert_chain");
    REQUIRE(yyjson_arr_size(chain) == 1);
    yyjson_val* entry = yyjson_arr_get(chain, 0);
    CHECK(std::string(yyjson_get_str(yyjson_obj_get(entry, "cert_type"))) == "VCEK");
    Bytes der;
    yyjson_val* data = yyjson_obj_get(entry, "data");
    for (size_t i = 0; i < yyjson_arr_size(data); i++)
        der.push_back(static_cast<uint8_t>(yyjson_get_uint(yyjson_arr_get(data, i))));
    auto vcek = verify::Certificate::parse_der(der).release_value();
    auto genoa = verify::load_amd_roots(snp::Product::Genoa).release_value();
    CHECK(verify::check_ark(genoa.ark, verify::Anchor::AmdPinned, snp::Product::Genoa).pass);
    CHECK(verify::check_intermediate(genoa.ask, genoa.ark, verify::VekKind::Vcek, verify::Anchor::AmdPinned,
                                     snp::Product::Genoa)
              .pass);
    CHECK(verify::check_vek_certificate(vcek, genoa.ask, verify::VekKind::Vcek).pass);

    std::string ours =
        kbs::report_to_json_text(kbs::report_from_json(yyjson_obj_get(fixture.root(), "attestation_report")).value())
            .release_value();
    Bytes bytes = kbs::report_from_json_text(ours).release_value();
    auto r = snp::parse_report(bytes).release_value();
    ByteView signed_part(bytes.data(), snp::SIGNED_SIZE);
    CHECK(verify::verify_report_signature(signed_part, r.signature_r, r.signature_s, vcek).ok());

    Bytes changed = kbs::report_from_json_text(Edit(ours).set(nullptr, "guest_svn", "1").text()).release_value();
    CHECK_FALSE(
        verify::verify_report_signature(ByteView(changed.data(), snp::SIGNED_SIZE), r.signature_r, r.signature_s, vcek)
            .ok());

    // Our cert_chain for that certificate is the fixture's.
    yyjson_mut_doc* doc = yyjson_mut_doc_new(nullptr);
    snp::CertEntry cert{snp::GUID_VCEK, snp::CertKind::Vcek, der};
    yyjson_mut_doc_set_root(doc, kbs::cert_chain_to_json(doc, {cert}));
    proto::JsonDoc again = parse(proto::write_json(doc));
    yyjson_mut_doc_free(doc);
    CHECK(yyjson_equals(again.root(), chain));
}

TEST_CASE("every real report round-trips through Trustee's form to the same 1184 bytes")
{
    // None of the vectors has a reserved byte set (parse_report would refuse it), so none is refused.
    for (const std::string& dir : test::REPORT_VECTORS) {
        CAPTURE(dir);
        Bytes raw = test::read_vector(test::report_path(dir));
        auto text = kbs::report_to_json_text(raw);
        REQUIRE(text.ok());
        auto back = kbs::report_from_json_text(text.value());
        REQUIRE(back.ok());
        CHECK(back.value() == raw);

        proto::JsonDoc doc = parse(text.value());
        uint32_t version = get_le32(raw.data());
        bool turin = dir == "oak_turin_v5";
        CHECK(yyjson_is_null(yyjson_obj_get(doc.root(), "cpuid_fam_id")) == (version < 3));
        CHECK(yyjson_is_null(yyjson_obj_get(doc.root(), "launch_mit_vector")) == (version < 5));
        for (const char* tcb : {"current_tcb", "reported_tcb", "committed_tcb", "launch_tcb"})
            CHECK(yyjson_is_null(yyjson_obj_get(yyjson_obj_get(doc.root(), tcb), "fmc")) == !turin);
    }
}

TEST_CASE("the Turin report's TCB objects carry fmc from byte 0")
{
    proto::JsonDoc doc = parse(report_json("oak_turin_v5"));
    yyjson_val* tcb = yyjson_obj_get(doc.root(), "reported_tcb");
    // oak_turin_v5 REPORTED_TCB is 00 01 00 02 00 00 00 47: fmc 0, bootloader 1, tee 0, snp 2, ucode 0x47.
    CHECK(yyjson_get_uint(yyjson_obj_get(tcb, "fmc")) == 0);
    CHECK(yyjson_get_uint(yyjson_obj_get(tcb, "bootloader")) == 1);
    CHECK(yyjson_get_uint(yyjson_obj_get(tcb, "snp")) == 2);
    CHECK(yyjson_get_uint(yyjson_obj_get(tcb, "microcode")) == 0x47);
    CHECK(yyjson_is_uint(yyjson_obj_get(doc.root(), "current_mit_vector")));
}

TEST_CASE("cert_chain_to_json: null when empty, kbs-types/sev CertType names, CRL by its GUID, OTHER with its GUID")
{
    yyjson_mut_doc* doc = yyjson_mut_doc_new(nullptr);
    CHECK(yyjson_mut_is_null(kbs::cert_chain_to_json(doc, {})));
    // sev's CertType::CRL GUID, and one sev does not name.
    snp::Guid crl = {0x92, 0xf8, 0x1b, 0xc3, 0x58, 0x11, 0x4d, 0x3d, 0x97, 0xff, 0xd1, 0x9f, 0x88, 0xdc, 0x67, 0xea};
    snp::Guid other = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0x4d, 0xef, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01};
    std::vector<snp::CertEntry> certs = {
        {snp::GUID_VCEK, snp::CertKind::Vcek, {0x30, 0x00}},
        {snp::GUID_VLEK, snp::CertKind::Vlek, {1}},
        {snp::GUID_ASK, snp::CertKind::Ask, {2, 255}},
        {snp::GUID_ARK, snp::CertKind::Ark, {3}},
        {crl, snp::CertKind::Other, {5}},
        {other, snp::CertKind::Other, {4}},
    };
    yyjson_mut_doc_set_root(doc, kbs::cert_chain_to_json(doc, certs));
    std::string text = proto::write_json(doc);
    yyjson_mut_doc_free(doc);
    CHECK(text == "[{\"cert_type\":\"VCEK\",\"data\":[48,0]},{\"cert_type\":\"VLEK\",\"data\":[1]},"
                  "{\"cert_type\":\"ASK\",\"data\":[2,255]},{\"cert_type\":\"ARK\",\"data\":[3]},"
                  "{\"cert_type\":\"CRL\",\"data\":[5]},"
                  "{\"cert_type\":{\"OTHER\":\"01234567-89ab-4def-8000-000000000001\"},\"data\":[4]}]");
}
