// The launch `cvm launch` runs, resolved from launch.toml before anything starts: refused when
// QEMU could not run what `cvm measure --launch` measures (hardware-abi.md finding 3), then
// measured with the same code as `cvm measure --launch`, and with its ID block signed.
//
// What QEMU can express (target/i386/sev.c, target/i386/cpu.c):
// - mode "snp" with measured direct boot ([kernel]); OVMF from the file itself, never from a
//   precomputed firmware.snp_ovmf_hash (QEMU measures the file it loads).
// - vmm_type "QEMU" (ec2 and gce build their VMSAs differently).
// - guest_features 0x1: QEMU passes no extra VMSA features (KVM_SEV_INIT2 vmsa_features = 0),
//   so the firmware's SEV_FEATURES is SNPActive alone.
// - a vCPU that is one of QEMU_CPU_MODELS: the first vCPU's RDX is the CPUID signature of the
//   `-cpu` model. A vcpu_type must name one of them; a vcpu_sig or family/model/stepping must be
//   the signature of one of them (the first such model is used). The -cpu value always comes
//   from the table, never from launch.toml's text.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "measure/id_block.h"
#include "measure/launch_toml.h"
#include "measure/signing_key.h"
#include "sim/psp.h"

namespace cvm::cli {

// QEMU's x86 CPU models (target/i386/cpu.c builtin_x86_defs: "EPYC" 23/1/2 with versions 1-4 and
// the alias EPYC-IBPB = v2; "EPYC-Rome" 23/49/0; "EPYC-Milan" 25/1/1; "EPYC-Genoa" 25/17/0;
// "EPYC-Turin" 26/0/0; no version changes family, model or stepping) whose signature `cvm
// measure` knows by the same name (measure/vcpu_types.h), in that table's order.
std::span<const std::string_view> qemu_cpu_models();

struct LaunchPlan {
    launch::LaunchConfig config;
    std::array<uint8_t, 48> measurement{};
    std::string cpu_model;  // one of qemu_cpu_models()
    std::optional<measure::SignedIdBlock> id_block;
};

// Errc::Config naming the launch.toml key for what QEMU cannot launch as measured (above);
// the errors of `cvm measure --launch`; the key files' errors for [id_block].
Result<LaunchPlan> plan_launch(launch::LaunchConfig config);

// A private key for an ID block or its author (PEM), read into wiping memory; errors name `path`.
Result<measure::SigningKey> load_signing_key(const std::string& path);

// [id_block] signed for `measurement` and the launch's policy (so the ID block's POLICY is the
// one SNP_LAUNCH_START gets, as SNP_LAUNCH_FINISH requires); nullopt without [id_block].
Result<std::optional<measure::SignedIdBlock>> sign_launch_id_block(const launch::LaunchConfig& config,
                                                                   const std::array<uint8_t, 48>& measurement);

// QEMU's sev-snp-guest properties for an ID block (qapi/qom.json SevSnpGuestProperties):
// "id-block=<base64 of 96 bytes>,id-auth=<base64 of 4096 bytes>" and ",author-key-enabled=on"
// when the ID auth block carries an author key.
std::string id_block_properties(const measure::SignedIdBlock& id);

// "0x30000": how policy= is written.
std::string policy_text(uint64_t policy);

// The report fields the simulated PSP copies for this launch: the MEASUREMENT, policy,
// host_data, and from the ID block FAMILY_ID, IMAGE_ID, GUEST_SVN and the key digests (the
// author key's only with AUTHOR_KEY_EN), as the firmware does at SNP_LAUNCH_FINISH.
sim::LaunchState sim_launch_state(const launch::LaunchConfig& config, const std::array<uint8_t, 48>& measurement,
                                  const std::optional<measure::SignedIdBlock>& id_block);

}  // namespace cvm::cli
