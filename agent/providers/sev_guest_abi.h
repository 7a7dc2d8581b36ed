// The /dev/sev-guest user ABI, written out here rather than included: Debian's
// <linux/sev-guest.h> needs <sys/ioctl.h> first and its SNP_GUEST_VMM_ERR() uses the kernel type
// `u64`, and the musl toolchain of the release build may not ship the header at all.
//
// Layouts: Linux include/uapi/linux/sev-guest.h (v6.4 and later; v5.19..6.3 name the last field
// `__u64 fw_err`, same bytes), checked below with static_asserts on sizes and offsets. The
// response payload is the firmware's MSG_REPORT_RSP (AMD SEV-SNP ABI 56860, "MSG_REPORT_RSP
// Message Structure"): STATUS u32 @0x00, REPORT_SIZE u32 @0x04, reserved @0x08..0x1F, REPORT
// @0x20.
#pragma once

#include <cstddef>
#include <cstdint>
#include <sys/ioctl.h>

namespace cvm::agent::sev_guest {

inline constexpr size_t USER_DATA_SIZE = 64;  // SNP_REPORT_USER_DATA_SIZE

struct ReportReq {  // struct snp_report_req
    uint8_t user_data[USER_DATA_SIZE];
    uint32_t vmpl;
    uint8_t rsvd[28];  // "Must be zero filled"
};

struct ReportResp {  // struct snp_report_resp
    uint8_t data[4000];
};

struct ExtReportReq {  // struct snp_ext_report_req
    ReportReq data;
    uint64_t certs_address;  // where the kernel copies the certificate table
    uint32_t certs_len;      // in: buffer size; out (on INVALID_LEN): the size needed
};

struct GuestRequestIoctl {  // struct snp_guest_request_ioctl
    uint8_t msg_version;    // must be non-zero (-EINVAL otherwise); 1
    uint64_t req_data;
    uint64_t resp_data;
    // union { __u64 exitinfo2; struct { __u32 fw_error; __u32 vmm_error; }; }: bits 31:0 the
    // firmware error (psp-sev.h SEV_RET_*), bits 63:32 the VMM error.
    uint64_t exitinfo2;

    uint32_t fw_error() const { return static_cast<uint32_t>(exitinfo2); }
    uint32_t vmm_error() const { return static_cast<uint32_t>(exitinfo2 >> 32); }
};

static_assert(sizeof(ReportReq) == 96 && offsetof(ReportReq, vmpl) == 64 && offsetof(ReportReq, rsvd) == 68);
static_assert(sizeof(ReportResp) == 4000);
static_assert(sizeof(ExtReportReq) == 112 && offsetof(ExtReportReq, certs_address) == 96 &&
              offsetof(ExtReportReq, certs_len) == 104);
static_assert(sizeof(GuestRequestIoctl) == 32 && offsetof(GuestRequestIoctl, req_data) == 8 &&
              offsetof(GuestRequestIoctl, resp_data) == 16 && offsetof(GuestRequestIoctl, exitinfo2) == 24);

// _IOWR(SNP_GUEST_REQ_IOC_TYPE 'S', nr, struct snp_guest_request_ioctl).
inline constexpr unsigned long SNP_GET_REPORT = 0xC0205300;
inline constexpr unsigned long SNP_GET_EXT_REPORT = 0xC0205302;
static_assert(SNP_GET_REPORT == _IOWR('S', 0x0, GuestRequestIoctl));
static_assert(SNP_GET_EXT_REPORT == _IOWR('S', 0x2, GuestRequestIoctl));

// exitinfo2 VMM errors (SNP_GUEST_VMM_ERR_SHIFT 32).
inline constexpr uint32_t VMM_ERR_INVALID_LEN = 1;  // certificate buffer too small; certs_len says how big
inline constexpr uint32_t VMM_ERR_BUSY = 2;         // throttled (the kernel retries for up to 60 s itself)
inline constexpr unsigned VMM_ERR_SHIFT = 32;
// The one failure after which the kernel keeps the VMPCK: EIO with exactly this exitinfo2.
inline constexpr uint64_t EXITINFO2_INVALID_LEN = uint64_t{VMM_ERR_INVALID_LEN} << VMM_ERR_SHIFT;
// snp_guest_ioctl() sets exitinfo2 to 0xff before anything else, and snp_issue_guest_request()
// to SEV_RET_NO_FW_CALL (-1) before it exits to the host, then to the host's sw_exit_info_2. The
// whole struct is copied back whenever exitinfo2 is non-zero ("if (input.exitinfo2 &&
// copy_to_user(argp, &input, sizeof(input)))"), on success and failure alike; 0xff still there
// means the request never reached snp_issue_guest_request().
inline constexpr uint64_t EXITINFO2_IOCTL_INITIAL = 0xff;
inline constexpr uint64_t EXITINFO2_NO_FW_CALL = ~uint64_t{0};

// Firmware status codes (include/uapi/linux/psp-sev.h SEV_RET_*, 56860 "Status Codes").
inline constexpr uint32_t SEV_RET_INVALID_CERTIFICATE = 0x06;
inline constexpr uint32_t SEV_RET_INVALID_PARAM = 0x16;
inline constexpr uint32_t SEV_RET_INVALID_KEY = 0x27;

// The certificate buffer: page-sized pieces up to SEV_FW_BLOB_MAX_SIZE (the kernel's -EINVAL bound).
inline constexpr size_t CERTS_PAGE = 4096;
inline constexpr size_t CERTS_MAX = 0x4000;

// MSG_REPORT_RSP inside ReportResp::data.
inline constexpr size_t MSG_REPORT_RSP_STATUS_OFFSET = 0x00;
inline constexpr size_t MSG_REPORT_RSP_REPORT_SIZE_OFFSET = 0x04;
inline constexpr size_t MSG_REPORT_RSP_RESERVED_SIZE = 0x18;  // 0x08..0x1F
inline constexpr size_t MSG_REPORT_RSP_REPORT_OFFSET = 0x20;

}  // namespace cvm::agent::sev_guest
