// The configfs-tsm provider against a fake of the kernel's report group (fake_configfs_tsm.h) whose
// reports come from the fake sev-guest driver (fake_sev_guest.h): the provider's real file reads
// and writes run on a temporary directory. Also the fallback to /dev/sev-guest.
#include <doctest.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "fake_configfs_tsm.h"
#include "fake_sev_guest.h"
#include "providers/report_provider.h"
#include "providers/report_provider_configfs.h"
#include "providers/sev_guest_abi.h"
#include "sim_fixture.h"
#include "snp/report.h"

using namespace cvm;

namespace {

struct Configfs {
    sim::SimulatedPsp psp = test::psp_for(test::genoa());
    test::TempDir dir;
    test::FakeSevGuest sev{psp};
    test::FakeConfigfsTsm kernel{dir.path(), sev};
    agent::ConfigfsTsmProvider provider{dir.path(), kernel};

    std::string error(uint8_t fill = 0x42)
    {
        auto got = provider.get_report(test::report_data(fill));
        REQUIRE_FALSE(got.ok());
        return std::string(got.error().message());
    }
    bool root_is_empty() const { return std::filesystem::is_empty(dir.path()); }
};

void contains(const std::string& text, const std::string& part)
{
    CHECK_MESSAGE(text.find(part) != std::string::npos, "'" << part << "' not in: " << text);
}

Bytes with_report_data(const sim::SimulatedPsp& psp, uint8_t fill)
{
    return psp.get_report(test::report_data(fill), 0).value();
}

}  // namespace

TEST_CASE("configfs-tsm: a report for our inblob, its certificate table, the entry removed")
{
    Configfs c;
    auto got = c.provider.get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    CHECK(std::string(c.provider.name()) == "configfs-tsm");
    CHECK(got->provider == "configfs-tsm");
    CHECK(got->report.size() == snp::REPORT_SIZE);
    CHECK(got->cert_table == c.psp.cert_table());
    CHECK(c.kernel.reports_generated == 1);
    CHECK(c.kernel.last_privlevel == 0u);
    REQUIRE(c.kernel.entries_made.size() == 1);
    CHECK(c.kernel.entries_made[0].rfind(c.dir.path() + "/cvminit-", 0) == 0);
    CHECK(c.root_is_empty());
    auto v =
        test::verifier_trusting({&test::genoa()})->verify(test::evidence(got->report, got->cert_table, test::genoa()));
    CHECK_MESSAGE(v.pass(), test::dump(v));
    CHECK(v.report->report_data == test::report_data(0x42));

    auto again = c.provider.get_report(test::report_data(0x43));  // a fresh entry each time
    REQUIRE_MESSAGE(again.ok(), again.error().message());
    REQUIRE(c.kernel.entries_made.size() == 2);
    CHECK(c.kernel.entries_made[0] != c.kernel.entries_made[1]);
}

TEST_CASE("configfs-tsm: without privlevel or auxblob the report still comes, with no certificates")
{
    Configfs c;
    c.kernel.privlevel_visible = false;
    c.kernel.auxblob_visible = false;
    auto got = c.provider.get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    CHECK(got->cert_table.empty());
    CHECK(c.kernel.reports_generated == 1);

    Configfs empty;  // a host without certificates: sev_report_new leaves auxblob empty
    empty.sev.certs.clear();
    auto none = empty.provider.get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(none.ok(), none.error().message());
    CHECK(none->cert_table.empty());
    CHECK(empty.kernel.reports_generated == 1);
}

TEST_CASE("configfs-tsm: auxblob is cut after the last entry; a broken table is refused")
{
    Configfs c;
    Bytes padded = c.psp.cert_table();  // the host's pages are zero-padded
    padded.resize(16384, 0);
    c.sev.certs = padded;
    auto got = c.provider.get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    CHECK(got->cert_table == c.psp.cert_table());

    Bytes broken = c.psp.cert_table();
    broken[16] = 0x10;  // first entry's offset inside the entry array
    c.sev.certs = broken;
    std::string e = c.error();
    contains(e, "/auxblob");
    contains(e, "inside the");
    CHECK(c.root_is_empty());
}

TEST_CASE("configfs-tsm: a provider other than sev_guest is refused before anything is written")
{
    Configfs c;
    c.kernel.provider = "tdx_guest\n";
    std::string e = c.error();
    contains(e, "/provider is 'tdx_guest\\n', expected 'sev_guest\\n'");
    CHECK(c.kernel.reports_generated == 0);
    CHECK(c.root_is_empty());
    c.kernel.provider = "sev_guest";  // exact match, newline included
    contains(c.error(), "/provider is 'sev_guest'");
    CHECK(c.sev.calls.empty());
}

