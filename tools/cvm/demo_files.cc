#include "demo_files.h"

#include <sodium.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <optional>

#include "base/file.h"
#include "sim/crl.h"
#include "sim/platform_dir.h"
#include "verify/crl.h"

namespace cvm::cli {
namespace {

constexpr size_t VOLUME_KEY_BYTES = 64;  // docs/broker.md: 32 to 512 random bytes

Result<void> write_text(const std::string& path, const std::string& text, unsigned mode = 0644)
{
    return write_file_atomic(path, {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, mode);
}

bool exists(const std::string& path)
{
    struct stat st {};
    return lstat(path.c_str(), &st) == 0;
}

// TOML basic strings: the paths here come from the command line and may hold quotes.
std::string toml_string(const std::string& s)
{
    std::string out = "\"";
    for (char c : s)
        out += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
    return out + "\"";
}

}  // namespace

Result<void> make_dirs(const std::string& path)
{
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec)
        return Error::make(Errc::Io, "cannot create %s: %s", path.c_str(), ec.message().c_str());
    return {};
}

Result<std::string> make_work_dir(const std::optional<std::string>& dir)
{
    if (dir) {
        if (dir->empty())
            return Error::make(Errc::Config, "--work-dir is empty, expected a directory");
        std::error_code ec;
        std::string absolute = std::filesystem::absolute(*dir, ec).lexically_normal().string();
        if (ec)
            return Error::make(Errc::Io, "--work-dir %s: %s", dir->c_str(), ec.message().c_str());
        if (absolute.size() > 1 && absolute.back() == '/')
            absolute.pop_back();
        if (!exists(absolute)) {
            TRY(make_dirs(std::filesystem::path(absolute).parent_path().string()));
            if (mkdir(absolute.c_str(), 0700) != 0 && errno != EEXIST)
                return Error::from_errno(Errc::Io, errno, "cannot create %s: %s", absolute.c_str(), strerror(errno));
        }
        return absolute;
    }
    const char* tmp = getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/cvm-demo-XXXXXX";
    if (!mkdtemp(pattern.data()))
        return Error::from_errno(Errc::Io, errno, "cannot create a work directory: %s", strerror(errno));
    return pattern;
}

void remove_tree(const std::string& dir)
{
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

// Whether the CRL at `path` parses and is current for at least another day.
bool crl_current(const std::string& path)
{
    auto der = read_file(path, verify::CRL_MAX_PEM_SIZE);
    auto crl = der ? verify::Crl::parse(der.value()) : Result<verify::Crl>(der.error());
    std::optional<std::time_t> next = crl ? crl->next_update_time() : std::nullopt;
    return next && time(nullptr) + 24 * 3600 <= *next;
}

Result<sim::Platform> demo_platform(const std::string& work)
{
    std::string dir = work + "/sim";
    std::string crl = dir + "/" + sim::PLATFORM_CRL;
    if (exists(dir + "/" + sim::PLATFORM_TOML)) {
        sim::Platform kept =
            TRY_PREFIX(sim::read_platform(dir), "the platform an earlier cvm demo left in %s", dir.c_str());
        // The broker checks revocation, so it needs a current CRL of this platform: one past (or a
        // day from) its nextUpdate is signed again with the kept ARK key. A platform from before
        // the ARK key was kept cannot sign one and is made anew below: nothing else the demo keeps
        // (the MEASUREMENT, the keys, the data volume) depends on it.
        if (crl_current(crl))
            return kept;
        if (!kept.ark_key_der.empty()) {
            TRY(write_file_atomic(crl, TRY(sim::make_crl(kept, {}))));
            return kept;
        }
    }
    remove_tree(dir);  // an interrupted earlier write, or a platform without its ARK key
    sim::Platform platform = TRY(sim::create_platform({}));
    TRY(sim::write_platform(platform, dir));
    return platform;
}

Result<proto::Ed25519KeyPair> demo_broker_key(const std::string& work)
{
    std::string path = work + "/broker.key";
    if (exists(path)) {
        SecretBytes pem = TRY(read_secret_file(path, 4096));
        ByteView text = pem.expose();
        return TRY_PREFIX(proto::parse_ed25519_private_pem({reinterpret_cast<const char*>(text.data()), text.size()}),
                          "%s", path.c_str());
    }
    proto::Ed25519KeyPair key = proto::Ed25519KeyPair::generate();
    TRY(write_file_atomic(path, proto::ed25519_private_pem(key).expose(), 0600));
    return key;
}

Result<void> demo_volume_key(const std::string& work)
{
    std::string path = work + "/data.key";
    if (exists(path))
        return {};  // the broker's configuration checks it when it loads
    SecretBytes key(VOLUME_KEY_BYTES);
    randombytes_buf(key.expose().data(), key.expose().size());
    return write_file_atomic(path, key.expose(), 0600);
}

std::optional<uint16_t> earlier_port(const std::string& work)
{
    auto text = read_text_file(work + "/broker.toml", 1 << 16);
    const std::string key = "\nlisten = \"127.0.0.1:";
    size_t at = text ? text.value().find(key) : std::string::npos;
    if (at == std::string::npos)
        return std::nullopt;
    unsigned long port = strtoul(text.value().c_str() + at + key.size(), nullptr, 10);
    return port > 0 && port <= 65535 ? std::optional<uint16_t>(static_cast<uint16_t>(port)) : std::nullopt;
}

Result<void> write_demo_tree(const std::string& work, const std::string& workload, DemoStorage storage)
{
    bool disks = storage == DemoStorage::VerityAndData;
    remove_tree(work + "/tree");
    if (!disks) {
        TRY(make_dirs(work + "/tree/usr/bin"));
        Bytes program = TRY(read_file(workload, 64 << 20));
        TRY(write_file_atomic(work + "/tree/usr/bin/demo-workload", program, 0755));
    }
    return write_text(work + "/cvminit.toml", std::string("[workload]\n"
                                                          "command = [\"/usr/bin/demo-workload\", \"0\"") +
                                                  (disks ? ", \"/data\"" : "") +
                                                  "]\n"
                                                  "env = { GREETING = \"hello from cvminit.toml\" }\n"
                                                  "[secrets]\n"
                                                  "resources = [\"db\", \"token\"]\n");
}

Result<void> write_demo_launch(const std::string& work, const std::string& kernel_path, const std::string& ovmf_path,
                               const std::string& cmdline)
{
    // The inputs outside the work directory by absolute path, the initrd beside launch.toml.
    std::string kernel = std::filesystem::absolute(kernel_path).lexically_normal().string();
    std::string ovmf = std::filesystem::absolute(ovmf_path).lexically_normal().string();
    return write_text(work + "/launch.toml", "# cvm demo's launch: `cvm measure --launch` gives its MEASUREMENT\n"
                                             "vcpus = 1\nvcpu_type = \"EPYC-v4\"\nmemory_mib = 512\n"
                                             "[firmware]\novmf = " +
                                                 toml_string(ovmf) + "\n[kernel]\npath = " + toml_string(kernel) +
                                                 "\ninitrd = \"initrd\"\ncmdline = [" + toml_string(cmdline) + "]\n");
}

Result<void> write_demo_broker_config(const std::string& work, uint16_t port, const std::string& measurement,
                                      DemoStorage storage)
{
    std::string allowed = "[\"" + measurement + "\"]";
    std::string text =
        "# cvm demo's broker: cvm broker --config " + work +
        "/broker.toml (paths relative to this file).\n"
        "# cvm demo rewrites it on each run; it releases to launch.toml's MEASUREMENT only.\n"
        "listen = \"127.0.0.1:" +
        std::to_string(port) +
        "\"\n"
        "signing_key = \"broker.key\"\n"
        "simulated_root = \"sim/ark.pem\"\n"
        "simulated_crl = \"sim/crl.der\"  # revocation is on: the simulated platform's CRL\n"
        "[policy]\nmeasurements = " +
        allowed +
        "\nallow_simulated = true\n"
        "[[secret]]\nname = \"db\"\nvalue = \"demo-db-password\"\nenv = \"DB_PASSWORD\"\nmeasurements = " +
        allowed + "\n[[secret]]\nname = \"token\"\nvalue = \"demo-token\"\nmeasurements = " + allowed + "\n";
    if (storage == DemoStorage::VerityAndData)
        text += "[[volume]]\nname = \"data\"\nkey_file = \"data.key\"\nmeasurements = " + allowed + "\n";
    return write_text(work + "/broker.toml", text);
}

}  // namespace cvm::cli
