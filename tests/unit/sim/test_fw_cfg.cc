// The fw_cfg hand-off: what the host writes, the guest reads back into the same PSP, and every
// blob a hostile or broken host could get wrong is refused by name.
#include <doctest.h>

#include <sys/stat.h>

#include <filesystem>

#include "sim/fw_cfg.h"
#include "sim_fixture.h"
#include "snp/cert_table.h"

using namespace cvm;

namespace {

sim::LaunchState launch()
{
    sim::LaunchState l;
    l.measurement.fill(0x6D);
    l.policy = 0x30000 | 1ull << 19;
    l.host_data.fill(0x68);
    l.family_id.fill(0x66);
    l.image_id.fill(0x69);
    l.guest_svn = 4242;
    l.platform_info = 0x25;
    l.id_key_digest.fill(0x11);
    l.author_key_digest.fill(0x22);
    return l;
}

bool same(const sim::LaunchState& a, const sim::LaunchState& b)
{
    return a.measurement == b.measurement && a.policy == b.policy && a.host_data == b.host_data &&
           a.family_id == b.family_id && a.image_id == b.image_id && a.guest_svn == b.guest_svn &&
           a.platform_info == b.platform_info && a.id_key_digest == b.id_key_digest &&
           a.author_key_digest == b.author_key_digest;
}

// A guest's view: <root>/opt/cvminit/sim/<blob>/raw, from the host's out_dir files.
struct GuestRoot {
    test::TempDir host, guest;
    GuestRoot(const sim::Platform& p, const sim::LaunchState& l)
    {
        auto written = sim::write_fw_cfg_files(p, l, host.path());
        REQUIRE_MESSAGE(written.ok(), written.error().message());
        for (const char* blob : {"key", "certs", "launch"})
            test::write_bytes(raw(blob), test::read_bytes(host / blob));
    }
    std::string raw(const std::string& blob) const { return guest / ("opt/cvminit/sim/" + blob + "/raw"); }
    std::string load_error() const
    {
        auto psp = sim::load_from_fw_cfg(guest.path());
        REQUIRE_FALSE(psp.ok());
        return std::string(psp.error().message());
    }
};

void contains(const std::string& text, const std::string& part)
{
    CHECK_MESSAGE(text.find(part) != std::string::npos, "'" << part << "' not in: " << text);
}

}  // namespace

