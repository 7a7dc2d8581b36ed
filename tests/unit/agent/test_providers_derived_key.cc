// Derived keys (ReportProvider::derive_key) through /dev/sev-guest against the faithful fake of
// the 6.12 driver (fake_sev_guest.h), through the simulated provider, and where configfs-tsm has
// none: every field checked against one fresh report before SNP_GET_DERIVED_KEY, STATUS, the
// all-zero key, the one-shot VMPCK, the buffers wiped.
#include <doctest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>

#include "fake_sev_guest.h"
#include "kernel_sev_guest.h"
#include "providers/derived_key_check.h"
#include "providers/report_provider_configfs.h"
#include "providers/report_provider_ioctl.h"
#include "providers/report_provider_sim.h"
#include "providers/sev_guest_abi.h"
#include "sim_fixture.h"
#include "snp/report.h"

using namespace cvm;
namespace abi = cvm::agent::sev_guest;
using agent::DerivedKeyRequest;
using agent::RootKey;

namespace {

constexpr unsigned long PLAIN = abi::SNP_GET_REPORT, KEY = abi::SNP_GET_DERIVED_KEY;
constexpr uint32_t LAUNCH_SVN = 7;

sim::LaunchState launch_of()
{
    sim::LaunchState l;
    l.measurement.fill(0x4D);
    l.family_id.fill(0x46);
    l.image_id.fill(0x49);
    l.guest_svn = LAUNCH_SVN;
    return l;
}

sim::SimulatedPsp psp_of(const sim::Platform& platform, const sim::LaunchState& launch = launch_of())
{
    auto psp = sim::SimulatedPsp::create(platform, launch);
    REQUIRE_MESSAGE(psp.ok(), psp.error().message());
    return psp.release_value();
}

uint64_t committed_tcb(const sim::Platform& p = test::genoa())
{
    return p.tcb.encode(p.product);
}

DerivedKeyRequest request(uint64_t fields = agent::FIELD_ALL, RootKey root = RootKey::Vcek)
{
    DerivedKeyRequest r;
    r.root = root;
    r.field_select = fields;
    r.guest_svn = LAUNCH_SVN;
    r.tcb_version = committed_tcb();
    return r;
}

void contains(const std::string& text, const std::string& part)
{
    CHECK_MESSAGE(text.find(part) != std::string::npos, "'" << part << "' not in: " << text);
}

Bytes bytes_of(const agent::DerivedKey& key)
{
    return Bytes(key.expose().begin(), key.expose().end());
}

// The fake behind the seam, with a hook just before each ioctl (to fail only the key's exit).
class Hooked final : public agent::SevGuestDevice {
public:
    Hooked(test::FakeSevGuest& fake, std::function<void(unsigned long)>& before) : m_fake(fake), m_before(before) {}
    int ioctl(unsigned long request, void* arg) override
    {
        if (m_before)
            m_before(request);
        return m_fake.ioctl(request, arg);
    }

private:
    test::FakeSevGuest& m_fake;
    std::function<void(unsigned long)>& m_before;
};

struct KeyDevice {
    sim::SimulatedPsp psp;
    test::FakeSevGuest fake{psp};
    std::function<void(unsigned long)> before;
    agent::SevGuestProvider provider{std::make_unique<Hooked>(fake, before)};

    explicit KeyDevice(const sim::Platform& platform = test::genoa()) : psp(psp_of(platform)) {}

