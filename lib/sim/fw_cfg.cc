#include "sim/fw_cfg.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "base/file.h"
#include "sim/mbedtls_util.h"
#include "snp/cert_table.h"

namespace cvm::sim {

namespace {

// The file write_fw_cfg_files writes for a blob: its last path component.
std::string file_for(std::string_view blob)
{
    return std::string(blob.substr(blob.rfind('/') + 1));
}

// QEMU option values escape a comma by doubling it.
std::string qemu_escape(const std::string& s)
{
    std::string out;
    for (char c : s) {
        out.push_back(c);
        if (c == ',')
            out.push_back(',');
    }
    return out;
}

struct Blob {
    std::string_view name;
    size_t max_size;
};

Result<Bytes> read_blob(const std::string& root, Blob blob)
{
    std::string path = root + "/" + std::string(blob.name) + "/raw";
    return TRY_PREFIX(read_file(path, blob.max_size), "fw_cfg %.*s", static_cast<int>(blob.name.size()),
                      blob.name.data());
}

Result<SecretBytes> read_secret_blob(const std::string& root, Blob blob)
{
    std::string path = root + "/" + std::string(blob.name) + "/raw";
    return TRY_PREFIX(read_secret_file(path, blob.max_size), "fw_cfg %.*s", static_cast<int>(blob.name.size()),
                      blob.name.data());
}

struct Certs {
    Bytes ark, ask, vcek;
};

// Exactly one VCEK, one ASK and one ARK: a simulated platform has nothing else to hand out.
Result<Certs> split_cert_table(ByteView table)
{
    std::vector<snp::CertEntry> entries = TRY(snp::parse_cert_table(table));
    Certs c;
    for (snp::CertEntry& e : entries) {
        Bytes* slot = e.kind == snp::CertKind::Vcek  ? &c.vcek
                      : e.kind == snp::CertKind::Ask ? &c.ask
                      : e.kind == snp::CertKind::Ark ? &c.ark
                                                     : nullptr;
        if (!slot)
            return Error::make(Errc::Format, "entry %s (%s): expected only VCEK, ASK and ARK entries",
                               snp::guid_to_string(e.guid).c_str(), std::string(snp::cert_kind_name(e.kind)).c_str());
        *slot = std::move(e.der);
    }
    for (auto [bytes, name] : {std::pair{&c.vcek, "VCEK"}, {&c.ask, "ASK"}, {&c.ark, "ARK"}}) {
        if (bytes->empty())
            return Error::make(Errc::Format, "no %s entry", name);
    }
    return c;
}

}  // namespace

Result<void> write_fw_cfg_files(const Platform& platform, const LaunchState& launch, const std::string& out_dir)
{
    if (mkdir(out_dir.c_str(), 0700) != 0 && errno != EEXIST)
        return Error::from_errno(Errc::Io, errno, "cannot create %s: %s", out_dir.c_str(), strerror(errno));
    auto drbg = TRY(Drbg::create("cvm sim fw_cfg"));
    auto key = TRY(parse_p384_private_key(platform.vcek_key_der.expose(), *drbg, "VCEK private key"));
    SecretBytes key_pem = TRY(private_key_pem(*key));
    // Built through the PSP so that the table is the one a guest's report provider hands out.
    SimulatedPsp psp = TRY(SimulatedPsp::create(platform, launch));
    TRY(write_file_atomic(out_dir + "/" + file_for(FW_CFG_KEY), key_pem.expose(), 0600));
    TRY(write_file_atomic(out_dir + "/" + file_for(FW_CFG_CERTS), psp.cert_table(), 0600));
    TRY(write_file_atomic(out_dir + "/" + file_for(FW_CFG_LAUNCH), as_bytes(launch_state_toml(launch)), 0600));
    return {};
}

std::vector<std::string> qemu_fw_cfg_args(const std::string& out_dir)
{
    std::vector<std::string> args;
    for (std::string_view blob : {FW_CFG_KEY, FW_CFG_CERTS, FW_CFG_LAUNCH}) {
        args.push_back("-fw_cfg");
        args.push_back("name=" + std::string(blob) + ",file=" + qemu_escape(out_dir + "/" + file_for(blob)));
    }
    return args;
}

Result<SimulatedPsp> load_from_fw_cfg(const std::string& root)
{
    SecretBytes key = TRY(read_secret_blob(root, {FW_CFG_KEY, FW_CFG_MAX_KEY}));
    Bytes table = TRY(read_blob(root, {FW_CFG_CERTS, snp::CERT_TABLE_MAX_SIZE}));
    Bytes launch_text = TRY(read_blob(root, {FW_CFG_LAUNCH, FW_CFG_MAX_LAUNCH}));

    Certs certs = TRY_PREFIX(split_cert_table(table), "fw_cfg %s", FW_CFG_CERTS.data());
    std::string context = "fw_cfg " + std::string(FW_CFG_LAUNCH);
    LaunchState launch = TRY(parse_launch_state_toml(
        std::string_view(reinterpret_cast<const char*>(launch_text.data()), launch_text.size()), context.c_str()));
    Platform platform =
        TRY_PREFIX(assemble_platform(std::move(certs.ark), std::move(certs.ask), std::move(certs.vcek), key.expose()),
                   "fw_cfg %s + %s", FW_CFG_KEY.data(), FW_CFG_CERTS.data());
    return TRY_PREFIX(SimulatedPsp::create(platform, launch), "fw_cfg %s", FW_CFG_LAUNCH.data());
}

}  // namespace cvm::sim