TEST_CASE("host -> fw_cfg -> guest gives the same PSP, and its reports verify")
{
    const sim::Platform& p = test::genoa();
    GuestRoot root(p, launch());
    for (const char* blob : {"key", "certs", "launch"}) {
        struct stat st {};
        REQUIRE(stat((root.host / blob).c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0600);
    }
    auto psp = sim::load_from_fw_cfg(root.guest.path());
    REQUIRE_MESSAGE(psp.ok(), psp.error().message());
    CHECK(psp->product() == snp::Product::Genoa);
    CHECK(same(psp->launch(), launch()));
    CHECK(psp->cert_table() == test::psp_for(p).cert_table());
    Bytes report = psp->get_report(test::report_data(0x77), 0).value();
    verify::Verification v = test::verifier_trusting({&p})->verify(test::evidence(report, psp->cert_table(), p));
    CHECK_MESSAGE(v.pass(), test::dump(v));
    CHECK(v.report->chip_id == p.chip_id);
    CHECK(v.report->measurement == launch().measurement);
}

TEST_CASE("the QEMU arguments name each blob under opt/cvminit/sim")
{
    auto args = sim::qemu_fw_cfg_args("/run/sim");
    CHECK(args == std::vector<std::string>{"-fw_cfg", "name=opt/cvminit/sim/key,file=/run/sim/key", "-fw_cfg",
                                           "name=opt/cvminit/sim/certs,file=/run/sim/certs", "-fw_cfg",
                                           "name=opt/cvminit/sim/launch,file=/run/sim/launch"});
    CHECK(sim::qemu_fw_cfg_args("/a,b")[1] == "name=opt/cvminit/sim/key,file=/a,,b/key");
    for (std::string_view name : {sim::FW_CFG_KEY, sim::FW_CFG_CERTS, sim::FW_CFG_LAUNCH})
        CHECK(name.size() <= 55);  // FW_CFG_MAX_FILE_PATH is 56 with the NUL
}

TEST_CASE("the launch blob round-trips and is strict")
{
    auto back = sim::parse_launch_state_toml(sim::launch_state_toml(launch()), "launch");
    REQUIRE_MESSAGE(back.ok(), back.error().message());
    CHECK(same(back.value(), launch()));
    std::string text = sim::launch_state_toml(launch());
    auto without = [&](const std::string& key) {
        size_t at = text.find(key + " = ");
        return text.substr(0, at) + text.substr(text.find('\n', at) + 1);
    };
    auto missing = sim::parse_launch_state_toml(without("guest_svn"), "launch");
    REQUIRE_FALSE(missing.ok());
    contains(std::string(missing.error().message()), "'guest_svn': missing");
    auto negative = sim::parse_launch_state_toml(without("policy") + "policy = -1\n", "launch");
    REQUIRE_FALSE(negative.ok());
    contains(std::string(negative.error().message()), "'policy'");
    auto quoted = sim::parse_launch_state_toml(without("guest_svn") + "guest_svn = \"1\"\n", "launch");
    REQUIRE_FALSE(quoted.ok());
    contains(std::string(quoted.error().message()), "'guest_svn'");
}

TEST_CASE("every broken blob is refused, naming it")
{
    const sim::Platform& p = test::genoa();
    for (const char* blob : {"key", "certs", "launch"}) {
        GuestRoot root(p, launch());
        std::filesystem::remove(root.raw(blob));
        contains(root.load_error(), std::string("fw_cfg opt/cvminit/sim/") + blob);
    }
    for (const char* blob : {"key", "certs", "launch"}) {
        GuestRoot root(p, launch());
        test::write_bytes(root.raw(blob), Bytes(20000, 'x'));
        std::string e = root.load_error();
        contains(e, std::string("fw_cfg opt/cvminit/sim/") + blob);
        contains(e, "is larger than");
    }
    {
        GuestRoot root(p, launch());  // another platform's key with this platform's certificates
        GuestRoot other(test::low_tcb_genoa(), launch());
        test::write_bytes(root.raw("key"), test::read_bytes(other.raw("key")));
        std::string e = root.load_error();
        contains(e, "fw_cfg opt/cvminit/sim/key");
        contains(e, "does not match");
    }
    {
        GuestRoot root(p, launch());
        test::write_bytes(root.raw("key"),
                          as_bytes("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"));
        contains(root.load_error(), "VCEK private key");
    }
    {
        GuestRoot root(p, launch());
        Bytes text = test::read_bytes(root.raw("launch"));
        std::string t(text.begin(), text.end());
        test::write_bytes(root.raw("launch"), as_bytes(t + "debug = true\n"));
        std::string e = root.load_error();
        contains(e, "fw_cfg opt/cvminit/sim/launch key 'debug': unknown key");
    }
    {
        GuestRoot root(p, launch());
        Bytes text = test::read_bytes(root.raw("launch"));
        std::string t(text.begin(), text.end());
        t.replace(t.find("measurement = \"") + 15, 2, "zz");
        test::write_bytes(root.raw("launch"), as_bytes(t));
        contains(root.load_error(), "fw_cfg opt/cvminit/sim/launch key 'measurement': expected 96 hex digits");
    }
    {
        GuestRoot root(p, launch());  // no ARK in the table
        test::write_bytes(root.raw("certs"), snp::build_cert_table({{snp::GUID_VCEK, snp::CertKind::Vcek, p.vcek_der},
                                                                    {snp::GUID_ASK, snp::CertKind::Ask, p.ask_der}}));
        std::string e = root.load_error();
        contains(e, "fw_cfg opt/cvminit/sim/certs");
        contains(e, "no ARK entry");
    }
    {
        GuestRoot root(p, launch());  // a VLEK entry: not what this platform hands out
        test::write_bytes(root.raw("certs"),
                          snp::build_cert_table({{snp::GUID_VCEK, snp::CertKind::Vcek, p.vcek_der},
                                                 {snp::GUID_ASK, snp::CertKind::Ask, p.ask_der},
                                                 {snp::GUID_ARK, snp::CertKind::Ark, p.ark_der},
                                                 {snp::GUID_VLEK, snp::CertKind::Vlek, p.vcek_der}}));
        contains(root.load_error(), "expected only VCEK, ASK and ARK entries");
    }
    {
        GuestRoot root(p, launch());  // a launch policy SNP_LAUNCH_START would refuse
        Bytes text = test::read_bytes(root.raw("launch"));
        std::string t(text.begin(), text.end());
        t.replace(t.find("policy = 0x"), std::string("policy = 0x").size() + 5, "policy = 0x10000");
        test::write_bytes(root.raw("launch"), as_bytes(t));
        contains(root.load_error(), "bit 17");
    }
}
