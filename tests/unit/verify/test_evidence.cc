#include <doctest.h>

#include <string>

#include "snp/cert_table.h"
#include "vectors.h"
#include "verify/certificate.h"
#include "verify/evidence.h"
#include "verify/verifier.h"
#include "verify_vectors.h"

using namespace cvm;
using namespace cvm::verify;

namespace {

const char* const TABLE_VECTORS[] = {"oak_turin_v5", "trustee_milan_vlek_v3"};

std::string text(const std::string& path)
{
    Bytes b = test::read_vector("snp-reports/" + path);
    return {b.begin(), b.end()};
}

Bytes der_of(const std::string& path)
{
    auto c = Certificate::parse(test::read_vector("snp-reports/" + path)).release_value();
    return Bytes(c.der().begin(), c.der().end());
}

}  // namespace

TEST_CASE("the certificate tables embedded in the vectors parse and hold a VEK, ASK and ARK")
{
    for (std::string dir : TABLE_VECTORS) {
        CAPTURE(dir);
        REQUIRE(test::vector_has(dir, "certs_table_SYNTH.bin"));
        Bytes table = test::read_vector("snp-reports/" + dir + "/certs_table_SYNTH.bin");
        auto entries = snp::parse_cert_table(table);
        REQUIRE_MESSAGE(entries.ok(), std::string(entries.error().message()));
        for (const snp::CertEntry& e : entries.value()) {
            CAPTURE(std::string(snp::cert_kind_name(e.kind)));
            CHECK(Certificate::parse_der(e.der).ok());
        }
        auto ev = evidence_from_cert_table(test::read_vector("snp-reports/" + dir + "/report.bin"), table);
        REQUIRE_MESSAGE(ev.ok(), std::string(ev.error().message()));
        CHECK_FALSE(ev->vek.empty());
        CHECK_FALSE(ev->ask.empty());
        CHECK_FALSE(ev->ark.empty());
    }
}

TEST_CASE("evidence from a certificate table verifies like the files")
{
    auto verifier = Verifier::create().release_value();
    for (std::string dir : TABLE_VECTORS) {
        CAPTURE(dir);
        Bytes report = test::read_vector("snp-reports/" + dir + "/report.bin");
        auto ev = evidence_from_cert_table(report, test::read_vector("snp-reports/" + dir + "/certs_table_SYNTH.bin"));
        REQUIRE(ev.ok());
        Verification v = verifier->verify(ev.value(), test::NO_REVOCATION);
        CHECK_MESSAGE(v.pass(), test::dump(v));
    }
}

TEST_CASE("with both a VCEK and a VLEK in the table, SIGNING_KEY chooses")
{
    Bytes vcek = der_of("virtee_milan_v2/vcek.der");
    Bytes vlek = der_of("trustee_milan_vlek_v3/vlek.der");
    Bytes table = snp::build_cert_table(
        {{snp::GUID_VCEK, snp::CertKind::Vcek, vcek}, {snp::GUID_VLEK, snp::CertKind::Vlek, vlek}});
    auto from_vlek_report =
        evidence_from_cert_table(test::read_vector("snp-reports/trustee_milan_vlek_v3/report.bin"), table);
    REQUIRE(from_vlek_report.ok());
    CHECK(from_vlek_report->vek == vlek);
    CHECK(from_vlek_report->ask.empty());
    auto from_vcek_report =
        evidence_from_cert_table(test::read_vector("snp-reports/virtee_milan_v2/report.bin"), table);
    REQUIRE(from_vcek_report.ok());
    CHECK(from_vcek_report->vek == vcek);
}

TEST_CASE("a table without a VEK, or one that does not parse, is refused")
{
    Bytes ask = der_of("amd_roots/ask_milan.pem");
    Bytes no_vek = snp::build_cert_table({{snp::GUID_ASK, snp::CertKind::Ask, ask}});
    auto r = evidence_from_cert_table({}, no_vek);
    REQUIRE_FALSE(r.ok());
    CHECK(std::string(r.error().message()).find("no VCEK") != std::string::npos);
    CHECK_FALSE(evidence_from_cert_table({}, Bytes(10, 0xFF)).ok());
}

