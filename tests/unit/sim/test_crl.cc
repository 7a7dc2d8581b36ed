// The simulated platform's CRLs (sim/crl.h): AMD's shape, kept ARK key, and the revoked path
// through the Verifier end to end.
#include <doctest.h>

#include <sys/stat.h>

#include <algorithm>

#include "sim/crl.h"
#include "sim/platform_dir.h"
#include "sim_fixture.h"
#include "verify/crl.h"

using namespace cvm;

namespace {

constexpr std::time_t DAY = 24 * 60 * 60;

bool has(ByteView haystack, ByteView needle)
{
    return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

Bytes report_of(const sim::Platform& p)
{
    auto raw = test::psp_for(p).get_report(test::report_data(0x31), 0);
    REQUIRE_MESSAGE(raw.ok(), raw.error().message());
    return raw.release_value();
}

}  // namespace

TEST_CASE("make_crl: AMD's shape, issued and signed by the platform's ARK")
{
    const sim::Platform& p = test::genoa();
    Bytes der = sim::make_crl(p, {}).release_value();
    auto crl = verify::Crl::parse_der(der);
    REQUIRE_MESSAGE(crl.ok(), crl.error().message());
    auto ark = verify::Certificate::parse_der(p.ark_der).release_value();
    CHECK(to_hex(crl->issuer_raw()) == to_hex(ark.subject_raw()));
    CHECK(verify::check_crl_signature(crl.value(), ark).ok());
    CHECK(crl->entries() == 0);
    // crlExtensions: authorityKeyIdentifier (2.5.29.35) and cRLNumber (2.5.29.20) = 1, as AMD's.
    const uint8_t aki[] = {0x06, 0x03, 0x55, 0x1D, 0x23},
                  crl_number[] = {0x06, 0x03, 0x55, 0x1D, 0x14, 0x04, 0x03, 0x02, 0x01, 0x01};
    CHECK(has(der, aki));
    CHECK(has(der, crl_number));
    // RSASSA-PSS parameters without the explicit trailerField, as AMD's CRLs encode them.
    Bytes params = sim::pss_sha384_algorithm(sim::TrailerField::Omitted);
    CHECK(has(der, params));
    CHECK_FALSE(has(der, sim::pss_sha384_algorithm(sim::TrailerField::Explicit)));

    sim::CrlOptions o;
    o.this_update = 1796000000;
    o.next_update = 1796000000 - DAY;
    CHECK_FALSE(sim::make_crl(p, o).ok());  // nextUpdate before thisUpdate
    sim::Platform keyless = test::copy(p);
    keyless.ark_key_der = SecretBytes();
    auto none = sim::make_crl(keyless, {});
    REQUIRE_FALSE(none.ok());
    CHECK(std::string(none.error().message()).find("no ARK private key") != std::string::npos);
}

TEST_CASE("end to end: the platform's CRL passes, a revoked ASK or VCEK fails only chain.revocation")
{
    const sim::Platform& p = test::genoa();
    auto verifier = test::verifier_trusting({&p});
    Bytes raw = report_of(p);
    verify::Evidence ev = test::evidence(raw, test::psp_for(p).cert_table(), p);
    verify::Verification v = verifier->verify(ev);
    CHECK_MESSAGE(v.pass(), test::dump(v));
    CHECK(v.find("chain.revocation")->found.find("not revoked") == 0);

    for (uint64_t serial : {sim::SIM_ASK_SERIAL, sim::SIM_VCEK_SERIAL}) {
        sim::CrlOptions o;
        o.revoked = {serial};
        ev.crl = sim::make_crl(p, o).release_value();
        verify::Verification revoked = verifier->verify(ev);
        CHECK(test::failing(revoked) == std::vector<std::string>{"chain.revocation"});
        std::string want = serial == sim::SIM_ASK_SERIAL ? "serial 0x10001 (ASK) revoked" : "serial 0x0 (VCEK) revoked";
        CHECK(revoked.find("chain.revocation")->found.find(want) == 0);
    }
    // Another platform's CRL: issued by another root.
    ev.crl = test::crl_of(test::low_tcb_genoa());
    CHECK(test::failing(verifier->verify(ev)) == std::vector<std::string>{"chain.revocation"});
    // Without one: the claim says where to get it.
    ev.crl.clear();
    verify::Verification without = verifier->verify(ev);
    const Claim* none = without.find("chain.revocation");
    REQUIRE(none != nullptr);
    CHECK(none->detail.find("crl.der") != std::string::npos);
}

TEST_CASE("the platform directory keeps the ARK key (0600) and a current CRL")
{
    const sim::Platform& p = test::genoa();
    test::TempDir tmp;
    std::string dir = tmp / "platform";
    REQUIRE(sim::write_platform(p, dir).ok());
    struct stat st {};
    REQUIRE(stat((dir + "/" + sim::PLATFORM_ARK_KEY).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    Bytes key_pem = test::read_bytes(dir + "/" + sim::PLATFORM_ARK_KEY);
    CHECK(has(key_pem, as_bytes("-----BEGIN RSA PRIVATE KEY-----")));
    auto back = sim::read_platform(dir);
    REQUIRE_MESSAGE(back.ok(), back.error().message());
    CHECK(back->ark_key_der.equals(p.ark_key_der));

    verify::Evidence ev = test::evidence(report_of(p), test::psp_for(p).cert_table());
    ev.crl = test::read_bytes(dir + "/" + sim::PLATFORM_CRL);
    verify::Verification v = test::verifier_trusting({&p})->verify(ev);
    CHECK_MESSAGE(v.pass(), test::dump(v));

    // Another platform's ARK key beside this ARK is refused by name; without the file the
    // platform still reads (made before the key was kept) and cannot sign CRLs.
    test::TempDir other_tmp;
    std::string other = other_tmp / "platform";
    REQUIRE(sim::write_platform(test::low_tcb_genoa(), other).ok());
    test::write_bytes(dir + "/" + sim::PLATFORM_ARK_KEY, test::read_bytes(other + "/" + sim::PLATFORM_ARK_KEY));
    auto mixed = sim::read_platform(dir);
    REQUIRE_FALSE(mixed.ok());
    CHECK(std::string(mixed.error().message()).find("ark-key.pem does not match the ARK certificate") !=
          std::string::npos);
    REQUIRE(remove((dir + "/" + sim::PLATFORM_ARK_KEY).c_str()) == 0);
    auto old = sim::read_platform(dir);
    REQUIRE_MESSAGE(old.ok(), old.error().message());
    CHECK(old->ark_key_der.size() == 0);
    CHECK_FALSE(sim::make_crl(old.value(), {}).ok());
}
