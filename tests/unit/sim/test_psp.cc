// The simulated PSP: reports with the real layout that the verifier accepts under the simulated
// root, and the adversarial launches a broker test needs, through the same public API.
#include <doctest.h>

#include <algorithm>
#include <thread>

#include "policy/policy.h"
#include "sim_fixture.h"
#include "snp/cert_table.h"
#include "snp/report.h"

using namespace cvm;
using snp::Product;

namespace {

Bytes report_of(const sim::SimulatedPsp& psp, uint8_t fill, uint32_t vmpl = 0)
{
    auto r = psp.get_report(test::report_data(fill), vmpl);
    REQUIRE_MESSAGE(r.ok(), r.error().message());
    return r.release_value();
}

snp::AttestationReport parsed(const Bytes& raw)
{
    auto r = snp::parse_report(raw);
    REQUIRE_MESSAGE(r.ok(), r.error().message());
    return r.release_value();
}

sim::LaunchState full_launch()
{
    sim::LaunchState l;
    l.measurement.fill(0x4D);
    l.policy = 0x30000 | 0x0102;  // ABI 1.2 minimum, SMT allowed
    l.host_data.fill(0x48);
    l.family_id.fill(0x46);
    l.image_id.fill(0x49);
    l.guest_svn = 7;
    l.platform_info = 0x25;  // SMT, ECC, alias check complete
    l.id_key_digest.fill(0x1D);
    l.author_key_digest.fill(0xAD);
    return l;
}

}  // namespace

TEST_CASE("a report verifies under the simulated root and carries exactly what was set")
{
    const sim::Platform& p = test::genoa();
    auto psp = sim::SimulatedPsp::create(p, full_launch());
    REQUIRE_MESSAGE(psp.ok(), psp.error().message());
    Bytes raw = report_of(psp.value(), 0xD1, 2);
    REQUIRE(raw.size() == snp::REPORT_SIZE);

    auto verifier = test::verifier_trusting({&p});
    verify::Verification v = verifier->verify(test::evidence(raw, psp->cert_table(), p));
    CHECK_MESSAGE(v.pass(), test::dump(v));
    CHECK(v.anchor == verify::Anchor::CallerSupplied);

    snp::AttestationReport r = parsed(raw);
    sim::LaunchState l = full_launch();
    CHECK(r.version == 3);
    CHECK(r.report_data == test::report_data(0xD1));
    CHECK(r.vmpl == 2);
    CHECK(r.measurement == l.measurement);
    CHECK(r.policy.raw == l.policy);
    CHECK(r.host_data == l.host_data);
    CHECK(r.family_id == l.family_id);
    CHECK(r.image_id == l.image_id);
    CHECK(r.guest_svn == 7);
    CHECK(r.platform_info.raw == 0x25);
    CHECK(r.id_key_digest == l.id_key_digest);
    CHECK(r.author_key_digest == l.author_key_digest);
    CHECK(r.author_key_en);
    CHECK_FALSE(r.mask_chip_key);
    CHECK(r.signing_key == snp::SigningKey::Vcek);
    CHECK(r.chip_id == p.chip_id);
    const uint64_t tcb = p.tcb.encode(Product::Genoa);
    CHECK(r.current_tcb == tcb);
    CHECK(r.reported_tcb == tcb);
    CHECK(r.committed_tcb == tcb);
    CHECK(r.launch_tcb == tcb);
    CHECK(r.cpuid_product() == Product::Genoa);
    CHECK(r.cpuid_fam_id == 0x19);
    CHECK(r.cpuid_mod_id == 0x11);
    CHECK(r.current_major == 1);
    CHECK(r.committed_minor == r.current_minor);
    CHECK(std::all_of(r.report_id_ma.begin(), r.report_id_ma.end(), [](uint8_t b) { return b == 0xFF; }));
    CHECK_FALSE(all_zero(r.report_id));
    // REPORT_ID names the guest: the same in every report of one launch, new for another launch.
    CHECK(parsed(report_of(psp.value(), 1)).report_id == r.report_id);
    CHECK(parsed(report_of(test::psp_for(p), 1)).report_id != r.report_id);
    // ECDSA is randomised: the same request signs differently each time, and both verify.
    CHECK(report_of(psp.value(), 0xD1, 2) != raw);
}

