// The simulated ARK -> ASK -> VCEK chain: accepted by the verifier exactly when its root is
// trusted explicitly, with AMD's certificate shapes and nothing that could pass for AMD.
#include <doctest.h>

#include <mbedtls/x509_crt.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>

#include "base/der.h"
#include "sim_fixture.h"
#include "snp/amd_extensions.h"
#include "vectors.h"
#include "verify/signatures.h"

using namespace cvm;
using snp::Product;

namespace {

verify::Certificate cert(ByteView der_or_pem)
{
    auto c = verify::Certificate::parse(der_or_pem);
    REQUIRE_MESSAGE(c.ok(), c.error().message());
    return c.release_value();
}

verify::Evidence chain_only(const sim::Platform& p)
{
    verify::Evidence ev;
    ev.vek = p.vcek_der;
    ev.ask = p.ask_der;
    ev.ark = p.ark_der;
    ev.crl = test::crl_of(p);
    return ev;
}

// The next element of `r` (over `content`) as its full encoding.
ByteView raw_element(Reader& r, ByteView content, const char* field)
{
    size_t at = r.offset();
    REQUIRE(der::read_any(r, field).ok());
    return content.subspan(at, r.offset() - at);
}

// The signatureAlgorithm of a certificate (RFC 5280 §4.1.1.2), after checking that the
// TBSCertificate's `signature` field is the same bytes, as RFC 5280 §4.1.2.3 requires.
Bytes signature_algorithm(ByteView der)
{
    Reader outer(der, "certificate");
    ByteView cert_content = der::read(outer, der::SEQUENCE, "Certificate").value();
    Reader cert_fields(cert_content, "Certificate");
    ByteView tbs_content = der::read(cert_fields, der::SEQUENCE, "tbsCertificate").value();
    ByteView outer_alg = raw_element(cert_fields, cert_content, "signatureAlgorithm");
    Reader tbs(tbs_content, "tbsCertificate");
    REQUIRE(der::read_any(tbs, "version").value().tag == 0xA0);
    REQUIRE(der::read(tbs, der::INTEGER, "serialNumber").ok());
    ByteView inner_alg = raw_element(tbs, tbs_content, "signature");
    CHECK(to_hex(inner_alg) == to_hex(outer_alg));
    return Bytes(outer_alg.begin(), outer_alg.end());
}

// The extension OIDs of a certificate, in order, as dotted-suffix hex for comparison.
std::vector<std::string> extension_oids(const verify::Certificate& c)
{
    std::vector<std::string> out;
    Reader r(c.extensions(), "extensions");
    while (!r.at_end()) {
        Reader ext(der::read(r, der::SEQUENCE, "Extension").value(), "Extension");
        out.push_back(to_hex(der::read(ext, der::OID, "extnID").value()));
    }
    return out;
}

std::string serial_hex(const verify::Certificate& c)
{
    return to_hex(ByteView(c.crt().serial.p, c.crt().serial.len));
}

bool contains(ByteView haystack, std::string_view needle)
{
    ByteView n = as_bytes(needle);
    return std::search(haystack.begin(), haystack.end(), n.begin(), n.end()) != haystack.end();
}

}  // namespace

TEST_CASE("the chain verifies with its ARK as a trusted root, and only then")
{
    const sim::Platform& p = test::genoa();
    auto trusting = test::verifier_trusting({&p});
    verify::Verification v = trusting->verify(chain_only(p));
    CHECK_MESSAGE(v.pass(), test::dump(v));
    CHECK(v.anchor == verify::Anchor::CallerSupplied);
    CHECK(v.product == Product::Genoa);

    verify::Evidence no_ark = chain_only(p);
    no_ark.ark.clear();  // the trusted root is found by the ASK's issuer Name
    CHECK_MESSAGE(trusting->verify(no_ark).pass(), test::dump(trusting->verify(no_ark)));

    auto amd_only = test::verifier_trusting({});
    verify::Verification untrusted = amd_only->verify(chain_only(p));
    CHECK_FALSE(untrusted.pass());
    CHECK(test::failing(untrusted).front() == "chain.ark");
    CHECK_FALSE(amd_only->verify(no_ark).pass());

    // Another platform's root vouches for nothing here.
    auto other = test::verifier_trusting({&test::low_tcb_genoa()});
    CHECK_FALSE(other->verify(chain_only(p)).pass());
}