    std::vector<unsigned long> requests() const
    {
        std::vector<unsigned long> out;
        for (const auto& c : fake.calls)
            out.push_back(c.request);
        return out;
    }
    Bytes key(const DerivedKeyRequest& r)
    {
        auto got = provider.derive_key(r);
        REQUIRE_MESSAGE(got.ok(), got.error().message());
        return bytes_of(got.value());
    }
    Error error(const DerivedKeyRequest& r)
    {
        auto got = provider.derive_key(r);
        REQUIRE_FALSE(got.ok());
        return got.release_error();
    }
    // The provider's MSG_KEY_REQ and MSG_KEY_RSP buffers hold nothing after a call.
    bool buffers_wiped() const
    {
        return all_zero(provider.key_request_buffer()) && all_zero(provider.key_response_buffer());
    }
};

// A raw SNP_GET_DERIVED_KEY, for the driver's own rules.
struct RawKeyRequest {
    abi::DerivedKeyReq req{};
    abi::DerivedKeyResp resp{};
    abi::GuestRequestIoctl io{};
    RawKeyRequest()
    {
        memset(resp.data, 0xAA, sizeof(resp.data));
        req.root_key_select = abi::KEY_SEL_VCEK << abi::KEY_SEL_SHIFT;
        io.msg_version = 1;
        io.req_data = reinterpret_cast<uintptr_t>(&req);
        io.resp_data = reinterpret_cast<uintptr_t>(&resp);
    }
    int send(test::FakeSevGuest& fake) { return fake.ioctl(KEY, &io); }
    uint32_t status() const { return get_le32(resp.data); }
    bool untouched() const
    {
        return std::all_of(std::begin(resp.data), std::end(resp.data), [](uint8_t b) { return b == 0xAA; });
    }
};

}  // namespace

TEST_CASE("sev-guest ABI: SNP_GET_DERIVED_KEY and its structures are the kernel's")
{
    CHECK(abi::SNP_GET_DERIVED_KEY == 0xC0205301ul);
    CHECK(sizeof(abi::DerivedKeyReq) == agent::KEY_REQUEST_SIZE);
    test::KernelSevGuestAbi kernel = test::kernel_sev_guest_abi();
    if (!kernel.available) {
        MESSAGE("no <linux/sev-guest.h> here: checked against the UAPI values only");
        return;
    }
    CHECK(abi::SNP_GET_DERIVED_KEY == kernel.get_derived_key);
    CHECK(sizeof(abi::DerivedKeyReq) == kernel.derived_key_req_size);
    CHECK(sizeof(abi::DerivedKeyResp) == kernel.derived_key_resp_size);
    CHECK(offsetof(abi::DerivedKeyReq, guest_field_select) == kernel.key_field_select_offset);
    CHECK(offsetof(abi::DerivedKeyReq, vmpl) == kernel.key_vmpl_offset);
    CHECK(offsetof(abi::DerivedKeyReq, guest_svn) == kernel.key_guest_svn_offset);
    CHECK(offsetof(abi::DerivedKeyReq, tcb_version) == kernel.key_tcb_version_offset);
}

TEST_CASE("sev-guest derive_key: one report bound to the request, then one SNP_GET_DERIVED_KEY, buffers wiped")
{
    KeyDevice d;
    const DerivedKeyRequest req = request();
    Bytes key = d.key(req);
    CHECK(d.requests() == std::vector<unsigned long>{PLAIN, KEY});
    CHECK(d.fake.last_report_data == agent::key_request_report_data(req));
    REQUIRE(d.fake.key_requests.size() == 1);
    const abi::DerivedKeyReq& sent = d.fake.key_requests[0];
    CHECK(sent.root_key_select == 2u);  // KEY_SEL 1 (VCEK), never VMRK or "VLEK if installed"
    CHECK(sent.rsvd == 0);
    CHECK(sent.guest_field_select == agent::FIELD_ALL);
    CHECK(sent.vmpl == 0);
    CHECK(sent.guest_svn == LAUNCH_SVN);
    CHECK(sent.tcb_version == committed_tcb());
    CHECK(key == Bytes(d.fake.last_key.expose().begin(), d.fake.last_key.expose().end()));
    CHECK_FALSE(all_zero(key));
    CHECK(d.buffers_wiped());
    CHECK_FALSE(d.fake.vmpck_wiped());
    for (const auto& e : d.fake.exits)
        CHECK(e.exitinfo2 == 0);

    // Deterministic, and the simulated provider on the same chip and launch agrees with the device.
    CHECK(d.key(req) == key);
    agent::SimulatedProvider simulated(psp_of(test::genoa()));
    auto sim_key = simulated.derive_key(req);
    REQUIRE_MESSAGE(sim_key.ok(), sim_key.error().message());
    CHECK(bytes_of(sim_key.value()) == key);

    // The report says what was asked: each request its own REPORT_DATA.
    CHECK(agent::key_request_report_data(request(agent::FIELD_MEASUREMENT)) != agent::key_request_report_data(req));
    auto at_svn = req;
    at_svn.guest_svn = 6;
    CHECK(agent::key_request_report_data(at_svn) != agent::key_request_report_data(req));
}

