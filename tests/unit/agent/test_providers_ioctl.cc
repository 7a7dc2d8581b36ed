// The /dev/sev-guest provider against a fake of the 6.12 driver (fake_sev_guest.h): EXT -> grow
// once -> plain report only after INVALID_LEN, no request after a failure that wiped the VMPCK,
// and the driver's own rules (one-shot key, copy-back, page-multiple certs_len, BUSY).
#include <doctest.h>

#include <cerrno>
#include <cstring>
#include <functional>

#include "fake_sev_guest.h"
#include "kernel_sev_guest.h"
#include "providers/report_provider_ioctl.h"
#include "providers/sev_guest_abi.h"
#include "sim_fixture.h"
#include "snp/cert_table.h"

using namespace cvm;
namespace abi = cvm::agent::sev_guest;

namespace {

struct Device {
    sim::SimulatedPsp psp = test::psp_for(test::genoa());
    test::FakeSevGuest* fake;
    agent::SevGuestProvider provider;

    Device() : provider(make()) {}
    std::unique_ptr<agent::SevGuestDevice> make()
    {
        auto device = std::make_unique<test::FakeSevGuest>(psp);
        fake = device.get();
        return device;
    }
    std::vector<unsigned long> requests() const
    {
        std::vector<unsigned long> out;
        for (const auto& c : fake->calls)
            out.push_back(c.request);
        return out;
    }
    std::string error(uint8_t fill = 0x42)
    {
        auto got = provider.get_report(test::report_data(fill));
        REQUIRE_FALSE(got.ok());
        return std::string(got.error().message());
    }
};

constexpr unsigned long EXT = abi::SNP_GET_EXT_REPORT, PLAIN = abi::SNP_GET_REPORT;

void contains(const std::string& text, const std::string& part)
{
    CHECK_MESSAGE(text.find(part) != std::string::npos, "'" << part << "' not in: " << text);
}

constexpr uint64_t INVALID_LEN = abi::EXITINFO2_INVALID_LEN;

// Every exit the host answered either successfully or with INVALID_LEN: nothing cost the key.
bool no_failed_exit(const test::FakeSevGuest& fake)
{
    for (const auto& e : fake.exits)
        if (e.exitinfo2 != 0 && e.exitinfo2 != INVALID_LEN)
            return false;
    return !fake.vmpck_wiped();
}

// A request the driver takes, for the fake's own rules.
struct RawRequest {
    abi::ExtReportReq ext{};
    abi::ReportReq plain{};
    Bytes response = Bytes(sizeof(abi::ReportResp), 0xAA);
    Bytes certs;
    abi::GuestRequestIoctl io{};
    explicit RawRequest(uint32_t certs_len) : certs(certs_len, 0xCC)
    {
        ext.data.user_data[0] = 0x42;
        ext.certs_address = reinterpret_cast<uintptr_t>(certs.data());
        ext.certs_len = certs_len;
        io.msg_version = 1;
        io.req_data = reinterpret_cast<uintptr_t>(&ext);
        io.resp_data = reinterpret_cast<uintptr_t>(response.data());
    }
    int ext_report(test::FakeSevGuest& fake) { return fake.ioctl(abi::SNP_GET_EXT_REPORT, &io); }
    int report(test::FakeSevGuest& fake)
    {
        io.req_data = reinterpret_cast<uintptr_t>(&plain);
        return fake.ioctl(abi::SNP_GET_REPORT, &io);
    }
    bool response_untouched() const { return response == Bytes(sizeof(abi::ReportResp), 0xAA); }
};

}  // namespace

