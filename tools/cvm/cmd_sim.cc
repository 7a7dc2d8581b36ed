// cvm sim: the simulated AMD platform for development and CI. SIMULATED: it proves the plumbing,
// never confidentiality, and no verifier trusts it unless told to.
#include <cstdio>

#include "args.h"
#include "base/file.h"
#include "commands.h"
#include "measure_request.h"
#include "sim/crl.h"
#include "sim/fw_cfg.h"
#include "sim/platform_dir.h"
#include "sim_launch.h"

namespace cvm::cli {

namespace {

constexpr const char* USAGE = R"(usage: cvm sim init DIR [--product Milan|Genoa|Turin] [--chip-id HEX]
       cvm sim report DIR --report-data HEX (--measurement HEX | --launch FILE) -o REPORT [options]
       cvm sim fw-cfg DIR (--measurement HEX | --launch FILE) --out OUTDIR [options]
       cvm sim crl DIR [--revoke ask|vcek]... [--out FILE] [--this-update TIME] [--next-update TIME]

A SIMULATED AMD SEV-SNP platform: an ARK -> ASK -> VCEK chain made here (not by AMD) and a
software Secure Processor that signs attestation reports with the VCEK. It proves the plumbing,
never confidentiality. No verifier trusts it unless told to: `cvm verify --trusted-root
DIR/ark.pem`, or a broker policy with allow_simulated = true.

init DIR             make a platform in DIR (created 0700; an existing platform is never
                     overwritten): ark.pem, ask.pem, vcek.der, vcek-key.pem (0600), platform.toml,
                     ark-key.pem (0600: signs CRLs) and crl.der (the ARK's CRL, nothing revoked,
                     valid a year: `cvm verify --crl DIR/crl.der`)
  --product NAME     Milan, Genoa (default) or Turin
  --chip-id HEX      the 64-byte CHIP_ID (default: "CVMSIM" and random bytes; Turin: 8 bytes)

report DIR           a signed ATTESTATION_REPORT from the platform in DIR
  --report-data HEX  REPORT_DATA, 64 bytes (128 hex digits)
  --vmpl N           the requesting VMPL, 0 to 3 (default 0)
  -o, --output FILE  where to write the 1184-byte report
  --cert-table FILE  also write the GUID certificate table (VCEK, ASK, ARK), as configfs-tsm's
                     auxblob: `cvm verify --report FILE --cert-table FILE --trusted-root ...`

fw-cfg DIR           the QEMU fw_cfg blobs a guest's simulated PSP reads (opt/cvminit/sim/key,
                     certs, launch); prints the QEMU arguments, one per line
  --out OUTDIR       where to write them (created 0700; files 0600)

crl DIR              a new CRL signed by the platform's ARK, shaped as AMD's KDS CRLs
  --revoke ask|vcek  list the ASK (serial 0x10001) or the VCEK (serial 0) as revoked; may repeat
  --out FILE         where to write it (DER; default DIR/crl.der, replaced)
  --this-update TIME thisUpdate (default: a day ago); TIME is seconds since the epoch,
                     YYYY-MM-DD[THH:MM:SSZ] UTC, or +Nd / -Nd days from now
  --next-update TIME nextUpdate (default: thisUpdate + 365 days); a past one makes an expired CRL

the launch (report, fw-cfg):
  --measurement HEX  the launch MEASUREMENT, 48 bytes
  --launch FILE      or compute it from a launch.toml, exactly as `cvm measure --launch` does
  --policy N         GUEST_POLICY (default 0x30000: SMT allowed, no DEBUG)
  --host-data HEX    HOST_DATA, 32 bytes       --guest-svn N     GUEST_SVN
  --family-id HEX    FAMILY_ID, 16 bytes       --image-id HEX    IMAGE_ID, 16 bytes
  --platform-info N  PLATFORM_INFO (default 0x1: SMT enabled)

exit status: 0 success, 2 usage or input error
)";

int fail(const Error& e)
{
    return usage_failure("sim", e);
}

std::vector<FlagSpec> with_launch_flags(std::vector<FlagSpec> flags)
{
    flags.insert(flags.end(), sim_launch_flags().begin(), sim_launch_flags().end());
    return flags;
}

Result<std::string> platform_dir(const Args& args)
{
    if (args.positional().size() != 1)
        return Error::make(Errc::Config, "expected exactly one platform directory (see cvm sim --help)");
    return args.positional()[0];
}

