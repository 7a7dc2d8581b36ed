#include "kds/kds_url.h"

#include <cstdio>

namespace cvm::kds {

using snp::Product;

std::string_view key_family_name(KeyFamily family)
{
    return family == KeyFamily::Vcek ? "vcek" : "vlek";
}

Result<VcekId> vcek_id(const snp::AttestationReport& report, std::optional<Product> product)
{
    if (report.signing_key == snp::SigningKey::Vlek)
        return Error::make(Errc::Unsupported, "the report is signed with a VLEK; KDS does not serve VLEKs publicly, "
                                              "so the VLEK must come with the evidence");
    if (report.signing_key != snp::SigningKey::Vcek)
        return Error::make(Errc::Unsupported, "the report is not signed (SIGNING_KEY %s): there is no VCEK to fetch",
                           std::string(snp::signing_key_name(report.signing_key)).c_str());
    std::optional<Product> from_cpuid = report.cpuid_product();
    if (from_cpuid && product && *from_cpuid != *product)
        return Error::make(Errc::Config, "the report's CPUID (family 0x%02x model 0x%02x) is %s, but %s was configured",
                           report.cpuid_fam_id, report.cpuid_mod_id, std::string(product_name(*from_cpuid)).c_str(),
                           std::string(product_name(*product)).c_str());
    if (!from_cpuid && !product)
        return Error::make(Errc::Config,
                           "the product line of this version %u report is unknown (no CPUID fields): "
                           "configure Milan, Genoa or Turin",
                           report.version);
    VcekId id;
    id.product = from_cpuid ? *from_cpuid : *product;
    if (all_zero(report.chip_id))
        return Error::make(Errc::Unsupported, "CHIP_ID is all zero (the host masks it): KDS cannot look up the VCEK, "
                                              "so it must come with the evidence");
    size_t hwid_size = id.product == Product::Turin ? 8 : report.chip_id.size();
    id.hwid.assign(report.chip_id.begin(), report.chip_id.begin() + static_cast<ptrdiff_t>(hwid_size));
    id.tcb = snp::TcbVersion::decode(report.reported_tcb, id.product);
    return id;
}

std::string vcek_path(const VcekId& id)
{
    char spls[96];
    const snp::TcbVersion& t = id.tcb;
    if (id.product == Product::Turin)
        snprintf(spls, sizeof spls, "?fmcSPL=%02u&blSPL=%02u&teeSPL=%02u&snpSPL=%02u&ucodeSPL=%02u", t.fmc,
                 t.boot_loader, t.tee, t.snp, t.microcode);
    else
        snprintf(spls, sizeof spls, "?blSPL=%02u&teeSPL=%02u&snpSPL=%02u&ucodeSPL=%02u", t.boot_loader, t.tee, t.snp,
                 t.microcode);
    return "/vcek/v1/" + std::string(product_name(id.product)) + "/" + to_hex(id.hwid) + spls;
}

std::string cert_chain_path(Product product, KeyFamily family)
{
    return "/" + std::string(key_family_name(family)) + "/v1/" + std::string(product_name(product)) + "/cert_chain";
}

std::string crl_path(Product product, KeyFamily family)
{
    return "/" + std::string(key_family_name(family)) + "/v1/" + std::string(product_name(product)) + "/crl";
}

}  // namespace cvm::kds