TEST_CASE("sev-guest ABI: our structures and numbers are the kernel's")
{
    CHECK(abi::SNP_GET_REPORT == 0xC0205300ul);
    CHECK(abi::SNP_GET_EXT_REPORT == 0xC0205302ul);
    test::KernelSevGuestAbi kernel = test::kernel_sev_guest_abi();
    if (!kernel.available) {
        MESSAGE("no <linux/sev-guest.h> here: checked against the UAPI values only");
        return;
    }
    CHECK(abi::SNP_GET_REPORT == kernel.get_report);
    CHECK(abi::SNP_GET_EXT_REPORT == kernel.get_ext_report);
    CHECK(sizeof(abi::ReportReq) == kernel.report_req_size);
    CHECK(sizeof(abi::ReportResp) == kernel.report_resp_size);
    CHECK(sizeof(abi::ExtReportReq) == kernel.ext_report_req_size);
    CHECK(sizeof(abi::GuestRequestIoctl) == kernel.request_ioctl_size);
    CHECK(offsetof(abi::ExtReportReq, certs_len) == kernel.certs_len_offset);
    CHECK(offsetof(abi::GuestRequestIoctl, exitinfo2) == kernel.exitinfo2_offset);
    CHECK(abi::VMM_ERR_INVALID_LEN == kernel.vmm_err_invalid_len);
    CHECK(abi::VMM_ERR_BUSY == kernel.vmm_err_busy);
    CHECK(kernel.vmm_error_of_invalid_len_exitinfo2 == abi::VMM_ERR_INVALID_LEN);
    abi::GuestRequestIoctl ours{};
    ours.exitinfo2 = uint64_t{1} << 32;
    CHECK(ours.vmm_error() == abi::VMM_ERR_INVALID_LEN);
    CHECK(ours.fw_error() == 0);
}

TEST_CASE("sev-guest: one SNP_GET_EXT_REPORT with the host's certificates")
{
    Device d;
    auto got = d.provider.get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    CHECK(std::string(d.provider.name()) == "sev-guest");
    CHECK(got->provider == "sev-guest");
    CHECK(got->cert_table == d.psp.cert_table());  // trimmed from the two zero-padded pages
    CHECK(d.requests() == std::vector<unsigned long>{EXT});
    CHECK(d.fake->calls[0].certs_len == 8192);
    auto v =
        test::verifier_trusting({&test::genoa()})->verify(test::evidence(got->report, got->cert_table, test::genoa()));
    CHECK_MESSAGE(v.pass(), test::dump(v));
    CHECK(v.report->report_data == test::report_data(0x42));

    d.fake->certs.clear();  // an upstream KVM host: no certificates, zero-filled buffer
    got = d.provider.get_report(test::report_data(0x43));
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    CHECK(got->cert_table.empty());
    CHECK(d.requests() == std::vector<unsigned long>{EXT, EXT});
    CHECK(no_failed_exit(*d.fake));
}

TEST_CASE("sev-guest: the certificate buffer grows once, to the size the host asks for")
{
    Device d;
    d.fake->certs = test::cert_table_of_pages(d.psp.cert_table(), 3);
    auto got = d.provider.get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    CHECK(d.requests() == std::vector<unsigned long>{EXT, EXT});
    CHECK(d.fake->calls[0].certs_len == 8192);
    CHECK(d.fake->calls[0].result == EIO);
    CHECK(d.fake->calls[1].certs_len == 12288);
    CHECK(got->cert_table == d.fake->certs);
    // The kernel re-sent the first request without certificate pages: three exits, key intact.
    REQUIRE(d.fake->exits.size() == 3);
    CHECK((d.fake->exits[0].extended && d.fake->exits[0].npages == 2 && d.fake->exits[0].exitinfo2 == INVALID_LEN));
    CHECK((!d.fake->exits[1].extended && d.fake->exits[1].exitinfo2 == 0));
    CHECK((d.fake->exits[2].extended && d.fake->exits[2].npages == 3 && d.fake->exits[2].exitinfo2 == 0));
    CHECK(no_failed_exit(*d.fake));
}

TEST_CASE("sev-guest: after INVALID_LEN the key is intact: no second growth, no buffer above 16 KiB")
{
    Device twice;  // the host keeps asking for more
    twice.fake->claimed_pages = {3, 4};
    auto got = twice.provider.get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    CHECK(twice.requests() == std::vector<unsigned long>{EXT, EXT, PLAIN});
    CHECK(got->cert_table.empty());
    CHECK(no_failed_exit(*twice.fake));

    Device huge;  // more than SEV_FW_BLOB_MAX_SIZE: the kernel would refuse the buffer (EINVAL)
    huge.fake->certs = test::cert_table_of_pages(huge.psp.cert_table(), 5);
    got = huge.provider.get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    CHECK(huge.requests() == std::vector<unsigned long>{EXT, PLAIN});
    CHECK(got->cert_table.empty());
    CHECK(no_failed_exit(*huge.fake));

    Device wrapped;  // 2^20 pages: certs_len = pages << 12 wraps to 0 in the kernel's u32
    wrapped.fake->claimed_pages = {1u << 20};
    got = wrapped.provider.get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    CHECK(wrapped.requests() == std::vector<unsigned long>{EXT, PLAIN});
}