TEST_CASE("configfs-tsm: a concurrent writer (generation moved too far) is detected")
{
    Configfs c;
    c.kernel.concurrent_writes = 1;
    std::string e = c.error();
    contains(e, "/generation moved from 0 to 3, expected 2");
    contains(e, "another writer");
    CHECK(c.root_is_empty());
    CHECK(c.kernel.reports_generated == 2);  // auxblob was regenerated for the other inblob

    c.kernel.privlevel_visible = false;  // one write expected then
    c.kernel.concurrent_writes = 1;
    contains(c.error(), "moved from 0 to 2, expected 1");
}

TEST_CASE("configfs-tsm: outblob must be exactly one report, for our REPORT_DATA")
{
    Configfs c;
    c.kernel.tamper = [](Bytes& r) { r.resize(snp::REPORT_SIZE - 1); };
    std::string e = c.error();
    contains(e, "/outblob: report is 1183 bytes, expected exactly 1184");
    c.kernel.tamper = [](Bytes& r) { r.push_back(0); };
    e = c.error();
    contains(e, "/outblob holds more than the 1184 bytes allowed");
    c.kernel.tamper = [](Bytes& r) { r.clear(); };
    contains(c.error(), "report is 0 bytes");

    // A correctly signed report for other bytes: a replay must not pass as ours.
    const sim::SimulatedPsp& psp = c.psp;
    c.kernel.tamper = [&psp](Bytes& r) { r = with_report_data(psp, 0x99); };
    e = c.error(0x42);
    contains(e, "/outblob: REPORT_DATA is 99999999");
    contains(e, "expected 4242424242424242");

    c.kernel.tamper = [](Bytes& r) { r[0] = 9; };  // VERSION 9
    contains(c.error(), "/outblob");
    CHECK(c.root_is_empty());
}

TEST_CASE("configfs-tsm: probe() makes and removes an entry; name clashes are skipped")
{
    using State = agent::ConfigfsTsmProvider::State;
    test::TempDir dir;
    CHECK(agent::ConfigfsTsmProvider::probe(dir.path()).state == State::Ready);
    CHECK(std::filesystem::is_empty(dir.path()));  // the probe entry is removed
    CHECK(agent::ConfigfsTsmProvider::probe(dir / "missing").state == State::Missing);
    test::write_bytes(dir / "file", as_bytes("x"));
    CHECK(agent::ConfigfsTsmProvider::probe(dir / "file").state == State::Missing);

    agent::ConfigfsTsmProvider missing(dir / "missing");  // the real file operations
    auto got = missing.get_report(test::report_data(1));
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().errno_value() == ENOENT);
    CHECK(std::string(got.error().message()).find("cannot create a report entry") != std::string::npos);

    // Stale entries with our names are skipped, not reused.
    Configfs c;
    for (int i = 0; i < 3; ++i) {
        auto first = c.provider.get_report(test::report_data(1));
        REQUIRE(first.ok());
    }
    std::string last = c.kernel.entries_made.back();
    std::string prefix = last.substr(0, last.rfind('-') + 1);
    unsigned next = static_cast<unsigned>(std::stoul(last.substr(last.rfind('-') + 1))) + 1;
    std::filesystem::create_directory(prefix + std::to_string(next));
    auto got2 = c.provider.get_report(test::report_data(2));
    REQUIRE_MESSAGE(got2.ok(), got2.error().message());
    CHECK(c.kernel.entries_made.back() == prefix + std::to_string(next + 1));
}

TEST_CASE("configfs-tsm: tsm loaded without a provider: mkdir gives ENXIO, probe() says NoProvider")
{
    Configfs c;
    c.kernel.provider_registered = false;
    auto probe = agent::ConfigfsTsmProvider::probe(c.dir.path(), c.kernel);
    CHECK(probe.state == agent::ConfigfsTsmProvider::State::NoProvider);
    CHECK(probe.mkdir_errno == ENXIO);
    auto got = c.provider.get_report(test::report_data(1));
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().errno_value() == ENXIO);
    CHECK(c.root_is_empty());

    c.kernel.provider_registered = true;
    CHECK(agent::ConfigfsTsmProvider::probe(c.dir.path(), c.kernel).state == agent::ConfigfsTsmProvider::State::Ready);
    CHECK(c.root_is_empty());
    CHECK(c.sev.calls.empty());  // probing sends nothing to the firmware
}

