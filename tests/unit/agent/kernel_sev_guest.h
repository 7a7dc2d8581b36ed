// The installed kernel UAPI header's view of /dev/sev-guest, from a translation unit of its own:
// its SNP_GET_REPORT, SNP_GET_DERIVED_KEY and SNP_GET_EXT_REPORT macros would replace the names of sev_guest_abi.h.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cvm::test {

struct KernelSevGuestAbi {
    bool available{false};  // false when <linux/sev-guest.h> is not installed
    unsigned long get_report{0}, get_derived_key{0}, get_ext_report{0};
    size_t derived_key_req_size{0}, derived_key_resp_size{0};
    size_t key_field_select_offset{0}, key_vmpl_offset{0}, key_guest_svn_offset{0}, key_tcb_version_offset{0};
    size_t report_req_size{0}, report_resp_size{0}, ext_report_req_size{0}, request_ioctl_size{0};
    size_t certs_len_offset{0}, exitinfo2_offset{0};
    uint32_t vmm_err_invalid_len{0}, vmm_err_busy{0};
    uint32_t vmm_error_of_invalid_len_exitinfo2{0};  // the union's vmm_error for exitinfo2 = 1 << 32
};

KernelSevGuestAbi kernel_sev_guest_abi();

}  // namespace cvm::test
