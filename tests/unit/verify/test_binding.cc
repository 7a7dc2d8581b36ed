#include <doctest.h>

#include <string>

#include "snp/amd_extensions.h"
#include "vectors.h"
#include "verify/binding.h"
#include "verify/certificate.h"

using namespace cvm;
using namespace cvm::verify;
using snp::Product;

namespace {

struct Vector {
    snp::AttestationReport report;
    snp::AmdExtensions ext;
};

Vector load(const std::string& dir, const std::string& cert = "vcek.der")
{
    auto report = snp::parse_report(test::read_vector("snp-reports/" + dir + "/report.bin"));
    REQUIRE(report.ok());
    auto c = Certificate::parse(test::read_vector("snp-reports/" + dir + "/" + cert)).release_value();
    auto ext = snp::parse_amd_extensions(c.extensions());
    REQUIRE(ext.ok());
    return {report.release_value(), ext.release_value()};
}

bool mentions(const Claim& c, const std::string& what)
{
    return (c.found + " | " + c.expected + " | " + c.detail).find(what) != std::string::npos;
}

}  // namespace

TEST_CASE("the real vectors bind their VEKs")
{
    struct Case {
        const char* dir;
        const char* cert;
        Product product;
        VekKind kind;
    };
    for (const Case& c : {Case{"virtee_milan_v2", "vcek.der", Product::Milan, VekKind::Vcek},
                          Case{"trustee_azure_genoa_v3", "vcek.der", Product::Genoa, VekKind::Vcek},
                          Case{"oak_turin_v5", "vcek.der", Product::Turin, VekKind::Vcek},
                          Case{"trustee_milan_vlek_v3", "vlek.der", Product::Milan, VekKind::Vlek}}) {
        CAPTURE(std::string(c.dir));
        Vector v = load(c.dir, c.cert);
        CHECK(signer_of(v.report) == c.kind);
        for (const Claim& claim :
             {check_signing_key(v.report), check_struct_version(v.ext, c.product),
              check_product(v.ext, c.product, &v.report), check_kind(v.ext, c.kind),
              check_tcb(v.ext, c.product, v.report), check_hwid(v.ext, c.kind, c.product, v.report)}) {
            CHECK_MESSAGE(claim.pass, claim.name, ": ", claim.detail);
        }
    }
}

TEST_CASE("vek.tcb names every component that differs (Milan layout)")
{
    Vector v = load("virtee_milan_v2");
    snp::TcbVersion tcb = snp::TcbVersion::decode(v.report.reported_tcb, Product::Milan);
    struct Edit {
        const char* name;
        uint8_t snp::TcbVersion::*field;
    };
    for (Edit e : {Edit{"boot_loader", &snp::TcbVersion::boot_loader}, Edit{"tee", &snp::TcbVersion::tee},
                   Edit{"snp", &snp::TcbVersion::snp}, Edit{"microcode", &snp::TcbVersion::microcode}}) {
        CAPTURE(std::string(e.name));
        snp::TcbVersion changed = tcb;
        changed.*e.field = static_cast<uint8_t>(changed.*e.field + 1);
        snp::AttestationReport r = v.report;
        r.reported_tcb = changed.encode(Product::Milan);
        Claim c = check_tcb(v.ext, Product::Milan, r);
        CHECK_FALSE(c.pass);
        CHECK(mentions(c, std::string(e.name) + ": certificate"));
        CHECK(c.name == "vek.tcb");
    }
    snp::AttestationReport r = v.report;
    r.reported_tcb |= uint64_t(0x05) << 24;  // reserved byte 3 on Milan
    Claim reserved = check_tcb(v.ext, Product::Milan, r);
    CHECK_FALSE(reserved.pass);
    CHECK(mentions(reserved, "reserved byte 3: 0x05"));
}

TEST_CASE("vek.tcb on Turin includes the FMC byte")
{
    Vector v = load("oak_turin_v5");
    snp::AttestationReport r = v.report;
    r.reported_tcb ^= 0x01;  // byte 0 is FMC on Turin
    Claim c = check_tcb(v.ext, Product::Turin, r);
    CHECK_FALSE(c.pass);
    CHECK(mentions(c, "fmc: certificate 0, REPORTED_TCB 1"));
    // The same byte read with the Milan layout is the boot loader: the layout matters.
    CHECK_FALSE(check_struct_version(v.ext, Product::Milan).pass);
    snp::AmdExtensions no_fmc = v.ext;
    no_fmc.fmc_spl.reset();
    Claim missing = check_tcb(no_fmc, Product::Turin, v.report);
    CHECK_FALSE(missing.pass);
    CHECK(mentions(missing, "fmcSPL"));
}