TEST_CASE("fake configfs-tsm: inblob_len, privlevel against privlevel_floor, generation")
{
    Configfs c;
    const std::string e = c.dir / "entry";
    REQUIRE(c.kernel.make_dir(e).ok());
    auto text = [&](const char* attribute) {
        Bytes b = c.kernel.read(e + "/" + attribute, 64).value();
        return std::string(b.begin(), b.end());
    };
    CHECK(text("provider") == "sev_guest\n");
    CHECK(text("generation") == "0\n");
    CHECK(text("privlevel_floor") == "0\n");

    // outblob before any inblob: EINVAL keyed on inblob_len == 0, even after other writes.
    CHECK(c.kernel.read(e + "/outblob", 4096).error().errno_value() == EINVAL);
    REQUIRE(c.kernel.write(e + "/privlevel", as_bytes("0\n")).ok());
    CHECK(text("generation") == "1\n");
    CHECK(c.kernel.read(e + "/outblob", 4096).error().errno_value() == EINVAL);
    CHECK(c.kernel.read(e + "/auxblob", 4096).error().errno_value() == EINVAL);

    // inblob: at most 64 bytes (EFBIG), and the empty store at close still counts as a write.
    auto big = c.kernel.write(e + "/inblob", Bytes(65, 1));
    REQUIRE_FALSE(big.ok());
    CHECK(big.error().errno_value() == EFBIG);
    CHECK(text("generation") == "2\n");
    CHECK(c.kernel.read(e + "/outblob", 4096).error().errno_value() == EINVAL);

    // 32 bytes are stored, then sev_report_new refuses them (inblob_len != 64).
    REQUIRE(c.kernel.write(e + "/inblob", Bytes(32, 1)).ok());
    CHECK(text("generation") == "3\n");
    CHECK(c.kernel.read(e + "/outblob", 4096).error().errno_value() == EINVAL);
    CHECK(c.sev.calls.empty());

    REQUIRE(c.kernel.write(e + "/inblob", Bytes(64, 1)).ok());
    CHECK(text("generation") == "4\n");
    CHECK(c.kernel.read(e + "/outblob", 4096).value().size() == snp::REPORT_SIZE);
    CHECK(c.kernel.read(e + "/outblob", 4096).ok());  // cached: no second report
    CHECK(c.kernel.reports_generated == 1);
    CHECK(c.sev.calls.size() == 1);

    // privlevel is checked when written: floor <= value <= 3, a number with at most a newline.
    c.kernel.privlevel_floor = 1;
    for (const char* bad : {"0", "4", "-1", "x", "1x", ""}) {
        CAPTURE(bad);
        auto w = c.kernel.write(e + "/privlevel", as_bytes(bad));
        REQUIRE_FALSE(w.ok());
        CHECK(w.error().errno_value() == EINVAL);
    }
    CHECK(text("generation") == "4\n");
    for (const char* good : {"1", "3\n", "0x2"}) {
        CAPTURE(good);
        CHECK(c.kernel.write(e + "/privlevel", as_bytes(good)).ok());
    }
    CHECK(text("generation") == "7\n");
    REQUIRE(c.kernel.remove_dir(e).ok());
}

TEST_CASE("configfs-tsm: a guest above VMPL 0 (privlevel_floor 1) is refused when privlevel is written")
{
    Configfs c;
    c.kernel.privlevel_floor = 1;
    std::string e = c.error();
    contains(e, "/privlevel");
    CHECK(c.sev.calls.empty());
    CHECK(c.root_is_empty());
}

TEST_CASE("configfs-tsm: certificates over 16 KiB: outblob EIO, the key intact")
{
    Configfs c;
    c.sev.certs = test::cert_table_of_pages(c.psp.cert_table(), 5);
    auto got = c.provider.get_report(test::report_data(0x42));
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().errno_value() == EIO);
    contains(std::string(got.error().message()), "/outblob");
    CHECK(c.provider.outblob_failed_with_eio());
    CHECK_FALSE(c.sev.vmpck_wiped());
    // sev_report_new offered 4 pages; INVALID_LEN; the kernel re-sent it without certificates.
    REQUIRE(c.sev.exits.size() == 2);
    CHECK((c.sev.exits[0].extended && c.sev.exits[0].npages == 4));
    CHECK(c.sev.exits[0].exitinfo2 == agent::sev_guest::EXITINFO2_INVALID_LEN);
    CHECK((!c.sev.exits[1].extended && c.sev.exits[1].exitinfo2 == 0));
    CHECK(c.root_is_empty());

    c.sev.certs = c.psp.cert_table();  // any success clears the flag
    REQUIRE(c.provider.get_report(test::report_data(0x42)).ok());
    CHECK_FALSE(c.provider.outblob_failed_with_eio());
}