TEST_CASE("sev-guest: a host or firmware error: no fallback request, the original error, the key gone")
{
    Device d;  // go-sev-guest #102: a host without a certificate blob answers INVALID_CERTIFICATE
    d.fake->fail_next_exit = abi::SEV_RET_INVALID_CERTIFICATE;
    auto got = d.provider.get_report(test::report_data(0x42));
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().errno_value() == EIO);
    std::string e(got.error().message());
    contains(e, "SNP_GET_EXT_REPORT failed");
    contains(e, "exitinfo2 0x6 (fw_error 0x6, vmm_error 0x0)");
    contains(e, "the kernel wiped the VMPCK: no report until reboot");
    CHECK(d.requests() == std::vector<unsigned long>{EXT});  // no SNP_GET_REPORT after it
    CHECK(d.fake->vmpck_wiped());
    contains(d.error(), "not asking again");
    CHECK(d.fake->calls.size() == 1);

    // What a fallback would have met: the one-shot key makes every later ioctl ENOTTY.
    RawRequest later(0);
    CHECK(later.report(*d.fake) == ENOTTY);
    CHECK(later.ext_report(*d.fake) == ENOTTY);
    CHECK(d.fake->exits.size() == 1);  // nothing reached the host

    Device host;  // a VMM error other than INVALID_LEN and BUSY
    host.fake->fail_next_exit = uint64_t{3} << 32;
    contains(host.error(), "(fw_error 0x0, vmm_error 0x3); the kernel wiped the VMPCK");
    CHECK(host.fake->vmpck_wiped());
}

TEST_CASE("sev-guest: BUSY is retried by the kernel for 60 s, then ETIMEDOUT and the key is gone")
{
    Device brief;
    brief.fake->busy_exits = 5;
    auto got = brief.provider.get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    CHECK(brief.requests() == std::vector<unsigned long>{EXT});  // one ioctl, six exits
    CHECK(brief.fake->exits.size() == 6);
    CHECK(brief.fake->seconds_waited() == 10);
    CHECK_FALSE(brief.fake->vmpck_wiped());

    Device stuck;
    stuck.fake->busy_exits = 1000;
    got = stuck.provider.get_report(test::report_data(0x42));
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().errno_value() == ETIMEDOUT);
    contains(std::string(got.error().message()), "vmm_error 0x2); the host stayed BUSY; the kernel wiped the VMPCK");
    CHECK(stuck.fake->seconds_waited() == 62);  // retried every 2 s until more than 60 s had passed
    CHECK(stuck.fake->vmpck_wiped());
    CHECK(stuck.requests() == std::vector<unsigned long>{EXT});
}

TEST_CASE("sev-guest: a response that does not decrypt (EBADMSG) wipes the key")
{
    Device d;
    d.fake->corrupt_next_response = true;
    auto got = d.provider.get_report(test::report_data(0x42));
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().errno_value() == EBADMSG);
    contains(std::string(got.error().message()), "the kernel wiped the VMPCK");
    CHECK(d.fake->vmpck_wiped());
    CHECK(d.requests() == std::vector<unsigned long>{EXT});
}

TEST_CASE("sev-guest: a non-zero STATUS inside a successful ioctl keeps the key")
{
    Device d;
    d.fake->status = abi::SEV_RET_INVALID_PARAM;
    std::string e = d.error();
    contains(e, "SNP_GET_EXT_REPORT: MSG_REPORT_RSP STATUS 0x16 (INVALID_PARAM): the firmware refused the request "
                "(the VMPCK is intact");
    CHECK(e.find("wiped") == std::string::npos);
    CHECK(d.fake->calls.size() == 1);
    CHECK_FALSE(d.fake->vmpck_wiped());
    d.fake->status = 0;  // the key still works: the provider may be asked again
    auto got = d.provider.get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(got.ok(), got.error().message());

    Device key;
    key.fake->status = abi::SEV_RET_INVALID_KEY;
    contains(key.error(), "STATUS 0x27 (INVALID_KEY)");
    CHECK(key.fake->calls.size() == 1);
}

namespace {

// A device that breaks each request before the fake kernel sees it.
struct Breaking final : agent::SevGuestDevice {
    test::FakeSevGuest& kernel;
    std::function<void(abi::GuestRequestIoctl&)> edit;
    Breaking(test::FakeSevGuest& k, std::function<void(abi::GuestRequestIoctl&)> e) : kernel(k), edit(std::move(e)) {}
    int ioctl(unsigned long request, void* arg) override
    {
        edit(*static_cast<abi::GuestRequestIoctl*>(arg));
        return kernel.ioctl(request, arg);
    }
};

}  // namespace

