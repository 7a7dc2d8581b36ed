#include <cctype>
#include <cstdio>

#include "policy/toml_values.h"

namespace cvm::policy::toml_values {

const TomlReader R("policy");

Result<uint32_t> small(const toml::node& v, const std::string& key, int64_t max)
{
    return static_cast<uint32_t>(TRY(R.integer(v, key, 0, max)));
}

Result<std::pair<uint8_t, uint8_t>> major_minor(const toml::node& v, const std::string& key)
{
    auto s = v.value_exact<std::string>();
    unsigned major = 0, minor = 0;
    char tail = 0;
    if (!s || sscanf(s->c_str(), "%u.%u%c", &major, &minor, &tail) != 2 || major > 255 || minor > 255 ||
        !isdigit(static_cast<unsigned char>((*s)[0])))
        return R.error(key, "expected \"MAJOR.MINOR\"");
    return std::pair(static_cast<uint8_t>(major), static_cast<uint8_t>(minor));
}

Result<uint64_t> bit_list(const toml::node& v, const std::string& key, const std::vector<NamedBit>& names)
{
    const toml::array* a = v.as_array();
    if (!a)
        return R.error(key, "expected a list of names");
    uint64_t mask = 0;
    for (const toml::node& item : *a) {
        auto name = item.value_exact<std::string>();
        std::optional<uint64_t> bit;
        for (const NamedBit& b : names) {
            if (name && *name == b.name)
                bit = b.mask;
        }
        if (!bit) {
            std::string known;
            for (const NamedBit& b : names)
                known += (known.empty() ? "" : ", ") + std::string(b.name);
            return R.error(key, ("unknown bit (" + known + ")").c_str());
        }
        mask |= *bit;
    }
    return mask;
}

Result<std::vector<ChipId>> chip_ids(const toml::node& v, const std::string& key)
{
    auto ids = TRY(R.hex_list<64>(v, key));
    for (const ChipId& id : ids) {
        if (id == ChipId{})
            return R.error(key, "an all-zero CHIP_ID is a masked one and identifies no chip");
    }
    return ids;
}

namespace {

Result<snp::TcbVersion> tcb(const toml::node& v, const std::string& key)
{
    const toml::table* t = v.as_table();
    if (!t)
        return R.error(key, "expected a table of bootloader, tee, snp, microcode (and fmc on Turin)");
    snp::TcbVersion out;
    for (auto&& [k, value] : *t) {
        std::string name = key + "." + std::string(k.str());
        auto component = static_cast<uint8_t>(TRY(small(value, name, 255)));
        if (k == "bootloader")
            out.boot_loader = component;
        else if (k == "tee")
            out.tee = component;
        else if (k == "snp")
            out.snp = component;
        else if (k == "microcode")
            out.microcode = component;
        else if (k == "fmc")
            out.fmc = component;
        else
            return R.error(name, "unknown TCB component (bootloader, tee, snp, microcode, fmc)");
    }
    return out;
}

}  // namespace

Result<std::map<snp::Product, snp::TcbVersion>> tcb_tables(const toml::node& v, const std::string& key)
{
    const toml::table* t = v.as_table();
    if (!t)
        return R.error(key, ("expected tables [" + key + ".Milan], [" + key + ".Genoa], [" + key + ".Turin]").c_str());
    std::map<snp::Product, snp::TcbVersion> out;
    for (auto&& [k, value] : *t) {
        std::string name = key + "." + std::string(k.str());
        auto product = snp::product_from_name(k.str());
        if (!product || k.str() != snp::product_name(*product))
            return R.error(name, "unknown product (Milan, Genoa, Turin)");
        snp::TcbVersion min = TRY(tcb(value, name));
        if (min.fmc && *product != snp::Product::Turin)
            return R.error(name + ".fmc", "only Turin has an FMC component");
        out[*product] = min;
    }
    return out;
}

}  // namespace cvm::policy::toml_values
