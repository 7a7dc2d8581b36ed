// SNP evidence in Trustee's form (lib/kbs/evidence.h): Trustee's own e2e evidence fixture
// (tests/vectors/trustee_kbs/evidence.json), every real report round-tripped, the refusals.
#include <doctest.h>
#include <yyjson.h>

#include <cstring>
#include <string>

#include "../snp/report_vectors.h"
#include "kbs/evidence.h"
#include "proto/json.h"
#include "snp/report.h"
#include "vectors.h"
#include "verify/amd_roots.h"
#include "verify/chain.h"
#include "verify/signatures.h"

using namespace cvm;

namespace {

const char* FIXTURE = "trustee_kbs/evidence.json";

std::string fixture_text()
{
    Bytes b = test::read_vector(FIXTURE);
    return std::string(b.begin(), b.end());
}

proto::JsonDoc parse(const std::string& text)
{
    auto doc = proto::JsonDoc::parse(text, "test");
    REQUIRE(doc.ok());
    return doc.release_value();
}

// A mutable copy of a JSON text, edited by a test and written back.
struct Edit {
    explicit Edit(const std::string& text) : src(parse(text))
    {
        doc = yyjson_mut_doc_new(nullptr);
        root = yyjson_val_mut_copy(doc, src.root());
        yyjson_mut_doc_set_root(doc, root);
    }
    ~Edit() { yyjson_mut_doc_free(doc); }
    Edit(const Edit&) = delete;
    Edit& operator=(const Edit&) = delete;
    yyjson_mut_val* at(const char* key) const { return key ? yyjson_mut_obj_get(root, key) : root; }
    // Sets object[key] (key nullptr: the root) member `name` to `json`, or removes it (nullptr).
    Edit& set(const char* key, const char* name, const char* json)
    {
        yyjson_mut_val* value = nullptr;
        if (json) {
            yyjson_doc* d = yyjson_read(json, strlen(json), 0);
            REQUIRE(d);
            value = yyjson_val_mut_copy(doc, yyjson_doc_get_root(d));
            yyjson_doc_free(d);
        }
        yyjson_mut_obj_remove_key(at(key), name);
        if (value)
            yyjson_mut_obj_add(at(key), yyjson_mut_strcpy(doc, name), value);
        return *this;
    }
    Edit& set_item(const char* key, size_t index, const char* json)
    {
        yyjson_doc* d = yyjson_read(json, strlen(json), 0);
        REQUIRE(d);
        yyjson_mut_arr_replace(at(key), index, yyjson_val_mut_copy(doc, yyjson_doc_get_root(d)));
        yyjson_doc_free(d);
        return *this;
    }
    std::string text() const { return proto::write_json(doc); }

    proto::JsonDoc src;
    yyjson_mut_doc* doc{nullptr};
    yyjson_mut_val* root{nullptr};
};

std::string report_json(const std::string& dir)
{
    auto text = kbs::report_to_json_text(test::read_vector(test::report_path(dir)));
    REQUIRE(text.ok());
    return text.value();
}

std::string error_of(const Result<Bytes>& r)
{
    return r.ok() ? "(accepted)" : std::string(r.error().message());
}

// The decoder refuses `text` with Errc::Format and a message naming `member`.
void check_refused(const std::string& text, const std::string& member)
{
    auto r = kbs::report_from_json_text(text);
    std::string message = error_of(r);
    CAPTURE(member);
    CAPTURE(message);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Format);
    CHECK(message.find(member) != std::string::npos);
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

TEST_CASE("report_to_json refuses what Trustee could not rebuild")
{
    Bytes milan = test::read_vector(test::report_path("trustee_azure_genoa_v3"));
    struct Case {
        size_t offset;
        const char* field;
    };
    // Reserved ranges (parse_report) and a reserved byte inside a Milan/Genoa TCB_VERSION.
    for (Case c : {Case{0x04C, "reserved 0x04C"}, Case{0x18B, "reserved 0x18B"}, Case{0x1EB, "reserved 0x1EB"},
                   Case{0x1F8, "reserved 0x1F8"}, Case{0x250, "reserved 0x208"}, Case{0x400, "SIGNATURE tail"},
                   Case{0x03A, "CURRENT_TCB"}, Case{0x183, "REPORTED_TCB"}, Case{0x1E5, "COMMITTED_TCB"},
                   Case{0x1F2, "LAUNCH_TCB"}}) {
        CAPTURE(c.field);
        Bytes bad = milan;
        bad[c.offset] = 1;
        auto r = kbs::report_to_json_text(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code() == Errc::Format);
        CHECK(std::string(r.error().message()).find(c.field) != std::string::npos);
    }
    Bytes venice = milan;
    venice[0x188] = 0x1A;
    venice[0x189] = 0x50;
    auto r = kbs::report_to_json_text(venice);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Unsupported);
    CHECK(std::string(r.error().message()).find("CPUID_FAM_ID 0x1a CPUID_MOD_ID 0x50") != std::string::npos);
    CHECK_FALSE(kbs::report_to_json_text(ByteView(milan.data(), 1183)).ok());
}