TEST_CASE("derive_key: each field out of range is refused by name before SNP_GET_DERIVED_KEY")
{
    KeyDevice d;
    // The request's own bits: nothing is asked of the device at all.
    auto e = d.error(request(agent::FIELD_ALL | uint64_t{1} << 6));
    CHECK(e.code() == Errc::Config);
    contains(std::string(e.message()), "GUEST_FIELD_SELECT 0x7f has bits outside 0x3f");
    auto bad = request();
    bad.vmpl = 4;
    contains(std::string(d.error(bad).message()), "VMPL 4, expected 0 to 3");
    bad = request();
    bad.root = static_cast<RootKey>(7);
    contains(std::string(d.error(bad).message()), "root key 7 is neither VCEK nor VLEK");
    CHECK(d.fake.calls.empty());

    // Against the fresh report: one SNP_GET_REPORT each, never the key request.
    bad = request();
    bad.guest_svn = LAUNCH_SVN + 1;
    e = d.error(bad);
    CHECK(e.code() == Errc::Config);
    contains(std::string(e.message()), "GUEST_SVN 8 is above the launch's GUEST_SVN 7");
    bad = request();
    bad.tcb_version = committed_tcb() + 1;
    contains(std::string(d.error(bad).message()), "is above COMMITTED_TCB");
    e = d.error(request(agent::FIELD_MEASUREMENT, RootKey::Vlek));
    CHECK(e.code() == Errc::Unsupported);
    contains(std::string(e.message()), "measurement-only sealing needs a VLEK: this platform has none installed "
                                       "(reports are signed by VCEK)");
    CHECK(d.requests() == std::vector<unsigned long>{PLAIN, PLAIN, PLAIN});
    CHECK(d.fake.key_requests.empty());
    CHECK_FALSE(d.fake.vmpck_wiped());

    // The boundaries themselves are allowed, and the device still answers.
    auto edge = request();
    edge.vmpl = 3;
    d.key(edge);
    CHECK(d.requests().back() == KEY);
}

TEST_CASE("derived-key checks: VMPL from the guest's up to 3, a VLEK root only on a VLEK-signed platform")
{
    snp::AttestationReport report;
    report.vmpl = 2;
    report.guest_svn = 4;
    report.committed_tcb = 0x1800000000000203;
    auto req = request(agent::FIELD_ALL);
    req.guest_svn = 4;
    req.tcb_version = report.committed_tcb;
    for (uint32_t vmpl : {0u, 1u}) {
        req.vmpl = vmpl;
        auto got = agent::check_key_request_against(req, report);
        REQUIRE_FALSE(got.ok());
        contains(std::string(got.error().message()), "is below this guest's VMPL 2 (allowed 2 to 3)");
    }
    for (uint32_t vmpl : {2u, 3u}) {
        req.vmpl = vmpl;
        CHECK(agent::check_key_request_against(req, report).ok());
    }
    req.tcb_version = 0x1800000000000204;
    CHECK_FALSE(agent::check_key_request_against(req, report).ok());
    req.tcb_version = 0;  // an older TCB: allowed, that is what it is for
    CHECK(agent::check_key_request_against(req, report).ok());
    // Below as a number, above in a component (SNP 1 over 0, microcode 0 under 0x18): refused,
    // as the firmware judges each component.
    req.tcb_version = 0x0001000000000203;
    REQUIRE(req.tcb_version < report.committed_tcb);
    contains(std::string(agent::check_key_request_against(req, report).error().message()),
             "(bl=3 tee=2 snp=1 ucode=0) is above COMMITTED_TCB 0x1800000000000203 (bl=3 tee=2 snp=0 ucode=24)");
    req.tcb_version = 0x0000000100000000;  // a reserved byte of the Milan/Genoa layout
    CHECK_FALSE(agent::check_key_request_against(req, report).ok());
    req.tcb_version = 0;

    req.root = RootKey::Vlek;
    CHECK(agent::check_key_request_against(req, report).error().code() == Errc::Unsupported);
    report.signing_key = snp::SigningKey::Vlek;
    CHECK(agent::check_key_request_against(req, report).ok());

    std::array<uint8_t, agent::DERIVED_KEY_SIZE> key{};
    CHECK_FALSE(agent::check_key_not_zero(key, "t").ok());
    key[31] = 1;
    CHECK(agent::check_key_not_zero(key, "t").ok());
}

