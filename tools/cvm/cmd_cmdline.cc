// cvm cmdline: compose, parse and check the agent's cvminit.* kernel parameters with the same
// grammar the agent links (kernel-cmdline/).
#include <cstdio>
#include <initializer_list>
#include <iterator>

#include "args.h"
#include "base/file.h"
#include "commands.h"
#include "kernel-cmdline/agent_config.h"
#include "kernel-cmdline/cmdline.h"
#include "kernel-cmdline/kernel_words.h"

namespace cvm::cli {
namespace {

constexpr const char* USAGE =
    R"(usage: cvm cmdline compose --broker URL (--broker-key B64 | --broker-key-file PEM) [options]
       cvm cmdline compose --initdata fw_cfg [--broker URL] [--broker-key B64 | ...] [options]
       cvm cmdline parse (TEXT | --file /proc/cmdline)
       cvm cmdline check [--config cvminit.toml] (TEXT | --file FILE)

The cvminit.* kernel parameters are the agent's measured configuration, with the same grammar
the agent parses (kernel-cmdline/README.md).

compose prints the whole kernel command line: the --extra words, panic=-1 (unless --extra sets
panic: a broken /init then ends the VM instead of hanging it), then the cvminit.* words in
their canonical order with every default written out, so the same flags always give the same
measured line.
  --broker URL            the broker, http:// or https:// with no path        cvminit.broker
  --broker-key B64        its Ed25519 public key (cvm broker keygen prints it)  cvminit.broker_key
  --broker-key-file PEM   or a public or private key PEM (only the public key is printed)
  --broker-protocol cvmkb|kbs  the broker's protocol: cvmkb/1, or a Trustee KBS (RCAR;
                          docs/kbs.md), which takes no --broker-key     cvminit.broker_protocol
  --simulate              use the SIMULATED platform                          cvminit.simulate=1
  --net dhcp|static|none  default dhcp                                        cvminit.net
  --ip A.B.C.D/N --gateway A.B.C.D   the address for --net static            cvminit.ip, .gateway
  --dns A.B.C.D[,...]     up to 3 name servers                                cvminit.dns
  --deadline SECONDS      the whole boot, 10 to 3600, default 120             cvminit.deadline
  --resources a,b         the secrets to ask the broker for                   cvminit.resources
  --workload PATH         the workload program (or workload.command in cvminit.toml)
  --verity-data DEV --verity-hash DEV --verity-blocks N --verity-root HEX --verity-salt HEX|-
                          a dm-verity root (cvm verity cmdline prints these)  cvminit.verity.*
  --data DEV              the LUKS2 data volume, formatted on first boot      cvminit.data
  --data-key NAME         the broker resource with its passphrase, default data  cvminit.data_key
  --data-mount PATH       where the workload sees it, default /data           cvminit.data_mount
  --data-key-mode broker|hybrid  hybrid: keyslot 0 needs the broker's key and this chip's
                          SNP derived key (docs/sealing.md)                   cvminit.data_key_mode
  --data-key-policy P     chip-only (default), measurement-and-chip or
                          measurement-only: what the hybrid derived key is bound to
                                                                              cvminit.data_key_policy
  --transport cvmkb|ratls key retrieval over cvmkb/1, or over mutual RA-TLS   cvminit.transport
  --reattest SECONDS      attest again every SECONDS (30 to 86400) while the workload runs
                                                                              cvminit.reattest
  --reattest-fail poweroff|log  what a refused re-attestation does        cvminit.reattest_fail
  --initdata fw_cfg       take the deployment's settings (broker, broker key, transport,
                          reattest, resources, workload env) from the init-data document whose
                          digest is the launch's HOST_DATA (docs/initdata.md); --broker and
                          --broker-key may then be left out              cvminit.initdata
  --extra "WORDS"         other kernel parameters, e.g. "console=ttyS0" (repeatable)