namespace {

// choose_provider with both fakes: configfs-tsm over `c`, /dev/sev-guest over `c.sev`.
struct Guest {
    Configfs c;
    agent::ProviderPaths paths;
    agent::ProviderSeams seams;
    int devices_opened = 0;
    Guest()
    {
        paths.configfs_root = c.dir.path();
        paths.sev_guest_device = c.dir / "no-such-device";  // never opened through the path
        paths.fw_cfg_root = c.dir / "fw_cfg/by_name";
        seams.configfs_files = &c.kernel;
        seams.open_sev_guest = [this](const std::string&) -> Result<std::unique_ptr<agent::SevGuestDevice>> {
            ++devices_opened;
            struct Shared final : agent::SevGuestDevice {
                test::FakeSevGuest& kernel;
                explicit Shared(test::FakeSevGuest& k) : kernel(k) {}
                int ioctl(unsigned long request, void* arg) override { return kernel.ioctl(request, arg); }
            };
            return std::unique_ptr<agent::SevGuestDevice>(std::make_unique<Shared>(c.sev));
        };
    }
};

}  // namespace

TEST_CASE("configfs-tsm falls back to one SNP_GET_REPORT after the certificate EIO, having sent no failed request")
{
    Guest g;
    g.c.sev.certs = test::cert_table_of_pages(g.c.psp.cert_table(), 5);
    auto provider = agent::choose_provider(g.paths, false, g.seams);
    REQUIRE_MESSAGE(provider.ok(), provider.error().message());
    CHECK(std::string(provider.value()->name()) == "configfs-tsm");
    auto got = provider.value()->get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    CHECK(got->provider == "sev-guest");
    CHECK(std::string(provider.value()->name()) == "sev-guest");
    CHECK(got->cert_table.empty());  // no path carries more than 16 KiB; the broker asks KDS
    CHECK(got->report.size() == snp::REPORT_SIZE);
    CHECK(g.devices_opened == 1);
    auto v = test::verifier_trusting({&test::genoa()})
                 ->verify(test::evidence(got->report, g.c.psp.cert_table(), test::genoa()));
    CHECK_MESSAGE(v.pass(), test::dump(v));
    CHECK(v.report->report_data == test::report_data(0x42));

    // Every request before the report was answered with success or INVALID_LEN: the key intact.
    CHECK_FALSE(g.c.sev.vmpck_wiped());
    for (const auto& e : g.c.sev.exits)
        CHECK((e.exitinfo2 == 0 || e.exitinfo2 == agent::sev_guest::EXITINFO2_INVALID_LEN));
    // Exactly sev_report_new's EXT (INVALID_LEN: EIO), then one plain ioctl: no SNP_GET_EXT_REPORT,
    // whose buffer the kernel caps at the same 16 KiB, was sent only to fail again.
    using agent::sev_guest::SNP_GET_EXT_REPORT, agent::sev_guest::SNP_GET_REPORT;
    REQUIRE(g.c.sev.calls.size() == 2);
    CHECK((g.c.sev.calls[0].request == SNP_GET_EXT_REPORT && g.c.sev.calls[0].result == EIO));
    CHECK((g.c.sev.calls[1].request == SNP_GET_REPORT && g.c.sev.calls[1].result == 0));
    // The host saw the configfs request offering 4 pages, its certificate-less re-send, and the
    // plain request: one refusal (INVALID_LEN), which the kernel survives.
    REQUIRE(g.c.sev.exits.size() == 3);
    CHECK((g.c.sev.exits[0].extended && g.c.sev.exits[0].exitinfo2 == agent::sev_guest::EXITINFO2_INVALID_LEN));
    CHECK((!g.c.sev.exits[1].extended && !g.c.sev.exits[2].extended));

    // The key still works: the next report asks configfs-tsm again (and falls back again).
    auto again = provider.value()->get_report(test::report_data(0x43));
    REQUIRE_MESSAGE(again.ok(), again.error().message());
    CHECK(g.c.sev.calls.size() == 4);
    CHECK(g.devices_opened == 2);
}