TEST_CASE("each member missing is refused by name")
{
    const char* members[] = {"version",
                             "guest_svn",
                             "policy",
                             "family_id",
                             "image_id",
                             "vmpl",
                             "sig_algo",
                             "current_tcb",
                             "plat_info",
                             "key_info",
                             "report_data",
                             "measurement",
                             "host_data",
                             "id_key_digest",
                             "author_key_digest",
                             "report_id",
                             "report_id_ma",
                             "reported_tcb",
                             "cpuid_fam_id",
                             "cpuid_mod_id",
                             "cpuid_step",
                             "chip_id",
                             "committed_tcb",
                             "current",
                             "committed",
                             "launch_tcb",
                             "launch_mit_vector",
                             "current_mit_vector",
                             "signature"};
    std::string v5 = report_json("oak_turin_v5");  // every member is required in version 5 on Turin
    for (const char* m : members)
        check_refused(Edit(v5).set(nullptr, m, nullptr).text(), std::string("attestation_report.") + m);
    for (const char* m : {"fmc", "bootloader", "tee", "snp", "microcode"})
        check_refused(Edit(v5).set("launch_tcb", m, nullptr).text(), std::string("launch_tcb.") + m);
    for (const char* m : {"major", "minor", "build"})
        check_refused(Edit(v5).set("committed", m, nullptr).text(), std::string("committed.") + m);
    for (const char* m : {"r", "s"})
        check_refused(Edit(v5).set("signature", m, nullptr).text(), std::string("signature.") + m);
}

TEST_CASE("extra and duplicate members, wrong types, lengths, ranges and floats are refused by name")
{
    std::string v3 = report_json("trustee_azure_genoa_v3");
    check_refused(Edit(v3).set(nullptr, "report_version", "3").text(), "attestation_report.report_version");
    check_refused(Edit(v3).set("current_tcb", "spl4", "0").text(), "current_tcb.spl4");
    check_refused(Edit(v3).set("signature", "v", "[]").text(), "signature.v");
    check_refused(Edit(v3).set("current", "patch", "0").text(), "current.patch");

    std::string dup = v3;
    dup.insert(1, "\"vmpl\":0,");
    check_refused(dup, "attestation_report.vmpl: duplicate");
    std::string dup_tcb = v3;
    dup_tcb.insert(dup_tcb.find("\"reported_tcb\":{") + 16, "\"tee\":0,");
    check_refused(dup_tcb, "reported_tcb.tee: duplicate");

    struct Case {
        const char* key;  // nullptr: the report object itself
        const char* member;
        const char* json;
        const char* named;
    };
    Case cases[] = {
        {nullptr, "version", "\"3\"", "attestation_report.version: found a string"},
        {nullptr, "policy", "true", "attestation_report.policy: found a boolean"},
        {nullptr, "family_id", "\"00\"", "attestation_report.family_id: found a string"},
        {nullptr, "current_tcb", "5", "attestation_report.current_tcb: found 5, expected an object"},
        {nullptr, "signature", "[]", "attestation_report.signature: found an array of 0"},
        {nullptr, "report_data", "[1,2,3]", "attestation_report.report_data: found an array of 3"},
        {nullptr, "host_data", "null", "attestation_report.host_data: found null"},
        {nullptr, "vmpl", "4294967296", "attestation_report.vmpl: found 4294967296, expected an integer from 0"},
        {nullptr, "guest_svn", "-1", "attestation_report.guest_svn: found -1"},
        {nullptr, "vmpl", "0.0", "attestation_report.vmpl: found the float 0"},
        {nullptr, "plat_info", "1e2", "attestation_report.plat_info: found the float 100"},
        {nullptr, "policy", "18446744073709551616", "attestation_report.policy: found the float"},
        {nullptr, "cpuid_step", "256", "attestation_report.cpuid_step: found 256"},
        {"current_tcb", "snp", "256", "current_tcb.snp: found 256"},
        {"committed", "major", "-3", "committed.major: found -3"},
        {"current_tcb", "microcode", "1.5", "current_tcb.microcode: found the float 1.5"},
        {nullptr, "version", "1", "attestation_report.version: found 1, expected 2, 3, 4 or 5"},
        {nullptr, "version", "6", "attestation_report.version: found 6, expected 2, 3, 4 or 5"},
        {nullptr, "version", "0", "attestation_report.version: found 0"},
        {nullptr, "sig_algo", "2", "attestation_report.sig_algo: found 2, expected 1"},
        {nullptr, "policy", "0", "attestation_report.policy: found 0x0"},
        {nullptr, "policy", "67239936", "attestation_report.policy: found 0x4020000"},  // bit 26
        {nullptr, "key_info", "8", "attestation_report.key_info: found 0x8"},           // SIGNING_KEY 2
        {nullptr, "key_info", "32", "attestation_report.key_info: found 0x20"},
        {nullptr, "cpuid_fam_id", "27", "attestation_report.cpuid_fam_id, cpuid_mod_id: found family 0x1b"},
        {"current_tcb", "fmc", "1", "current_tcb.fmc: found 1, expected null"},  // Genoa has no fmc
        {nullptr, "launch_mit_vector", "0", "attestation_report.launch_mit_vector: found 0, expected null"},
        {nullptr, "current_mit_vector", "\"\"", "attestation_report.current_mit_vector: found a string"},
    };
    for (const Case& c : cases)
        check_refused(Edit(v3).set(c.key, c.member, c.json).text(), c.named);

    check_refused(Edit(v3).set_item("family_id", 0, "256").text(), "attestation_report.family_id[0]: found 256");
    check_refused(Edit(v3).set_item("measurement", 5, "-1").text(), "attestation_report.measurement[5]: found -1");
    check_refused(Edit(v3).set_item("chip_id", 63, "1.0").text(), "attestation_report.chip_id[63]: found the float");
    check_refused(Edit(v3).set_item("report_id", 1, "\"a\"").text(), "attestation_report.report_id[1]: found a string");
    {
        Edit e(v3);
        yyjson_mut_arr_append(yyjson_mut_obj_get(e.root, "report_data"), yyjson_mut_uint(e.doc, 0));
        check_refused(e.text(), "attestation_report.report_data: found an array of 65, expected an array of 64");
    }
    {
        Edit e(v3);
        yyjson_mut_val* r = yyjson_mut_obj_get(yyjson_mut_obj_get(e.root, "signature"), "r");
        yyjson_mut_arr_replace(r, 48, yyjson_mut_uint(e.doc, 1));
        check_refused(e.text(), "attestation_report.signature.r[48]: found 1, expected 0");
    }
}