parse prints each cvminit.* value, one "key = value" per line; other words are ignored.
check also reads the agent's cvminit.toml and checks that the two agree (the workload and the
resources must each come from exactly one place), then prints the agent's whole configuration.
With cvminit.initdata=fw_cfg it checks the measured part (the document is the launch's:
cvm initdata check).

exit status: 0 valid, 2 usage error or an invalid parameter (the message names the key)
)";

int fail(const Error& e)
{
    return usage_failure("cmdline", e);
}

Result<std::string> broker_key_b64(const Args& args)
{
    if (auto b64 = args.get("broker-key")) {
        if (args.has("broker-key-file"))
            return Error::make(Errc::Config, "give --broker-key or --broker-key-file, not both");
        return *b64;
    }
    auto path = args.get("broker-key-file");
    if (!path && (args.has("initdata") || args.get("broker-protocol") == "kbs"))
        return std::string();  // the init-data document may pin the key; a KBS has none
    if (!path)
        return Error::make(Errc::Config, "compose needs --broker-key B64 or --broker-key-file PEM (or --initdata "
                                         "fw_cfg, or --broker-protocol kbs)");
    // The file may be the broker's private key: it is read into wiping storage, and only the
    // public half leaves this function.
    SecretBytes pem = TRY(read_secret_file(*path, 4096));
    std::string_view text(reinterpret_cast<const char*>(pem.expose().data()), pem.size());
    if (text.find("-----BEGIN PUBLIC KEY-----") != std::string_view::npos)
        return proto::ed25519_public_b64(TRY_PREFIX(proto::parse_ed25519_public_pem(text), "%s", path->c_str()));
    auto key = TRY_PREFIX(proto::parse_ed25519_private_pem(text), "%s", path->c_str());
    return proto::ed25519_public_b64(key.public_key());
}

// The --extra words, checked with the kernel's own split: no cvminit.* word (each has its flag,
// and a second copy would be refused at boot) and no "--" (it would hand ours to init as argv).
// Then panic=-1 unless they set panic themselves: a kernel panic (a broken /init, PID 1 exiting)
// reboots at once instead of hanging, and QEMU's -no-reboot turns that into QEMU's exit.
Result<std::string> extra_words(const Args& args)
{
    std::string extra;
    for (const std::string& part : args.all("extra")) {
        size_t begin = 0, end = part.size();
        while (begin < end && cmdline::is_kernel_space(part[begin]))
            ++begin;
        while (end > begin && cmdline::is_kernel_space(part[end - 1]))
            --end;
        if (begin < end)
            extra += (extra.empty() ? "" : " ") + part.substr(begin, end - begin);
    }
    auto words = TRY_PREFIX(cmdline::split_kernel_words(extra), "--extra");
    for (const cmdline::KernelWord& w : words) {
        if (w.past_parameters)
            return Error::make(Errc::Config, "--extra: contains \"--\", after which the kernel would pass the "
                                             "cvminit.* words to init as arguments");
        if (w.name.substr(0, 8) == "cvminit.")
            return Error::make(Errc::Config, "--extra: '%s' has its own flag (see cvm cmdline --help)",
                               cmdline::shown(w.name).c_str());
    }
    bool panic = false;
    for (const cmdline::KernelWord& w : words)
        panic = panic || w.name == "panic";
    if (!panic)
        extra += extra.empty() ? "panic=-1" : " panic=-1";
    return extra;
}

