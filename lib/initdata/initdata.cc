#include "initdata/initdata.h"

#include <algorithm>
#include <cstring>

#include "base/toml_reader.h"
#include "crypto/digest.h"

namespace cvm::initdata {
namespace {

constexpr const char* CONTEXT = "initdata";

struct AlgorithmName {
    Algorithm algorithm;
    std::string_view name;
};
// The names kata-containers accepts (src/libs/kata-types/src/initdata.rs: SUPPORTED_ALGORITHMS,
// calculate_digest()) and Trustee's own documents use; the spec's IANA spellings ("sha-384")
// are not accepted there either, so a document carrying them would not work with Kata.
constexpr AlgorithmName ALGORITHMS[] = {
    {Algorithm::Sha256, "sha256"},
    {Algorithm::Sha384, "sha384"},
    {Algorithm::Sha512, "sha512"},
};

// An initdata value is printed only when short and printable: the error line must stay one line.
std::string shown(std::string_view value)
{
    if (value.size() > 32 || !std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c < 0x7F; }))
        return "(" + std::to_string(value.size()) + " bytes)";
    return "\"" + std::string(value) + "\"";
}

Result<Algorithm> parse_algorithm(const toml::node& node)
{
    TomlReader reader(CONTEXT);
    std::string name = TRY(reader.string(node, "algorithm"));
    for (const AlgorithmName& a : ALGORITHMS) {
        if (a.name == name)
            return a.algorithm;
    }
    return Error::make(Errc::Config, "initdata key 'algorithm': %s is not sha256, sha384 or sha512",
                       shown(name).c_str());
}

Result<std::map<std::string, std::string>> parse_data(const toml::node& node)
{
    const toml::table* table = node.as_table();
    if (!table)
        return Error::make(Errc::Config, "initdata key 'data': expected a table");
    std::map<std::string, std::string> data;
    for (auto&& [key, value] : *table) {
        std::string name(key.str());
        // A "\u0000" escape gives a NUL that the document's bytes do not show; the agent hands
        // these strings to C interfaces, so NUL is refused after decoding as well as before.
        if (name.find('\0') != std::string::npos)
            return Error::make(Errc::Config, "initdata key 'data.%s': a NUL in the name", shown(name).c_str());
        const toml::value<std::string>* s = value.as_string();
        if (!s)
            return Error::make(Errc::Config, "initdata key 'data.%s': expected a string, found a %s",
                               shown(name).c_str(),
                               value.is_table()   ? "table"
                               : value.is_array() ? "array"
                                                  : "non-string value");
        if (s->get().find('\0') != std::string::npos)
            return Error::make(Errc::Config, "initdata key 'data.%s': a NUL in the value", shown(name).c_str());
        data.emplace(std::move(name), s->get());
    }
    return data;
}

