#include <doctest.h>

#include <string>

#include "kds/kds_url.h"
#include "snp/report.h"
#include "vectors.h"

using namespace cvm;
using namespace cvm::kds;
using snp::Product;

namespace {

snp::AttestationReport report(const std::string& dir)
{
    return snp::parse_report(test::read_vector("snp-reports/" + dir + "/report.bin")).value();
}

std::string message_of(const Error& e)
{
    return std::string(e.message());
}

}  // namespace

// Expected values read off each vector's vcek.der (hwID and SPL extensions), so the paths the
// client builds from a report name exactly the certificate that signed it.
TEST_CASE("VCEK paths for Milan, Genoa and Turin from the real reports")
{
    auto milan = vcek_id(report("gosevguest_milan_v2"), Product::Milan).value();
    CHECK(vcek_path(milan) ==
          "/vcek/v1/Milan/3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b"
          "564ea464cdce40c05f63c9b610c5068b006b5d?blSPL=02&teeSPL=00&snpSPL=05&ucodeSPL=68");

    auto genoa = vcek_id(report("trustee_azure_genoa_v3"), std::nullopt).value();
    CHECK(genoa.product == Product::Genoa);
    CHECK(vcek_path(genoa) ==
          "/vcek/v1/Genoa/0506ffba875e939c2729d20c74eb72b4c5ba6bf7ea1faaa640141f12c6d64782fb487f68ce69dcd021e914cc0d92"
          "44327bc121f0242d6470903ad1d4aaea4ad1?blSPL=10&teeSPL=00&snpSPL=23&ucodeSPL=84");

    auto turin = vcek_id(report("oak_turin_v5"), std::nullopt).value();
    CHECK(turin.product == Product::Turin);
    CHECK(turin.hwid.size() == 8);
    CHECK(vcek_path(turin) == "/vcek/v1/Turin/3b42092f69c656d3?fmcSPL=00&blSPL=01&teeSPL=00&snpSPL=02&ucodeSPL=71");
}

TEST_CASE("chain and CRL paths")
{
    CHECK(cert_chain_path(Product::Milan, KeyFamily::Vcek) == "/vcek/v1/Milan/cert_chain");
    CHECK(cert_chain_path(Product::Turin, KeyFamily::Vlek) == "/vlek/v1/Turin/cert_chain");
    CHECK(crl_path(Product::Genoa, KeyFamily::Vcek) == "/vcek/v1/Genoa/crl");
    CHECK(crl_path(Product::Genoa, KeyFamily::Vlek) == "/vlek/v1/Genoa/crl");
}

TEST_CASE("SPLs above 99 are written in full")
{
    VcekId id{Product::Turin, Bytes(8, 0xab), {}};
    id.tcb.microcode = 211;
    id.tcb.fmc = 1;
    CHECK(vcek_path(id) == "/vcek/v1/Turin/abababababababab?fmcSPL=01&blSPL=00&teeSPL=00&snpSPL=00&ucodeSPL=211");
}

TEST_CASE("reports KDS cannot serve a VCEK for, and unknown products")
{
    auto v2 = vcek_id(report("virtee_milan_v2"), std::nullopt);
    REQUIRE_FALSE(v2.ok());
    CHECK(v2.error().code() == Errc::Config);
    CHECK(message_of(v2.error()).find("configure Milan, Genoa or Turin") != std::string::npos);

    auto contradiction = vcek_id(report("trustee_azure_genoa_v3"), Product::Milan);
    REQUIRE_FALSE(contradiction.ok());
    CHECK(contradiction.error().code() == Errc::Config);
    CHECK(message_of(contradiction.error()).find("is Genoa, but Milan was configured") != std::string::npos);

    auto vlek = vcek_id(report("trustee_milan_vlek_v3"), std::nullopt);
    REQUIRE_FALSE(vlek.ok());
    CHECK(vlek.error().code() == Errc::Unsupported);
    CHECK(message_of(vlek.error()).find("VLEK") != std::string::npos);

    auto masked = report("trustee_azure_genoa_v3");
    masked.chip_id.fill(0);
    auto r = vcek_id(masked, std::nullopt);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Unsupported);
    CHECK(message_of(r.error()).find("CHIP_ID is all zero") != std::string::npos);

    auto unsigned_report = report("oak_turin_v5");
    unsigned_report.signing_key = snp::SigningKey::None;
    CHECK(vcek_id(unsigned_report, std::nullopt).error().code() == Errc::Unsupported);
}