Result<void> compose(const Args& args)
{
    // Each flag becomes the parameter the agent will read, so the one grammar checks them; the
    // strings live in `values`, reserved up front so that the views in `params` stay valid.
    constexpr std::pair<const char*, std::string_view> FLAGS[] = {
        {"broker", "cvminit.broker"},
        {"net", "cvminit.net"},
        {"ip", "cvminit.ip"},
        {"gateway", "cvminit.gateway"},
        {"dns", "cvminit.dns"},
        {"deadline", "cvminit.deadline"},
        {"resources", "cvminit.resources"},
        {"workload", "cvminit.workload"},
        {"verity-data", "cvminit.verity.data"},
        {"verity-hash", "cvminit.verity.hash"},
        {"verity-blocks", "cvminit.verity.blocks"},
        {"verity-root", "cvminit.verity.root"},
        {"verity-salt", "cvminit.verity.salt"},
        {"data", "cvminit.data"},
        {"data-key", "cvminit.data_key"},
        {"data-mount", "cvminit.data_mount"},
        {"data-key-mode", "cvminit.data_key_mode"},
        {"data-key-policy", "cvminit.data_key_policy"},
        {"transport", "cvminit.transport"},
        {"broker-protocol", "cvminit.broker_protocol"},
        {"reattest", "cvminit.reattest"},
        {"reattest-fail", "cvminit.reattest_fail"},
        {"initdata", "cvminit.initdata"},
    };
    std::vector<std::string> values;
    std::vector<cmdline::Parameter> params;
    values.reserve(std::size(FLAGS) + 1);
    values.push_back(TRY(broker_key_b64(args)));
    if (!values.back().empty())
        params.push_back({"cvminit.broker_key", values.back()});
    for (const auto& [flag, name] : FLAGS) {
        if (auto v = args.get(flag)) {
            values.push_back(*v);
            params.push_back({name, values.back()});
        }
    }
    if (args.has("simulate"))
        params.push_back({"cvminit.simulate", "1"});
    cmdline::AgentCmdline parsed = TRY(cmdline::parse_parameters(params));

    std::string extra = TRY(extra_words(args));
    std::string line = (extra.empty() ? "" : extra + " ") + cmdline::compose_cmdline(parsed);
    if (line.size() > cmdline::X86_MAX_CMDLINE_LENGTH)
        return Error::make(Errc::Config, "the command line is %zu bytes; an x86 kernel takes at most %zu", line.size(),
                           cmdline::X86_MAX_CMDLINE_LENGTH);
    // What the agent will read must be exactly what was composed.
    cmdline::AgentCmdline reread = TRY_PREFIX(cmdline::parse_cmdline(line + "\n"), "composed line");
    if (!(reread == parsed))
        return Error::make(Errc::Config, "the composed line does not parse back to the same values");
    printf("%s\n", line.c_str());
    return {};
}

// The command line to parse: the one TEXT argument after the subcommand, or --file.
Result<std::string> input_text(const Args& args)
{
    const auto& words = args.positional();
    auto file = args.get("file");
    if (file && words.size() == 1)
        return TRY(read_text_file(*file, cmdline::MAX_PROC_CMDLINE_SIZE));
    if (!file && words.size() == 2)
        return words[1];
    return Error::make(Errc::Config, "expected the command line as one argument (quote it) or --file FILE");
}

// "cvminit.key = value" for each canonical word: what the agent will use, defaults included.
// Canonical words are unquoted "name=value" separated by single spaces.
void print_cmdline(const cmdline::AgentCmdline& parsed)
{
    std::string line = cmdline::compose_cmdline(parsed);
    for (std::string_view word : cmdline::split(line, ' ')) {
        size_t eq = word.find('=');
        printf("%.*s = %.*s\n", static_cast<int>(eq), word.data(), static_cast<int>(word.size() - eq - 1),
               word.data() + eq + 1);
    }
}

Result<void> parse(const Args& args)
{
    std::string text = TRY(input_text(args));
    print_cmdline(TRY(cmdline::parse_cmdline(text)));
    return {};
}

// A TOML basic string, so that arguments with spaces or quotes print unambiguously.
std::string quoted(const std::string& s)
{
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\')
            out += {'\\', c};
        else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
            out += esc;
        } else
            out += c;
    }
    return out + "\"";
}

