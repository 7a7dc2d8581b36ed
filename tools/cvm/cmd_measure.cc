// cvm measure: the launch digest a correct launch must produce; a drop-in for sev-snp-measure
// 0.0.13 (same flags, defaults and digests), plus JSON output and launch.toml.
#include <cstdio>

#include "args.h"
#include "base/file.h"
#include "commands.h"
#include "measure/launch_toml.h"
#include "measure_output.h"
#include "measure_request.h"

namespace cvm::cli {

namespace {

constexpr const char* USAGE = R"(usage: cvm measure --mode MODE --ovmf PATH [options]
       cvm measure --launch launch.toml [--output-format FORMAT] [--dump-vmsa[=DIR]]

Computes the launch digest of an AMD SEV, SEV-ES or SEV-SNP guest: for SNP the MEASUREMENT
its attestation report must carry. Same flags, defaults and digests as sev-snp-measure 0.0.13.

  --mode MODE            snp, snp:ovmf-hash (the digest of the OVMF pages only, for
                         --snp-ovmf-hash), snp:svsm (COCONUT-SVSM), seves, sev
  --ovmf PATH            the OVMF image, as passed to QEMU's -bios
  --vcpus N              number of vCPUs (all modes but sev and snp:ovmf-hash)
  --vcpu-type NAME       EPYC, EPYC-v1..v4, EPYC-IBPB, EPYC-Rome(-v1..v3), EPYC-Milan(-v1,v2),
                         EPYC-Genoa(-v1), EPYC-Turin
  --vcpu-sig VALUE       the vCPU's CPUID signature instead (e.g. 0xa00f11)
  --vcpu-family F --vcpu-model M --vcpu-stepping S
                         or its family, model and stepping (these win over --vcpu-sig, which
                         wins over --vcpu-type); QEMU needs one of the three, ec2 and gce none
  --vmm-type TYPE        QEMU (default), ec2 or gce
  --guest-features VALUE SEV_FEATURES of the SNP vCPUs (default 0x1: SNPActive; 0x21 adds
                         DebugSwap, as host kernels 6.6 to 6.9 did)
  --kernel PATH          measured direct boot: the bzImage (its hash goes in the firmware's
  --initrd PATH          kernel-hashes table, with the initrd's and the command line's)
  --append CMDLINE
  --snp-ovmf-hash HEX    mode snp: start from this snp:ovmf-hash output instead of hashing
                         OVMF (the OVMF image is still read for its metadata)
  --svsm PATH            snp:svsm: the SVSM image, loaded below OVMF and its variable store
  --vars-size N | --vars-file PATH
                         snp:svsm: the size of the OVMF variable store, or the file itself
  --launch FILE          take all of the above from a launch.toml instead (format below)

output:
  --output-format FORMAT hex (default), base64, or json (the digest and every input with its
                         SHA-256); snp:ovmf-hash prints hex unless json is asked for
  --dump-vmsa[=DIR]      write the measured VMSA pages to DIR/vmsa<N>.bin (default: the
                         current directory; seves, snp and snp:svsm)
  -v, --verbose          "Calculated SEV_SNP guest measurement: <digest>"
  --version, -h, --help

launch.toml (relative paths are relative to the file):
  mode = "snp"                    vcpus = 4              vcpu_type = "EPYC-Milan"
  vmm_type = "QEMU"               guest_features = 0x1   memory_mib = 4096
  [firmware]  ovmf = "OVMF.amdsev.fd"   (snp_ovmf_hash, svsm, vars_size, vars_file)
  [kernel]    path = "vmlinuz"   initrd = "initrd.img"   cmdline = ["console=ttyS0", "..."]
  vcpu_sig or vcpu_family/vcpu_model/vcpu_stepping may replace vcpu_type.
  Not measured, for cvm launch and the report: policy = 0x30000   host_data = "<64 hex>"
  (or initdata = "deploy.toml", whose digest HOST_DATA becomes: docs/initdata.md)
  author_key_enabled = true   [id_block] id_key, author_key, family_id, image_id, guest_svn
  (measure/launch_toml.h has the whole format)

exit status: 0 success, 2 usage or input error (the message names the file and the problem)
)";

const std::vector<FlagSpec> FLAGS = {
    {"mode", Takes::Value},           {"vcpus", Takes::Value},         {"vcpu-type", Takes::Value},
    {"vcpu-sig", Takes::Value},       {"vcpu-family", Takes::Value},   {"vcpu-model", Takes::Value},
    {"vcpu-stepping", Takes::Value},  {"vmm-type", Takes::Value},      {"ovmf", Takes::Value},
    {"kernel", Takes::Value},         {"initrd", Takes::Value},        {"append", Takes::Value},
    {"guest-features", Takes::Value}, {"output-format", Takes::Value}, {"snp-ovmf-hash", Takes::Value},
    {"dump-vmsa", Takes::Nothing},    {"dump-vmsa-dir", Takes::Value}, {"svsm", Takes::Value},
    {"vars-size", Takes::Value},      {"vars-file", Takes::Value},     {"launch", Takes::Value},
    {"verbose", Takes::Nothing},      {"version", Takes::Nothing},
};

// Flags that describe the launch, which --launch replaces.
const char* const LAUNCH_FLAGS[] = {"mode",       "vcpus",         "vcpu-type",      "vcpu-sig",      "vcpu-family",
                                    "vcpu-model", "vcpu-stepping", "vmm-type",       "ovmf",          "kernel",
                                    "initrd",     "append",        "guest-features", "snp-ovmf-hash", "svsm",
                                    "vars-size",  "vars-file"};

int fail(const Error& e)
{
    return usage_failure("measure", e);
}

// sev-snp-measure spells two options in ways our flag grammar does not take: "-v", and
// "--dump-vmsa" as a switch. "--dump-vmsa=DIR" adds the directory.
std::vector<std::string> normalise(const std::vector<std::string>& argv)
{
    std::vector<std::string> out;
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "--") {
            out.insert(out.end(), argv.begin() + static_cast<long>(i), argv.end());
            break;
        }
        if (a == "-v")
            out.push_back("--verbose");
        else if (a.rfind("--dump-vmsa=", 0) == 0)
            out.push_back("--dump-vmsa-dir=" + a.substr(12));
        else
            out.push_back(a);
    }
    return out;
}

