// The simulated PSP's MSG_KEY_REQ (sim/psp.h): the firmware's checks answered in STATUS, and a
// key that depends on the chip and on exactly the selected fields.
#include <doctest.h>

#include "sim/platform_dir.h"
#include "sim_fixture.h"

using namespace cvm;

namespace {

constexpr uint32_t KEY_SEL_VCEK = 1u << 1, KEY_SEL_VLEK = 2u << 1, KEY_SEL_3 = 3u << 1, VMRK = 1;
constexpr uint64_t ALL_FIELDS = 0x3f;

sim::LaunchState launch_of(uint8_t measurement = 0x4D)
{
    sim::LaunchState l;
    l.measurement.fill(measurement);
    l.family_id.fill(0x46);
    l.image_id.fill(0x49);
    l.guest_svn = 7;
    return l;
}

sim::SimulatedPsp psp_of(const sim::Platform& platform, const sim::LaunchState& launch)
{
    auto psp = sim::SimulatedPsp::create(platform, launch);
    REQUIRE_MESSAGE(psp.ok(), psp.error().message());
    return psp.release_value();
}

uint64_t committed_tcb(const sim::Platform& p)
{
    return p.tcb.encode(p.product);
}

sim::KeyRequest vcek(uint64_t fields, uint32_t svn = 0, uint64_t tcb = 0)
{
    sim::KeyRequest r;
    r.root_key_select = KEY_SEL_VCEK;
    r.guest_field_select = fields;
    r.guest_svn = svn;
    r.tcb_version = tcb;
    return r;
}

uint32_t status_of(const sim::SimulatedPsp& psp, const sim::KeyRequest& req, uint32_t caller_vmpl = 0)
{
    auto got = psp.derive_key(req, caller_vmpl);
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    if (got->status != sim::KEY_STATUS_SUCCESS)
        CHECK(all_zero(got->key.expose()));  // no key with a refusal
    return got->status;
}

Bytes key_of(const sim::SimulatedPsp& psp, const sim::KeyRequest& req, uint32_t caller_vmpl = 0)
{
    auto got = psp.derive_key(req, caller_vmpl);
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    REQUIRE(got->status == sim::KEY_STATUS_SUCCESS);
    CHECK_FALSE(all_zero(got->key.expose()));
    return Bytes(got->key.expose().begin(), got->key.expose().end());
}

}  // namespace

TEST_CASE("simulated MSG_KEY_REQ: the same launch on the same chip gives the same key, another chip another")
{
    auto psp = psp_of(test::genoa(), launch_of());
    const auto req = vcek(ALL_FIELDS, 7, committed_tcb(test::genoa()));
    const Bytes key = key_of(psp, req);
    CHECK(key_of(psp, req) == key);
    CHECK(key_of(psp_of(test::genoa(), launch_of()), req) == key);  // a relaunch: a new REPORT_ID, the same key

    // The platform directory round trip is the same chip (`cvm sim platform` once, many launches).
    test::TempDir dir;
    REQUIRE(sim::write_platform(test::genoa(), dir.path()).ok());
    auto reread = sim::read_platform(dir.path());
    REQUIRE_MESSAGE(reread.ok(), reread.error().message());
    CHECK(key_of(psp_of(reread.value(), launch_of()), req) == key);

    // Another platform is another chip, for every selection including none.
    auto other = psp_of(test::low_tcb_genoa(), launch_of());
    CHECK(key_of(other, vcek(0)) != key_of(psp, vcek(0)));
    CHECK(key_of(other, vcek(ALL_FIELDS & ~uint64_t{0x20}, 7)) != key_of(psp, vcek(ALL_FIELDS & ~uint64_t{0x20}, 7)));
    // KEY_SEL 0 ("VLEK if installed") is the VCEK on a chip without a VLEK.
    auto vlek_if_installed = req;
    vlek_if_installed.root_key_select = 0;
    CHECK(key_of(psp, vlek_if_installed) == key);
}

