#include <doctest.h>

#include <string>

#include "vectors.h"
#include "verify/certificate.h"

using namespace cvm;
using namespace cvm::verify;

namespace {

std::string text(const std::string& path)
{
    Bytes b = test::read_vector("snp-reports/" + path);
    return {b.begin(), b.end()};
}

}  // namespace

TEST_CASE("a KDS cert_chain bundle gives the ASK then the ARK")
{
    auto certs = Certificate::parse_pem_bundle(text("amd_roots/cert_chain_vcek_milan.pem"));
    REQUIRE_MESSAGE(certs.ok(), std::string(certs.error().message()));
    REQUIRE(certs->size() == 2);
    CHECK(certs.value()[0].subject_cn() == "SEV-Milan");
    CHECK(certs.value()[1].subject_cn() == "ARK-Milan");
}

TEST_CASE("CRLF line endings are accepted")
{
    auto certs = Certificate::parse_pem_bundle(text("virtee_turin_chain_only/ask_ark.pem"));
    REQUIRE_MESSAGE(certs.ok(), std::string(certs.error().message()));
    CHECK(certs->size() == 2);
}

TEST_CASE("parse() takes one PEM certificate or DER, and refuses a bundle")
{
    CHECK(Certificate::parse(as_bytes(text("amd_roots/ark_turin.pem"))).ok());
    CHECK(Certificate::parse(test::read_vector("snp-reports/oak_turin_v5/vcek.der")).ok());
    auto bundle = Certificate::parse(as_bytes(text("amd_roots/cert_chain_vlek_turin.pem")));
    REQUIRE_FALSE(bundle.ok());
    CHECK(std::string(bundle.error().message()).find("exactly one") != std::string::npos);
}

TEST_CASE("text outside the CERTIFICATE blocks is refused, naming its offset")
{
    std::string pem = text("amd_roots/ark_milan.pem");
    auto r = Certificate::parse_pem_bundle("subject=ARK-Milan\n" + pem);
    REQUIRE_FALSE(r.ok());
    CHECK(std::string(r.error().message()).find("offset 0") != std::string::npos);
    CHECK_FALSE(Certificate::parse_pem_bundle(pem + "junk").ok());
    CHECK(Certificate::parse_pem_bundle("\n\r\n " + pem + "\n\n").ok());
}

TEST_CASE("broken PEM: no END, bad base64, empty, non-certificate block, too many")
{
    std::string pem = text("amd_roots/ark_milan.pem");
    CHECK_FALSE(Certificate::parse_pem_bundle(pem.substr(0, pem.find("-----END"))).ok());
    std::string bad = pem;
    bad[100] = '*';
    CHECK_FALSE(Certificate::parse_pem_bundle(bad).ok());
    CHECK_FALSE(Certificate::parse_pem_bundle("").ok());
    CHECK_FALSE(Certificate::parse_pem_bundle("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").ok());
    CHECK_FALSE(Certificate::parse_pem_bundle("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n").ok());
    std::string many;
    for (size_t i = 0; i <= PEM_BUNDLE_MAX_CERTS; ++i)
        many += pem;
    auto r = Certificate::parse_pem_bundle(many);
    REQUIRE_FALSE(r.ok());
    CHECK(std::string(r.error().message()).find("more than") != std::string::npos);
    CHECK(Certificate::parse_pem_bundle(pem + pem).ok());
}