TEST_CASE("the certificate table is VCEK, ASK, ARK in the GUID table format")
{
    const sim::Platform& p = test::genoa();
    auto entries = snp::parse_cert_table(test::psp_for(p).cert_table());
    REQUIRE_MESSAGE(entries.ok(), entries.error().message());
    REQUIRE(entries->size() == 3);
    CHECK(entries.value()[0].kind == snp::CertKind::Vcek);
    CHECK(entries.value()[0].der == p.vcek_der);
    CHECK(entries.value()[1].kind == snp::CertKind::Ask);
    CHECK(entries.value()[1].der == p.ask_der);
    CHECK(entries.value()[2].kind == snp::CertKind::Ark);
    CHECK(entries.value()[2].der == p.ark_der);
}

TEST_CASE("any one-bit flip in the signed region fails verification")
{
    const sim::Platform& p = test::genoa();
    sim::SimulatedPsp psp = test::psp_for(p);
    Bytes raw = report_of(psp, 0x33);
    auto verifier = test::verifier_trusting({&p});
    REQUIRE(verifier->verify(test::evidence(raw, psp.cert_table(), p)).pass());
    // VERSION, GUEST_SVN, POLICY, FAMILY_ID, VMPL, CURRENT_TCB, REPORT_DATA, MEASUREMENT,
    // HOST_DATA, REPORT_ID, REPORTED_TCB, CPUID_STEP, CHIP_ID, COMMITTED_TCB, LAUNCH_TCB, the last
    // signed byte, SIGNATURE.R, SIGNATURE.S.
    for (size_t offset : {0x000, 0x004, 0x008, 0x010, 0x030, 0x038, 0x050, 0x08F, 0x090, 0x0C0, 0x140, 0x180, 0x18A,
                          0x1A0, 0x1E0, 0x1F0, 0x29F, 0x2A0, 0x2E8}) {
        for (int bit : {0, 7}) {
            Bytes flipped = raw;
            flipped[offset] ^= static_cast<uint8_t>(1 << bit);
            verify::Verification v = verifier->verify(test::evidence(flipped, psp.cert_table(), p));
            CHECK_MESSAGE(!v.pass(), "offset " << offset << " bit " << bit);
        }
    }
}

TEST_CASE("a report with another platform's certificates fails")
{
    const sim::Platform& p = test::genoa();
    const sim::Platform& other = test::low_tcb_genoa();
    Bytes raw = report_of(test::psp_for(p), 0x44);
    auto both = test::verifier_trusting({&p, &other});
    verify::Verification v = both->verify(test::evidence(raw, test::psp_for(other).cert_table()));
    CHECK_FALSE(v.pass());
    auto failed = test::failing(v);
    CHECK(std::find(failed.begin(), failed.end(), "report.signature") != failed.end());
    CHECK(std::find(failed.begin(), failed.end(), "vek.hwid") != failed.end());
    // Its own certificates, but only the other platform's root trusted.
    auto wrong_root = test::verifier_trusting({&other});
    CHECK_FALSE(wrong_root->verify(test::evidence(raw, test::psp_for(p).cert_table())).pass());
}

TEST_CASE("adversarial launches: authentic evidence that a policy must refuse")
{
    const sim::Platform& p = test::genoa();
    auto verifier = test::verifier_trusting({&p, &test::low_tcb_genoa()});
    policy::Policy pol;
    pol.allow_simulated = true;
    pol.measurements.push_back({});
    pol.measurements[0].fill(0x5A);
    pol.min_tcb[Product::Genoa] = sim::default_tcb(Product::Genoa);

    auto policy_failures = [&](const sim::Platform& platform, const sim::SimulatedPsp& psp, uint32_t vmpl) {
        Bytes raw = report_of(psp, 0x01, vmpl);
        verify::Verification v = verifier->verify(test::evidence(raw, psp.cert_table(), platform));
        REQUIRE_MESSAGE(v.pass(), test::dump(v));  // authentic
        std::vector<std::string> names;
        for (const Claim& c : policy::evaluate(pol, *v.report, *v.product, policy::Origin::Simulated)) {
            if (!c.pass)
                names.push_back(c.name);
        }
        return names;
    };
    CHECK(policy_failures(p, test::psp_for(p), 0).empty());

    sim::LaunchState debug;
    debug.measurement.fill(0x5A);
    debug.policy |= 1ull << 19;
    CHECK(policy_failures(p, sim::SimulatedPsp::create(p, debug).value(), 0) ==
          std::vector<std::string>{"policy.debug"});
    CHECK(policy_failures(p, test::psp_for(p), 1) == std::vector<std::string>{"policy.vmpl"});
    CHECK(policy_failures(test::low_tcb_genoa(), test::psp_for(test::low_tcb_genoa()), 0) ==
          std::vector<std::string>{"policy.min_tcb"});
    CHECK(policy_failures(p, test::psp_for(p, 0x5B), 0) == std::vector<std::string>{"policy.measurement"});
}