TEST_CASE("certificates have AMD's shapes and say SIMULATED")
{
    const sim::Platform& p = test::genoa();
    verify::Certificate ark = cert(p.ark_der), ask = cert(p.ask_der), vcek = cert(p.vcek_der);
    verify::Certificate amd_ark = cert(test::read_vector("snp-reports/amd_roots/ark_genoa.pem"));

    CHECK(ark.subject_cn() == "SIMULATED-ARK-Genoa (cvm sim, not AMD)");
    CHECK(ask.subject_cn() == "SIMULATED-ASK-Genoa (cvm sim, not AMD)");
    CHECK(vcek.subject_cn() == "SEV-VCEK");
    for (const verify::Certificate* c : {&ark, &ask, &vcek}) {
        CHECK(c->x509_version() == 3);
        CHECK(contains(c->subject_raw(), "cvminit simulated platform - NOT AMD"));
        CHECK(contains(c->subject_raw(), "SIMULATED"));
        CHECK(verify::signature_algorithm_name(*c) == verify::signature_algorithm_name(amd_ark));
        CHECK(c->not_after().substr(4) == c->not_before().substr(4));  // same day and time ...
        CHECK(std::stoi(c->not_after().substr(0, 4)) == std::stoi(c->not_before().substr(0, 4)) + 25);  // 25 years on
    }
    CHECK(ark.self_issued());
    CHECK(ark.is_ca());
    CHECK(ark.may_sign_certificates());
    CHECK(ask.is_ca());
    CHECK(ask.may_sign_certificates());
    CHECK_FALSE(vcek.is_ca());
    CHECK(verify::public_key_name(ark) == "RSA-4096");
    CHECK(verify::public_key_name(ask) == "RSA-4096");
    CHECK(verify::public_key_name(vcek) == "EC secp384r1");
    CHECK(serial_hex(ark) == "010000");
    CHECK(serial_hex(ask) == "010001");
    CHECK(serial_hex(vcek) == "00");
    CHECK(ask.crt().MBEDTLS_PRIVATE(max_pathlen) == 1);  // mbedTLS stores pathLenConstraint + 1
    // notBefore is a day back by default, so a guest clock that lags still accepts the chain.
    CHECK(ark.valid_at(time(nullptr)));
    CHECK_FALSE(ark.valid_at(time(nullptr) - 2 * 24 * 3600));
}

TEST_CASE("the RSASSA-PSS AlgorithmIdentifiers are byte for byte AMD's")
{
    const sim::Platform& p = test::genoa();
    // ARK-signed certificates spell out trailerField 1; KDS-issued VCEKs omit it.
    Bytes amd_ark = signature_algorithm(cert(test::read_vector("snp-reports/amd_roots/ark_genoa.pem")).der());
    Bytes amd_ask = signature_algorithm(cert(test::read_vector("snp-reports/amd_roots/ask_genoa.pem")).der());
    Bytes amd_vcek = signature_algorithm(test::read_vector("snp-reports/trustee_azure_genoa_v3/vcek.der"));
    CHECK(to_hex(amd_ark) == to_hex(amd_ask));
    CHECK(to_hex(signature_algorithm(p.ark_der)) == to_hex(amd_ark));
    CHECK(to_hex(signature_algorithm(p.ask_der)) == to_hex(amd_ask));
    CHECK(to_hex(signature_algorithm(p.vcek_der)) == to_hex(amd_vcek));
    CHECK(amd_vcek.size() + 5 == amd_ark.size());  // the [3] INTEGER 1 is the difference
}

TEST_CASE("the VCEK's AMD extensions describe the platform, in AMD's order")
{
    const sim::Platform& p = test::genoa();
    verify::Certificate vcek = cert(p.vcek_der);
    auto ext = snp::parse_amd_extensions(vcek.extensions());
    REQUIRE_MESSAGE(ext.ok(), ext.error().message());
    CHECK(ext->struct_version == 0u);
    CHECK(ext->product_name == "Genoa");
    CHECK(ext->tcb(Product::Genoa).value() == sim::default_tcb(Product::Genoa));
    CHECK(p.tcb == sim::default_tcb(Product::Genoa));
    REQUIRE(ext->hwid.has_value());
    CHECK(to_hex(*ext->hwid) == to_hex(p.chip_id));
    CHECK_FALSE(ext->csp_id.has_value());
    CHECK(std::string(p.chip_id.begin(), p.chip_id.begin() + 6) == "CVMSIM");
    CHECK(p.chip_id != test::low_tcb_genoa().chip_id);

    verify::Certificate amd = cert(test::read_vector("snp-reports/trustee_azure_genoa_v3/vcek.der"));
    CHECK(extension_oids(vcek) == extension_oids(amd));
}

TEST_CASE("options that no part could have are refused before any key is generated")
{
    sim::PlatformOptions fmc;
    fmc.tcb = snp::TcbVersion{1, 9, 0, 23, 72};
    auto r = sim::create_platform(fmc);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Config);
    CHECK(std::string(r.error().message()).find("fmc") != std::string::npos);

    sim::PlatformOptions masked;
    masked.chip_id = sim::ChipId{};
    r = sim::create_platform(masked);
    REQUIRE_FALSE(r.ok());
    CHECK(std::string(r.error().message()).find("all zero") != std::string::npos);

    sim::PlatformOptions turin;
    turin.product = Product::Turin;
    turin.chip_id = sim::ChipId{};
    (*turin.chip_id)[0] = 1;
    (*turin.chip_id)[8] = 1;
    r = sim::create_platform(turin);
    REQUIRE_FALSE(r.ok());
    CHECK(std::string(r.error().message()).find("Turin") != std::string::npos);
}

TEST_CASE("openssl accepts the chain too (when installed)")
{
    if (std::system("command -v openssl >/dev/null 2>&1") != 0)
        return;
    const sim::Platform& p = test::genoa();
    test::TempDir dir;
    test::write_bytes(dir / "ark.der", p.ark_der);
    test::write_bytes(dir / "ask.der", p.ask_der);
    test::write_bytes(dir / "vcek.der", p.vcek_der);
    std::string d = dir.path();
    std::string cmd = "cd " + d +
                      " && openssl x509 -inform der -in ark.der -out ark.pem && openssl x509 -inform der -in ask.der "
                      "-out ask.pem && openssl x509 -inform der -in vcek.der -out vcek.pem && openssl verify "
                      "-CAfile ark.pem -untrusted ask.pem vcek.pem >/dev/null";
    CHECK(std::system(cmd.c_str()) == 0);
}