TEST_CASE("sev-guest: EINVAL and EFAULT keep the key, and say so")
{
    sim::SimulatedPsp psp = test::psp_for(test::genoa());
    test::FakeSevGuest kernel(psp);
    agent::SevGuestProvider zero_version(
        std::make_unique<Breaking>(kernel, [](abi::GuestRequestIoctl& io) { io.msg_version = 0; }));
    auto got = zero_version.get_report(test::report_data(0x42));
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().errno_value() == EINVAL);
    contains(std::string(got.error().message()),
             "EINVAL, EFAULT, ENOMEM and ENOSR do not wipe the VMPCK: it is intact");
    agent::SevGuestProvider odd_buffer(std::make_unique<Breaking>(kernel, [](abi::GuestRequestIoctl& io) {
        reinterpret_cast<abi::ExtReportReq*>(static_cast<uintptr_t>(io.req_data))->certs_len = 5000;
    }));
    got = odd_buffer.get_report(test::report_data(0x42));
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().errno_value() == EINVAL);
    CHECK(kernel.exits.empty());
    CHECK_FALSE(kernel.vmpck_wiped());

    agent::SevGuestProvider direct(std::make_unique<Breaking>(kernel, [](abi::GuestRequestIoctl&) {}));
    got = direct.get_report(test::report_data(0x42));  // the same kernel still answers
    REQUIRE_MESSAGE(got.ok(), got.error().message());

    // EFAULT after a successful exchange: get_report() copies the answer out to an unwritable
    // response buffer. The firmware answered and the key is kept; the provider may ask again.
    struct Unwritable final : agent::SevGuestDevice {
        test::FakeSevGuest& kernel;
        explicit Unwritable(test::FakeSevGuest& k) : kernel(k) {}
        int ioctl(unsigned long request, void* arg) override
        {
            auto& io = *static_cast<abi::GuestRequestIoctl*>(arg);
            Bytes scratch(sizeof(abi::ReportResp));
            uint64_t caller = io.resp_data;
            io.resp_data = reinterpret_cast<uintptr_t>(scratch.data());
            int rc = kernel.ioctl(request, arg);
            io.resp_data = caller;
            return rc == 0 ? EFAULT : rc;  // copy_to_user() of the response failed
        }
    };
    size_t exits_before = kernel.exits.size();
    agent::SevGuestProvider copy_out(std::make_unique<Unwritable>(kernel));
    got = copy_out.get_report(test::report_data(0x42));
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().errno_value() == EFAULT);
    contains(std::string(got.error().message()), "do not wipe the VMPCK: it is intact");
    CHECK(kernel.exits.size() == exits_before + 1);  // it did reach the host
    CHECK_FALSE(kernel.vmpck_wiped());
    got = copy_out.get_report(test::report_data(0x42));
    CHECK(got.error().errno_value() == EFAULT);  // asked again: the device was used, not refused
    CHECK(kernel.exits.size() == exits_before + 2);
}

TEST_CASE("sev-guest: an exhausted message sequence number: EIO with exitinfo2 0xff, nothing sent, key kept")
{
    Device d;
    d.fake->msg_seqno = UINT32_MAX - 3;  // one more exchange (+2) and snp_get_msg_seqno() overflows
    auto got = d.provider.get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    CHECK(d.fake->exits.size() == 1);
    got = d.provider.get_report(test::report_data(0x42));
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().errno_value() == EIO);
    std::string e(got.error().message());
    contains(e, "exitinfo2 0xff (fw_error 0xff, vmm_error 0x0)");
    contains(e, "message sequence number is exhausted: nothing was sent and the VMPCK is intact, but no request "
                "can be sent until reboot");
    CHECK(e.find("wiped") == std::string::npos);
    CHECK(d.fake->exits.size() == 1);  // nothing reached the host
    CHECK_FALSE(d.fake->vmpck_wiped());
    CHECK(d.requests() == std::vector<unsigned long>{EXT, EXT});
    // Not asked again: the counter stays where it is until reboot.
    contains(d.error(), "not asking again: the kernel's message sequence number is exhausted; reboot");
    CHECK(d.fake->calls.size() == 2);
}

