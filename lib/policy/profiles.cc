// The built-in policies and the list of claims every evaluation produces.
#include "policy/policy.h"

namespace cvm::policy {

Policy Policy::baseline()
{
    Policy p;
    p.is_baseline = true;
    // Authenticity first: firmware that is installed but not committed is still AMD firmware,
    // so the baseline accepts COMMITTED <= CURRENT (real AWS and Azure reports show it).
    p.permit_provisional_firmware = true;
    return p;
}

Policy Policy::strict(bool allow_smt)
{
    Policy p;
    p.allow_debug = false;
    p.allow_migration_agent = false;
    p.permit_provisional_firmware = false;
    p.revocation = true;
    // ALIAS_CHECK_COMPLETE: the BadRAM mitigation (CVE-2024-21944) ran on this platform.
    p.required_platform_info = *platform_info_bit("alias_check_complete");
    p.allow_smt = allow_smt;
    if (!allow_smt)
        p.forbidden_platform_info = *platform_info_bit("smt");
    return p;
}

const std::vector<std::string_view>& claim_names()
{
    static const std::vector<std::string_view> NAMES = {
        "policy.simulated",
        // GUEST_POLICY
        "policy.debug",
        "policy.migration_agent",
        "policy.smt",
        "policy.single_socket",
        "policy.cxl_allow",
        "policy.mem_aes_256_xts",
        "policy.rapl_dis",
        "policy.ciphertext_hiding",
        "policy.page_swap_disable",
        "policy.min_abi",
        // identity
        "policy.measurement",
        "policy.report_data",
        "policy.host_data",
        "policy.family_id",
        "policy.image_id",
        "policy.report_id_ma",
        "policy.id_key_digest",
        "policy.author_key_digest",
        "policy.guest_svn",
        // platform
        "policy.vmpl",
        "policy.report_version",
        "policy.cpuid",
        "policy.launch_mit_vector",
        "policy.current_mit_vector",
        "policy.chip_id",
        "policy.platform_info",
        "policy.platform_info_forbidden",
        // TCB and firmware
        "policy.reported_tcb",
        "policy.committed_tcb",
        "policy.committed_version",
        "policy.min_tcb",
        "policy.min_committed_tcb",
        "policy.min_launch_tcb",
        "policy.min_build",
        "policy.min_version",
    };
    return NAMES;
}

std::vector<Claim> not_evaluated(std::string_view why)
{
    std::vector<Claim> out;
    for (std::string_view name : claim_names())
        out.push_back({std::string(name), false, "not checked", "a verified report", std::string(why)});
    return out;
}

}  // namespace cvm::policy