Result<void> init(const Args& args)
{
    std::string dir = TRY(platform_dir(args));
    sim::PlatformOptions options;
    if (auto name = args.get("product")) {
        auto product = snp::product_from_name(*name);
        if (!product || *name != snp::product_name(*product))
            return Error::make(Errc::Config, "--product %s: expected Milan, Genoa or Turin", name->c_str());
        options.product = *product;
    }
    if (auto hex = args.get("chip-id")) {
        auto bytes = from_hex(*hex);
        if (!bytes || bytes->size() != sim::CHIP_ID_SIZE)
            return Error::make(Errc::Config, "--chip-id: expected 128 hex digits (64 bytes)");
        options.chip_id.emplace();
        std::copy(bytes->begin(), bytes->end(), options.chip_id->begin());
    }
    sim::Platform p = TRY(sim::create_platform(options));
    TRY(sim::write_platform(p, dir));
    printf("SIMULATED AMD SEV-SNP platform (%s) in %s: NOT AMD\n", std::string(snp::product_name(p.product)).c_str(),
           dir.c_str());
    printf("  root (ARK)   %s/%s\n", dir.c_str(), sim::PLATFORM_ARK);
    printf("  ASK          %s/%s\n", dir.c_str(), sim::PLATFORM_ASK);
    printf("  VCEK         %s/%s\n", dir.c_str(), sim::PLATFORM_VCEK);
    printf("  VCEK key     %s/%s (0600: the simulated PSP's secret)\n", dir.c_str(), sim::PLATFORM_KEY);
    printf("  description  %s/%s\n", dir.c_str(), sim::PLATFORM_TOML);
    printf("  ARK key      %s/%s (0600: signs the platform's CRLs)\n", dir.c_str(), sim::PLATFORM_ARK_KEY);
    printf("  CRL          %s/%s (nothing revoked: `cvm verify --crl`; `cvm sim crl` makes others)\n", dir.c_str(),
           sim::PLATFORM_CRL);
    printf("chip id: %s\n", to_hex(p.chip_id).c_str());
    printf("tcb: %s\n", p.tcb.to_string(p.product).c_str());
    printf("The root is SIMULATED: trust it only explicitly, with `cvm verify --trusted-root %s/%s` or a broker "
           "policy with allow_simulated = true.\n",
           dir.c_str(), sim::PLATFORM_ARK);
    return {};
}