TEST_CASE("sev-guest: get_report_without_certificates is exactly one SNP_GET_REPORT")
{
    Device d;
    auto got = d.provider.get_report_without_certificates(test::report_data(0x42));
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    CHECK(got->cert_table.empty());
    CHECK(got->provider == "sev-guest");
    CHECK(d.requests() == std::vector<unsigned long>{PLAIN});
    REQUIRE(d.fake->exits.size() == 1);
    CHECK_FALSE(d.fake->exits[0].extended);

    Device failing;  // a host error: reported as it is, the key gone, no further request
    failing.fake->fail_next_exit = abi::SEV_RET_INVALID_PARAM;
    got = failing.provider.get_report_without_certificates(test::report_data(0x42));
    REQUIRE_FALSE(got.ok());
    contains(std::string(got.error().message()), "SNP_GET_REPORT failed");
    contains(std::string(got.error().message()), "the kernel wiped the VMPCK");
    got = failing.provider.get_report_without_certificates(test::report_data(0x42));
    contains(std::string(got.error().message()), "not asking again");
    CHECK(failing.requests() == std::vector<unsigned long>{PLAIN});

    Device status;  // STATUS inside a successful ioctl: the same check as get_report()
    status.fake->status = abi::SEV_RET_INVALID_KEY;
    got = status.provider.get_report_without_certificates(test::report_data(0x42));
    REQUIRE_FALSE(got.ok());
    contains(std::string(got.error().message()), "SNP_GET_REPORT: MSG_REPORT_RSP STATUS 0x27 (INVALID_KEY)");
}

TEST_CASE("sev-guest: ENOTTY means an earlier failure already wiped the key")
{
    Device d;
    d.fake->fail_next_exit = abi::SEV_RET_INVALID_PARAM;
    RawRequest earlier(0);  // someone else's request failed first
    CHECK(earlier.report(*d.fake) == EIO);
    auto got = d.provider.get_report(test::report_data(0x42));
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().errno_value() == ENOTTY);
    contains(std::string(got.error().message()), "the VMPCK was already wiped by an earlier failure; reboot");
    CHECK(d.fake->exits.size() == 1);
}

TEST_CASE("fake sev-guest driver: page-multiple certs_len up to SEV_FW_BLOB_MAX_SIZE, else EINVAL")
{
    sim::SimulatedPsp psp = test::psp_for(test::genoa());
    test::FakeSevGuest kernel(psp);
    for (uint32_t len : {1u, 4095u, 4097u, 9000u, 16385u, 20480u, 0x10000u}) {
        CAPTURE(len);
        RawRequest r(len);
        CHECK(r.ext_report(kernel) == EINVAL);
        CHECK(r.io.exitinfo2 == abi::EXITINFO2_IOCTL_INITIAL);  // copied back: 0xff
        CHECK(r.response_untouched());
    }
    CHECK(kernel.exits.empty());
    RawRequest one_page(4096);  // a whole page is taken, then the host wants two
    CHECK(one_page.ext_report(kernel) == EIO);
    CHECK(one_page.io.exitinfo2 == INVALID_LEN);
    RawRequest most(16384);
    CHECK(most.ext_report(kernel) == 0);
    RawRequest none(4096);  // certs_address 0: "caller does not want certificate data"
    none.ext.certs_address = 0;
    CHECK(none.ext_report(kernel) == 0);
    CHECK(kernel.exits.back().npages == 0);
    CHECK_FALSE(kernel.vmpck_wiped());
}

