#include "kernel_sev_guest.h"

#include <sys/ioctl.h>  // the UAPI header uses _IOWR without including it
#if __has_include(<linux/sev-guest.h>)
#include <linux/sev-guest.h>
#endif

namespace cvm::test {

KernelSevGuestAbi kernel_sev_guest_abi()
{
    KernelSevGuestAbi abi;
#if __has_include(<linux/sev-guest.h>)
    abi.available = true;
    abi.get_report = SNP_GET_REPORT;
    abi.get_ext_report = SNP_GET_EXT_REPORT;
    abi.get_derived_key = SNP_GET_DERIVED_KEY;
    abi.derived_key_req_size = sizeof(snp_derived_key_req);
    abi.derived_key_resp_size = sizeof(snp_derived_key_resp);
    abi.key_field_select_offset = offsetof(snp_derived_key_req, guest_field_select);
    abi.key_vmpl_offset = offsetof(snp_derived_key_req, vmpl);
    abi.key_guest_svn_offset = offsetof(snp_derived_key_req, guest_svn);
    abi.key_tcb_version_offset = offsetof(snp_derived_key_req, tcb_version);
    abi.report_req_size = sizeof(snp_report_req);
    abi.report_resp_size = sizeof(snp_report_resp);
    abi.ext_report_req_size = sizeof(snp_ext_report_req);
    abi.request_ioctl_size = sizeof(snp_guest_request_ioctl);
    abi.certs_len_offset = offsetof(snp_ext_report_req, certs_len);
    abi.exitinfo2_offset = offsetof(snp_guest_request_ioctl, exitinfo2);
    abi.vmm_err_invalid_len = SNP_GUEST_VMM_ERR_INVALID_LEN;
    abi.vmm_err_busy = SNP_GUEST_VMM_ERR_BUSY;
    snp_guest_request_ioctl io{};
    io.exitinfo2 = uint64_t{1} << 32;
    abi.vmm_error_of_invalid_len_exitinfo2 = io.vmm_error;
#endif
    return abi;
}

}  // namespace cvm::test
