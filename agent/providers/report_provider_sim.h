// The simulated provider (DESIGN.md §3): reports signed by the simulated PSP of lib/sim, whose
// VCEK key, certificates and launch state the host passes in through QEMU fw_cfg
// (sim/fw_cfg.h: <root>/opt/cvminit/sim/{key,certs,launch}/raw).
//
// SIMULATED: it proves the plumbing, never confidentiality. Construct it only when the measured
// cmdline says cvminit.simulate=1 (choose_provider does exactly that); its name() and every
// Evidence it returns say "simulated", and brokers accept that only with allow_simulated.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "providers/report_provider.h"
#include "sim/psp.h"

namespace cvm::agent {

class SimulatedProvider : public ReportProvider {
public:
    // sim::load_from_fw_cfg(fw_cfg_root), "/sys/firmware/qemu_fw_cfg/by_name" in a guest. Its
    // errors name the blob that is missing or broken. First, Errc::Config naming the cause when
    // the blobs cannot be there: no /sys/firmware/qemu_fw_cfg (the qemu_fw_cfg module is not in
    // the initramfs: `cvm initramfs --platform sim` or `--module qemu_fw_cfg`), or no
    // opt/cvminit/sim under it (the host did not pass the platform: `cvm launch --simulate`).
    static Result<std::unique_ptr<SimulatedProvider>> load(const std::string& fw_cfg_root);

    explicit SimulatedProvider(sim::SimulatedPsp psp) : m_psp(std::move(psp)) {}

    const char* name() const override { return PROVIDER_SIMULATED; }

    // A VMPL 0 report from the simulated PSP and its certificate table (VCEK, ASK, ARK), checked
    // like the hardware providers' evidence.
    Result<Evidence> get_report(const ReportData& report_data) override;

    // The hardware path's order (report_provider_ioctl.h) against the simulated PSP: the request's
    // own bits, one fresh report bound to the request, every field checked against it
    // (derived_key_check.h), then MSG_KEY_REQ at VMPL 0, its STATUS named, an all-zero key
    // refused. The key is the simulated PSP's (sim/psp.h: SIMULATED, not AMD's derivation): the
    // same launch on the same simulated chip gives the same key, another chip or another selected
    // field another key; VLEK requests are refused (a simulated platform has no VLEK).
    Result<DerivedKey> derive_key(const DerivedKeyRequest& request) override;

private:
    sim::SimulatedPsp m_psp;
};

}  // namespace cvm::agent
