#include "measure_request.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "measure/vcpu_types.h"

namespace cvm::cli {

namespace {

using launch::LaunchConfig;
using measure::Mode;

Result<std::optional<uint32_t>> number_flag(const Args& args, const char* name, uint64_t max)
{
    auto text = args.get(name);
    if (!text)
        return std::optional<uint32_t>();
    std::string what = std::string("--") + name;
    return std::optional<uint32_t>(static_cast<uint32_t>(TRY(parse_number(*text, max, what.c_str()))));
}

std::optional<std::string> path_flag(const Args& args, const char* name)
{
    auto path = args.get(name);
    if (!path || path->empty())
        return std::nullopt;
    return path;
}

Result<std::optional<uint32_t>> vcpu_sig(const LaunchConfig& c, Mode mode)
{
    std::optional<uint32_t> named;
    if (c.vcpu_type) {
        named = measure::vcpu_type_sig(*c.vcpu_type);
        if (!named)
            return Error::make(Errc::Config, "unknown vCPU type '%s' (known: %s)", c.vcpu_type->c_str(),
                               measure::vcpu_type_names().c_str());
    }
    bool fms = c.vcpu_family || c.vcpu_model || c.vcpu_stepping;
    if (fms && !(c.vcpu_family && c.vcpu_model && c.vcpu_stepping))
        return Error::make(Errc::Config, "--vcpu-family, --vcpu-model and --vcpu-stepping go together");
    bool zero = (c.vcpu_family && *c.vcpu_family == 0) || (c.vcpu_sig && *c.vcpu_sig == 0);
    if (zero && int(c.vcpu_family.has_value()) + int(c.vcpu_sig.has_value()) + int(c.vcpu_type.has_value()) > 1)
        return Error::make(Errc::Config, "a zero --vcpu-sig or --vcpu-family with another vCPU option is ambiguous: "
                                         "sev-snp-measure 0.0.13 skips the zero, later versions use it; give one");
    if (mode == Mode::Sev)
        return std::optional<uint32_t>();
    if (fms)
        return std::optional<uint32_t>(TRY(measure::cpu_sig(*c.vcpu_family, *c.vcpu_model, *c.vcpu_stepping)));
    if (c.vcpu_sig)
        return c.vcpu_sig;
    return named;
}

Result<void> svsm_inputs(const LaunchConfig& c, MeasureRequest& r)
{
    bool svsm_mode = r.inputs.mode == Mode::SnpSvsm;
    if (!svsm_mode) {
        if (c.svsm || c.vars_size || c.vars_file)
            return Error::make(Errc::Config, "--svsm, --vars-size and --vars-file only apply to mode snp:svsm");
        return {};
    }
    if (!c.svsm)
        return Error::make(Errc::Config, "mode snp:svsm needs --svsm PATH");
    if (c.vars_size.has_value() == c.vars_file.has_value())
        return Error::make(Errc::Config, "mode snp:svsm needs exactly one of --vars-size and --vars-file");
    r.inputs.svsm = *c.svsm;
    if (c.vars_size) {
        r.inputs.vars_size = *c.vars_size;
        return {};
    }
    struct stat st {};
    if (stat(c.vars_file->c_str(), &st) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot stat %s: %s", c.vars_file->c_str(), strerror(errno));
    r.inputs.vars_size = static_cast<uint64_t>(st.st_size);
    r.vars_file = c.vars_file;
    return {};
}

}  // namespace

Result<uint64_t> parse_number(const std::string& text, uint64_t max, const char* what)
{
    int base = 10;
    size_t start = 0;
    if (text.size() > 2 && text[0] == '0') {
        char p = static_cast<char>(text[1] | 0x20);
        base = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
        start = 2;
    }
    bool digits_ok = base != 0 && start < text.size() && (base != 10 || text == "0" || text[0] != '0');
    uint64_t value = 0;
    for (size_t i = start; digits_ok && i < text.size(); ++i) {
        char c = static_cast<char>(text[i] | 0x20);
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : 99;
        if (d >= base || static_cast<uint64_t>(d) > max ||
            value > (max - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base))
            digits_ok = false;
        else
            value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    }
    if (!digits_ok)
        return Error::make(Errc::Config, "%s '%s': expected a number from 0 to %llu (decimal, 0x, 0o or 0b)", what,
                           text.c_str(), static_cast<unsigned long long>(max));
    return value;
}

Result<LaunchConfig> config_from_flags(const Args& args)
{
    LaunchConfig c;
    auto mode = args.get("mode");
    if (!mode)
        return Error::make(Errc::Config, "needs --mode (snp, snp:ovmf-hash, snp:svsm, seves or sev)");
    c.mode = *mode;
    c.vcpus = TRY(number_flag(args, "vcpus", UINT32_MAX));
    c.vcpu_type = args.get("vcpu-type");
    c.vcpu_sig = TRY(number_flag(args, "vcpu-sig", UINT32_MAX));
    c.vcpu_family = TRY(number_flag(args, "vcpu-family", UINT32_MAX));
    c.vcpu_model = TRY(number_flag(args, "vcpu-model", UINT32_MAX));
    c.vcpu_stepping = TRY(number_flag(args, "vcpu-stepping", UINT32_MAX));
    c.vmm_type = args.get("vmm-type").value_or("QEMU");
    if (auto f = args.get("guest-features"))
        c.guest_features = TRY(parse_number(*f, UINT64_MAX, "--guest-features"));
    auto ovmf = args.get("ovmf");
    if (!ovmf || ovmf->empty())
        return Error::make(Errc::Config, "needs --ovmf PATH");
    c.ovmf = *ovmf;
    c.snp_ovmf_hash = args.get("snp-ovmf-hash");
    c.svsm = path_flag(args, "svsm");
    if (auto size = args.get("vars-size"))
        c.vars_size = TRY(parse_number(*size, UINT32_MAX, "--vars-size"));
    c.vars_file = path_flag(args, "vars-file");
    c.kernel = path_flag(args, "kernel");
    c.initrd = path_flag(args, "initrd");
    if (auto append = args.get("append"); append && !append->empty())
        c.cmdline.push_back(*append);
    return c;
}

Result<MeasureRequest> request_from_config(const LaunchConfig& c)
{
    MeasureRequest r;
    auto mode = measure::mode_from_name(c.mode);
    if (!mode)
        return Error::make(Errc::Config, "unknown mode '%s' (snp, snp:ovmf-hash, snp:svsm, seves, sev)",
                           c.mode.c_str());
    auto vmm = measure::vmm_type_from_name(c.vmm_type);
    if (!vmm)
        return Error::make(Errc::Config, "unknown VMM type '%s' (QEMU, ec2, gce)", c.vmm_type.c_str());
    measure::Inputs& in = r.inputs;
    in.mode = *mode;
    in.vmm = *vmm;
    in.vcpu_sig = TRY(vcpu_sig(c, in.mode));
    bool vmsas = in.mode == Mode::Snp || in.mode == Mode::SnpSvsm || in.mode == Mode::SevEs;
    if (vmsas && !c.vcpus)
        return Error::make(Errc::Config, "missing --vcpus N in guest mode '%s'", c.mode.c_str());
    if (vmsas && in.vmm == measure::VmmType::Qemu && !in.vcpu_sig)
        return Error::make(Errc::Config, "missing --vcpu-type or --vcpu-sig or --vcpu-family in guest mode '%s'",
                           c.mode.c_str());
    in.vcpus = c.vcpus.value_or(0);
    in.guest_features = c.guest_features;
    in.ovmf = c.ovmf;
    if (c.snp_ovmf_hash) {
        auto seed = from_hex(*c.snp_ovmf_hash);
        if (!seed || seed->size() != in.snp_ovmf_hash.emplace().size())
            return Error::make(Errc::Config, "--snp-ovmf-hash: expected 96 hex digits (a snp:ovmf-hash output)");
        std::copy(seed->begin(), seed->end(), in.snp_ovmf_hash->begin());
    }
    in.kernel = c.kernel;
    in.initrd = c.initrd;
    in.append = c.cmdline_string();
    if (!in.kernel && (in.initrd || !in.append.empty()) && in.mode != Mode::SnpOvmfHash)
        return Error::make(Errc::Config, "--kernel required when using --initrd or --append");
    TRY(svsm_inputs(c, r));
    r.vcpu_type = c.vcpu_type;
    r.memory_mib = c.memory_mib;
    return r;
}

}  // namespace cvm::cli
