#include <doctest.h>

#include "base/der.h"
#include "report_vectors.h"
#include "snp/amd_extensions.h"
#include "snp/report.h"
#include "vectors.h"

using namespace cvm;
using namespace cvm::snp;

namespace {

// Walks Certificate -> tbsCertificate -> [3] Extensions and returns the SEQUENCE's content,
// which is what the verify layer hands to parse_amd_extensions.
ByteView extensions_of(const Bytes& cert)
{
    Reader r(cert);
    Reader tbs_outer(der::read(r, der::SEQUENCE, "Certificate").value());
    Reader tbs(der::read(tbs_outer, der::SEQUENCE, "tbsCertificate").value());
    while (!tbs.at_end()) {
        auto e = der::read_any(tbs, "tbs field").value();
        if (e.tag == 0xA3) {
            Reader explicit_tag(e.content);
            return der::read(explicit_tag, der::SEQUENCE, "Extensions").value();
        }
    }
    FAIL("certificate has no extensions");
    return {};
}

}  // namespace

TEST_CASE("Milan VCEK extensions match its report")
{
    Bytes cert = test::read_vector("snp-reports/virtee_milan_v2/vcek.der");
    auto ext = parse_amd_extensions(extensions_of(cert)).value();
    auto report = parse_report(test::read_vector(test::report_path("virtee_milan_v2"))).value();
    CHECK(ext.struct_version == 0u);
    CHECK(ext.product_name == "Milan-B0");
    REQUIRE(ext.hwid);
    CHECK(*ext.hwid == Bytes(report.chip_id.begin(), report.chip_id.end()));
    CHECK_FALSE(ext.csp_id);
    CHECK(ext.tcb(Product::Milan).value() == TcbVersion::decode(report.reported_tcb, Product::Milan));
}

TEST_CASE("Turin VCEK: 8-byte hwID and FMC SPL")
{
    Bytes cert = test::read_vector("snp-reports/oak_turin_v5/vcek.der");
    auto ext = parse_amd_extensions(extensions_of(cert)).value();
    auto report = parse_report(test::read_vector(test::report_path("oak_turin_v5"))).value();
    CHECK(ext.struct_version == 1u);
    REQUIRE(ext.hwid);
    CHECK(ext.hwid->size() == 8);
    CHECK(*ext.hwid == Bytes(report.chip_id.begin(), report.chip_id.begin() + 8));
    REQUIRE(ext.fmc_spl);
    CHECK(ext.tcb(Product::Turin).value() == TcbVersion::decode(report.reported_tcb, Product::Turin));
}

TEST_CASE("VLEK has a cspID and no hwID")
{
    Bytes cert = test::read_vector("snp-reports/trustee_milan_vlek_v3/vlek.der");
    auto ext = parse_amd_extensions(extensions_of(cert)).value();
    CHECK(ext.csp_id);
    CHECK_FALSE(ext.hwid);
}

TEST_CASE("a missing SPL is named")
{
    AmdExtensions ext;
    ext.bl_spl = 1;
    ext.tee_spl = 0;
    ext.snp_spl = 2;
    auto r = ext.tcb(Product::Milan);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message() == "certificate has no ucodeSPL extension");
    ext.ucode_spl = 3;
    CHECK(ext.tcb(Product::Milan).ok());
    CHECK_FALSE(ext.tcb(Product::Turin).ok());
}

namespace {

Bytes extension(std::initializer_list<uint8_t> oid_suffix, Bytes value)
{
    Bytes oid = {0x2B, 0x06, 0x01, 0x04, 0x01, 0x9C, 0x78, 0x01};
    oid.insert(oid.end(), oid_suffix);
    Bytes inner = {der::OID, static_cast<uint8_t>(oid.size())};
    inner.insert(inner.end(), oid.begin(), oid.end());
    inner.push_back(der::OCTET_STRING);
    inner.push_back(static_cast<uint8_t>(value.size()));
    inner.insert(inner.end(), value.begin(), value.end());
    Bytes out = {der::SEQUENCE, static_cast<uint8_t>(inner.size())};
    out.insert(out.end(), inner.begin(), inner.end());
    return out;
}

}  // namespace

TEST_CASE("malformed AMD extensions are rejected by name")
{
    Bytes dup = extension({3, 1}, {0x02, 0x01, 0x03});
    Bytes twice = dup;
    twice.insert(twice.end(), dup.begin(), dup.end());
    CHECK(parse_amd_extensions(twice).error().message() == "AMD extension blSPL appears twice");

    CHECK(parse_amd_extensions(extension({3, 8}, {0x02, 0x02, 0x01, 0x00})).error().message() ==
          "AMD extension ucodeSPL is 256, expected at most 255");
    CHECK_FALSE(parse_amd_extensions(extension({3, 3}, {0x04, 0x01, 0x03})).ok());        // not an INTEGER
    CHECK_FALSE(parse_amd_extensions(extension({3, 3}, {0x02, 0x01, 0x03, 0x00})).ok());  // trailing byte
    CHECK_FALSE(parse_amd_extensions(extension({4}, Bytes(7, 0xaa))).ok());               // hwID size
    CHECK_FALSE(parse_amd_extensions(extension({2}, {0x16, 0x02, 'M', 0x01})).ok());      // non-printable
    CHECK(parse_amd_extensions(extension({4}, Bytes(64, 0xaa))).value().hwid->size() == 64);
    Bytes wrapped = {0x04, 0x08};
    wrapped.resize(10, 0xbb);
    CHECK(parse_amd_extensions(extension({4}, wrapped)).value().hwid->size() == 8);
    const uint8_t truncated[] = {0x30, 0x05, 0x06, 0x01};
    CHECK_FALSE(parse_amd_extensions(truncated).ok());
}
