#include "sim_fixture.h"

#include <doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

namespace cvm::test {

namespace {

sim::Platform make(const sim::PlatformOptions& options)
{
    auto p = sim::create_platform(options);
    REQUIRE_MESSAGE(p.ok(), p.error().message());
    return p.release_value();
}

}  // namespace

const sim::Platform& genoa()
{
    static const sim::Platform platform = make({});
    return platform;
}

const sim::Platform& low_tcb_genoa()
{
    static const sim::Platform platform = [] {
        sim::PlatformOptions options;
        options.tcb = LOW_TCB;
        return make(options);
    }();
    return platform;
}

sim::Platform copy(const sim::Platform& p)
{
    sim::Platform out;
    out.product = p.product;
    out.tcb = p.tcb;
    out.chip_id = p.chip_id;
    out.ark_der = p.ark_der;
    out.ask_der = p.ask_der;
    out.vcek_der = p.vcek_der;
    out.vcek_key_der = SecretBytes::copy_of(p.vcek_key_der.expose());
    out.ark_key_der = SecretBytes::copy_of(p.ark_key_der.expose());
    return out;
}

std::unique_ptr<verify::Verifier> verifier_trusting(const std::vector<const sim::Platform*>& trusted)
{
    verify::VerifierOptions options;
    for (const sim::Platform* p : trusted) {
        auto root = verify::Certificate::parse_der(p->ark_der);
        REQUIRE_MESSAGE(root.ok(), root.error().message());
        options.trusted_roots.push_back(root.release_value());
    }
    auto v = verify::Verifier::create(std::move(options));
    REQUIRE_MESSAGE(v.ok(), v.error().message());
    return v.release_value();
}

verify::Evidence evidence(const Bytes& report, const Bytes& table)
{
    auto ev = verify::evidence_from_cert_table(report, table);
    REQUIRE_MESSAGE(ev.ok(), ev.error().message());
    return ev.release_value();
}

verify::Evidence evidence(const Bytes& report, const Bytes& table, const sim::Platform& crl_from)
{
    verify::Evidence ev = evidence(report, table);
    ev.crl = crl_of(crl_from);
    return ev;
}

const Bytes& crl_of(const sim::Platform& platform)
{
    static std::mutex mutex;
    static std::map<Bytes, Bytes> made;  // by ARK certificate
    std::lock_guard lock(mutex);
    auto it = made.find(platform.ark_der);
    if (it == made.end()) {
        auto crl = sim::make_crl(platform, {});
        REQUIRE_MESSAGE(crl.ok(), crl.error().message());
        it = made.emplace(platform.ark_der, crl.release_value()).first;
    }
    return it->second;
}

sim::SimulatedPsp psp_for(const sim::Platform& platform, uint8_t fill)
{
    sim::LaunchState launch;
    launch.measurement.fill(fill);
    auto psp = sim::SimulatedPsp::create(platform, launch);
    REQUIRE_MESSAGE(psp.ok(), psp.error().message());
    return psp.release_value();
}

std::array<uint8_t, 64> report_data(uint8_t fill)
{
    std::array<uint8_t, 64> d;
    d.fill(fill);
    return d;
}

std::string dump(const verify::Verification& v)
{
    std::string out;
    for (const Claim& c : v.claims)
        out += c.name + (c.pass ? " pass" : " FAIL") + " found=" + c.found + " expected=" + c.expected +
               " detail=" + c.detail + "\n";
    return out;
}

std::vector<std::string> failing(const verify::Verification& v)
{
    std::vector<std::string> out;
    for (const Claim& c : v.claims) {
        if (!c.pass)
            out.push_back(c.name);
    }
    return out;
}

TempDir::TempDir()
{
    std::string tmpl = (std::filesystem::temp_directory_path() / "cvm-sim-test.XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    m_path = tmpl;
}

TempDir::~TempDir()
{
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
}

void write_bytes(const std::string& path, ByteView data)
{
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    REQUIRE(f.good());
}

Bytes read_bytes(const std::string& path)
{
    std::ifstream f(path, std::ios::binary);
    REQUIRE_MESSAGE(f.good(), path);
    return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

}  // namespace cvm::test
