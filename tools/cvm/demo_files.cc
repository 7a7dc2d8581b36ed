#include "demo_files.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "base/file.h"

namespace cvm::cli {
namespace {

Result<void> write_text(const std::string& path, const std::string& text, unsigned mode = 0644)
{
    return write_file_atomic(path, {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, mode);
}

Result<void> make_dirs(const std::string& path)
{
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec)
        return Error::make(Errc::Io, "cannot create %s: %s", path.c_str(), ec.message().c_str());
    return {};
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

Result<std::string> make_work_dir(const std::optional<std::string>& dir)
{
    if (dir) {
        TRY(make_dirs(*dir));
        return *dir;
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

Result<void> write_demo_tree(const std::string& work, const std::string& workload)
{
    TRY(make_dirs(work + "/tree/usr/bin"));
    Bytes program = TRY(read_file(workload, 64 << 20));
    TRY(write_file_atomic(work + "/tree/usr/bin/demo-workload", program, 0755));
    return write_text(work + "/cvminit.toml", "[workload]\n"
                                              "command = [\"/usr/bin/demo-workload\", \"7\"]\n"
                                              "env = { GREETING = \"hello from cvminit.toml\" }\n"
                                              "[secrets]\n"
                                              "resources = [\"db\", \"token\"]\n");
}

Result<void> write_demo_launch(const std::string& work, const std::string& kernel_path, const std::string& ovmf_path,
                               const std::string& cmdline)
{
    // launch.toml resolves relative paths against its own directory: hand it absolute ones.
    std::string kernel = std::filesystem::absolute(kernel_path).string();
    std::string ovmf = std::filesystem::absolute(ovmf_path).string();
    return write_text(work + "/launch.toml", "vcpus = 1\nvcpu_type = \"EPYC-v4\"\nmemory_mib = 512\n"
                                             "[firmware]\novmf = " +
                                                 toml_string(ovmf) +
                                                 "\n"
                                                 "[kernel]\npath = " +
                                                 toml_string(kernel) + "\ninitrd = " + toml_string(work + "/initrd") +
                                                 "\ncmdline = [" + toml_string(cmdline) + "]\n");
}

std::string demo_broker_config(uint16_t port, const std::string& measurement)
{
    std::string allowed = "[\"" + measurement + "\"]";
    return "listen = \"127.0.0.1:" + std::to_string(port) +
           "\"\n"
           "signing_key = \"broker.key\"\n"
           "simulated_root = \"sim/ark.pem\"\n"
           "[policy]\nmeasurements = " +
           allowed +
           "\nallow_simulated = true\n"
           "[[secret]]\nname = \"db\"\nvalue = \"demo-db-password\"\nenv = \"DB_PASSWORD\"\nmeasurements = " +
           allowed + "\n[[secret]]\nname = \"token\"\nvalue = \"demo-token\"\nmeasurements = " + allowed + "\n";
}

}  // namespace cvm::cli