TEST_CASE("derive_key: STATUS 0x16 and 0x27 are refused by name and keep the key")
{
    KeyDevice d;
    d.fake.key_status = abi::SEV_RET_INVALID_PARAM;
    auto e = d.error(request());
    CHECK(e.code() == Errc::Policy);  // answered and refused: the gate above stays open
    contains(std::string(e.message()), "SNP_GET_DERIVED_KEY: MSG_KEY_RSP STATUS 0x16 (INVALID_PARAM");
    contains(std::string(e.message()), "the VMPCK is intact");
    CHECK(d.buffers_wiped());
    d.fake.key_status = abi::SEV_RET_INVALID_KEY;
    contains(std::string(d.error(request()).message()), "STATUS 0x27 (INVALID_KEY");
    CHECK(d.buffers_wiped());
    CHECK_FALSE(d.fake.vmpck_wiped());
    d.fake.key_status = 0;
    d.key(request());  // the device still works
    CHECK(d.requests() == std::vector<unsigned long>{PLAIN, KEY, PLAIN, KEY, PLAIN, KEY});

    // The firmware's own verdicts on raw requests the provider would never send: STATUS inside a
    // successful ioctl, the key not written, the VMPCK kept.
    auto status_of = [&](auto edit) {
        RawKeyRequest raw;
        edit(raw.req);
        REQUIRE(raw.send(d.fake) == 0);
        CHECK(all_zero(ByteView(raw.resp.data + abi::MSG_KEY_RSP_KEY_OFFSET, abi::MSG_KEY_RSP_KEY_SIZE)));
        return raw.status();
    };
    CHECK(status_of([](abi::DerivedKeyReq& r) { r.root_key_select = abi::KEY_SEL_VLEK << 1; }) == 0x27);
    CHECK(status_of([](abi::DerivedKeyReq& r) { r.root_key_select |= abi::ROOT_KEY_SELECT_VMRK; }) == 0x27);
    CHECK(status_of([](abi::DerivedKeyReq& r) { r.vmpl = 4; }) == 0x16);
    CHECK(status_of([](abi::DerivedKeyReq& r) { r.rsvd = 1; }) == 0x16);
    CHECK(status_of([](abi::DerivedKeyReq& r) { r.guest_field_select = 1u << 6; }) == 0x16);
    CHECK(status_of([](abi::DerivedKeyReq& r) { r.guest_svn = LAUNCH_SVN + 1; }) == 0x16);
    CHECK_FALSE(d.fake.vmpck_wiped());
}

