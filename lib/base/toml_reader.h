// Typed access to parsed TOML (toml++, built with TOML_EXCEPTIONS=0) for every configuration
// format of the project: policy files, the broker's configuration, the simulator's files.
//
// Each failure is Errc::Config "<context> key '<key>': <what was expected>", where `context` says
// which file format ("policy", "broker config") and `key` is the full dotted name. Values are
// taken with value_exact, so TOML's types are not converted (1 is not true, 1.0 is not 1).
// Strings handed to these functions may be key material: they never appear in messages.
#pragma once

#include <toml++/toml.hpp>

#include <array>
#include <initializer_list>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace cvm {

class TomlReader {
public:
    explicit TomlReader(std::string context) : m_context(std::move(context)) {}

    Error error(std::string_view key, const char* what) const;

    // Fails on the first key of `table` not in `allowed`, naming it as `prefix.key`.
    Result<void> only_keys(const toml::table& table, std::string_view prefix,
                           std::initializer_list<std::string_view> allowed) const;

    // The member `name` of `table`, or "missing" naming `prefix.name`.
    Result<const toml::node*> required(const toml::table& table, std::string_view name, std::string_view prefix) const;

    Result<bool> boolean(const toml::node& v, std::string_view key) const;
    Result<int64_t> integer(const toml::node& v, std::string_view key, int64_t min, int64_t max) const;
    Result<std::string> string(const toml::node& v, std::string_view key) const;
    Result<Bytes> hex(const toml::node& v, std::string_view key, size_t size) const;

    template <size_t N>
    Result<std::array<uint8_t, N>> hex_array(const toml::node& v, std::string_view key) const
    {
        Bytes bytes = TRY(hex(v, key, N));
        std::array<uint8_t, N> out;
        std::copy(bytes.begin(), bytes.end(), out.begin());
        return out;
    }

    // A non-empty array of N-byte hex strings.
    template <size_t N>
    Result<std::vector<std::array<uint8_t, N>>> hex_list(const toml::node& v, std::string_view key) const
    {
        const toml::array* a = v.as_array();
        if (!a || a->empty())
            return error(key, "expected a non-empty list of hex strings");
        std::vector<std::array<uint8_t, N>> out;
        for (const toml::node& item : *a)
            out.push_back(TRY(hex_array<N>(item, key)));
        return out;
    }

    // "prefix.name", or "name" for an empty prefix.
    static std::string join(std::string_view prefix, std::string_view name);

private:
    std::string m_context;
};

// Parses TOML text; a syntax error is Errc::Config "<context>: TOML syntax error at line N: ...".
Result<toml::table> parse_toml(std::string_view text, const char* context);

}  // namespace cvm
