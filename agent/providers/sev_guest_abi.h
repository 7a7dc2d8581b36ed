// The /dev/sev-guest user ABI, written out here rather than included: Debian's
// <linux/sev-guest.h> needs <sys/ioctl.h> first and its SNP_GUEST_VMM_ERR() uses the kernel type
// `u64`, and the musl toolchain of the release build may not ship the header at all.
//
// Layouts: Linux include/uapi/linux/sev-guest.h (v6.4 and later; v5.19..6.3 name the last field
// `__u64 fw_err`, same bytes), checked below with static_asserts on sizes and offsets. The
// response payload is the firmware's MSG_REPORT_RSP (AMD SEV-SNP ABI 56860, "MSG_REPORT_RSP
// Message Structure"): STATUS u32 @0x00, REPORT_SIZE u32 @0x04, reserved @0x08..0x1F, REPORT
// @0x20. SNP_GET_DERIVED_KEY carries MSG_KEY_REQ (56860 "MSG_KEY_REQ Message Structure", the 32
// bytes of struct snp_derived_key_req) and answers MSG_KEY_RSP in snp_derived_key_resp's
// `data[64]`: STATUS u32 @0x00, reserved @0x04..0x1F, DERIVED_KEY @0x20..0x3F.
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

struct DerivedKeyReq {            // struct snp_derived_key_req, MSG_KEY_REQ
    uint32_t root_key_select;     // bit 0: 0 VCEK/VLEK, 1 VMRK; bits 2:1 KEY_SEL; 31:3 zero
    uint32_t rsvd;                // zero
    uint64_t guest_field_select;  // GUEST_FIELD_SELECT (report_provider.h FIELD_*)
    uint32_t vmpl;                // >= the guest's VMPL, <= 3
    uint32_t guest_svn;           // <= the launch's GUEST_SVN
    uint64_t tcb_version;         // <= COMMITTED_TCB
};

struct DerivedKeyResp {  // struct snp_derived_key_resp: MSG_KEY_RSP
    uint8_t data[64];
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
static_assert(sizeof(DerivedKeyReq) == 32 && offsetof(DerivedKeyReq, rsvd) == 0x04 &&
              offsetof(DerivedKeyReq, guest_field_select) == 0x08 && offsetof(DerivedKeyReq, vmpl) == 0x10 &&
              offsetof(DerivedKeyReq, guest_svn) == 0x14 && offsetof(DerivedKeyReq, tcb_version) == 0x18);
static_assert(sizeof(DerivedKeyResp) == 64);
static_assert(sizeof(GuestRequestIoctl) == 32 && offsetof(GuestRequestIoctl, req_data) == 8 &&
              offsetof(GuestRequestIoctl, resp_data) == 16 && offsetof(GuestRequestIoctl, exitinfo2) == 24);

// _IOWR(SNP_GUEST_REQ_IOC_TYPE 'S', nr, struct snp_guest_request_ioctl).
inline constexpr unsigned long SNP_GET_REPORT = 0xC0205300;
inline constexpr unsigned long SNP_GET_DERIVED_KEY = 0xC0205301;
inline constexpr unsigned long SNP_GET_EXT_REPORT = 0xC0205302;
static_assert(SNP_GET_REPORT == _IOWR('S', 0x0, GuestRequestIoctl));
static_assert(SNP_GET_DERIVED_KEY == _IOWR('S', 0x1, GuestRequestIoctl));
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

// ROOT_KEY_SELECT (56860 "MSG_KEY_REQ"): bit 0 picks VMRK, KEY_SEL (bits 2:1) the chip key.
inline constexpr uint32_t ROOT_KEY_SELECT_VMRK = 1u << 0;
inline constexpr unsigned KEY_SEL_SHIFT = 1;
inline constexpr uint32_t KEY_SEL_VLEK_IF_INSTALLED = 0, KEY_SEL_VCEK = 1, KEY_SEL_VLEK = 2;

// The certificate buffer: page-sized pieces up to SEV_FW_BLOB_MAX_SIZE (the kernel's -EINVAL bound).
inline constexpr size_t CERTS_PAGE = 4096;
inline constexpr size_t CERTS_MAX = 0x4000;

// MSG_REPORT_RSP inside ReportResp::data.
inline constexpr size_t MSG_REPORT_RSP_STATUS_OFFSET = 0x00;
inline constexpr size_t MSG_REPORT_RSP_REPORT_SIZE_OFFSET = 0x04;
inline constexpr size_t MSG_REPORT_RSP_RESERVED_SIZE = 0x18;  // 0x08..0x1F
inline constexpr size_t MSG_REPORT_RSP_REPORT_OFFSET = 0x20;

// MSG_KEY_RSP inside DerivedKeyResp::data.
inline constexpr size_t MSG_KEY_RSP_STATUS_OFFSET = 0x00;
inline constexpr size_t MSG_KEY_RSP_RESERVED_SIZE = 0x1C;  // 0x04..0x1F
inline constexpr size_t MSG_KEY_RSP_KEY_OFFSET = 0x20;
inline constexpr size_t MSG_KEY_RSP_KEY_SIZE = 0x20;
static_assert(MSG_KEY_RSP_KEY_OFFSET + MSG_KEY_RSP_KEY_SIZE == sizeof(DerivedKeyResp));

}  // namespace cvm::agent::sev_guest
