#include "measure/launch_toml.h"

#include <toml++/toml.hpp>

#include "base/bytes.h"
#include "base/file.h"
#include "initdata/initdata.h"

namespace cvm::launch {

namespace {

Error bad(const std::string& key, const char* what)
{
    return Error::make(Errc::Config, "launch.toml key '%s': %s", key.c_str(), what);
}

Result<std::string> text(const toml::node& v, const std::string& key)
{
    auto s = v.value_exact<std::string>();
    if (!s || s->empty() || s->find('\0') != std::string::npos)
        return bad(key, "expected a non-empty string");
    return *s;
}

Result<uint64_t> integer(const toml::node& v, const std::string& key, uint64_t max)
{
    auto i = v.value_exact<int64_t>();
    if (!i || *i < 0 || static_cast<uint64_t>(*i) > max)
        return Error::make(Errc::Config, "launch.toml key '%s': expected an integer from 0 to %llu", key.c_str(),
                           static_cast<unsigned long long>(max));
    return static_cast<uint64_t>(*i);
}

Result<uint32_t> u32(const toml::node& v, const std::string& key)
{
    return static_cast<uint32_t>(TRY(integer(v, key, UINT32_MAX)));
}

template <size_t N>
Result<std::array<uint8_t, N>> hex(const toml::node& v, const std::string& key)
{
    auto s = v.value_exact<std::string>();
    auto bytes = s && s->size() == 2 * N ? from_hex(*s) : std::nullopt;
    if (!bytes)
        return Error::make(Errc::Config, "launch.toml key '%s': expected %zu hex digits (%zu bytes)", key.c_str(),
                           2 * N, N);
    std::array<uint8_t, N> out;
    std::copy(bytes->begin(), bytes->end(), out.begin());
    return out;
}

Result<bool> boolean(const toml::node& v, const std::string& key)
{
    auto b = v.value_exact<bool>();
    if (!b)
        return bad(key, "expected true or false");
    return *b;
}

// GUEST_POLICY as SNP_LAUNCH_START accepts it (AMD 56860, Table 9 "Guest Policy Structure"):
// bit 17 is reserved and must be one, bits 63:26 are reserved and must be zero.
Result<uint64_t> guest_policy(const toml::node& v, const std::string& key)
{
    auto i = v.value_exact<int64_t>();
    if (!i || *i < 0)
        return bad(key, "expected a non-negative integer (e.g. 0x30000)");
    uint64_t p = static_cast<uint64_t>(*i);
    if (!(p & POLICY_RESERVED_ONE) || (p & POLICY_RESERVED_ZERO))
        return Error::make(Errc::Config,
                           "launch.toml key '%s': 0x%llx has bit 17 clear or bits 63:26 set; the firmware refuses it "
                           "(expected bit 17 set, bits 63:26 clear, e.g. 0x30000)",
                           key.c_str(), static_cast<unsigned long long>(p));
    return p;
}

// HOST_DATA of the init-data document at `path`: the digest of the bytes the guest will read,
// once the document passes the checks the agent makes too (a launch would otherwise end in the
// agent's FATAL line).
Result<std::array<uint8_t, 32>> initdata_host_data(const std::string& path)
{
    auto text = read_text_file(path, initdata::MAX_INITDATA_SIZE);
    if (!text.ok())
        return text.release_error().prefix("launch.toml key 'initdata'");
    auto document = initdata::parse(text.value());
    if (!document.ok())
        return document.release_error().prefix("launch.toml key 'initdata': %s", path.c_str());
    return initdata::host_data(document.value());
}

struct Parser {
    LaunchConfig& c;
    const std::string& base_dir;
    std::optional<bool> author_key_enabled;

    Result<std::string> path(const toml::node& v, const std::string& key)
    {
        std::string p = TRY(text(v, key));
        if (p[0] == '/' || base_dir.empty())
            return p;
        return base_dir + "/" + p;
    }

    Result<void> top(const std::string& key, const toml::node& v)
    {
        if (key == "mode")
            c.mode = TRY(text(v, key));
        else if (key == "vcpus")
            c.vcpus = TRY(u32(v, key));
        else if (key == "vcpu_type")
            c.vcpu_type = TRY(text(v, key));
        else if (key == "vcpu_sig")
            c.vcpu_sig = TRY(u32(v, key));
        else if (key == "vcpu_family")
            c.vcpu_family = TRY(u32(v, key));
        else if (key == "vcpu_model")
            c.vcpu_model = TRY(u32(v, key));
        else if (key == "vcpu_stepping")
            c.vcpu_stepping = TRY(u32(v, key));
        else if (key == "vmm_type")
            c.vmm_type = TRY(text(v, key));
        else if (key == "guest_features")
            c.guest_features = TRY(integer(v, key, INT64_MAX));
        else if (key == "memory_mib")
            c.memory_mib = TRY(integer(v, key, INT64_MAX));
        else if (key == "policy")
            c.policy = TRY(guest_policy(v, key));
        else if (key == "host_data")
            c.host_data = TRY(hex<32>(v, key));
        else if (key == "initdata")
            c.initdata = TRY(path(v, key));
        else if (key == "author_key_enabled")
            author_key_enabled = TRY(boolean(v, key));
        else if (key == "id_block")
            return id_block_table(v, key);
        else if (key == "firmware")
            return table(v, key, &Parser::firmware);
        else if (key == "kernel")
            return table(v, key, &Parser::kernel);
        else
            return bad(key, "unknown key");
        return {};
    }