TEST_CASE("configfs-tsm: no fallback after any other failure")
{
    Guest status;  // the firmware refuses (STATUS INVALID_PARAM): sev_report_new says EINVAL
    status.c.sev.status = agent::sev_guest::SEV_RET_INVALID_PARAM;
    auto provider = agent::choose_provider(status.paths, false, status.seams).release_value();
    auto got = provider->get_report(test::report_data(0x42));
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().errno_value() == EINVAL);
    CHECK(status.devices_opened == 0);
    CHECK(status.c.sev.calls.size() == 1);
    CHECK(std::string(provider->name()) == "configfs-tsm");

    Guest busy;  // the host stays BUSY: ETIMEDOUT, the key wiped
    busy.c.sev.busy_exits = 1000;
    provider = agent::choose_provider(busy.paths, false, busy.seams).release_value();
    got = provider->get_report(test::report_data(0x42));
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().errno_value() == ETIMEDOUT);
    CHECK(busy.devices_opened == 0);
    CHECK(busy.c.sev.vmpck_wiped());

    Guest other;  // a failure that is not reading outblob
    other.c.kernel.provider = "tdx_guest\n";
    provider = agent::choose_provider(other.paths, false, other.seams).release_value();
    CHECK_FALSE(provider->get_report(test::report_data(0x42)).ok());
    CHECK(other.devices_opened == 0);
}

TEST_CASE("configfs-tsm: the same EIO from a host error wiped the key: the device's ENOTTY says so")
{
    Guest g;
    g.c.sev.fail_next_exit = agent::sev_guest::SEV_RET_INVALID_CERTIFICATE;
    auto provider = agent::choose_provider(g.paths, false, g.seams).release_value();
    auto got = provider->get_report(test::report_data(0x42));
    REQUIRE_FALSE(got.ok());
    std::string e(got.error().message());
    contains(e, "/dev/sev-guest says ENOTTY: a host or firmware error wiped the VMPCK");
    CHECK(g.c.sev.vmpck_wiped());
    REQUIRE(g.c.sev.exits.size() == 1);  // the ioctl reached nothing: no request after the failure
    REQUIRE(g.c.sev.calls.size() == 2);
    CHECK(g.c.sev.calls[1].result == ENOTTY);
}

TEST_CASE("configfs-tsm: outblob after the key was wiped: ENOTTY, and the error says why")
{
    Configfs c;
    c.sev.fail_next_exit = agent::sev_guest::SEV_RET_INVALID_PARAM;  // an earlier request wipes the key
    CHECK(c.provider.get_report(test::report_data(0x42)).error().errno_value() == EIO);
    REQUIRE(c.sev.vmpck_wiped());
    auto got = c.provider.get_report(test::report_data(0x42));
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().errno_value() == ENOTTY);
    std::string e(got.error().message());
    contains(e, "configfs-tsm: the VMPCK was wiped by an earlier failure; reboot to attest again");
    contains(e, "/outblob");
    CHECK_FALSE(c.provider.outblob_failed_with_eio());  // not the certificate EIO: no fallback
    CHECK(c.sev.exits.size() == 1);                     // nothing reached the host
    CHECK(c.root_is_empty());
}

TEST_CASE("choose_provider: configfs-tsm without a provider falls through to /dev/sev-guest")
{
    Guest g;
    g.c.kernel.provider_registered = false;
    test::write_bytes(g.paths.sev_guest_device, Bytes{});
    auto provider = agent::choose_provider(g.paths, false, g.seams);
    REQUIRE_MESSAGE(provider.ok(), provider.error().message());
    CHECK(std::string(provider.value()->name()) == "sev-guest");
    auto got = provider.value()->get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    CHECK(got->cert_table == g.c.psp.cert_table());

    Guest none;  // neither: the error says what configfs-tsm lacks
    none.c.kernel.provider_registered = false;
    auto refused = agent::choose_provider(none.paths, false, none.seams);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code() == Errc::Unavailable);
    contains(std::string(refused.error().message()),
             "refuses entries (mkdir: No such device or address: no TSM provider registered, sev-guest is not bound)");

    Guest denied;  // another mkdir errno is named as it is, without the ENXIO explanation
    denied.c.kernel.provider_registered = false;
    struct Denying final : agent::ConfigfsFiles {
        agent::ConfigfsFiles& real;
        explicit Denying(agent::ConfigfsFiles& r) : real(r) {}
        Result<void> make_dir(const std::string&) override
        {
            return Error::from_errno(Errc::Io, EACCES, "mkdir: %s", strerror(EACCES));
        }
        Result<void> remove_dir(const std::string& p) override { return real.remove_dir(p); }
        bool exists(const std::string& p) override { return real.exists(p); }
        Result<void> write(const std::string& p, ByteView d) override { return real.write(p, d); }
        Result<Bytes> read(const std::string& p, size_t m) override { return real.read(p, m); }
    } denying(denied.c.kernel);
    denied.seams.configfs_files = &denying;
    refused = agent::choose_provider(denied.paths, false, denied.seams);
    REQUIRE_FALSE(refused.ok());
    std::string e(refused.error().message());
    contains(e, "refuses entries (mkdir: Permission denied) and");
    CHECK(e.find("not bound") == std::string::npos);
}
