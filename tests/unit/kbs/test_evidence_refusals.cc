// SNP evidence in Trustee's form (lib/kbs/evidence.h), what is refused: reports report_to_json
// cannot send, and every way report_from_json's input can differ from what it can produce (a
// member missing, extra or twice, of another type, length or range, or of another version or
// product), each named.
#include <doctest.h>
#include <yyjson.h>

#include <string>

#include "evidence_edit.h"
#include "kbs/evidence.h"
#include "snp/report.h"
#include "vectors.h"

using namespace cvm;
using namespace cvm::evidence_test;

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
