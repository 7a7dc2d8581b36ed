#include <doctest.h>

#include <string>

#include "sim_chain.h"
#include "snp/report.h"
#include "vectors.h"
#include "verify/amd_roots.h"
#include "verify/signatures.h"

using namespace cvm;
using namespace cvm::verify;
using snp::Product;

namespace {

Certificate vcek_milan()
{
    return Certificate::parse(test::read_vector("snp-reports/virtee_milan_v2/vcek.der")).release_value();
}

std::string message(const Result<void>& r)
{
    return r.ok() ? "" : std::string(r.error().message());
}

}  // namespace

TEST_CASE("AMD's chain links verify as RSASSA-PSS SHA-384/MGF1-SHA-384/salt 48")
{
    auto milan = load_amd_roots(Product::Milan).release_value();
    CHECK(signature_algorithm_name(milan.ark) == "RSASSA-PSS (SHA384, MGF1-SHA384, salt 48)");
    CHECK(check_amd_signature(milan.ark, milan.ark).ok());
    CHECK(check_amd_signature(milan.ask, milan.ark).ok());
    CHECK(check_amd_signature(milan.asvk, milan.ark).ok());
    CHECK(check_amd_signature(vcek_milan(), milan.ask).ok());
    CHECK(check_rsa4096_key(milan.ark).ok());
    CHECK(check_p384_key(vcek_milan()).ok());
    CHECK(public_key_name(vcek_milan()) == "EC secp384r1");
    CHECK(public_key_name(milan.ask) == "RSA-4096");
}

TEST_CASE("a signature by the wrong key fails")
{
    auto milan = load_amd_roots(Product::Milan).release_value();
    auto genoa = load_amd_roots(Product::Genoa).release_value();
    auto r = check_amd_signature(milan.ask, genoa.ark);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Chain);
    CHECK_FALSE(check_amd_signature(vcek_milan(), milan.asvk).ok());
    CHECK_FALSE(check_amd_signature(milan.ask, milan.ask).ok());
}

TEST_CASE("other signature algorithms are refused, naming the algorithm found")
{
    Certificate ark = test::testdata_cert("sim_ark.pem");
    CHECK(check_amd_signature(test::testdata_cert("sim_ask.pem"), ark).ok());

    auto pkcs1 = check_amd_signature(test::testdata_cert("sim_ask_pkcs1.pem"), ark);
    CHECK(message(pkcs1).find("signature algorithm is RSA with SHA-384") != std::string::npos);
    auto salt = check_amd_signature(test::testdata_cert("sim_ask_salt32.pem"), ark);
    CHECK(message(salt).find("RSASSA-PSS (SHA384, MGF1-SHA384, salt 32)") != std::string::npos);
    auto mgf = check_amd_signature(test::testdata_cert("sim_ask_mgf256.pem"), ark);
    CHECK(message(mgf).find("MGF1-SHA256") != std::string::npos);
    for (const auto* r : {&pkcs1, &salt, &mgf})
        CHECK(r->error().code() == Errc::Chain);
}

TEST_CASE("key types: P-384 for the VEK, RSA-4096 for the CAs")
{
    auto p256 = check_p384_key(test::testdata_cert("sim_vcek_p256.der"));
    CHECK(message(p256).find("EC secp256r1") != std::string::npos);
    auto small = check_rsa4096_key(test::testdata_cert("sim_ark_rsa2048.pem"));
    CHECK(message(small).find("RSA-2048") != std::string::npos);
    CHECK_FALSE(check_p384_key(test::testdata_cert("sim_ark.pem")).ok());
    CHECK_FALSE(check_rsa4096_key(vcek_milan()).ok());
}

// a - b for big-endian 48-byte numbers with a >= b.
std::array<uint8_t, 48> minus(const std::array<uint8_t, 48>& a, const std::array<uint8_t, 48>& b)
{
    std::array<uint8_t, 48> out{};
    int borrow = 0;
    for (size_t i = 48; i-- > 0;) {
        int d = a[i] - b[i] - borrow;
        borrow = d < 0;
        out[i] = static_cast<uint8_t>(d + (borrow ? 256 : 0));
    }
    return out;
}