TEST_CASE("add_chain_pem sorts a bundle by role, in either order")
{
    Evidence ev;
    REQUIRE(add_chain_pem(ev, text("amd_roots/cert_chain_vlek_genoa.pem")).ok());
    CHECK(Certificate::parse(ev.ark).value().subject_cn() == "ARK-Genoa");
    CHECK(Certificate::parse(ev.ask).value().subject_cn() == "SEV-VLEK-Genoa");

    Evidence reversed;
    REQUIRE(add_chain_pem(reversed, text("amd_roots/ark_turin.pem") + text("amd_roots/ask_turin.pem")).ok());
    CHECK(Certificate::parse(reversed.ask).value().subject_cn() == "SEV-Turin");

    Evidence only_ask;
    REQUIRE(add_chain_pem(only_ask, text("amd_roots/ask_turin.pem")).ok());
    CHECK(only_ask.ark.empty());
}

TEST_CASE("add_chain_pem refuses duplicates, overfull bundles and a filled role")
{
    Evidence ev;
    CHECK_FALSE(add_chain_pem(ev, text("amd_roots/ark_milan.pem") + text("amd_roots/ark_genoa.pem")).ok());
    Evidence three;
    CHECK_FALSE(
        add_chain_pem(three, text("amd_roots/cert_chain_vcek_milan.pem") + text("amd_roots/ask_genoa.pem")).ok());
    Evidence filled;
    REQUIRE(add_chain_pem(filled, text("amd_roots/cert_chain_vcek_milan.pem")).ok());
    CHECK_FALSE(add_chain_pem(filled, text("amd_roots/ask_milan.pem")).ok());
    Evidence junk;
    CHECK_FALSE(add_chain_pem(junk, "not pem").ok());
}

TEST_CASE("evidence_from_cert_list sorts DER certificates by role, in any order")
{
    Bytes report = test::read_vector("snp-reports/oak_turin_v5/report.bin");
    Bytes vcek = test::read_vector("snp-reports/oak_turin_v5/vcek.der");
    Bytes ask = der_of("amd_roots/ask_turin.pem");
    Bytes ark = der_of("amd_roots/ark_turin.pem");
    std::vector<Bytes> list = {ark, vcek, ask};
    auto ev = evidence_from_cert_list(report, list);
    REQUIRE(ev.ok());
    CHECK(ev->vek == vcek);
    CHECK(ev->ask == ask);
    CHECK(ev->ark == ark);
    CHECK(ev->report == report);
    CHECK(all_pass(test::make_verifier()->verify(ev.value(), test::NO_REVOCATION).claims));

    std::vector<Bytes> only_vcek = {vcek};
    auto partial = evidence_from_cert_list(report, only_vcek);
    REQUIRE(partial.ok());
    CHECK(partial->ask.empty());

    std::vector<Bytes> none;
    REQUIRE(evidence_from_cert_list(report, none).ok());
    CHECK(evidence_from_cert_list(report, none)->vek.empty());
}

TEST_CASE("evidence_from_cert_list refuses two of a role, too many, and garbage")
{
    Bytes report = test::read_vector("snp-reports/oak_turin_v5/report.bin");
    Bytes ark = der_of("amd_roots/ark_turin.pem");
    Bytes ask = der_of("amd_roots/ask_turin.pem");
    std::vector<Bytes> two_arks = {ark, der_of("amd_roots/ark_genoa.pem")};
    auto twice = evidence_from_cert_list(report, two_arks);
    REQUIRE_FALSE(twice.ok());
    CHECK(std::string(twice.error().message()).find("a second ARK") != std::string::npos);
    std::vector<Bytes> four = {ark, ask, ask, ask};
    CHECK_FALSE(evidence_from_cert_list(report, four).ok());
    std::vector<Bytes> junk = {Bytes{0x30, 0x03, 0x02, 0x01, 0x00}};
    auto bad = evidence_from_cert_list(report, junk);
    REQUIRE_FALSE(bad.ok());
    CHECK(std::string(bad.error().message()).find("certificate 0") != std::string::npos);
}