// TOML 1.0 "Literal strings": "Control characters other than tab are not permitted in a literal
// string"; a multi-line one adds newlines. Invalid UTF-8 is not TOML either.
bool literal_safe(std::string_view value)
{
    for (size_t i = 0; i < value.size();) {
        auto c = static_cast<unsigned char>(value[i]);
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F)
                return false;
            ++i;
            continue;
        }
        size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        if (length == 0 || c > 0xF4 || i + length > value.size())
            return false;
        uint32_t cp = c & (0x7F >> length);
        for (size_t k = 1; k < length; ++k) {
            auto cc = static_cast<unsigned char>(value[i + k]);
            if ((cc & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        // Overlong forms, surrogates and code points past U+10FFFF.
        if ((length == 3 && cp < 0x800) || (length == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += length;
    }
    return true;
}

}  // namespace

std::string_view algorithm_name(Algorithm algorithm)
{
    for (const AlgorithmName& a : ALGORITHMS) {
        if (a.algorithm == algorithm)
            return a.name;
    }
    return "unknown";
}

Result<Document> parse(std::string_view text)
{
    if (text.size() > MAX_INITDATA_SIZE)
        return Error::make(Errc::Config, "initdata: %zu bytes, more than the %zu allowed", text.size(),
                           MAX_INITDATA_SIZE);
    if (text.find('\0') != std::string_view::npos)
        return Error::make(Errc::Config, "initdata: a NUL byte at offset %zu", text.find('\0'));
    // toml++ refuses duplicate keys and tables as TOML requires ("Defining a key multiple times is
    // invalid"), and invalid UTF-8, so those are syntax errors here.
    toml::table table = TRY(parse_toml(text, CONTEXT));
    TomlReader reader(CONTEXT);
    TRY(reader.only_keys(table, "", {"algorithm", "version", "data"}));

    Document document;
    document.algorithm = TRY(parse_algorithm(*TRY(reader.required(table, "algorithm", ""))));
    document.version = TRY(reader.string(*TRY(reader.required(table, "version", "")), "version"));
    if (document.version != INITDATA_VERSION)
        return Error::make(Errc::Config, "initdata key 'version': %s, expected \"%s\"", shown(document.version).c_str(),
                           INITDATA_VERSION);
    document.data = TRY(parse_data(*TRY(reader.required(table, "data", ""))));
    document.text = std::string(text);
    return document;
}

Bytes digest(Algorithm algorithm, std::string_view text)
{
    ByteView bytes = as_bytes(text);
    switch (algorithm) {
    case Algorithm::Sha256: {
        auto d = crypto::Sha256::of(bytes);
        return {d.begin(), d.end()};
    }
    case Algorithm::Sha384: {
        auto d = crypto::Sha384::of(bytes);
        return {d.begin(), d.end()};
    }
    case Algorithm::Sha512: {
        auto d = crypto::Sha512::of(bytes);
        return {d.begin(), d.end()};
    }
    }
    abort();
}

// The digest is over the document's bytes as delivered, not the spec's JSON canonicalisation:
// that is what the implementations compute. kata-containers src/libs/kata-types/src/initdata.rs:
// calculate_initdata_digest() hashes the TOML text it was given (calculate_digest()), then
// adjust_digest() takes the first 32 bytes for ProtectedPlatform::Snp (zero-padding only a
// shorter digest, which none of the three algorithms gives). Trustee's verifier compares the
// report's HOST_DATA with the same bytes (deps/verifier/src/lib.rs: regularize_data()).
HostData host_data(const Document& document)
{
    Bytes full = digest(document.algorithm, document.text);
    HostData out{};
    std::copy_n(full.begin(), std::min(full.size(), out.size()), out.begin());
    return out;
}

Result<std::string> compose(Algorithm algorithm, const std::map<std::string, std::string>& data)
{
    std::string out = "algorithm = \"" + std::string(algorithm_name(algorithm)) + "\"\nversion = \"" +
                      INITDATA_VERSION + "\"\n\n[data]\n";
    for (const auto& [name, value] : data) {
        if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c >= 0x20 && c < 0x7F; }))
            return Error::make(Errc::Config, "initdata entry %s: a name must be printable ASCII", shown(name).c_str());
        if (value.find("'''") != std::string::npos)
            return Error::make(Errc::Config,
                               "initdata entry \"%s\": the value contains ''', which a TOML literal "
                               "string cannot hold",
                               name.c_str());
        if (!literal_safe(value))
            return Error::make(Errc::Config,
                               "initdata entry \"%s\": the value is not UTF-8 text without control "
                               "characters (tab and LF allowed; no CR, no NUL)",
                               name.c_str());
        out += '"';
        for (char c : name) {
            if (c == '"' || c == '\\')
                out += '\\';
            out += c;
        }
        // "A newline immediately following the opening delimiter will be trimmed" (TOML 1.0).
        out += "\" = '''\n" + value + "'''\n";
    }
    if (out.size() > MAX_INITDATA_SIZE)
        return Error::make(Errc::Config, "initdata: the document would be %zu bytes, more than the %zu allowed",
                           out.size(), MAX_INITDATA_SIZE);
    return out;
}

}  // namespace cvm::initdata
