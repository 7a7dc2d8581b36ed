#include "base/toml_reader.h"

#include <algorithm>

namespace cvm {

Error TomlReader::error(std::string_view key, const char* what) const
{
    return Error::make(Errc::Config, "%s key '%.*s': %s", m_context.c_str(), static_cast<int>(key.size()), key.data(),
                       what);
}

std::string TomlReader::join(std::string_view prefix, std::string_view name)
{
    return prefix.empty() ? std::string(name) : std::string(prefix) + "." + std::string(name);
}

Result<void> TomlReader::only_keys(const toml::table& table, std::string_view prefix,
                                   std::initializer_list<std::string_view> allowed) const
{
    for (auto&& [k, v] : table) {
        if (std::find(allowed.begin(), allowed.end(), k.str()) == allowed.end())
            return error(join(prefix, k.str()), "unknown key");
    }
    return {};
}

Result<const toml::node*> TomlReader::required(const toml::table& table, std::string_view name,
                                               std::string_view prefix) const
{
    const toml::node* node = table.get(name);
    if (!node)
        return error(join(prefix, name), "missing");
    return node;
}

Result<bool> TomlReader::boolean(const toml::node& v, std::string_view key) const
{
    if (auto b = v.value_exact<bool>())
        return *b;
    return error(key, "expected true or false");
}

Result<int64_t> TomlReader::integer(const toml::node& v, std::string_view key, int64_t min, int64_t max) const
{
    auto i = v.value_exact<int64_t>();
    if (!i || *i < min || *i > max)
        return Error::make(Errc::Config, "%s key '%.*s': expected an integer from %lld to %lld", m_context.c_str(),
                           static_cast<int>(key.size()), key.data(), static_cast<long long>(min),
                           static_cast<long long>(max));
    return *i;
}

Result<std::string> TomlReader::string(const toml::node& v, std::string_view key) const
{
    if (const toml::value<std::string>* s = v.as_string())
        return s->get();
    return error(key, "expected a string");
}

Result<Bytes> TomlReader::hex(const toml::node& v, std::string_view key, size_t size) const
{
    auto s = v.value_exact<std::string>();
    auto bytes = s ? from_hex(*s) : std::nullopt;
    if (!bytes || bytes->size() != size)
        return Error::make(Errc::Config, "%s key '%.*s': expected %zu hex digits", m_context.c_str(),
                           static_cast<int>(key.size()), key.data(), 2 * size);
    return *bytes;
}

Result<toml::table> parse_toml(std::string_view text, const char* context)
{
    toml::parse_result parsed = toml::parse(text);
    if (!parsed)
        return Error::make(Errc::Config, "%s: TOML syntax error at line %u: %.*s", context,
                           static_cast<unsigned>(parsed.error().source().begin.line),
                           static_cast<int>(parsed.error().description().size()), parsed.error().description().data());
    return std::move(parsed).table();
}

}  // namespace cvm
