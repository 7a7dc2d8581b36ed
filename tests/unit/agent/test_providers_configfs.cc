// The configfs-tsm provider against a fake of the kernel's report group (fake_configfs_tsm.h):
// the provider's real file reads and writes run on a temporary directory.
#include <doctest.h>

#include <filesystem>

#include "fake_configfs_tsm.h"
#include "providers/report_provider_configfs.h"
#include "sim_fixture.h"

using namespace cvm;

namespace {

struct Configfs {
    sim::SimulatedPsp psp = test::psp_for(test::genoa());
    test::TempDir dir;
    test::FakeConfigfsTsm kernel{dir.path(), psp};
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
    auto v = test::verifier_trusting({&test::genoa()})->verify(test::evidence(got->report, got->cert_table));
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

    Configfs empty;  // an auxblob the host left empty, and one of zero pages
    empty.kernel.auxblob = Bytes{};
    auto none = empty.provider.get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(none.ok(), none.error().message());
    CHECK(none->cert_table.empty());
    empty.kernel.auxblob = Bytes(4096, 0);
    none = empty.provider.get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(none.ok(), none.error().message());
    CHECK(none->cert_table.empty());
}

TEST_CASE("configfs-tsm: an auxblob with page padding is trimmed; a broken one is refused")
{
    Configfs c;
    Bytes padded = c.psp.cert_table();
    padded.resize(16384, 0);
    c.kernel.auxblob = padded;
    auto got = c.provider.get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    CHECK(got->cert_table == c.psp.cert_table());

    Bytes broken = c.psp.cert_table();
    broken[16] = 0x10;  // first entry's offset inside the entry array
    c.kernel.auxblob = broken;
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
}

TEST_CASE("configfs-tsm: a concurrent writer (generation moved too far) is detected")
{
    Configfs c;
    c.kernel.concurrent_writes = 1;
    std::string e = c.error();
    contains(e, "/generation moved from 0 to 3, expected 2");
    contains(e, "another writer");
    CHECK(c.root_is_empty());

    c.kernel.privlevel_visible = false;  // one write expected then
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

TEST_CASE("configfs-tsm: availability, mkdir failures and name clashes")
{
    test::TempDir dir;
    CHECK(agent::ConfigfsTsmProvider::available(dir.path()));
    CHECK_FALSE(agent::ConfigfsTsmProvider::available(dir / "missing"));
    test::write_bytes(dir / "file", as_bytes("x"));
    CHECK_FALSE(agent::ConfigfsTsmProvider::available(dir / "file"));

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