TEST_CASE("vek.hwid: 64 bytes on Milan, 8 on Turin with the rest zero, skipped only when CHIP_ID is zero")
{
    Vector milan = load("virtee_milan_v2");
    snp::AttestationReport r = milan.report;
    r.chip_id[63] ^= 1;
    Claim other_chip = check_hwid(milan.ext, VekKind::Vcek, Product::Milan, r);
    CHECK_FALSE(other_chip.pass);
    CHECK(mentions(other_chip, "another chip"));

    r.chip_id.fill(0);
    Claim masked = check_hwid(milan.ext, VekKind::Vcek, Product::Milan, r);
    CHECK(masked.pass);
    CHECK(mentions(masked, "MASK_CHIP_ID"));

    Vector turin = load("oak_turin_v5");
    snp::AttestationReport t = turin.report;
    t.chip_id[8] = 1;
    Claim tail = check_hwid(turin.ext, VekKind::Vcek, Product::Turin, t);
    CHECK_FALSE(tail.pass);
    CHECK(mentions(tail, "CHIP_ID[8..64)"));
    t = turin.report;
    t.chip_id[7] ^= 0x80;
    CHECK_FALSE(check_hwid(turin.ext, VekKind::Vcek, Product::Turin, t).pass);
    // A 64-byte hwID where Turin expects 8 bytes.
    CHECK_FALSE(check_hwid(milan.ext, VekKind::Vcek, Product::Turin, milan.report).pass);

    snp::AmdExtensions no_hwid = milan.ext;
    no_hwid.hwid.reset();
    CHECK_FALSE(check_hwid(no_hwid, VekKind::Vcek, Product::Milan, milan.report).pass);
}

TEST_CASE("vek.kind: VCEK needs hwID and no cspID, VLEK cspID and no hwID")
{
    Vector vcek = load("virtee_milan_v2");
    Vector vlek = load("trustee_milan_vlek_v3", "vlek.der");
    CHECK_FALSE(check_kind(vcek.ext, VekKind::Vlek).pass);
    CHECK_FALSE(check_kind(vlek.ext, VekKind::Vcek).pass);
    snp::AmdExtensions both = vlek.ext;
    both.hwid = Bytes(64, 1);
    CHECK_FALSE(check_kind(both, VekKind::Vlek).pass);
    snp::AmdExtensions neither = vlek.ext;
    neither.csp_id.reset();
    CHECK_FALSE(check_kind(neither, VekKind::Vlek).pass);
    Claim vlek_hwid = check_hwid(vlek.ext, VekKind::Vlek, Product::Milan, vlek.report);
    CHECK(vlek_hwid.pass);
    CHECK(mentions(vlek_hwid, "VLEK"));
}

TEST_CASE("vek.product: productName's line, and on v3+ the CPUID product")
{
    Vector genoa = load("trustee_azure_genoa_v3");
    CHECK(check_product(genoa.ext, Product::Genoa, &genoa.report).pass);
    CHECK(check_product(genoa.ext, Product::Genoa, nullptr).pass);
    Claim milan = check_product(genoa.ext, Product::Milan, nullptr);
    CHECK_FALSE(milan.pass);
    CHECK(mentions(milan, "productName Genoa"));
    snp::AttestationReport r = genoa.report;
    r.cpuid_mod_id = 0x01;  // a Milan model
    Claim cpuid = check_product(genoa.ext, Product::Genoa, &r);
    CHECK_FALSE(cpuid.pass);
    CHECK(mentions(cpuid, "CPUID family 19h model 01h"));
    snp::AmdExtensions nameless = genoa.ext;
    nameless.product_name.reset();
    CHECK_FALSE(check_product(nameless, Product::Genoa, nullptr).pass);
}

TEST_CASE("vek.struct_version selects the layout: 0 Milan/Genoa, 1 Turin")
{
    Vector milan = load("virtee_milan_v2");
    CHECK(check_struct_version(milan.ext, Product::Milan).pass);
    CHECK(check_struct_version(milan.ext, Product::Genoa).pass);
    CHECK_FALSE(check_struct_version(milan.ext, Product::Turin).pass);
    snp::AmdExtensions none = milan.ext;
    none.struct_version.reset();
    CHECK_FALSE(check_struct_version(none, Product::Milan).pass);
}

TEST_CASE("report.signing_key: NONE and MASK_CHIP_KEY mean unsigned")
{
    Vector v = load("virtee_milan_v2");
    snp::AttestationReport r = v.report;
    r.signing_key = snp::SigningKey::None;
    CHECK_FALSE(signer_of(r));
    Claim none = check_signing_key(r);
    CHECK_FALSE(none.pass);
    CHECK(mentions(none, "unsigned"));
    r = v.report;
    r.mask_chip_key = true;
    CHECK_FALSE(check_signing_key(r).pass);
    r = v.report;
    r.signing_key = snp::SigningKey::Vlek;
    CHECK(signer_of(r) == VekKind::Vlek);
}