TEST_CASE("requests and launches that real firmware refuses")
{
    const sim::Platform& p = test::genoa();
    auto vmpl = test::psp_for(p).get_report(test::report_data(0), 4);
    REQUIRE_FALSE(vmpl.ok());
    CHECK(vmpl.error().code() == Errc::Config);

    sim::LaunchState no_bit17;
    no_bit17.policy = 0x10000;
    auto r = sim::SimulatedPsp::create(p, no_bit17);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Config);
    sim::LaunchState mbz;
    mbz.policy = 0x30000 | 1ull << 40;
    CHECK_FALSE(sim::SimulatedPsp::create(p, mbz).ok());

    // A key that is not the VCEK's, or a description that is not the certificate's.
    sim::Platform mixed = test::copy(p);
    mixed.vcek_key_der = SecretBytes::copy_of(test::low_tcb_genoa().vcek_key_der.expose());
    r = sim::SimulatedPsp::create(mixed, {});
    REQUIRE_FALSE(r.ok());
    CHECK(std::string(r.error().message()).find("does not match") != std::string::npos);
    sim::Platform lied = test::copy(p);
    lied.tcb.snp = 99;
    CHECK_FALSE(sim::SimulatedPsp::create(lied, {}).ok());
}

TEST_CASE("concurrent requests each get a valid report")
{
    const sim::Platform& p = test::genoa();
    sim::SimulatedPsp psp = test::psp_for(p);
    std::vector<Bytes> reports(8);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < reports.size(); ++i)
        threads.emplace_back([&, i] { reports[i] = psp.get_report(test::report_data(uint8_t(i)), 0).value(); });
    for (std::thread& t : threads)
        t.join();
    auto verifier = test::verifier_trusting({&p});
    for (size_t i = 0; i < reports.size(); ++i) {
        verify::Verification v = verifier->verify(test::evidence(reports[i], psp.cert_table(), p));
        CHECK_MESSAGE(v.pass(), test::dump(v));
        CHECK(v.report->report_data == test::report_data(uint8_t(i)));
    }
}

TEST_CASE("Milan and Turin parts: their report versions, CPUID, TCB layout and hwID")
{
    for (Product product : {Product::Milan, Product::Turin}) {
        sim::PlatformOptions options;
        options.product = product;
        if (product == Product::Turin) {
            options.chip_id = sim::ChipId{};
            std::copy_n("CVMSIM42", 8, options.chip_id->begin());  // a Turin CHIP_ID is 8 bytes
        }
        auto p = sim::create_platform(options);
        REQUIRE_MESSAGE(p.ok(), p.error().message());
        CHECK(p->tcb == sim::default_tcb(product));
        sim::SimulatedPsp psp = test::psp_for(p.value());
        Bytes raw = report_of(psp, 0x0F);
        verify::Verification v =
            test::verifier_trusting({&p.value()})->verify(test::evidence(raw, psp.cert_table(), p.value()));
        CHECK_MESSAGE(v.pass(), test::dump(v));
        CHECK(v.product == product);
        snp::AttestationReport r = parsed(raw);
        CHECK(r.version == (product == Product::Turin ? 5u : 3u));
        CHECK(r.cpuid_product() == product);
        CHECK(snp::TcbVersion::decode(r.reported_tcb, product) == p->tcb);
        if (product == Product::Turin) {
            CHECK(std::string(r.chip_id.begin(), r.chip_id.begin() + 8) == "CVMSIM42");
            CHECK(all_zero(ByteView(r.chip_id).subspan(8)));
            CHECK(p->tcb.fmc == 1);
        }
    }
}
