#include "launch_plan.h"

#include <cstdio>

#include "base/base64.h"
#include "base/file.h"
#include "base/secret.h"
#include "measure/vcpu_types.h"
#include "measure_request.h"

namespace cvm::cli {

namespace {

using launch::LaunchConfig;

constexpr std::string_view QEMU_CPU_MODELS[] = {
    "EPYC",          "EPYC-v1",      "EPYC-v2",       "EPYC-IBPB",    "EPYC-v3",    "EPYC-v4",
    "EPYC-Rome",     "EPYC-Rome-v1", "EPYC-Rome-v2",  "EPYC-Rome-v3", "EPYC-Milan", "EPYC-Milan-v1",
    "EPYC-Milan-v2", "EPYC-Genoa",   "EPYC-Genoa-v1", "EPYC-Turin",
};

// A private key file is small; anything bigger is not one.
constexpr size_t MAX_KEY_FILE = 64 << 10;

Error refuse(const char* key, const std::string& why)
{
    return Error::make(Errc::Config,
                       "launch.toml key '%s': %s; cvm launch would start a launch whose MEASUREMENT "
                       "differs from the one cvm measure computes, refusing",
                       key, why.c_str());
}

bool is_qemu_model(std::string_view name)
{
    for (std::string_view m : QEMU_CPU_MODELS) {
        if (m == name)
            return true;
    }
    return false;
}

// The key that decided the measured signature, in measure_request's order of precedence.
const char* signature_key(const LaunchConfig& c)
{
    if (c.vcpu_family)
        return "vcpu_family";
    if (c.vcpu_sig)
        return "vcpu_sig";
    return "vcpu_type";
}

Result<std::string> cpu_model(const LaunchConfig& c, uint32_t sig)
{
    char text[64];
    snprintf(text, sizeof text, "signature 0x%x", sig);
    if (c.vcpu_type) {
        if (measure::vcpu_type_sig(*c.vcpu_type) != sig)
            return refuse(signature_key(c), std::string(text) + " is not that of vcpu_type '" + *c.vcpu_type + "'");
        return *c.vcpu_type;
    }
    for (std::string_view m : QEMU_CPU_MODELS) {
        if (measure::vcpu_type_sig(m) == sig)
            return std::string(m);
    }
    return refuse(signature_key(c),
                  std::string(text) + " is produced by no QEMU -cpu model (" + measure::vcpu_type_names() + ")");
}

// What QEMU cannot express, before anything is read or measured.
// What KVM's SNP_LAUNCH_START takes besides the firmware's rules (launch_toml.cc):
// arch/x86/kvm/svm/sev.c: snp_launch_start() refuses a policy with SMT (bit 16) clear, with
// SINGLE_SOCKET (bit 20) set, or with any bit outside SNP_POLICY_MASK_VALID (bits 0-17, 19, 20 as
// merged in 6.11: so MIGRATE_MA, bit 18, and bits 21-25). Later KVM accepts some of bits 25:21
// (CXL_ALLOW, MEM_AES_256_XTS, RAPL_DIS, CIPHERTEXT_HIDING, PAGE_SWAP_DISABLE) when the host
// supports them; those pass here with a note, since only that host can tell.
Result<void> check_kvm_policy(uint64_t policy)
{
    constexpr uint64_t SMT = 1ull << 16, MIGRATE_MA = 1ull << 18, SINGLE_SOCKET = 1ull << 20;
    constexpr uint64_t NEWER_HOST_BITS = 0x1full << 21;
    char text[160];
    const char* why = nullptr;
    if (!(policy & SMT))
        why = "SMT (bit 16) is clear; KVM refuses it (SMT may be disabled on the host instead)";
    else if (policy & SINGLE_SOCKET)
        why = "SINGLE_SOCKET (bit 20) is set; KVM refuses it";
    else if (policy & MIGRATE_MA)
        why = "MIGRATE_MA (bit 18) is set; KVM has no migration agent and refuses it";
    if (why) {
        snprintf(text, sizeof text, "0x%llx: %s (expected e.g. 0x30000)", static_cast<unsigned long long>(policy), why);
        return refuse("policy", text);
    }
    if (policy & NEWER_HOST_BITS)
        fprintf(stderr,
                "cvm launch: note: policy 0x%llx sets bits 25:21, which KVM 6.11 refuses; later hosts accept them "
                "only where supported\n",
                static_cast<unsigned long long>(policy));
    return {};
}

Result<void> check_expressible(const LaunchConfig& c)
{
    if (c.mode != "snp")
        return Error::make(Errc::Config, "launch.toml key 'mode': cvm launch runs \"snp\" launches, not \"%s\"",
                           c.mode.c_str());
    if (c.vmm_type != "QEMU")
        return refuse("vmm_type", "\"" + c.vmm_type + "\" is not QEMU, and QEMU builds QEMU's VMSAs");
    if (c.guest_features != 0x1) {
        char text[96];
        snprintf(text, sizeof text, "0x%llx, but QEMU passes no VMSA features: SEV_FEATURES is 0x1 (SNPActive)",
                 static_cast<unsigned long long>(c.guest_features));
        return refuse("guest_features", text);
    }
    TRY(check_kvm_policy(c.guest_policy()));
    if (c.snp_ovmf_hash)
        return refuse("firmware.snp_ovmf_hash", "QEMU measures the firmware file it loads, not a precomputed digest");
    if (!c.kernel)
        return Error::make(Errc::Config, "launch.toml key 'kernel.path': cvm launch needs measured direct boot");
    if (c.vcpu_type && !is_qemu_model(*c.vcpu_type))
        return refuse("vcpu_type", "'" + *c.vcpu_type + "' is not one of QEMU's measured -cpu models (" +
                                       measure::vcpu_type_names() + ")");
    if (!c.vcpus || *c.vcpus == 0)
        return Error::make(Errc::Config, "launch.toml key 'vcpus': expected 1 or more vCPUs");
    return {};
}

}  // namespace

std::span<const std::string_view> qemu_cpu_models()
{
    return QEMU_CPU_MODELS;
}

Result<measure::SigningKey> load_signing_key(const std::string& path)
{
    Bytes raw = TRY(read_file(path, MAX_KEY_FILE));
    SecretBytes pem = SecretBytes::copy_of(raw);
    secure_wipe(raw);
    auto key = measure::SigningKey::from_pem(pem);
    if (!key.ok())
        return key.release_error().prefix("%s", path.c_str());
    return key;
}

Result<std::optional<measure::SignedIdBlock>> sign_launch_id_block(const LaunchConfig& c,
                                                                   const std::array<uint8_t, 48>& measurement)
{
    if (!c.id_block)
        return std::optional<measure::SignedIdBlock>();
    const launch::IdBlockConfig& b = *c.id_block;
    measure::IdBlockParams p;
    std::copy(measurement.begin(), measurement.end(), p.ld.begin());
    p.family_id = b.family_id;
    p.image_id = b.image_id;
    p.guest_svn = b.guest_svn;
    p.policy = c.guest_policy();
    measure::SigningKey id_key = TRY_PREFIX(load_signing_key(b.id_key), "launch.toml key 'id_block.id_key'");
    std::optional<measure::SigningKey> author;
    if (b.author_key)
        author.emplace(TRY_PREFIX(load_signing_key(*b.author_key), "launch.toml key 'id_block.author_key'"));
    return std::optional<measure::SignedIdBlock>(TRY(measure::sign_id_block(p, id_key, author ? &*author : nullptr)));
}

Result<LaunchPlan> plan_launch(LaunchConfig config)
{
    TRY(check_expressible(config));
    MeasureRequest request = TRY(request_from_config(config));
    LaunchPlan plan;
    plan.cpu_model = TRY(cpu_model(config, *request.inputs.vcpu_sig));
    measure::Measurement m = TRY(measure::measure(request.inputs));
    std::copy(m.digest.begin(), m.digest.end(), plan.measurement.begin());
    plan.id_block = TRY(sign_launch_id_block(config, plan.measurement));
    plan.config = std::move(config);
    return plan;
}

std::string id_block_properties(const measure::SignedIdBlock& id)
{
    std::string out = "id-block=" + base64_encode(id.block) + ",id-auth=" + base64_encode(id.auth);
    if (id.author_key_digest)
        out += ",author-key-enabled=on";
    return out;
}

std::string policy_text(uint64_t policy)
{
    char text[24];
    snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(policy));
    return text;
}

sim::LaunchState sim_launch_state(const LaunchConfig& c, const std::array<uint8_t, 48>& measurement,
                                  const std::optional<measure::SignedIdBlock>& id_block)
{
    sim::LaunchState s;
    s.measurement = measurement;
    s.policy = c.guest_policy();
    if (c.host_data)
        s.host_data = *c.host_data;
    if (c.id_block && id_block) {
        s.family_id = c.id_block->family_id;
        s.image_id = c.id_block->image_id;
        s.guest_svn = c.id_block->guest_svn;
        s.id_key_digest = id_block->id_key_digest;
        if (c.author_key_enabled && id_block->author_key_digest)
            s.author_key_digest = *id_block->author_key_digest;
    }
    return s;
}

}  // namespace cvm::cli
