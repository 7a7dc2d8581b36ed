// cvm initramfs: build the measured initramfs of a cvminit VM (initramfs/), or list one.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "args.h"
#include "base/file.h"
#include "commands.h"
#include "crypto/digest.h"
#include "initramfs/checks.h"
#include "initramfs/cpio.h"
#include "initramfs/gzip.h"
#include "initramfs/layout.h"

namespace cvm::cli {
namespace {

using namespace cvm::initramfs;

constexpr const char* USAGE = R"(usage: cvm initramfs --agent PATH -o OUT [options]
       cvm initramfs --list FILE

Builds the initramfs of a cvminit VM as a reproducible newc cpio archive. Its bytes are part of
the launch MEASUREMENT, so they depend only on the inputs' paths, types and contents: entries in
bytewise path order, inode numbers 1, 2, 3..., owner 0:0, one fixed mtime, permissions 0755
(directories, executables), 0644 (other files), 0777 (symlinks).

  --agent PATH            the cvminit binary; becomes /init (0755); must be a static x86-64 ELF
                          executable (a warning when it lacks cvminit's ELF note)
  --config FILE           the agent's configuration; becomes /etc/cvminit.toml; checked with the
                          agent's grammar, and its [workload] command and that command's "#!" or
                          ELF interpreters must be executable files in the archive below
                          [workload] root (a warning when nothing is there: a verity root)
  --kernel-modules DIR    the booted kernel's lib/modules/<version> directory (with modules.dep);
                          <version> must be that kernel's release (uname -r)
  --module NAME           a module to load at boot, as modprobe names it (repeatable); it and its
                          dependencies go to /lib/modules/<version>/, and their load order to
                          /etc/cvminit/modules
  --platform snp|sim      the modules a platform needs, before any --module (repeatable):
                          snp: sev-guest, configfs, tsm or tsm_report, and up to kernel 6.12 the
                               gcm(aes) crypto its probe allocates (gcm, ghash_generic, ...);
                               qemu_fw_cfg when the kernel has it (cvminit.initdata=fw_cfg);
                          sim: qemu_fw_cfg and virtio_net (the simulated platform under QEMU)
  --root DIR              a tree copied to /workload; symlinks are kept as symlinks, never followed
  --file SRC:DEST         one more file at DEST (repeatable); 0755 if SRC has an execute bit;
                          never /init, /etc/cvminit.toml or /etc/cvminit/modules
  --compress none|gzip    compress the archive (default none; gzip output is reproducible too)
  --source-date-epoch N   the mtime of every entry (default: $SOURCE_DATE_EPOCH, else 0)
  -o, --output OUT        where to write the initramfs

  --list FILE             print the entries of an initramfs (plain or gzip): mode, size, path

A build prints the SHA-256 of OUT, the number of entries and the modules in load order.
exit status: 0 success, 2 usage or input error
)";

int fail(const Error& e)
{
    return usage_failure("initramfs", e);
}

// Hashes and counts what passes through on its way to the file.
class DigestSink final : public Sink {
public:
    explicit DigestSink(Sink& next) : m_next(next) {}

    Result<void> write(ByteView data) override
    {
        m_digest.update(data);
        m_bytes += data.size();
        return m_next.write(data);
    }
    Result<void> finish() override { return m_next.finish(); }

