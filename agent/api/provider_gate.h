// The one door to the report provider once the workload runs. The workload API (agent/api/) and
// the re-attestation loop both ask for reports from their own threads; the provider must never be
// asked twice at once (a configfs-tsm entry or a /dev/sev-guest message sequence number is one
// request at a time), and on the hardware paths a firmware or host error makes the kernel wipe the
// guest's VMPCK (drivers/virt/coco/sev-guest/sev-guest.c: snp_send_guest_request() calls
// snp_disable_vmpck() on every error but SNP_GUEST_VMM_ERR_INVALID_LEN), after which every request
// fails until reboot. So:
//
//   - get_report() holds one mutex around ReportProvider::get_report;
//   - a provider error is returned once, as Errc of the provider's error, and never retried here;
//   - after an error on a hardware provider (anything but "simulated") the gate is closed: later
//     calls fail at once with Errc::Unavailable ("VMPCK may be wiped") without asking the provider.
//   - derive_key() (sealing) goes through the same mutex and the same rule, except for the
//     provider's refusals made before anything reaches the firmware (Errc::Config: a field the
//     fresh report does not allow; Errc::Unsupported: no derived keys, or no VLEK installed;
//     agent/providers/derived_key_check.h) and the firmware's STATUS refusals (Errc::Policy: it
//     answered), which cost no VMPCK and leave the gate open.
//
// The gate borrows the provider, which must outlive it (Context::provider, kept to power-off).
#pragma once

#include <mutex>
#include <string>

#include "base/result.h"
#include "providers/report_provider.h"

namespace cvm::agent::api {

enum class GateFailure : uint8_t {
    None,
    Provider,  // the provider was asked and failed: the caller reports it (HTTP 500, "PROVIDER")
    Closed,    // an earlier hardware error closed the gate: the provider was not asked (HTTP 503)
};

class ProviderGate {
public:
    explicit ProviderGate(ReportProvider& provider);
    ProviderGate(const ProviderGate&) = delete;
    ProviderGate& operator=(const ProviderGate&) = delete;

    // One report at a time. On failure `failure` (when given) says which of the two it was; the
    // error of a Closed gate names the earlier failure.
    Result<Evidence> get_report(const ReportData& report_data, GateFailure* failure = nullptr);

    // One derived key at a time (ReportProvider::derive_key), under the rule above. A refusal the
    // provider made before the firmware keeps its code (Config, Unsupported) and GateFailure::None.
    Result<DerivedKey> derive_key(const DerivedKeyRequest& request, GateFailure* failure = nullptr);

    const char* provider_name() const { return m_provider.name(); }
    bool hardware() const { return m_hardware; }
    bool closed() const;

private:
    // The provider's error, after closing the gate on hardware.
    Error provider_failed(Error e, const char* what, GateFailure* failure);
    Result<void> check_open(GateFailure* failure) const;  // with m_mutex held

    ReportProvider& m_provider;
    const bool m_hardware;
    mutable std::mutex m_mutex;
    bool m_closed{false};
    std::string m_first_error;  // what closed the gate
};

}  // namespace cvm::agent::api
