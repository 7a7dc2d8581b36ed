// The /dev/sev-guest provider against a fake driver (fake_sev_guest.h): the EXT -> grow once ->
// plain report sequence, and no second request after any failure that may cost the VMPCK.
#include <doctest.h>

#include <cerrno>
#include <cstring>

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

// The PSP's table with an extra blob, so that it needs `pages` pages.
Bytes table_of_pages(const sim::SimulatedPsp& psp, size_t pages)
{
    auto entries = snp::parse_cert_table(psp.cert_table()).value();
    size_t size = psp.cert_table().size() + snp::CERT_TABLE_ENTRY_SIZE;
    snp::Guid other{};
    other.fill(0x77);
    entries.push_back({other, snp::CertKind::Other, Bytes(pages * 4096 - size - 100, 0x30)});
    return snp::build_cert_table(entries);
}

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
    auto v = test::verifier_trusting({&test::genoa()})->verify(test::evidence(got->report, got->cert_table));
    CHECK_MESSAGE(v.pass(), test::dump(v));
    CHECK(v.report->report_data == test::report_data(0x42));

    d.fake->certs.clear();  // an upstream KVM host: no certificates, zero-filled buffer
    got = d.provider.get_report(test::report_data(0x43));
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    CHECK(got->cert_table.empty());
    CHECK(d.requests() == std::vector<unsigned long>{EXT, EXT});
}

TEST_CASE("sev-guest: the certificate buffer grows once, to the size the host asks for")
{
    Device d;
    d.fake->certs = table_of_pages(d.psp, 3);
    auto got = d.provider.get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    CHECK(d.requests() == std::vector<unsigned long>{EXT, EXT});
    CHECK(d.fake->calls[0].certs_len == 8192);
    CHECK(d.fake->calls[1].certs_len == 12288);
    CHECK(got->cert_table == d.fake->certs);
}

TEST_CASE("sev-guest: no second growth, no oversized buffer: the plain report instead")
{
    Device twice;  // the host keeps asking for more
    twice.fake->needed_claims = {12288, 16384};
    auto got = twice.provider.get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    CHECK(twice.requests() == std::vector<unsigned long>{EXT, EXT, PLAIN});
    CHECK(got->cert_table.empty());

    Device huge;  // more than SEV_FW_BLOB_MAX_SIZE: the kernel would refuse the buffer
    huge.fake->needed_claims = {20480};
    got = huge.provider.get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    CHECK(huge.requests() == std::vector<unsigned long>{EXT, PLAIN});

    Device odd;  // not a whole number of pages
    odd.fake->needed_claims = {9000};
    got = odd.provider.get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    CHECK(odd.requests() == std::vector<unsigned long>{EXT, PLAIN});
}

TEST_CASE("sev-guest: a host without a certificate blob (INVALID_CERTIFICATE, go-sev-guest #102)")
{
    Device d;
    d.fake->ext_fw_error = abi::SEV_RET_INVALID_CERTIFICATE;
    auto got = d.provider.get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    CHECK(d.requests() == std::vector<unsigned long>{EXT, PLAIN});
    CHECK(got->cert_table.empty());
    auto v = test::verifier_trusting({&test::genoa()})->verify(test::evidence(got->report, d.psp.cert_table()));
    CHECK_MESSAGE(v.pass(), test::dump(v));
}

TEST_CASE("sev-guest: a firmware STATUS inside the response is never retried")
{
    Device d;
    d.fake->status = abi::SEV_RET_INVALID_PARAM;
    std::string e = d.error();
    contains(e, "SNP_GET_EXT_REPORT: firmware STATUS 0x16 (INVALID_PARAM) in MSG_REPORT_RSP; not retrying");
    CHECK(d.fake->calls.size() == 1);
    contains(d.error(), "refusing another request");
    CHECK(d.fake->calls.size() == 1);

    Device key;
    key.fake->status = abi::SEV_RET_INVALID_KEY;
    contains(key.error(), "STATUS 0x27 (INVALID_KEY)");
    CHECK(key.fake->calls.size() == 1);
}

TEST_CASE("sev-guest: an ioctl error is reported with errno and exitinfo2, and never retried")
{
    Device d;
    d.fake->fail_errno = ENOTTY;  // what the driver says once the VMPCK is wiped
    auto got = d.provider.get_report(test::report_data(0x42));
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().errno_value() == ENOTTY);
    std::string e(got.error().message());
    contains(e, "SNP_GET_EXT_REPORT failed");
    contains(e, "exitinfo2 0xff");
    contains(e, "not retrying");
    CHECK(d.fake->calls.size() == 1);
    contains(d.error(), "refusing another request");
    CHECK(d.fake->calls.size() == 1);

    Device fw;  // any other firmware error in exitinfo2: no fallback either
    fw.fake->ext_fw_error = abi::SEV_RET_INVALID_PARAM;
    contains(fw.error(), "exitinfo2 0x16 (firmware 0x16, VMM 0x0)");
    CHECK(fw.fake->calls.size() == 1);

    Device plain;  // the fallback's own failure is final too
    plain.fake->ext_fw_error = abi::SEV_RET_INVALID_CERTIFICATE;
    plain.fake->status = abi::SEV_RET_INVALID_KEY;
    contains(plain.error(), "SNP_GET_REPORT: firmware STATUS 0x27");
    CHECK(plain.requests() == std::vector<unsigned long>{EXT, PLAIN});
}

TEST_CASE("sev-guest: a malformed MSG_REPORT_RSP or a report for other bytes is refused")
{
    Device size;
    size.fake->tamper = [](uint8_t* r) { put_le32(r + 4, 0x4A1); };
    contains(size.error(), "REPORT_SIZE is 1185, expected 1184");

    Device reserved;
    reserved.fake->tamper = [](uint8_t* r) { r[0x1F] = 1; };
    std::string e = reserved.error();
    contains(e, "SNP_GET_EXT_REPORT");
    contains(e, "reserved field 0x08..0x1F");

    Device replay;  // a valid report, signed for other REPORT_DATA
    const sim::SimulatedPsp& psp = replay.psp;
    replay.fake->tamper = [&psp](uint8_t* r) {
        Bytes other = psp.get_report(test::report_data(0x99), 0).value();
        memcpy(r + 0x20, other.data(), other.size());
    };
    contains(replay.error(0x42), "SNP_GET_EXT_REPORT response: REPORT_DATA is 9999999999999999");
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