Result<MeasureRequest> load_request(const Args& args)
{
    auto launch_path = args.get("launch");
    if (!launch_path)
        return request_from_config(TRY(config_from_flags(args)));
    for (const char* flag : LAUNCH_FLAGS) {
        if (args.has(flag))
            return Error::make(Errc::Config, "--%s cannot be combined with --launch, which describes the whole launch",
                               flag);
    }
    auto request = request_from_config(TRY(launch::load_launch_toml(*launch_path)));
    if (!request.ok())
        return request.release_error().prefix("%s", launch_path->c_str());
    return request;
}

Result<void> dump_vmsas(const std::string& dir, const measure::Measurement& m, uint32_t vcpus)
{
    for (uint32_t i = 0; i < vcpus; ++i) {
        std::string path = dir + "/vmsa" + std::to_string(i) + ".bin";
        TRY(write_file_atomic(path, m.vmsa_for(i)));
    }
    return {};
}

}  // namespace

int cmd_measure(const std::vector<std::string>& argv)
{
    auto args = Args::parse(normalise(argv), FLAGS);
    if (!args.ok())
        return fail(args.error());
    if (args->help()) {
        fputs(USAGE, stdout);
        return EXIT_OK;
    }
    if (args->has("version")) {
        printf("cvm measure %s (sev-snp-measure 0.0.13 compatible)\n", CVM_VERSION);
        return EXIT_OK;
    }
    if (!args->positional().empty())
        return fail(Error::make(Errc::Config, "unexpected argument '%s'", args->positional()[0].c_str()));
    auto format = output_format_from_name(args->get("output-format").value_or("hex"));
    if (!format)
        return fail(Error::make(Errc::Config, "--output-format: expected hex, base64 or json"));

    auto request = load_request(args.value());
    if (!request.ok())
        return fail(request.error());
    // The JSON record echoes every input with its SHA-256; the other formats need no extra pass.
    request->inputs.file_digests = *format == OutputFormat::Json;
    const measure::Inputs& in = request->inputs;
    bool dump = args->has("dump-vmsa") || args->has("dump-vmsa-dir");
    if (dump && (in.mode == measure::Mode::Sev || in.mode == measure::Mode::SnpOvmfHash))
        return fail(Error::make(Errc::Config, "--dump-vmsa only applies to modes seves, snp and snp:svsm"));

    auto measurement = measure::measure(in);
    if (!measurement.ok())
        return fail(measurement.error());
    if (dump) {
        auto dumped = dump_vmsas(args->get("dump-vmsa-dir").value_or("."), measurement.value(), in.vcpus);
        if (!dumped.ok())
            return fail(dumped.error());
    }
    MeasureOutput out{request.value(), measurement.value(), args->get("launch"), std::nullopt};
    if (out.launch_path) {
        auto digest = crypto::sha256_file(*out.launch_path);
        if (!digest.ok())
            return fail(digest.error());
        out.launch_sha256 = digest.value();
    }
    print_measurement(stdout, *format, args->has("verbose"), out);
    return EXIT_OK;
}

}  // namespace cvm::cli
