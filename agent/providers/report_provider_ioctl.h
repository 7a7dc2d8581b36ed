// /dev/sev-guest (Linux >= 5.19, drivers/virt/coco/sev-guest): reports through ioctls whose
// structures are in sev_guest_abi.h.
//
// One get_report():
//   1. SNP_GET_EXT_REPORT with a two-page certificate buffer.
//   2. If it fails with -EIO and exitinfo2 == VMM error INVALID_LEN, the host needs a bigger
//      buffer and the kernel wrote the size into certs_len (it also re-issued the request without
//      certificates, so the VMPCK is intact): grow once, to that size if it is a whole number of
//      pages within SEV_FW_BLOB_MAX_SIZE, and ask again.
//   3. Certificates unavailable — the host still says INVALID_LEN after the one growth, needs more
//      than the kernel allows, or answers firmware status INVALID_CERTIFICATE in exitinfo2 (hosts
//      without a certificate blob, go-sev-guest #102) — one SNP_GET_REPORT instead; the broker then
//      gets the VCEK from AMD's KDS or its cache. (Kernels that wipe the VMPCK on that #102 answer
//      make the fallback fail with ENOTTY, which is then reported like any other failure.)
//   4. Any other failure stops here. The kernel wipes the VMPCK after every other host or firmware
//      error ("Disabling VMPCK communication key to prevent IV reuse"), so a retry cannot succeed
//      and only hides the cause; the provider refuses every later call without touching the device.
// A successful ioctl is not enough: STATUS inside MSG_REPORT_RSP must be 0 too, REPORT_SIZE 0x4A0,
// the reserved bytes zero, and the report must pass check_report (evidence_check.h).
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "providers/report_provider.h"

namespace cvm::agent {

// The device, as a seam: the real one is an open /dev/sev-guest, tests use a fake kernel.
class SevGuestDevice {
public:
    virtual ~SevGuestDevice() = default;
    // One ioctl(2): 0, or the errno it failed with. Like the kernel, an implementation writes
    // exitinfo2 (and, for INVALID_LEN, certs_len) back in either case. Never retried on EINTR: a
    // request that reached the firmware must not be sent twice.
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
    // STATUS inside the response, and end in "not retrying" where the VMPCK may be gone.
    Result<Evidence> get_report(const ReportData& report_data) override;

private:
    enum class Outcome : uint8_t { Report, CertsUnavailable };
    Result<Outcome> extended(const ReportData& report_data, Bytes& response, Bytes& certs);
    Result<void> plain(const ReportData& report_data, Bytes& response);
    Result<Bytes> report_from(const Bytes& response, const ReportData& report_data, const char* ioctl_name);
    Error device_error(const char* ioctl_name, int err, uint64_t exitinfo2);

    std::unique_ptr<SevGuestDevice> m_device;
    bool m_disabled{false};  // after a failure that may have cost the VMPCK: never ask again
};

}  // namespace cvm::agent
