#include "sim/platform_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <mbedtls/x509_crt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/file.h"
#include "base/toml_reader.h"
#include "sim/crl.h"
#include "sim/mbedtls_util.h"

namespace cvm::sim {

namespace {

constexpr size_t MAX_CERT_FILE = 16 * 1024;  // AMD certificates are 1.3-2.2 KiB
constexpr size_t MAX_KEY_FILE = 4 * 1024;    // an RSA-4096 PKCS#1 PEM is about 3.2 KiB
constexpr size_t MAX_TOML_FILE = 4 * 1024;

// An existing directory is acceptable only when empty; anything in it might be a platform.
Result<void> make_directory(const std::string& dir)
{
    if (mkdir(dir.c_str(), 0700) == 0)
        return {};
    if (errno != EEXIST)
        return Error::from_errno(Errc::Io, errno, "cannot create %s: %s", dir.c_str(), strerror(errno));
    DIR* d = opendir(dir.c_str());
    if (!d)
        return Error::make(Errc::Config, "%s exists and is not a directory: refusing to overwrite it", dir.c_str());
    bool empty = true;
    while (const dirent* e = readdir(d)) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            empty = false;
    }
    closedir(d);
    if (!empty)
        return Error::make(Errc::Config, "%s is not empty: refusing to overwrite a simulated platform", dir.c_str());
    if (chmod(dir.c_str(), 0700) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot chmod %s: %s", dir.c_str(), strerror(errno));
    return {};
}

// O_EXCL: a file that appeared since the emptiness check is never replaced.
Result<void> write_new(const std::string& path, ByteView data, mode_t mode)
{
    UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!fd.valid())
        return Error::from_errno(Errc::Io, errno, "cannot create %s: %s", path.c_str(), strerror(errno));
    for (size_t done = 0; done < data.size();) {
        ssize_t n = write(fd.get(), data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno(Errc::Io, errno, "cannot write %s: %s", path.c_str(), strerror(errno));
        done += static_cast<size_t>(n);
    }
    if (fsync(fd.get()) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot fsync %s: %s", path.c_str(), strerror(errno));
    return {};
}

std::string platform_toml(const Platform& p)
{
    std::string t = "# SIMULATED AMD SEV-SNP platform made by `cvm sim init`: NOT AMD.\n"
                    "# Its root (ark.pem) is trusted only where it is named explicitly (cvm verify --trusted-root,\n"
                    "# a broker policy with allow_simulated = true). It proves plumbing, never confidentiality.\n";
    t += "product = \"" + std::string(snp::product_name(p.product)) + "\"\n";
    t += "chip_id = \"" + to_hex(p.chip_id) + "\"\n\n[tcb]\n";
    if (p.product == snp::Product::Turin)
        t += "fmc = " + std::to_string(p.tcb.fmc) + "\n";
    t += "bootloader = " + std::to_string(p.tcb.boot_loader) + "\ntee = " + std::to_string(p.tcb.tee) +
         "\nsnp = " + std::to_string(p.tcb.snp) + "\nmicrocode = " + std::to_string(p.tcb.microcode) + "\n";
    return t;
}

struct PlatformToml {
    snp::Product product;
    ChipId chip_id;
    snp::TcbVersion tcb;
};

Result<PlatformToml> parse_platform_toml(std::string_view text)
{
    const TomlReader R(PLATFORM_TOML);
    toml::table root = TRY(parse_toml(text, PLATFORM_TOML));
    TRY(R.only_keys(root, "", {"product", "chip_id", "tcb"}));
    PlatformToml out{};
    std::string name = TRY(R.string(*TRY(R.required(root, "product", "")), "product"));
    auto product = snp::product_from_name(name);
    if (!product || name != snp::product_name(*product))
        return R.error("product", "expected \"Milan\", \"Genoa\" or \"Turin\"");
    out.product = *product;
    out.chip_id = TRY(R.hex_array<CHIP_ID_SIZE>(*TRY(R.required(root, "chip_id", "")), "chip_id"));
    const toml::table* tcb = TRY(R.required(root, "tcb", ""))->as_table();
    if (!tcb)
        return R.error("tcb", "expected a table");
    bool turin = out.product == snp::Product::Turin;
    if (turin)
        TRY(R.only_keys(*tcb, "tcb", {"fmc", "bootloader", "tee", "snp", "microcode"}));
    else
        TRY(R.only_keys(*tcb, "tcb", {"bootloader", "tee", "snp", "microcode"}));
    auto component = [&](const char* key) -> Result<uint8_t> {
        std::string full = TomlReader::join("tcb", key);
        return static_cast<uint8_t>(TRY(R.integer(*TRY(R.required(*tcb, key, "tcb")), full, 0, 255)));
    };
    if (turin)
        out.tcb.fmc = TRY(component("fmc"));
    out.tcb.boot_loader = TRY(component("bootloader"));
    out.tcb.tee = TRY(component("tee"));
    out.tcb.snp = TRY(component("snp"));
    out.tcb.microcode = TRY(component("microcode"));
    return out;
}

Result<Bytes> read_pem_certificate(const std::string& path)
{
    std::string text = TRY(read_text_file(path, MAX_CERT_FILE));
    return pem_decode_certificate(text, path.c_str());
}

// The optional ark-key.pem: it must be the private key of the ARK certificate's public key, or
// every CRL made with it would fail to verify.
Result<void> read_ark_key(Platform& p, const std::string& path)
{
    if (access(path.c_str(), F_OK) != 0 && errno == ENOENT)
        return {};
    SecretBytes text = TRY(read_secret_file(path, MAX_KEY_FILE));
    auto drbg = TRY(Drbg::create("cvm sim ark key check"));
    auto key = TRY(parse_rsa4096_private_key(text.expose(), *drbg, path.c_str()));
    mbedtls_x509_crt ark;
    mbedtls_x509_crt_init(&ark);
    int rc = mbedtls_x509_crt_parse_der(&ark, p.ark_der.data(), p.ark_der.size());
    if (rc == 0)
        rc = mbedtls_pk_check_pair(&ark.pk, &key->pk, Drbg::random, drbg->context());
    mbedtls_x509_crt_free(&ark);
    if (rc != 0)
        return Error::make(Errc::Format, "%s does not match the ARK certificate's public key", path.c_str());
    p.ark_key_der = TRY(private_key_der(*key));
    return {};
}

}  // namespace

Result<void> write_platform(const Platform& p, const std::string& dir)
{
    std::string ark = TRY(pem_encode("CERTIFICATE", p.ark_der));
    std::string ask = TRY(pem_encode("CERTIFICATE", p.ask_der));
    auto drbg = TRY(Drbg::create("cvm sim platform dir"));
    auto key = TRY(parse_p384_private_key(p.vcek_key_der.expose(), *drbg, "VCEK private key"));
    SecretBytes key_pem = TRY(private_key_pem(*key));
    TRY(make_directory(dir));
    TRY(write_new(dir + "/" + PLATFORM_ARK, as_bytes(ark), 0644));
    TRY(write_new(dir + "/" + PLATFORM_ASK, as_bytes(ask), 0644));
    TRY(write_new(dir + "/" + PLATFORM_VCEK, p.vcek_der, 0644));
    TRY(write_new(dir + "/" + PLATFORM_KEY, key_pem.expose(), 0600));
    TRY(write_new(dir + "/" + PLATFORM_TOML, as_bytes(platform_toml(p)), 0644));
    if (p.ark_key_der.size() != 0) {
        auto ark_key = TRY(parse_rsa4096_private_key(p.ark_key_der.expose(), *drbg, "ARK private key"));
        SecretBytes ark_key_pem = TRY(private_key_pem(*ark_key));
        TRY(write_new(dir + "/" + PLATFORM_ARK_KEY, ark_key_pem.expose(), 0600));
        TRY(write_new(dir + "/" + PLATFORM_CRL, TRY(make_crl(p, {})), 0644));
    }
    return {};
}

Result<Platform> read_platform(const std::string& dir)
{
    Bytes ark = TRY(read_pem_certificate(dir + "/" + PLATFORM_ARK));
    Bytes ask = TRY(read_pem_certificate(dir + "/" + PLATFORM_ASK));
    std::string vcek_path = dir + "/" + PLATFORM_VCEK, key_path = dir + "/" + PLATFORM_KEY;
    Bytes vcek = TRY(read_file(vcek_path, MAX_CERT_FILE));
    SecretBytes key = TRY(read_secret_file(key_path, MAX_KEY_FILE));
    std::string toml_path = dir + "/" + PLATFORM_TOML;
    std::string toml_text = TRY(read_text_file(toml_path, MAX_TOML_FILE));
    PlatformToml described = TRY_PREFIX(parse_platform_toml(toml_text), "%s", toml_path.c_str());

    Platform p =
        TRY_PREFIX(assemble_platform(std::move(ark), std::move(ask), std::move(vcek), key.expose()), "%s", dir.c_str());
    TRY(read_ark_key(p, dir + "/" + PLATFORM_ARK_KEY));
    if (described.product != p.product)
        return Error::make(Errc::Format, "%s: product %s, but the VCEK certificate is for %s", toml_path.c_str(),
                           std::string(snp::product_name(described.product)).c_str(),
                           std::string(snp::product_name(p.product)).c_str());
    if (described.chip_id != p.chip_id)
        return Error::make(Errc::Format, "%s: chip_id differs from the VCEK certificate's hwID", toml_path.c_str());
    if (!(described.tcb == p.tcb))
        return Error::make(Errc::Format, "%s: tcb %s, but the VCEK certificate says %s", toml_path.c_str(),
                           described.tcb.to_string(p.product).c_str(), p.tcb.to_string(p.product).c_str());
    return p;
}

}  // namespace cvm::sim
