#include "evidence_files.h"

#include <sys/stat.h>

#include "base/file.h"

namespace cvm::cli {

namespace {

bool exists(const std::string& path)
{
    struct stat st {};
    return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Reads `dir/name` into `slot` when the file exists; `found` says whether it did.
Result<bool> load_optional(const std::string& dir, const char* name, Bytes& slot)
{
    std::string path = dir + "/" + name;
    if (!exists(path))
        return false;
    slot = TRY(read_file(path, MAX_EVIDENCE_FILE));
    return true;
}

}  // namespace

Result<void> load_cert_dir(const std::string& dir, verify::Evidence& evidence)
{
    struct stat st {};
    if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return Error::make(Errc::Config, "--certs %s is not a directory", dir.c_str());

    Bytes vlek;
    bool has_vcek = TRY(load_optional(dir, "vcek.der", evidence.vek));
    bool has_vlek = TRY(load_optional(dir, "vlek.der", vlek));
    if (has_vcek == has_vlek)
        return Error::make(Errc::Config, "--certs %s: expected exactly one of vcek.der and vlek.der, found %s",
                           dir.c_str(), has_vcek ? "both" : "neither");
    if (has_vlek)
        evidence.vek = std::move(vlek);

    Bytes bundle;
    if (TRY(load_optional(dir, "ask_ark.pem", bundle))) {
        auto added = verify::add_chain_pem(evidence, std::string(bundle.begin(), bundle.end()));
        if (!added.ok())
            return added.release_error().prefix("%s/ask_ark.pem", dir.c_str());
        return {};
    }
    if (!TRY(load_optional(dir, "ask.pem", evidence.ask)))
        TRY(load_optional(dir, "asvk.pem", evidence.ask));
    TRY(load_optional(dir, "ark.pem", evidence.ark));
    return {};
}

}  // namespace cvm::cli
