#include "measure/launch_toml.h"

#include <toml++/toml.hpp>

#include "base/file.h"

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

struct Parser {
    LaunchConfig& c;
    const std::string& base_dir;

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
    Parser p{c, base_dir};
    for (auto&& [k, v] : parsed.table())
        TRY(p.top(std::string(k.str()), v));
    if (c.ovmf.empty())
        return bad("firmware.ovmf", "missing: a launch needs its firmware");
    if (!c.kernel && (c.initrd || !c.cmdline.empty()))
        return bad("kernel.path", "missing: [kernel] names an initrd or cmdline but no kernel");
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