TEST_CASE("derive_key: an all-zero key or a reserved byte set in MSG_KEY_RSP is refused, buffers wiped")
{
    KeyDevice d;
    d.fake.zero_key = true;
    auto e = d.error(request());
    CHECK(e.code() == Errc::Crypto);
    contains(std::string(e.message()), "DERIVED_KEY is all zero");
    CHECK(d.buffers_wiped());
    d.fake.zero_key = false;
    d.fake.key_reserved_set = true;
    e = d.error(request());
    CHECK(e.code() == Errc::Format);
    contains(std::string(e.message()), "0x04..0x1F");
    CHECK(d.buffers_wiped());
    d.fake.key_reserved_set = false;
    CHECK_FALSE(all_zero(d.key(request())));
    CHECK(d.buffers_wiped());
}

TEST_CASE("derive_key: a host or firmware error on the key request wipes the VMPCK; nothing is asked again")
{
    KeyDevice d;
    d.before = [&](unsigned long req) {
        if (req == KEY)
            d.fake.fail_next_exit = uint64_t{3} << 32;  // a VMM error other than INVALID_LEN and BUSY
    };
    auto e = d.error(request());
    CHECK(e.errno_value() == EIO);
    contains(std::string(e.message()), "SNP_GET_DERIVED_KEY failed");
    contains(std::string(e.message()), "the kernel wiped the VMPCK");
    CHECK(d.fake.vmpck_wiped());
    CHECK(d.buffers_wiped());
    size_t calls = d.fake.calls.size();
    contains(std::string(d.error(request()).message()), "not asking again");
    CHECK_FALSE(d.provider.get_report(test::report_data(1)).ok());
    CHECK(d.fake.calls.size() == calls);

    KeyDevice tampered;  // the response does not decrypt
    tampered.before = [&](unsigned long req) { tampered.fake.corrupt_next_response = req == KEY; };
    CHECK(tampered.error(request()).errno_value() == EBADMSG);
    CHECK(tampered.fake.vmpck_wiped());

    KeyDevice busy;  // BUSY for longer than the kernel waits
    busy.before = [&](unsigned long req) { busy.fake.busy_exits = req == KEY ? 1000 : 0; };
    e = busy.error(request());
    CHECK(e.errno_value() == ETIMEDOUT);
    contains(std::string(e.message()), "the host stayed BUSY; the kernel wiped the VMPCK");
}

TEST_CASE("fake sev-guest: a malformed MSG_KEY_REQ fails at the firmware and wipes the VMPCK; ENOTTY after")
{
    KeyDevice d;
    RawKeyRequest zero_version;  // snp_guest_ioctl(): -EINVAL before anything, the key kept
    zero_version.io.msg_version = 0;
    CHECK(zero_version.send(d.fake) == EINVAL);
    RawKeyRequest no_response;  // get_derived_key(): a null buffer, -EINVAL, the key kept
    no_response.io.resp_data = 0;
    CHECK(no_response.send(d.fake) == EINVAL);
    CHECK(d.fake.exits.empty());
    CHECK_FALSE(d.fake.vmpck_wiped());

    // Version 2 of MSG_KEY_REQ is not the 32 bytes Linux copies: SNP_GUEST_REQUEST fails, KVM
    // passes the firmware's error on, the driver wipes the key.
    RawKeyRequest malformed;
    malformed.io.msg_version = 2;
    CHECK(malformed.send(d.fake) == EIO);
    CHECK(malformed.io.exitinfo2 == abi::SEV_RET_INVALID_PARAM);  // fw_error 0x16, vmm_error 0
    CHECK(malformed.untouched());
    CHECK(d.fake.vmpck_wiped());
    REQUIRE(d.fake.exits.size() == 1);

    RawKeyRequest later;
    CHECK(later.send(d.fake) == ENOTTY);
    CHECK(later.untouched());
    CHECK(d.fake.exits.size() == 1);  // nothing reached the host

    // A provider meeting that device: its report ioctl says ENOTTY, and it asks nothing more.
    auto e = d.error(request());
    contains(std::string(e.message()), "already wiped");
    size_t calls = d.fake.calls.size();
    contains(std::string(d.error(request()).message()), "not asking again");
    CHECK(d.fake.calls.size() == calls);
    CHECK(d.fake.key_requests.size() == 1);  // only the malformed one was copied in; the provider's never got there
}

