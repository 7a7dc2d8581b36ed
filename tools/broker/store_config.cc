#include "store_config.h"

#include <algorithm>
#include <cctype>

#include "base/bytes.h"
#include "base/file.h"
#include "base/toml_reader.h"
#include "net/tls.h"
#include "redis_store.h"
#include "store_toml.h"

namespace cvm::broker {
namespace {

constexpr size_t MAX_URL_BYTES = 1024;
constexpr size_t MAX_PASSWORD_BYTES = 1024;
constexpr size_t MAX_USERNAME_BYTES = 256;
constexpr int64_t MAX_DB = 65535;

const TomlReader R("broker config");

Error bad_url(std::string_view text, const char* why)
{
    return Error::make(Errc::Config, "broker config key 'store.url': \"%.*s\" %s",
                       static_cast<int>(std::min<size_t>(text.size(), 80)), text.data(), why);
}

// Decimal digits only, at most `max`; nullopt otherwise.
std::optional<int64_t> decimal(std::string_view digits, int64_t max)
{
    if (digits.empty() || digits.size() > 6)
        return std::nullopt;
    int64_t v = 0;
    for (char c : digits) {
        if (!isdigit(static_cast<unsigned char>(c)))
            return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v <= max ? std::optional<int64_t>(v) : std::nullopt;
}

bool is_host_char(char c)
{
    return isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

std::string resolve(const std::string& base_dir, const std::string& path)
{
    return path.empty() || path[0] == '/' || base_dir.empty() ? path : base_dir + "/" + path;
}

}  // namespace

std::string RedisUrl::to_string() const
{
    bool v6 = host.find(':') != std::string::npos;
    return std::string(tls ? "rediss://" : "redis://") + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) +
           "/" + std::to_string(db);
}

Result<RedisUrl> parse_redis_url(std::string_view text)
{
    // First, and without echoing the URL: user information may hold a password.
    if (text.find('@') != std::string_view::npos)
        return Error::make(Errc::Config, "broker config key 'store.url': has user information (user:password@), "
                                         "which is not echoed here: put the user in store.username and the "
                                         "password in a file named by store.password_file");
    if (text.size() > MAX_URL_BYTES)
        return bad_url(text, "is longer than 1024 bytes");
    for (char c : text) {
        if (c <= 0x20 || c >= 0x7f)
            return bad_url(text, "has a space, control or non-ASCII byte");
    }
    RedisUrl url;
    size_t sep = text.find("://");
    std::string_view scheme = sep == std::string_view::npos ? std::string_view{} : text.substr(0, sep);
    if (equals_ignore_case(scheme, "rediss"))
        url.tls = true;
    else if (!equals_ignore_case(scheme, "redis"))
        return bad_url(text, "expected redis://host:port/db or rediss://host:port/db");
    std::string_view rest = text.substr(sep + 3);
    if (rest.find_first_of("?#") != std::string_view::npos)
        return bad_url(text, "has a query or fragment; the [store] table takes the other settings");
    size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    std::string_view port;
    bool has_port = false;
    if (!authority.empty() && authority.front() == '[') {
        size_t close = authority.find(']');
        if (close == std::string_view::npos || close == 1)
            return bad_url(text, "has an unterminated or empty IPv6 literal");
        url.host = std::string(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty() && after.front() != ':')
            return bad_url(text, "has bytes after the IPv6 literal other than :port");
        has_port = !after.empty();
        port = has_port ? after.substr(1) : after;
        for (char c : url.host) {
            if (!isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.')
                return bad_url(text, "has an IPv6 literal with a byte other than hex digits, ':' and '.'");
        }
    } else {
        size_t colon = authority.find(':');
        url.host = std::string(authority.substr(0, colon));
        has_port = colon != std::string_view::npos;
        port = has_port ? authority.substr(colon + 1) : std::string_view{};
        if (url.host.empty())
            return bad_url(text, "has no host");
        for (char c : url.host) {
            if (!is_host_char(c))
                return bad_url(text, "has a host with a byte other than letters, digits, '-', '.', '_'");
        }
    }
    if (has_port) {
        auto p = decimal(port, 65535);
        if (!p || *p == 0)
            return bad_url(text, "has a port that is not a number from 1 to 65535");
        url.port = static_cast<uint16_t>(*p);
    }
    if (slash != std::string_view::npos && slash + 1 < rest.size()) {
        auto db = decimal(rest.substr(slash + 1), MAX_DB);
        if (!db)
            return bad_url(text, "has a database that is not a number from 0 to 65535");
        url.db = *db;
    }
    return url;
}

Result<StoreConfig> parse_store_table(const toml::table& t, const std::string& base_dir)
{
    TRY(R.only_keys(t, "store",
                    {"url", "username", "password_file", "ca_file", "server_name", "timeout_ms", "pool_size"}));
    StoreConfig c;
    c.url = TRY(parse_redis_url(TRY(R.string(*TRY(R.required(t, "url", "store")), "store.url"))));
    if (const toml::node* n = t.get("username")) {
        std::string name = TRY(R.string(*n, "store.username"));
        bool printable = std::all_of(name.begin(), name.end(), [](char ch) { return ch > 0x20 && ch < 0x7f; });
        if (name.empty() || name.size() > MAX_USERNAME_BYTES || !printable)
            return R.error("store.username", "expected 1 to 256 visible ASCII characters");
        c.username = std::move(name);
    }
    if (const toml::node* n = t.get("password_file")) {
        std::string path = resolve(base_dir, TRY(R.string(*n, "store.password_file")));
        SecretBytes file = TRY_PREFIX(read_secret_file(path, MAX_PASSWORD_BYTES + 2), "store.password_file");
        size_t size = file.size();
        if (size > 0 && file.expose()[size - 1] == '\n')
            size -= (size > 1 && file.expose()[size - 2] == '\r') ? 2 : 1;
        if (size == 0 || size > MAX_PASSWORD_BYTES)
            return R.error("store.password_file", "expected a file holding a password of 1 to 1024 bytes");
        c.password = SecretBytes::copy_of(file.expose().first(size));
    } else if (c.username) {
        return R.error("store.password_file", "missing: store.username needs a password (AUTH username password)");
    }
    if (const toml::node* n = t.get("ca_file")) {
        if (!c.url.tls)
            return R.error("store.ca_file", "is set but store.url is not rediss:// (TLS)");
        c.ca_file = resolve(base_dir, TRY(R.string(*n, "store.ca_file")));
    } else if (c.url.tls) {
        c.ca_file = net::DEFAULT_CA_FILE;
    }
    if (const toml::node* n = t.get("server_name")) {
        if (!c.url.tls)
            return R.error("store.server_name", "is set but store.url is not rediss:// (TLS)");
        c.server_name = TRY(R.string(*n, "store.server_name"));
        if (c.server_name.empty() || !std::all_of(c.server_name.begin(), c.server_name.end(),
                                                  [](char ch) { return is_host_char(ch) || ch == ':'; }))
            return R.error("store.server_name", "expected a DNS name or IP address");
    } else if (c.url.tls) {
        c.server_name = c.url.host;
    }
    if (const toml::node* n = t.get("timeout_ms"))
        c.timeout_ms = TRY(R.integer(*n, "store.timeout_ms", 10, 60000));
    if (const toml::node* n = t.get("pool_size"))
        c.pool_size = static_cast<size_t>(TRY(R.integer(*n, "store.pool_size", 1, 1024)));
    return c;
}

Result<std::unique_ptr<Store>> open_store(const StoreConfig* config, kds::Clock* clock)
{
    if (!config)
        return std::unique_ptr<Store>(std::make_unique<MemoryStore>(clock));
    return std::unique_ptr<Store>(TRY(RedisStore::create(*config)));
}

}  // namespace cvm::broker