Result<void> check(const Args& args)
{
    std::string text = TRY(input_text(args));
    cmdline::AgentCmdline parsed = TRY(cmdline::parse_cmdline(text));
    cmdline::AgentFileConfig file;
    if (auto path = args.get("config")) {
        std::string toml = TRY(read_text_file(*path, cmdline::MAX_AGENT_TOML_SIZE));
        file = TRY_PREFIX(cmdline::parse_agent_toml(toml), "%s", path->c_str());
    }
    cmdline::AgentConfig config = TRY(cmdline::merge_config(parsed, file));
    print_cmdline(parsed);
    std::string argv, env;
    for (const std::string& a : config.workload_argv)
        argv += (argv.empty() ? "" : ", ") + quoted(a);
    for (const auto& [name, value] : config.workload_env)
        env += (env.empty() ? "" : ", ") + name + " = " + quoted(value);
    std::string resources;
    for (const std::string& r : config.resources)
        resources += (resources.empty() ? "" : ",") + r;
    printf("workload.command = [%s]\n", argv.c_str());
    printf("workload.root = %s\n", config.workload_root.c_str());
    printf("workload.env = {%s}\n", env.c_str());
    printf("secrets.dir = %s\n", config.secrets_dir.c_str());
    printf("resources = %s\n", resources.empty() ? "(none)" : resources.c_str());
    for (const auto& [name, path] : config.kbs_paths)
        printf("kbs_paths.%s = %s\n", name.c_str(), path.c_str());
    return {};
}

constexpr std::initializer_list<const char*> COMPOSE_FLAGS = {
    "broker",        "broker-key",  "broker-key-file", "simulate",        "net",         "ip",
    "gateway",       "dns",         "deadline",        "resources",       "workload",    "extra",
    "verity-data",   "verity-hash", "verity-blocks",   "verity-root",     "verity-salt", "data",
    "data-key",      "data-mount",  "data-key-mode",   "data-key-policy", "transport",   "reattest",
    "reattest-fail", "initdata",    "broker-protocol"};

Result<void> run(const Args& args)
{
    const auto& words = args.positional();
    std::string sub = words.empty() ? "" : words[0];
    if (sub == "compose" && words.size() == 1) {
        TRY(refuse_flags(args, "compose", {"file", "config"}));
        return compose(args);
    }
    if (sub == "parse") {
        TRY(refuse_flags(args, "parse", COMPOSE_FLAGS));
        TRY(refuse_flags(args, "parse", {"config"}));
        return parse(args);
    }
    if (sub == "check") {
        TRY(refuse_flags(args, "check", COMPOSE_FLAGS));
        return check(args);
    }
    return Error::make(Errc::Config, "expected compose, parse or check (see cvm cmdline --help)");
}

}  // namespace

int cmd_cmdline(const std::vector<std::string>& argv)
{
    auto args = Args::parse(argv, {{"broker", Takes::Value},
                                   {"broker-key", Takes::Value},
                                   {"broker-key-file", Takes::Value},
                                   {"simulate", Takes::Nothing},
                                   {"net", Takes::Value},
                                   {"ip", Takes::Value},
                                   {"gateway", Takes::Value},
                                   {"dns", Takes::Value},
                                   {"deadline", Takes::Value},
                                   {"resources", Takes::Value},
                                   {"workload", Takes::Value},
                                   {"verity-data", Takes::Value},
                                   {"verity-hash", Takes::Value},
                                   {"verity-blocks", Takes::Value},
                                   {"verity-root", Takes::Value},
                                   {"verity-salt", Takes::Value},
                                   {"data", Takes::Value},
                                   {"data-key", Takes::Value},
                                   {"data-mount", Takes::Value},
                                   {"data-key-mode", Takes::Value},
                                   {"data-key-policy", Takes::Value},
                                   {"extra", Takes::Values},
                                   {"file", Takes::Value},
                                   {"transport", Takes::Value},
                                   {"reattest", Takes::Value},
                                   {"reattest-fail", Takes::Value},
                                   {"config", Takes::Value},
                                   {"initdata", Takes::Value},
                                   {"broker-protocol", Takes::Value}});
    if (!args.ok())
        return fail(args.error());
    if (args->help()) {
        fputs(USAGE, stdout);
        return EXIT_OK;
    }
    Result<void> done = run(args.value());
    return done.ok() ? EXIT_OK : fail(done.error());
}

}  // namespace cvm::cli
