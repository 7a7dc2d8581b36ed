// The platform directory of `cvm sim init`: written once, never overwritten, read back strictly.
#include <doctest.h>

#include <sys/stat.h>

#include <filesystem>

#include "sim/platform_dir.h"
#include "sim_fixture.h"

using namespace cvm;

namespace {

unsigned mode_of(const std::string& path)
{
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    return st.st_mode & 0777;
}

std::string error_of(const Result<sim::Platform>& r)
{
    REQUIRE_FALSE(r.ok());
    return std::string(r.error().message());
}

std::string text_of(const std::string& path)
{
    Bytes b = test::read_bytes(path);
    return std::string(b.begin(), b.end());
}

void contains(const std::string& text, const std::string& part)
{
    CHECK_MESSAGE(text.find(part) != std::string::npos, "'" << part << "' not in: " << text);
}

struct Written {
    test::TempDir tmp;
    std::string dir = tmp / "platform";
    explicit Written(const sim::Platform& p)
    {
        auto w = sim::write_platform(p, dir);
        REQUIRE_MESSAGE(w.ok(), w.error().message());
    }
    std::string operator/(const std::string& name) const { return dir + "/" + name; }
};

}  // namespace

TEST_CASE("a platform round-trips through its directory, with private modes")
{
    const sim::Platform& p = test::genoa();
    Written w(p);
    CHECK(mode_of(w.dir) == 0700);
    CHECK(mode_of(w / "vcek-key.pem") == 0600);
    contains(text_of(w / "vcek-key.pem"), "-----BEGIN EC PRIVATE KEY-----");
    contains(text_of(w / "ark.pem"), "-----BEGIN CERTIFICATE-----");
    contains(text_of(w / "platform.toml"), "SIMULATED");
    contains(text_of(w / "platform.toml"), "product = \"Genoa\"");
    CHECK(test::read_bytes(w / "vcek.der") == p.vcek_der);

    auto back = sim::read_platform(w.dir);
    REQUIRE_MESSAGE(back.ok(), back.error().message());
    CHECK(back->product == p.product);
    CHECK(back->tcb == p.tcb);
    CHECK(back->chip_id == p.chip_id);
    CHECK(back->ark_der == p.ark_der);
    CHECK(back->ask_der == p.ask_der);
    CHECK(back->vcek_der == p.vcek_der);
    CHECK(back->vcek_key_der.equals(p.vcek_key_der));
}

TEST_CASE("an existing platform is never overwritten")
{
    const sim::Platform& p = test::genoa();
    Written w(p);
    auto again = sim::write_platform(test::low_tcb_genoa(), w.dir);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().code() == Errc::Config);
    contains(std::string(again.error().message()), "refusing");
    CHECK(test::read_bytes(w / "vcek.der") == p.vcek_der);

    // An empty directory is fine (and made private); a file in the way is not.
    test::TempDir empty;
    REQUIRE(chmod(empty.path().c_str(), 0755) == 0);
    REQUIRE(sim::write_platform(p, empty.path()).ok());
    CHECK(mode_of(empty.path()) == 0700);
    test::TempDir tmp;
    test::write_bytes(tmp / "file", as_bytes("x"));
    CHECK_FALSE(sim::write_platform(p, tmp / "file").ok());
}

TEST_CASE("read_platform refuses what does not hold together, naming the file")
{
    const sim::Platform& p = test::genoa();
    {
        Written w(p);
        test::write_bytes(w / "vcek-key.pem", test::read_bytes(Written(test::low_tcb_genoa()) / "vcek-key.pem"));
        contains(error_of(sim::read_platform(w.dir)), "does not match");
    }
    {
        Written w(p);
        std::string t = text_of(w / "platform.toml");
        t.replace(t.find("snp = "), std::string("snp = ").size(), "snp = 1");
        test::write_bytes(w / "platform.toml", as_bytes(t));
        std::string e = error_of(sim::read_platform(w.dir));
        contains(e, "platform.toml: tcb");
        contains(e, "VCEK certificate says");
    }
    {
        Written w(p);
        test::write_bytes(w / "platform.toml", as_bytes(text_of(w / "platform.toml") + "colour = \"blue\"\n"));
        contains(error_of(sim::read_platform(w.dir)), "key 'tcb.colour': unknown key");
    }
    {
        Written w(p);
        std::string t = text_of(w / "platform.toml");
        t.replace(t.find("chip_id = \"") + 11, 2, "00");
        test::write_bytes(w / "platform.toml", as_bytes(t));
        contains(error_of(sim::read_platform(w.dir)), "chip_id differs");
    }
    {
        Written w(p);
        test::write_bytes(w / "ark.pem", Bytes(100000, 'A'));
        contains(error_of(sim::read_platform(w.dir)), "ark.pem");
    }
    {
        Written w(p);
        test::write_bytes(w / "ask.pem", as_bytes(text_of(w / "ask.pem") + text_of(w / "ark.pem")));
        contains(error_of(sim::read_platform(w.dir)), "one certificate expected");
    }
    {
        Written w(p);
        std::filesystem::remove(w / "vcek.der");
        contains(error_of(sim::read_platform(w.dir)), "vcek.der");
    }
}
