// Stage volume: what the data volume's header claims before attesting, as the attested request
// reports it (blank, formatting or ready; generation; uuid), read from a disk image; a header
// outside the profile fails the stage, naming the device, and nothing is written.
#include <doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "stages.h"
#include "storage/luks2_volume.h"

using namespace cvm;

namespace {

Result<std::string> run(const std::string& device, agent::Context& ctx)
{
    ctx.data = cmdline::DataVolume{device, "vol", "/data"};
    return agent::stage_volume(ctx);
}

}  // namespace

TEST_CASE("stage volume: a blank disk, then a volume's claim, reported as found")
{
    std::string dir = (std::filesystem::temp_directory_path() / "cvm-volume-test.XXXXXX").string();
    REQUIRE(mkdtemp(dir.data()) != nullptr);
    std::string path = dir + "/data.img";
    {
        std::ofstream(path).flush();
    }
    std::filesystem::resize_file(path, 64 << 20);

    agent::Context blank;
    auto summary = run(path, blank);
    REQUIRE_MESSAGE(summary.ok(), summary.error().message());
    CHECK(summary.value().find(": blank") != std::string::npos);
    REQUIRE(blank.data_report);
    CHECK(blank.data_report->name == "vol");
    CHECK(blank.data_report->state == proto::VolumeState::Blank);
    CHECK(blank.data_report->generation == 0);
    CHECK(blank.data_report->uuid.empty());
    CHECK(blank.data_seen->state == storage::luks2::HeaderState::Blank);

    {
        auto dev = storage::FileBlockDevice::open(path, storage::FileBlockDevice::Mode::ReadWrite);
        REQUIRE(dev.ok());
        storage::luks2::FormatOptions options;
        options.generation = 7;
        const std::string passphrase(32, 'p');
        auto made = storage::luks2::format(dev.value(), as_bytes(passphrase), options);
        REQUIRE_MESSAGE(made.ok(), made.error().message());
    }
    agent::Context formatted;
    summary = run(path, formatted);
    REQUIRE_MESSAGE(summary.ok(), summary.error().message());
    CHECK(summary.value().find("first boot unfinished, generation 7") != std::string::npos);
    CHECK(formatted.data_report->state == proto::VolumeState::Formatting);
    CHECK(formatted.data_report->generation == 7);
    CHECK(formatted.data_report->uuid == formatted.data_seen->volume->uuid);
    CHECK(formatted.data_report->uuid.size() == 36);

    // One byte of the primary binary header changed: no longer LUKS2 as the profile has it.
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(0);
        f.put('X');
    }
    auto before = std::filesystem::last_write_time(path);
    agent::Context broken;
    summary = run(path, broken);
    REQUIRE_FALSE(summary.ok());
    CHECK(std::string(summary.error().message()).find(path) == 0);
    CHECK_FALSE(broken.data_report);
    CHECK(std::filesystem::last_write_time(path) == before);

    agent::Context missing;
    summary = run(dir + "/absent.img", missing);
    REQUIRE_FALSE(summary.ok());
    CHECK(std::string(summary.error().message()).find("absent.img") != std::string::npos);
    std::filesystem::remove_all(dir);
}