    Result<void> firmware(const std::string& key, const toml::node& v)
    {
        if (key == "firmware.ovmf")
            c.ovmf = TRY(path(v, key));
        else if (key == "firmware.snp_ovmf_hash")
            c.snp_ovmf_hash = TRY(text(v, key));
        else if (key == "firmware.svsm")
            c.svsm = TRY(path(v, key));
        else if (key == "firmware.vars_size")
            c.vars_size = TRY(integer(v, key, UINT32_MAX));
        else if (key == "firmware.vars_file")
            c.vars_file = TRY(path(v, key));
        else
            return bad(key, "unknown key");
        return {};
    }

    Result<void> kernel(const std::string& key, const toml::node& v)
    {
        if (key == "kernel.path")
            c.kernel = TRY(path(v, key));
        else if (key == "kernel.initrd")
            c.initrd = TRY(path(v, key));
        else if (key == "kernel.cmdline")
            return cmdline(v, key);
        else
            return bad(key, "unknown key");
        return {};
    }

    Result<void> id_block_table(const toml::node& v, const std::string& key)
    {
        c.id_block.emplace();
        TRY(table(v, key, &Parser::id_block));
        if (c.id_block->id_key.empty())
            return bad("id_block.id_key", "missing: [id_block] needs the ID key that signs it");
        return {};
    }

    Result<void> id_block(const std::string& key, const toml::node& v)
    {
        IdBlockConfig& b = *c.id_block;
        if (key == "id_block.id_key")
            b.id_key = TRY(path(v, key));
        else if (key == "id_block.author_key")
            b.author_key = TRY(path(v, key));
        else if (key == "id_block.family_id")
            b.family_id = TRY(hex<16>(v, key));
        else if (key == "id_block.image_id")
            b.image_id = TRY(hex<16>(v, key));
        else if (key == "id_block.guest_svn")
            b.guest_svn = TRY(u32(v, key));
        else
            return bad(key, "unknown key");
        return {};
    }

    Result<void> cmdline(const toml::node& v, const std::string& key)
    {
        const toml::array* parts = v.as_array();
        if (!parts)
            return bad(key, "expected a list of strings");
        for (const toml::node& part : *parts)
            c.cmdline.push_back(TRY(text(part, key)));
        return {};
    }

    Result<void> table(const toml::node& v, const std::string& name,
                       Result<void> (Parser::*entry)(const std::string&, const toml::node&))
    {
        const toml::table* t = v.as_table();
        if (!t)
            return bad(name, "expected a table");
        for (auto&& [k, value] : *t)
            TRY((this->*entry)(name + "." + std::string(k.str()), value));
        return {};
    }
};

}  // namespace

std::string LaunchConfig::cmdline_string() const
{
    std::string out;
    for (const std::string& part : cmdline) {
        if (!out.empty())
            out += ' ';
        out += part;
    }
    return out;
}

Result<LaunchConfig> parse_launch_toml(std::string_view source, const std::string& base_dir)
{
    toml::parse_result parsed = toml::parse(source);
    if (!parsed)
        return Error::make(Errc::Config, "launch.toml: TOML syntax error at line %u: %.*s",
                           static_cast<unsigned>(parsed.error().source().begin.line),
                           static_cast<int>(parsed.error().description().size()), parsed.error().description().data());
    LaunchConfig c;
    Parser p{c, base_dir, std::nullopt};
    for (auto&& [k, v] : parsed.table())
        TRY(p.top(std::string(k.str()), v));
    if (c.ovmf.empty())
        return bad("firmware.ovmf", "missing: a launch needs its firmware");
    if (!c.kernel && (c.initrd || !c.cmdline.empty()))
        return bad("kernel.path", "missing: [kernel] names an initrd or cmdline but no kernel");
    // AUTHOR_KEY_EN (56860, SNP_LAUNCH_FINISH): with it clear the firmware ignores the author
    // key and the report's AUTHOR_KEY_DIGEST is zero; with it set and no author key the
    // firmware refuses the launch. So it can only say what [id_block] says.
    bool has_author = c.id_block && c.id_block->author_key;
    if (p.author_key_enabled && *p.author_key_enabled != has_author)
        return bad("author_key_enabled",
                   has_author ? "false although [id_block] has an author_key: the firmware would ignore that key "
                                "(expected true, or no author_key)"
                              : "true without an [id_block] author_key: the firmware would refuse the launch "
                                "(expected false, or an author_key)");
    c.author_key_enabled = has_author;
    if (c.initdata) {
        if (c.host_data)
            return bad("initdata", "given with host_data, which it sets (HOST_DATA is the init-data document's "
                                   "digest); expected one of the two");
        c.host_data = TRY(initdata_host_data(*c.initdata));
    }
    return c;
}

Result<LaunchConfig> load_launch_toml(const std::string& path)
{
    std::string source = TRY(read_text_file(path, MAX_LAUNCH_TOML_SIZE));
    size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
    auto config = parse_launch_toml(source, dir);
    if (!config.ok())
        return config.release_error().prefix("%s", path.c_str());
    return config;
}

}  // namespace cvm::launch