TEST_CASE("fake sev-guest driver: what is copied back on success and on each error")
{
    sim::SimulatedPsp psp = test::psp_for(test::genoa());
    test::FakeSevGuest kernel(psp);

    RawRequest ok(8192);  // success: response and certificates; exitinfo2 0 is not copied back
    ok.io.exitinfo2 = 0x1234;
    CHECK(ok.ext_report(kernel) == 0);
    CHECK(ok.io.exitinfo2 == 0x1234);
    CHECK_FALSE(ok.response_untouched());
    CHECK(Bytes(ok.certs.begin(), ok.certs.begin() + psp.cert_table().size()) == psp.cert_table());
    CHECK(ok.ext.certs_len == 8192);

    kernel.certs = test::cert_table_of_pages(psp.cert_table(), 3);  // INVALID_LEN
    RawRequest small(8192);
    CHECK(small.ext_report(kernel) == EIO);
    CHECK(small.io.exitinfo2 == INVALID_LEN);
    CHECK(small.ext.certs_len == 12288);  // pages * 4096
    CHECK(small.response_untouched());
    CHECK(small.certs == Bytes(8192, 0xCC));

    kernel.fail_next_exit = abi::SEV_RET_INVALID_PARAM;  // a firmware error
    RawRequest failed(12288);
    CHECK(failed.ext_report(kernel) == EIO);
    CHECK(failed.io.exitinfo2 == abi::SEV_RET_INVALID_PARAM);
    CHECK(failed.ext.certs_len == 12288);  // only INVALID_LEN rewrites it
    CHECK(failed.response_untouched());
    CHECK(kernel.vmpck_wiped());

    RawRequest after(12288);  // 6.12: ENOTTY returns before the copy-back
    after.io.exitinfo2 = 0x1234;
    CHECK(after.ext_report(kernel) == ENOTTY);
    CHECK(after.io.exitinfo2 == 0x1234);

    RawRequest zero(0);  // msg_version 0: EINVAL, also before the copy-back
    zero.io.msg_version = 0;
    zero.io.exitinfo2 = 0x1234;
    CHECK(zero.ext_report(kernel) == EINVAL);
    CHECK(zero.io.exitinfo2 == 0x1234);
    CHECK(kernel.ioctl(abi::SNP_GET_REPORT, nullptr) == EFAULT);

    test::FakeSevGuest fresh(psp);
    RawRequest unknown(0);  // an unknown request: ENOTTY with exitinfo2 0xff copied back
    CHECK(fresh.ioctl(0xC0205399, &unknown.io) == ENOTTY);
    CHECK(unknown.io.exitinfo2 == abi::EXITINFO2_IOCTL_INITIAL);
    CHECK_FALSE(fresh.vmpck_wiped());
    RawRequest null_resp(0);  // a null buffer: EINVAL, key intact
    null_resp.io.resp_data = 0;
    CHECK(null_resp.report(fresh) == EINVAL);
    CHECK(fresh.exits.empty());
    CHECK_FALSE(fresh.vmpck_wiped());
}

TEST_CASE("sev-guest: a malformed MSG_REPORT_RSP or a report for other bytes is refused")
{
    // A device that edits the response the kernel copied out: what no STATUS knob expresses.
    struct Editing final : agent::SevGuestDevice {
        test::FakeSevGuest& kernel;
        std::function<void(uint8_t*)> edit;
        Editing(test::FakeSevGuest& k, std::function<void(uint8_t*)> e) : kernel(k), edit(std::move(e)) {}
        int ioctl(unsigned long request, void* arg) override
        {
            int rc = kernel.ioctl(request, arg);
            if (rc == 0)
                edit(reinterpret_cast<uint8_t*>(
                    static_cast<uintptr_t>(static_cast<abi::GuestRequestIoctl*>(arg)->resp_data)));
            return rc;
        }
    };
    sim::SimulatedPsp psp = test::psp_for(test::genoa());
    test::FakeSevGuest kernel(psp);
    auto error_with = [&](std::function<void(uint8_t*)> edit) {
        agent::SevGuestProvider p(std::make_unique<Editing>(kernel, std::move(edit)));
        auto got = p.get_report(test::report_data(0x42));
        REQUIRE_FALSE(got.ok());
        return std::string(got.error().message());
    };
    contains(error_with([](uint8_t* r) { put_le32(r + 4, 0x4A1); }), "REPORT_SIZE is 1185, expected 1184");
    std::string e = error_with([](uint8_t* r) { r[0x1F] = 1; });
    contains(e, "SNP_GET_EXT_REPORT");
    contains(e, "reserved field 0x08..0x1F");
    contains(error_with([&psp](uint8_t* r) {  // a valid report, signed for other REPORT_DATA
                 Bytes other = psp.get_report(test::report_data(0x99), 0).value();
                 memcpy(r + 0x20, other.data(), other.size());
             }),
             "SNP_GET_EXT_REPORT response: REPORT_DATA is 9999999999999999");
    CHECK_FALSE(kernel.vmpck_wiped());
}

TEST_CASE("sev-guest: the real device seam opens the path read-write")
{
    test::TempDir dir;
    auto missing = agent::SevGuestProvider::open(dir / "sev-guest");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().errno_value() == ENOENT);
    test::write_bytes(dir / "sev-guest", Bytes{});
    auto opened = agent::open_sev_guest_device(dir / "sev-guest");
    REQUIRE_MESSAGE(opened.ok(), opened.error().message());
    abi::GuestRequestIoctl io{};
    CHECK(opened.value()->ioctl(abi::SNP_GET_REPORT, &io) == ENOTTY);  // a regular file has no ioctls
}