TEST_CASE("simulated MSG_KEY_REQ: each GUEST_FIELD_SELECT bit changes the key, and only its field matters")
{
    auto psp = psp_of(test::genoa(), launch_of());
    const uint64_t tcb = committed_tcb(test::genoa());
    for (uint64_t base : {uint64_t{0}, ALL_FIELDS}) {
        for (unsigned bit = 0; bit < 6; ++bit) {
            CAPTURE(base);
            CAPTURE(bit);
            uint64_t with = base | (uint64_t{1} << bit), without = base & ~(uint64_t{1} << bit);
            CHECK(key_of(psp, vcek(with, 7, tcb)) != key_of(psp, vcek(without, 7, tcb)));
        }
    }
    // VMPL is always part of it.
    auto at_vmpl = [&](uint32_t vmpl) {
        auto r = vcek(0);
        r.vmpl = vmpl;
        return key_of(psp, r);
    };
    CHECK(at_vmpl(0) != at_vmpl(1));
    CHECK(at_vmpl(1) != at_vmpl(3));

    // A launch that differs in one field: another key only when that field is selected.
    struct Change {
        uint64_t field;
        void (*apply)(sim::LaunchState&);
    };
    const Change changes[] = {
        {0x1, [](sim::LaunchState& l) { l.policy |= 0x0001; }},  // ABI minor 1
        {0x2, [](sim::LaunchState& l) { l.image_id[15] ^= 1; }},
        {0x4, [](sim::LaunchState& l) { l.family_id[0] ^= 1; }},
        {0x8, [](sim::LaunchState& l) { l.measurement[47] ^= 1; }},
    };
    for (const auto& c : changes) {
        CAPTURE(c.field);
        sim::LaunchState changed = launch_of();
        c.apply(changed);
        auto other = psp_of(test::genoa(), changed);
        CHECK(key_of(other, vcek(c.field)) != key_of(psp, vcek(c.field)));
        CHECK(key_of(other, vcek(ALL_FIELDS & ~c.field, 7, tcb)) == key_of(psp, vcek(ALL_FIELDS & ~c.field, 7, tcb)));
    }
    // Fields never selectable stay out: HOST_DATA.
    sim::LaunchState host_data = launch_of();
    host_data.host_data.fill(0x99);
    CHECK(key_of(psp_of(test::genoa(), host_data), vcek(ALL_FIELDS, 7, tcb)) == key_of(psp, vcek(ALL_FIELDS, 7, tcb)));
    // GUEST_SVN and TCB_VERSION are the request's values, when selected.
    CHECK(key_of(psp, vcek(0x10, 6)) != key_of(psp, vcek(0x10, 7)));
    CHECK(key_of(psp, vcek(0x0, 6)) == key_of(psp, vcek(0x0, 7)));
    CHECK(key_of(psp, vcek(0x20, 0, tcb - 1)) != key_of(psp, vcek(0x20, 0, tcb)));
}

TEST_CASE("simulated MSG_KEY_REQ: the firmware's refusals are STATUS values, each at its boundary")
{
    auto psp = psp_of(test::genoa(), launch_of());
    const uint64_t tcb = committed_tcb(test::genoa());
    CHECK(status_of(psp, vcek(ALL_FIELDS, 7, tcb)) == sim::KEY_STATUS_SUCCESS);

    // Reserved bits.
    auto req = vcek(0);
    req.reserved = 1;
    CHECK(status_of(psp, req) == sim::KEY_STATUS_INVALID_PARAM);
    CHECK(status_of(psp, vcek(uint64_t{1} << 6)) == sim::KEY_STATUS_INVALID_PARAM);  // LAUNCH_MIT_VECTOR, version 2
    CHECK(status_of(psp, vcek(uint64_t{1} << 63)) == sim::KEY_STATUS_INVALID_PARAM);
    req = vcek(0);
    req.root_key_select = KEY_SEL_VCEK | 1u << 3;
    CHECK(status_of(psp, req) == sim::KEY_STATUS_INVALID_PARAM);
    req.root_key_select = KEY_SEL_3;
    CHECK(status_of(psp, req) == sim::KEY_STATUS_INVALID_PARAM);

    // Root keys this chip does not have.
    req.root_key_select = KEY_SEL_VLEK;
    CHECK(status_of(psp, req) == sim::KEY_STATUS_INVALID_KEY);
    req.root_key_select = KEY_SEL_VCEK | VMRK;
    CHECK(status_of(psp, req) == sim::KEY_STATUS_INVALID_KEY);

    // VMPL: the caller's up to 3.
    req = vcek(0);
    req.vmpl = 4;
    CHECK(status_of(psp, req) == sim::KEY_STATUS_INVALID_PARAM);
    req.vmpl = 3;
    CHECK(status_of(psp, req) == sim::KEY_STATUS_SUCCESS);
    req.vmpl = 1;
    CHECK(status_of(psp, req, 2) == sim::KEY_STATUS_INVALID_PARAM);
    req.vmpl = 2;
    CHECK(status_of(psp, req, 2) == sim::KEY_STATUS_SUCCESS);

    // GUEST_SVN and TCB_VERSION: up to the launch's and the committed ones, checked whether
    // selected or not.
    CHECK(status_of(psp, vcek(0, 8)) == sim::KEY_STATUS_INVALID_PARAM);
    CHECK(status_of(psp, vcek(0x10, 8)) == sim::KEY_STATUS_INVALID_PARAM);
    CHECK(status_of(psp, vcek(0, 7)) == sim::KEY_STATUS_SUCCESS);
    CHECK(status_of(psp, vcek(0, 0, tcb + 1)) == sim::KEY_STATUS_INVALID_PARAM);
    CHECK(status_of(psp, vcek(0x20, 0, tcb + 1)) == sim::KEY_STATUS_INVALID_PARAM);
    CHECK(status_of(psp, vcek(0, 0, tcb)) == sim::KEY_STATUS_SUCCESS);
}