// Seconds since the epoch, YYYY-MM-DD[THH:MM:SSZ] (UTC), or +Nd / -Nd days from now.
Result<std::time_t> crl_time(const std::string& text, const char* flag)
{
    std::time_t now = time(nullptr);
    if (text.size() >= 3 && (text[0] == '+' || text[0] == '-') && text.back() == 'd') {
        int64_t days = TRY(parse_number(text.substr(1, text.size() - 2), 36500, flag));
        return now + (text[0] == '-' ? -1 : 1) * static_cast<std::time_t>(days) * 24 * 60 * 60;
    }
    struct tm tm {};
    int n = 0;
    char tail[2] = {};
    if (sscanf(text.c_str(), "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) == 3 &&
        (text.size() == static_cast<size_t>(n) ||
         sscanf(text.c_str() + n, "T%2d:%2d:%2d%1[Z]", &tm.tm_hour, &tm.tm_min, &tm.tm_sec, tail) == 4)) {
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        return timegm(&tm);
    }
    return static_cast<std::time_t>(TRY(parse_number(text, INT64_MAX, flag)));
}

Result<void> crl(const Args& args)
{
    std::string dir = TRY(platform_dir(args));
    sim::CrlOptions options;
    for (const std::string& what : args.all("revoke")) {
        if (what == "ask")
            options.revoked.push_back(sim::SIM_ASK_SERIAL);
        else if (what == "vcek")
            options.revoked.push_back(sim::SIM_VCEK_SERIAL);
        else
            return Error::make(Errc::Config, "--revoke %s: expected ask or vcek", what.c_str());
    }
    if (auto t = args.get("this-update"))
        options.this_update = TRY(crl_time(*t, "--this-update"));
    if (auto t = args.get("next-update"))
        options.next_update = TRY(crl_time(*t, "--next-update"));
    sim::Platform platform = TRY(sim::read_platform(dir));
    Bytes der = TRY(sim::make_crl(platform, options));
    std::string out = args.get("out").value_or(dir + "/" + sim::PLATFORM_CRL);
    TRY(write_file_atomic(out, der));
    printf("SIMULATED CRL (%s ARK, %zu revoked) written to %s\n",
           std::string(snp::product_name(platform.product)).c_str(), options.revoked.size(), out.c_str());
    return {};
}

Result<void> report(const Args& args)
{
    std::string dir = TRY(platform_dir(args));
    auto data_hex = args.get("report-data");
    auto data = data_hex ? from_hex(*data_hex) : std::nullopt;
    if (!data || data->size() != 64)
        return Error::make(Errc::Config, "--report-data: expected 128 hex digits (64 bytes)");
    auto output = args.get("output");
    if (!output)
        return Error::make(Errc::Config, "needs -o FILE for the report");
    uint32_t vmpl = 0;
    if (auto v = args.get("vmpl"))
        vmpl = static_cast<uint32_t>(TRY(parse_number(*v, sim::MAX_VMPL, "--vmpl")));
    sim::LaunchState launch = TRY(launch_state_from_flags(args));

    sim::Platform platform = TRY(sim::read_platform(dir));
    sim::SimulatedPsp psp = TRY(sim::SimulatedPsp::create(platform, launch));
    std::array<uint8_t, 64> report_data;
    std::copy(data->begin(), data->end(), report_data.begin());
    Bytes raw = TRY(psp.get_report(report_data, vmpl));
    TRY(write_file_atomic(*output, raw));
    if (auto table = args.get("cert-table"))
        TRY(write_file_atomic(*table, psp.cert_table()));
    printf("SIMULATED report (%s, VMPL %u, measurement %s) written to %s\n",
           std::string(snp::product_name(platform.product)).c_str(), vmpl, to_hex(launch.measurement).c_str(),
           output->c_str());
    return {};
}

Result<void> fw_cfg(const Args& args)
{
    std::string dir = TRY(platform_dir(args));
    auto out = args.get("out");
    if (!out)
        return Error::make(Errc::Config, "needs --out OUTDIR for the fw_cfg blobs");
    sim::LaunchState launch = TRY(launch_state_from_flags(args));
    sim::Platform platform = TRY(sim::read_platform(dir));
    TRY(sim::write_fw_cfg_files(platform, launch, *out));
    fprintf(stderr, "cvm sim: SIMULATED platform blobs in %s; QEMU arguments follow\n", out->c_str());
    for (const std::string& arg : sim::qemu_fw_cfg_args(*out))
        printf("%s\n", arg.c_str());
    return {};
}

struct Subcommand {
    const char* name;
    std::vector<FlagSpec> flags;
    Result<void> (*run)(const Args&);
};

}  // namespace

int cmd_sim(const std::vector<std::string>& argv)
{
    const Subcommand SUBCOMMANDS[] = {
        {"init", {{"product", Takes::Value}, {"chip-id", Takes::Value}}, init},
        {"report",
         with_launch_flags({{"report-data", Takes::Value},
                            {"vmpl", Takes::Value},
                            {"output", Takes::Value},
                            {"cert-table", Takes::Value}}),
         report},
        {"fw-cfg", with_launch_flags({{"out", Takes::Value}}), fw_cfg},
        {"crl",
         {{"revoke", Takes::Values},
          {"out", Takes::Value},
          {"this-update", Takes::Value},
          {"next-update", Takes::Value}},
         crl},
    };
    if (argv.empty() || argv[0] == "-h" || argv[0] == "--help" || argv[0] == "help") {
        fputs(USAGE, argv.empty() ? stderr : stdout);
        return argv.empty() ? EXIT_USAGE : EXIT_OK;
    }
    for (const Subcommand& s : SUBCOMMANDS) {
        if (argv[0] != s.name)
            continue;
        auto args = Args::parse(expand_short_output({argv.begin() + 1, argv.end()}), s.flags);
        if (!args.ok())
            return fail(args.error());
        if (args->help()) {
            fputs(USAGE, stdout);
            return EXIT_OK;
        }
        auto done = s.run(args.value());
        return done.ok() ? EXIT_OK : fail(done.error());
    }
    return fail(Error::make(Errc::Config, "unknown subcommand '%s' (init, report, fw-cfg, crl)", argv[0].c_str()));
}

}  // namespace cvm::cli
