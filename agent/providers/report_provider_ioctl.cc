#include "providers/report_provider_ioctl.h"

#include <bit>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/file.h"
#include "base/reader.h"
#include "providers/derived_key_check.h"
#include "providers/evidence_check.h"
#include "providers/sev_guest_abi.h"
#include "snp/report.h"

namespace cvm::agent {

namespace {

using namespace sev_guest;

// Two pages hold a VCEK, ASK and ARK (about 4.7 KiB of DER with the table); a host with more
// says so through INVALID_LEN and the buffer grows once.
constexpr size_t INITIAL_CERTS_SIZE = 2 * CERTS_PAGE;

class SystemSevGuestDevice final : public SevGuestDevice {
public:
    explicit SystemSevGuestDevice(UniqueFd fd) : m_fd(std::move(fd)) {}
    int ioctl(unsigned long request, void* arg) override
    {
        // syscall(2) rather than ioctl(3): glibc and musl disagree on the request parameter's type.
        return syscall(SYS_ioctl, m_fd.get(), request, arg) == 0 ? 0 : errno;
    }

private:
    UniqueFd m_fd;
};

const char* status_name(uint32_t status)
{
    switch (status) {
    case SEV_RET_INVALID_PARAM: return "INVALID_PARAM";
    case SEV_RET_INVALID_KEY: return "INVALID_KEY";
    case SEV_RET_INVALID_CERTIFICATE: return "INVALID_CERTIFICATE";
    default: return "firmware error";
    }
}

// What a failed ioctl left of the VMPCK, from the kernel's error paths (report_provider_ioctl.h;
// drivers/virt/coco/sev-guest/sev-guest.c 6.12: snp_guest_ioctl(), get_report()/get_ext_report(),
// snp_send_guest_request(), enc_payload(), verify_and_dec_payload()).
enum class KeyState : uint8_t { Intact, SequenceExhausted, AlreadyWiped, Wiped };

KeyState key_state_after(int err, uint64_t exitinfo2)
{
    switch (err) {
    case EINVAL:  // msg_version 0, a null buffer, certs_len not whole pages or above 16 KiB
    case EFAULT:  // copying in, or out after a successful exchange (the sequence number advanced)
    case ENOMEM:  // the response buffer's kzalloc()
    case ENOSR: return KeyState::Intact;         // enc_payload(): a zero sequence number, nothing sent
    case ENOTTY: return KeyState::AlreadyWiped;  // is_vmpck_empty(), checked before anything is sent
    case EIO:
        // snp_send_guest_request(): snp_get_msg_seqno() returned 0 (the counter reached UINT_MAX):
        // EIO before snp_issue_guest_request(), which would have set exitinfo2 to SEV_RET_NO_FW_CALL
        // and then the host's answer, so exitinfo2 is still snp_guest_ioctl()'s 0xff. The key is
        // kept, but the counter stays: no request can be sent until reboot.
        if (exitinfo2 == EXITINFO2_IOCTL_INITIAL)
            return KeyState::SequenceExhausted;
        return KeyState::Wiped;
    // EBADMSG is also enc_payload()'s WARN_ON for an oversized request, which a report request
    // cannot be; the reachable one is verify_and_dec_payload() after the exchange, which wipes.
    default: return KeyState::Wiped;  // the exchange failed: snp_disable_vmpck()
    }
}

GuestRequestIoctl request_for(const void* req, Bytes& response)
{
    GuestRequestIoctl io{};
    io.msg_version = 1;
    io.req_data = reinterpret_cast<uintptr_t>(req);
    io.resp_data = reinterpret_cast<uintptr_t>(response.data());
    return io;
}

}  // namespace

Result<std::unique_ptr<SevGuestDevice>> open_sev_guest_device(const std::string& path)
{
    UniqueFd fd(open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd.valid())
        return Error::from_errno(Errc::Io, errno, "cannot open %s: %s", path.c_str(), strerror(errno));
    return std::unique_ptr<SevGuestDevice>(std::make_unique<SystemSevGuestDevice>(std::move(fd)));
}

SevGuestProvider::SevGuestProvider(std::unique_ptr<SevGuestDevice> device) : m_device(std::move(device)) {}

Result<std::unique_ptr<SevGuestProvider>> SevGuestProvider::open(const std::string& path)
{
    return std::make_unique<SevGuestProvider>(TRY(open_sev_guest_device(path)));
}

Result<Evidence> SevGuestProvider::get_report(const ReportData& report_data)
{
    TRY(refuse_when_unusable());
    Bytes response(sizeof(ReportResp));
    Bytes certs;
    if (TRY(extended(report_data, response, certs)) == Outcome::Report) {
        Bytes report = TRY(report_from(response, report_data, "SNP_GET_EXT_REPORT"));
        Bytes table = TRY(normalize_cert_table(certs, "SNP_GET_EXT_REPORT certificate buffer"));
        return Evidence{std::move(report), std::move(table), PROVIDER_SEV_GUEST};
    }
    // Only INVALID_LEN leads here, and the kernel kept the VMPCK for it.
    TRY(plain(report_data, response));
    return Evidence{TRY(report_from(response, report_data, "SNP_GET_REPORT")), Bytes{}, PROVIDER_SEV_GUEST};
}

Result<Evidence> SevGuestProvider::get_report_without_certificates(const ReportData& report_data)
{
    TRY(refuse_when_unusable());
    Bytes response(sizeof(ReportResp));
    TRY(plain(report_data, response));
    return Evidence{TRY(report_from(response, report_data, "SNP_GET_REPORT")), Bytes{}, PROVIDER_SEV_GUEST};
}

Result<void> SevGuestProvider::refuse_when_unusable() const
{
    if (m_unusable != nullptr)
        return Error::make(Errc::Io, "sev-guest: not asking again: %s; reboot to attest again", m_unusable);
    return {};
}

Result<SevGuestProvider::Outcome> SevGuestProvider::extended(const ReportData& report_data, Bytes& response,
                                                             Bytes& certs)
{
    size_t size = INITIAL_CERTS_SIZE;
    for (bool grown = false;; grown = true) {
        certs.assign(size, 0);
        ExtReportReq req{};
        memcpy(req.data.user_data, report_data.data(), USER_DATA_SIZE);
        req.certs_address = reinterpret_cast<uintptr_t>(certs.data());
        req.certs_len = static_cast<uint32_t>(size);
        GuestRequestIoctl io = request_for(&req, response);
        int err = m_device->ioctl(SNP_GET_EXT_REPORT, &io);
        if (err == 0)
            return Outcome::Report;
        if (err != EIO || io.exitinfo2 != EXITINFO2_INVALID_LEN)
            return device_error("SNP_GET_EXT_REPORT", err, io.exitinfo2);
        // The one host error the kernel survives: it re-sent the request without certificate
        // pages to keep the message sequence in step, and wrote the host's page count * 4096.
        size_t needed = req.certs_len;
        if (grown || needed <= size || needed > CERTS_MAX || needed % CERTS_PAGE != 0)
            return Outcome::CertsUnavailable;
        size = needed;
    }
}

Result<void> SevGuestProvider::plain(const ReportData& report_data, Bytes& response)
{
    ReportReq req{};
    memcpy(req.user_data, report_data.data(), USER_DATA_SIZE);
    GuestRequestIoctl io = request_for(&req, response);
    int err = m_device->ioctl(SNP_GET_REPORT, &io);
    if (err != 0)
        return device_error("SNP_GET_REPORT", err, io.exitinfo2);
    return {};
}

Result<Bytes> SevGuestProvider::report_from(const Bytes& response, const ReportData& report_data,
                                            const char* ioctl_name)
{
    Reader r(response, "MSG_REPORT_RSP");
    // The ioctl succeeds whenever the PSP answered; its refusal is in STATUS. The exchange itself
    // succeeded, so the kernel advanced the sequence number and kept the VMPCK.
    uint32_t status = TRY_PREFIX(r.u32le("STATUS"), "%s", ioctl_name);
    if (status != 0)
        return Error::make(Errc::Io,
                           "%s: MSG_REPORT_RSP STATUS 0x%x (%s): the firmware refused the request (the VMPCK is "
                           "intact; the same request would be refused again)",
                           ioctl_name, status, status_name(status));
    uint32_t size = TRY_PREFIX(r.u32le("REPORT_SIZE"), "%s", ioctl_name);
    if (size != snp::REPORT_SIZE)
        return Error::make(Errc::Unsupported, "%s: MSG_REPORT_RSP REPORT_SIZE is %u, expected %zu", ioctl_name, size,
                           snp::REPORT_SIZE);
    TRY_PREFIX(r.zeros(MSG_REPORT_RSP_RESERVED_SIZE, "0x08..0x1F"), "%s", ioctl_name);
    ByteView report = TRY_PREFIX(r.bytes(snp::REPORT_SIZE, "REPORT"), "%s", ioctl_name);
    // The rest of the 4000-byte response buffer is unused by MSG_REPORT_RSP.
    std::string source = std::string(ioctl_name) + " response";
    TRY(check_report(report, report_data, 0, source.c_str()));
    return Bytes(report.begin(), report.end());
}

Result<DerivedKey> SevGuestProvider::derive_key(const DerivedKeyRequest& request)
{
    TRY(refuse_when_unusable());
    TRY(check_key_request(request));
    // The one report that tells what this guest may ask for; its REPORT_DATA names the request.
    Evidence evidence = TRY_PREFIX(get_report_without_certificates(key_request_report_data(request)),
                                   "derived key: the report to check the request against");
    snp::AttestationReport report = TRY(snp::parse_report(evidence.report));
    TRY(check_key_request_against(request, report));
    auto key = exchange_key(request);
    secure_wipe({reinterpret_cast<uint8_t*>(&m_key_request), sizeof(m_key_request)});
    m_key_response.wipe();
    return key;
}

ByteView SevGuestProvider::key_request_buffer() const
{
    return {reinterpret_cast<const uint8_t*>(&m_key_request), sizeof(m_key_request)};
}

Result<DerivedKey> SevGuestProvider::exchange_key(const DerivedKeyRequest& request)
{
    static_assert(std::endian::native == std::endian::little, "struct snp_derived_key_req is little-endian");
    auto bytes = key_request_bytes(request);
    memcpy(&m_key_request, bytes.data(), sizeof(m_key_request));
    GuestRequestIoctl io{};
    io.msg_version = 1;  // MSG_KEY_REQ version 1: exactly the 32 bytes Linux copies
    io.req_data = reinterpret_cast<uintptr_t>(&m_key_request);
    io.resp_data = reinterpret_cast<uintptr_t>(m_key_response.expose().data());
    int err = m_device->ioctl(SNP_GET_DERIVED_KEY, &io);
    if (err != 0)
        return device_error("SNP_GET_DERIVED_KEY", err, io.exitinfo2);
    // As for reports, the exchange succeeded (the VMPCK is intact); the firmware's verdict is STATUS.
    Reader r(m_key_response.expose(), "MSG_KEY_RSP");
    uint32_t status = TRY_PREFIX(r.u32le("STATUS"), "SNP_GET_DERIVED_KEY");
    TRY(check_key_status(status, "SNP_GET_DERIVED_KEY"));
    TRY_PREFIX(r.zeros(MSG_KEY_RSP_RESERVED_SIZE, "0x04..0x1F"), "SNP_GET_DERIVED_KEY");
    ByteView derived = TRY_PREFIX(r.bytes(MSG_KEY_RSP_KEY_SIZE, "DERIVED_KEY"), "SNP_GET_DERIVED_KEY");
    DerivedKey key;
    std::copy(derived.begin(), derived.end(), key.expose().begin());
    TRY(check_key_not_zero(key.expose(), "SNP_GET_DERIVED_KEY"));
    return key;
}

Error SevGuestProvider::device_error(const char* ioctl_name, int err, uint64_t exitinfo2)
{
    KeyState key = key_state_after(err, exitinfo2);
    const char* consequence = "";
    switch (key) {
    case KeyState::Intact: consequence = "EINVAL, EFAULT, ENOMEM and ENOSR do not wipe the VMPCK: it is intact"; break;
    case KeyState::SequenceExhausted:
        consequence = "the kernel's message sequence number is exhausted: nothing was sent and the VMPCK is intact, "
                      "but no request can be sent until reboot";
        m_unusable = "the kernel's message sequence number is exhausted";
        break;
    case KeyState::AlreadyWiped:
        consequence = "the VMPCK was already wiped by an earlier failure; reboot";
        m_unusable = "the VMPCK was already wiped by an earlier failure";
        break;
    case KeyState::Wiped:
        consequence = static_cast<uint32_t>(exitinfo2 >> VMM_ERR_SHIFT) == VMM_ERR_BUSY
                          ? "the host stayed BUSY; the kernel wiped the VMPCK until reboot"
                          : "the kernel wiped the VMPCK: no report until reboot";
        m_unusable = "an earlier request failed and the kernel wiped the VMPCK";
        break;
    }
    return Error::from_errno(Errc::Io, err, "%s failed: %s, exitinfo2 0x%llx (fw_error 0x%x, vmm_error 0x%x); %s",
                             ioctl_name, strerror(err), static_cast<unsigned long long>(exitinfo2),
                             static_cast<uint32_t>(exitinfo2), static_cast<uint32_t>(exitinfo2 >> VMM_ERR_SHIFT),
                             consequence);
}

}  // namespace cvm::agent