    crypto::Sha256Digest digest() { return m_digest.finish(); }
    uint64_t bytes() const { return m_bytes; }

private:
    Sink& m_next;
    crypto::Sha256 m_digest;
    uint64_t m_bytes{0};
};

// newc's c_mtime is 8 hexadecimal digits: seconds since the epoch up to 2106.
Result<uint32_t> parse_epoch(const std::string& text, const char* what)
{
    bool digits = !text.empty() && text.size() <= 10 && text.find_first_not_of("0123456789") == std::string::npos;
    uint64_t value = digits ? strtoull(text.c_str(), nullptr, 10) : 0;
    if (!digits || value > UINT32_MAX)
        return Error::make(Errc::Config, "%s '%s': expected whole seconds in 0..4294967295", what, text.c_str());
    return static_cast<uint32_t>(value);
}

Result<uint32_t> source_date_epoch(const Args& args)
{
    if (auto flag = args.get("source-date-epoch"))
        return parse_epoch(*flag, "--source-date-epoch");
    const char* env = getenv("SOURCE_DATE_EPOCH");
    if (env && *env)
        return parse_epoch(env, "SOURCE_DATE_EPOCH");
    return 0u;
}

Result<void> build(const Args& args)
{
    auto agent = args.get("agent");
    auto output = args.get("output");
    if (!agent || !output)
        return Error::make(Errc::Config, "--agent PATH and -o OUT are required (see cvm initramfs --help)");
    std::string compress = args.get("compress").value_or("none");
    if (compress != "none" && compress != "gzip")
        return Error::make(Errc::Config, "--compress %s: expected none or gzip", compress.c_str());
    uint32_t mtime = TRY(source_date_epoch(args));
    if (!args.positional().empty())
        return Error::make(Errc::Config, "unexpected argument '%s'", args.positional()[0].c_str());

    LayoutInputs inputs;
    inputs.agent = *agent;
    inputs.config = args.get("config");
    inputs.kernel_modules = args.get("kernel-modules");
    inputs.modules = args.all("module");
    for (const std::string& name : args.all("platform")) {
        Platform platform = TRY(parse_platform(name));
        if (std::find(inputs.platforms.begin(), inputs.platforms.end(), platform) == inputs.platforms.end())
            inputs.platforms.push_back(platform);
    }
    inputs.root = args.get("root");
    for (const std::string& spec : args.all("file"))
        inputs.files.push_back(TRY(parse_extra_file(spec)));
    // Checked now rather than at boot (initramfs/checks.h): the agent, its configuration in the
    // agent's own grammar, and the workload command with its interpreters in the archive.
    std::vector<std::string> warnings;
    TRY(check_agent(inputs.agent, warnings));
    std::optional<cmdline::AgentFileConfig> config;
    if (inputs.config)
        config = TRY(check_config(*inputs.config));
    Layout layout = TRY(build_layout(inputs));
    if (config)
        TRY(check_workload(layout.archive, *config, warnings));
    for (const std::string& w : warnings)
        fprintf(stderr, "cvm initramfs: warning: %s\n", w.c_str());

    FileSink file = TRY(FileSink::create(*output));
    DigestSink digest(file);
    std::optional<GzipSink> gzip;
    if (compress == "gzip")
        gzip.emplace(TRY(GzipSink::create(digest)));
    TRY(layout.archive.write(gzip ? static_cast<Sink&>(*gzip) : digest, mtime));

    for (const std::string& name : layout.modules.builtin)
        printf("module %s: built into the kernel, nothing to load\n", name.c_str());
    for (const std::string& path : layout.modules.load_order)
        printf("module %s/%s/%s\n", MODULES_ROOT, layout.kernel_version.c_str(), path.c_str());
    printf("%zu entries, %" PRIu64 " bytes", layout.archive.size(), layout.archive.archive_bytes());
    if (gzip)
        printf(", %" PRIu64 " bytes gzip'd", digest.bytes());
    printf("\n");
    printf("sha256 %s  %s\n", to_hex(digest.digest()).c_str(), output->c_str());
    return {};
}

// Names and targets come from the archive: escape what could drive a terminal or split a line.
std::string printable(ByteView bytes)
{
    std::string out;
    for (uint8_t c : bytes) {
        if (c < 0x20 || c == 0x7f || c == '\\') {
            char hex[5];
            snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
    return out;
}

Result<void> list(const std::string& path)
{
    Bytes data = TRY(read_file(path, MAX_ARCHIVE_BYTES));
    if (is_gzip(data))
        data = TRY_PREFIX(gunzip(data, MAX_ARCHIVE_BYTES), "%s", path.c_str());
    std::vector<NewcEntry> entries = TRY_PREFIX(read_newc(data), "%s", path.c_str());
    for (const NewcEntry& e : entries) {
        bool symlink = (e.mode & 0170000) == 0120000;
        printf("%06o %10zu %s%s%s\n", e.mode, e.data.size(), printable(as_bytes(e.path)).c_str(), symlink ? " -> " : "",
               symlink ? printable(e.data).c_str() : "");
    }
    return {};
}

}  // namespace

int cmd_initramfs(const std::vector<std::string>& argv)
{
    auto args = Args::parse(expand_short_output(argv), {{"agent", Takes::Value},
                                                        {"config", Takes::Value},
                                                        {"kernel-modules", Takes::Value},
                                                        {"module", Takes::Values},
                                                        {"platform", Takes::Values},
                                                        {"root", Takes::Value},
                                                        {"file", Takes::Values},
                                                        {"compress", Takes::Value},
                                                        {"source-date-epoch", Takes::Value},
                                                        {"output", Takes::Value},
                                                        {"list", Takes::Value}});
    if (!args.ok())
        return fail(args.error());
    if (args->help()) {
        fputs(USAGE, stdout);
        return EXIT_OK;
    }
    if (argv.empty()) {
        fputs(USAGE, stderr);
        return EXIT_USAGE;
    }
    Result<void> done;
    if (auto file = args->get("list")) {
        bool alone = args->positional().empty();
        for (const char* other : {"agent", "config", "kernel-modules", "module", "platform", "root", "file", "compress",
                                  "source-date-epoch", "output"})
            alone = alone && !args->has(other);
        done = alone ? list(*file) : Error::make(Errc::Config, "--list FILE takes no other options or arguments");
    } else {
        done = build(args.value());
    }
    return done.ok() ? EXIT_OK : fail(done.error());
}

}  // namespace cvm::cli
