// /dev/sev-guest (Linux >= 5.19, drivers/virt/coco/sev-guest): reports through ioctls whose
// structures are in sev_guest_abi.h.
//
// The kernel's VMPCK is one-shot after errors (drivers/virt/coco/sev-guest/sev-guest.c 6.12, and
// arch/x86/coco/sev/core.c from 6.14: snp_send_guest_request()): after any host or firmware error
// other than INVALID_LEN, or a response that does not decrypt, it wipes the key
// ("Disabling VMPCK communication key to prevent IV reuse") and every later request fails with
// ENOTTY until reboot. BUSY is retried inside the kernel for 60 s, then ETIMEDOUT and the wipe.
// So one get_report():
//   1. SNP_GET_EXT_REPORT with a two-page certificate buffer.
//   2. EIO with exitinfo2 exactly 1 << 32 (VMM error INVALID_LEN): the host needs a bigger buffer.
//      The kernel re-sent the request without certificate pages, so the key survives, and wrote
//      the size the host asked for (pages * 4096) into certs_len: grow once, to that size if it
//      is within SEV_FW_BLOB_MAX_SIZE (16 KiB, the kernel's EINVAL bound), and ask again.
//   3. INVALID_LEN again, or a size the kernel would refuse: certificates are unavailable and the
//      key is intact, so one SNP_GET_REPORT; the broker then gets the VCEK from AMD's KDS.
//   4. Any other failure is reported as it is, naming errno and exitinfo2 (fw_error, vmm_error),
//      and whether the key is gone: EINVAL, EFAULT and ENOMEM do not wipe the VMPCK (EFAULT can
//      also come after a successful exchange, when the kernel copies the answer out), nor does
//      ENOSR; EIO with exitinfo2 still 0xff is the kernel's message sequence number exhausted
//      (snp_get_msg_seqno() returned 0: nothing sent, the key kept, but no request can be sent
//      until reboot); ENOTTY means it was already wiped; anything else wiped it. Never a fallback
//      request after such a failure, and after a wipe or an exhausted sequence number the
//      provider refuses every later call without touching the device.
// A successful ioctl is not enough: STATUS inside MSG_REPORT_RSP must be 0 too (a non-zero STATUS
// is the firmware refusing the request; the key is intact), REPORT_SIZE 0x4A0, the reserved bytes
// zero, and the report must pass check_report (evidence_check.h).
//
// derive_key() (SNP_GET_DERIVED_KEY) lives under the same rule: refused when the device is
// unusable; the request's own bits checked (derived_key_check.h); ONE SNP_GET_REPORT, through
// get_report_without_certificates(), whose REPORT_DATA binds the request; every field checked
// against that report; only then one SNP_GET_DERIVED_KEY with msg_version 1. Its failures are
// named and booked exactly as the report's (the VMPCK wiped, already wiped, or intact); a non-zero
// STATUS in MSG_KEY_RSP (0x16 INVALID_PARAM, 0x27 INVALID_KEY) is refused by name, the reserved
// bytes 0x04..0x1F must be zero, an all-zero key is refused. The request and response buffers are
// members, wiped before derive_key() returns on every path; the kernel wipes its own copies
// (get_derived_key(): memzero_explicit of buf and derived_key_resp).
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "base/secret.h"
#include "providers/report_provider.h"
#include "providers/sev_guest_abi.h"

namespace cvm::agent {

// The device, as a seam: the real one is an open /dev/sev-guest, tests use a fake kernel.
class SevGuestDevice {
public:
    virtual ~SevGuestDevice() = default;
    // One ioctl(2): 0, or the errno it failed with. What the kernel writes back: the response
    // (and the certificate buffer) only on success; the whole snp_guest_request_ioctl whenever
    // its exitinfo2 is non-zero, on success or failure; certs_len on INVALID_LEN. Never retried
    // on EINTR: a request that reached the firmware must not be sent twice.
    virtual int ioctl(unsigned long request, void* arg) = 0;
};

// Opens `path` O_RDWR | O_CLOEXEC. Errc::Io naming the path.
Result<std::unique_ptr<SevGuestDevice>> open_sev_guest_device(const std::string& path);

class SevGuestProvider : public ReportProvider {
public:
    explicit SevGuestProvider(std::unique_ptr<SevGuestDevice> device);

    // open_sev_guest_device(path), wrapped.
    static Result<std::unique_ptr<SevGuestProvider>> open(const std::string& path);

    const char* name() const override { return PROVIDER_SEV_GUEST; }

    // See the steps above. Errors name the ioctl, errno, exitinfo2 (fw_error/vmm_error) or the
    // STATUS inside the response, and say whether the VMPCK survived.
    Result<Evidence> get_report(const ReportData& report_data) override;

    // Exactly one SNP_GET_REPORT: the report without certificates (an empty cert_table), for a
    // caller that knows the host's certificates exceed what the kernel accepts (16 KiB), so that
    // no SNP_GET_EXT_REPORT bound to fail is sent. The same checks and errors as get_report().
    Result<Evidence> get_report_without_certificates(const ReportData& report_data);

    // See above. Errors name the field (value asked, value allowed), the ioctl with errno and
    // exitinfo2 and what became of the VMPCK, or the STATUS inside MSG_KEY_RSP.
    Result<DerivedKey> derive_key(const DerivedKeyRequest& request) override;

    // Where the last SNP_GET_DERIVED_KEY's MSG_KEY_REQ and MSG_KEY_RSP were: all zero once
    // derive_key() has returned (tests look; nothing else may).
    ByteView key_request_buffer() const;
    ByteView key_response_buffer() const { return m_key_response.expose(); }

private:
    enum class Outcome : uint8_t { Report, CertsUnavailable };
    Result<Outcome> extended(const ReportData& report_data, Bytes& response, Bytes& certs);
    Result<void> plain(const ReportData& report_data, Bytes& response);
    Result<Bytes> report_from(const Bytes& response, const ReportData& report_data, const char* ioctl_name);
    Error device_error(const char* ioctl_name, int err, uint64_t exitinfo2);
    Result<void> refuse_when_unusable() const;
    Result<DerivedKey> exchange_key(const DerivedKeyRequest& request);

    std::unique_ptr<SevGuestDevice> m_device;
    // Why nothing can succeed until reboot (the key wiped, the sequence number exhausted), or null.
    const char* m_unusable{nullptr};
    // SNP_GET_DERIVED_KEY's buffers, wiped after every use.
    sev_guest::DerivedKeyReq m_key_request{};
    Secret<sizeof(sev_guest::DerivedKeyResp)> m_key_response;
};

}  // namespace cvm::agent