TEST_CASE("configfs-tsm has no derived keys; its fallback derives through /dev/sev-guest or says why not")
{
    test::TempDir dir;
    agent::ConfigfsTsmProvider configfs(dir / "report");
    auto got = configfs.derive_key(request());
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().code() == Errc::Unsupported);
    contains(std::string(got.error().message()), "configfs-tsm has no derived keys");

    agent::ConfigfsTsmWithFallback absent(std::make_unique<agent::ConfigfsTsmProvider>(dir / "report"), [] {
        return Result<std::unique_ptr<agent::SevGuestProvider>>(
            Error::from_errno(Errc::Io, ENOENT, "cannot open /dev/sev-guest: No such file or directory"));
    });
    got = absent.derive_key(request());
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().code() == Errc::Unsupported);
    contains(std::string(got.error().message()), "configfs-tsm has none");
    contains(std::string(got.error().message()), "cannot open /dev/sev-guest: No such file or directory");

    sim::SimulatedPsp psp = psp_of(test::genoa());
    test::FakeSevGuest* fake = nullptr;
    int opened = 0;
    agent::ConfigfsTsmWithFallback present(std::make_unique<agent::ConfigfsTsmProvider>(dir / "report"), [&] {
        ++opened;
        auto device = std::make_unique<test::FakeSevGuest>(psp);
        fake = device.get();
        return Result<std::unique_ptr<agent::SevGuestProvider>>(
            std::make_unique<agent::SevGuestProvider>(std::move(device)));
    });
    auto first = present.derive_key(request());
    REQUIRE_MESSAGE(first.ok(), first.error().message());
    auto second = present.derive_key(request());
    REQUIRE_MESSAGE(second.ok(), second.error().message());
    CHECK(first->equals(second.value()));
    CHECK(opened == 1);
    REQUIRE(fake != nullptr);
    CHECK(fake->key_requests.size() == 2);
}

TEST_CASE("simulated provider: the same checks, then the simulated PSP's key for exactly the selected fields")
{
    agent::SimulatedProvider provider(psp_of(test::genoa()));
    auto key = [&](const DerivedKeyRequest& r) {
        auto got = provider.derive_key(r);
        REQUIRE_MESSAGE(got.ok(), got.error().message());
        return bytes_of(got.value());
    };
    const Bytes all = key(request());
    CHECK(key(request()) == all);
    for (unsigned bit = 0; bit < 6; ++bit) {
        CAPTURE(bit);
        CHECK(key(request(agent::FIELD_ALL & ~(uint64_t{1} << bit))) != all);
    }
    agent::SimulatedProvider other_chip(psp_of(test::low_tcb_genoa()));
    auto low = request();
    low.tcb_version = committed_tcb(test::low_tcb_genoa());
    auto other = other_chip.derive_key(low);
    REQUIRE_MESSAGE(other.ok(), other.error().message());
    CHECK(bytes_of(other.value()) != key(low));

    sim::LaunchState remeasured = launch_of();
    remeasured.measurement[0] ^= 1;
    agent::SimulatedProvider relaunched(psp_of(test::genoa(), remeasured));
    auto measured = relaunched.derive_key(request(agent::FIELD_MEASUREMENT));
    REQUIRE(measured.ok());
    CHECK(bytes_of(measured.value()) != key(request(agent::FIELD_MEASUREMENT)));
    auto chip_only = relaunched.derive_key(request(0));
    REQUIRE(chip_only.ok());
    CHECK(bytes_of(chip_only.value()) == key(request(0)));

    auto e = provider.derive_key(request(agent::FIELD_MEASUREMENT, RootKey::Vlek));
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().code() == Errc::Unsupported);
    contains(std::string(e.error().message()), "needs a VLEK");
    auto high = request();
    high.guest_svn = LAUNCH_SVN + 1;
    contains(std::string(provider.derive_key(high).error().message()), "GUEST_SVN 8 is above");
}
