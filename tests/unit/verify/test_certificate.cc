#include <doctest.h>

#include <string>

#include "snp/amd_extensions.h"
#include "vectors.h"
#include "verify/certificate.h"
#include "verify_vectors.h"

using namespace cvm;
using namespace cvm::verify;

namespace {

Certificate vector_cert(const std::string& path)
{
    auto c = Certificate::parse(test::read_vector("snp-reports/" + path));
    REQUIRE_MESSAGE(c.ok(), path, ": ", std::string(c.error().message()));
    return c.release_value();
}

}  // namespace

TEST_CASE("a VCEK parses: names, fingerprint, version, key usage, dates")
{
    Certificate vcek = vector_cert("virtee_milan_v2/vcek.der");
    CHECK(vcek.subject_cn() == "SEV-VCEK");
    CHECK(vcek.issuer_cn() == "SEV-Milan");
    CHECK(vcek.x509_version() == 3);
    CHECK_FALSE(vcek.is_ca());
    CHECK_FALSE(vcek.self_issued());
    CHECK(vcek.fingerprint() == sha256(vcek.der()));
    CHECK(vcek.fingerprint_hex() == "3bbfb6ee259f75a95d13168cfdf2e034181bb93c7c016825731cbe8ea16c95e1");
    CHECK(vcek.not_before() == "2023-04-03T19:23:43Z");
    CHECK(vcek.not_after() == "2030-04-03T19:23:43Z");
    CHECK(vcek.valid_at(1700000000));        // 2023-11-14
    CHECK_FALSE(vcek.valid_at(1600000000));  // 2020-09-13, before notBefore
    CHECK_FALSE(vcek.valid_at(1950000000));  // 2031-10-17, after notAfter
}

TEST_CASE("the DER bytes are exactly the input")
{
    Bytes der = test::read_vector("snp-reports/oak_turin_v5/vcek.der");
    Certificate c = Certificate::parse_der(der).release_value();
    CHECK(Bytes(c.der().begin(), c.der().end()) == der);
}

TEST_CASE("extensions() is the content of the Extensions SEQUENCE, as parse_amd_extensions takes it")
{
    for (std::string path : {"virtee_milan_v2/vcek.der", "oak_turin_v5/vcek.der", "trustee_azure_genoa_v3/vcek.der",
                             "trustee_milan_vlek_v3/vlek.der", "virtee_turin_chain_only/vcek.der"}) {
        CAPTURE(path);
        Certificate c = vector_cert(path);
        REQUIRE_FALSE(c.extensions().empty());
        CHECK(c.extensions()[0] == 0x30);  // the first Extension, not the outer SEQUENCE header
        auto ext = snp::parse_amd_extensions(c.extensions());
        REQUIRE_MESSAGE(ext.ok(), std::string(ext.error().message()));
        CHECK(ext->product_name.has_value());
        CHECK(ext->struct_version.has_value());
    }
    Certificate turin = vector_cert("oak_turin_v5/vcek.der");
    auto ext = snp::parse_amd_extensions(turin.extensions()).release_value();
    CHECK(ext.hwid->size() == 8);
    CHECK(ext.fmc_spl == 0);
}

TEST_CASE("CA certificates: basic constraints and key usage")
{
    Certificate ark = vector_cert("amd_roots/ark_genoa.pem");
    CHECK(ark.is_ca());
    CHECK(ark.self_issued());
    CHECK(ark.may_sign_certificates());
    CHECK(ark.subject_cn() == "ARK-Genoa");
    Certificate vcek = vector_cert("trustee_azure_genoa_v3/vcek.der");
    CHECK_FALSE(vcek.is_ca());
}

TEST_CASE("parse_der refuses trailing bytes, truncation, empty and oversized input")
{
    Bytes der = test::read_vector("snp-reports/virtee_milan_v2/vcek.der");
    Bytes trailing = der;
    trailing.push_back(0);
    auto t = Certificate::parse_der(trailing);
    REQUIRE_FALSE(t.ok());
    CHECK(std::string(t.error().message()).find("trailing") != std::string::npos);
    CHECK(t.error().code() == Errc::Format);

    for (size_t cut : {size_t(1), size_t(10), der.size() / 2, der.size() - 1})
        CHECK_FALSE(Certificate::parse_der(ByteView(der).first(cut)).ok());
    CHECK_FALSE(Certificate::parse_der({}).ok());
    CHECK_FALSE(Certificate::parse_der(Bytes(CERT_MAX_DER_SIZE + 1, 0x30)).ok());
}

TEST_CASE("a certificate whose signature bytes are changed still parses: trust is not parsing")
{
    Bytes der = test::read_vector("snp-reports/virtee_milan_v2/vcek.der");
    der[der.size() - 5] ^= 1;
    CHECK(Certificate::parse_der(der).ok());
}

TEST_CASE("moved-from and moved-to certificates keep their views valid")
{
    Certificate a = vector_cert("virtee_milan_v2/vcek.der");
    const std::string fp = a.fingerprint_hex();
    const size_t ext_size = a.extensions().size();
    Certificate b = std::move(a);
    CHECK(b.fingerprint_hex() == fp);
    CHECK(b.extensions().size() == ext_size);
    CHECK(snp::parse_amd_extensions(b.extensions()).ok());
}