TEST_CASE("report signature under a cached ReportKey: reusable, (r, n - s) accepted, off-by-one and swapped refused")
{
    Bytes raw = test::read_vector("snp-reports/virtee_milan_v2/report.bin");
    auto report = snp::parse_report(raw).release_value();
    auto key = ReportKey::create(vcek_milan()).release_value();
    ByteView signed_bytes = ByteView(raw).first(snp::SIGNED_SIZE);
    const auto& r = report.signature_r;
    const auto& s = report.signature_s;
    CHECK(verify_report_signature(signed_bytes, r, s, *key).ok());
    CHECK(verify_report_signature(signed_bytes, r, s, *key).ok());  // the cached key is reused, unchanged
    // (r, n - s) is the other valid signature of the same digest: x(R) does not depend on R's sign.
    std::array<uint8_t, 48> n{};
    Bytes nb =
        from_hex("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973")
            .value();
    std::copy(nb.begin(), nb.end(), n.begin());
    CHECK(verify_report_signature(signed_bytes, r, minus(n, s), *key).ok());
    std::array<uint8_t, 48> one{};
    one[47] = 1;
    CHECK_FALSE(verify_report_signature(signed_bytes, minus(r, one), s, *key).ok());
    CHECK_FALSE(verify_report_signature(signed_bytes, r, minus(s, one), *key).ok());
    CHECK_FALSE(verify_report_signature(signed_bytes, s, r, *key).ok());
    // Another VCEK's key, and another digest.
    auto other = ReportKey::create(
                     Certificate::parse(test::read_vector("snp-reports/gosevguest_milan_v2/vcek.der")).release_value())
                     .release_value();
    CHECK_FALSE(verify_report_signature(signed_bytes, r, s, *other).ok());
    CHECK_FALSE(verify_report_signature(ByteView(raw).first(snp::SIGNED_SIZE - 1), r, s, *key).ok());
}

TEST_CASE("report signature: a real one verifies; r, s = 0 or >= n are refused before any arithmetic")
{
    Bytes raw = test::read_vector("snp-reports/virtee_milan_v2/report.bin");
    auto report = snp::parse_report(raw).release_value();
    Certificate vek = vcek_milan();
    ByteView signed_bytes = ByteView(raw).first(snp::SIGNED_SIZE);
    CHECK(verify_report_signature(signed_bytes, report.signature_r, report.signature_s, vek).ok());

    std::array<uint8_t, 48> zero{}, n{}, max{};
    max.fill(0xFF);
    const char* n_hex =
        "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973";
    Bytes nb = from_hex(n_hex).value();
    std::copy(nb.begin(), nb.end(), n.begin());
    std::array<uint8_t, 48> n_minus_1 = n;
    n_minus_1[47] -= 1;

    auto r0 = verify_report_signature(signed_bytes, zero, report.signature_s, vek);
    CHECK(message(r0).find("SIGNATURE.R is zero") != std::string::npos);
    auto s0 = verify_report_signature(signed_bytes, report.signature_r, zero, vek);
    CHECK(message(s0).find("SIGNATURE.S is zero") != std::string::npos);
    for (const auto& big : {n, max}) {
        CHECK(message(verify_report_signature(signed_bytes, big, report.signature_s, vek)).find("not below n") !=
              std::string::npos);
        CHECK(message(verify_report_signature(signed_bytes, report.signature_r, big, vek)).find("not below n") !=
              std::string::npos);
    }
    // n - 1 is in range: it reaches the arithmetic and fails there.
    auto in_range = verify_report_signature(signed_bytes, n_minus_1, report.signature_s, vek);
    REQUIRE_FALSE(in_range.ok());
    CHECK(message(in_range).find("does not verify") != std::string::npos);
    CHECK(in_range.error().code() == Errc::Crypto);
}

TEST_CASE("report signature: wrong bytes, wrong key, wrong curve")
{
    Bytes raw = test::read_vector("snp-reports/virtee_milan_v2/report.bin");
    auto report = snp::parse_report(raw).release_value();
    Bytes changed(raw.begin(), raw.begin() + snp::SIGNED_SIZE);
    changed[0x50] ^= 1;
    CHECK_FALSE(verify_report_signature(changed, report.signature_r, report.signature_s, vcek_milan()).ok());
    Certificate other =
        Certificate::parse(test::read_vector("snp-reports/gosevguest_milan_v2/vcek.der")).release_value();
    ByteView signed_bytes = ByteView(raw).first(snp::SIGNED_SIZE);
    CHECK_FALSE(verify_report_signature(signed_bytes, report.signature_r, report.signature_s, other).ok());
    auto p256 = verify_report_signature(signed_bytes, report.signature_r, report.signature_s,
                                        test::testdata_cert("sim_vcek_p256.der"));
    CHECK(message(p256).find("secp384r1") != std::string::npos);
}

TEST_CASE("a report signed with the fixture key verifies under the fixture VCEK")
{
    Bytes raw = test::sign_report(test::sim_report());
    auto report = snp::parse_report(raw).release_value();
    CHECK(verify_report_signature(ByteView(raw).first(snp::SIGNED_SIZE), report.signature_r, report.signature_s,
                                  test::testdata_cert("sim_vcek.der"))
              .ok());
}