TEST_CASE("fields by version and product: fmc on Turin only, CPUID from v3, mitigation vectors from v5")
{
    std::string turin = report_json("oak_turin_v5");
    check_refused(Edit(turin).set("reported_tcb", "fmc", "null").text(), "reported_tcb.fmc: found null");
    check_refused(Edit(turin).set("current_tcb", "fmc", nullptr).text(), "current_tcb.fmc: missing");
    check_refused(Edit(turin).set(nullptr, "launch_mit_vector", "null").text(),
                  "attestation_report.launch_mit_vector: found null");
    std::string v4 = Edit(report_json("trustee_azure_genoa_v3")).set(nullptr, "version", "4").text();
    CHECK(kbs::report_from_json_text(v4).ok());  // version 4 has version 3's layout
    check_refused(Edit(v4).set(nullptr, "current_mit_vector", "7").text(), "current_mit_vector: found 7");
    std::string v2 = report_json("virtee_milan_v2");
    check_refused(Edit(v2).set(nullptr, "cpuid_fam_id", "25").text(), "cpuid_fam_id: found 25, expected null");

    // Absent is null for the Option fields of a version that has no value for them (serde's
    // default for a missing Option, and how Trustee's fixture leaves out the mitigation vectors).
    Bytes raw = test::read_vector(test::report_path("virtee_milan_v2"));
    Edit lean(v2);
    for (const char* m : {"cpuid_fam_id", "cpuid_mod_id", "cpuid_step", "launch_mit_vector", "current_mit_vector"})
        lean.set(nullptr, m, nullptr);
    lean.set("launch_tcb", "fmc", nullptr);
    CHECK(kbs::report_from_json_text(lean.text()).value() == raw);
}

TEST_CASE("inputs that are not a report object")
{
    for (const char* text : {"", "[]", "null", "3", "{", "{} x", "{\"version\":3}"}) {
        CAPTURE(text);
        auto r = kbs::report_from_json_text(text);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code() == Errc::Format);
    }
    CHECK_FALSE(kbs::report_from_json(nullptr).ok());
    std::string padded = report_json("oak_turin_v5");
    padded.append(64 * 1024, ' ');
    check_refused(padded, "bytes of JSON, expected at most 65536");
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
