#include "proto/release.h"

#include <sodium.h>
#include <yyjson.h>

#include <algorithm>
#include <cstring>

#include "base/base64.h"
#include "proto/json.h"
#include "proto/messages.h"

namespace cvm::proto {
namespace {

constexpr int B64 = sodium_base64_VARIANT_ORIGINAL;

// Appends to a buffer that wipes every block it gives up.
class SecretWriter {
public:
    void text(std::string_view s) { bytes({reinterpret_cast<const uint8_t*>(s.data()), s.size()}); }
    void base64(ByteView data)
    {
        size_t length = sodium_base64_encoded_len(data.size(), B64);
        reserve(length);
        sodium_bin2base64(reinterpret_cast<char*>(m_buffer.expose().data() + m_used), length, data.data(), data.size(),
                          B64);
        m_used += length - 1;  // without the terminating NUL
    }
    SecretBytes finish() { return SecretBytes::copy_of(m_buffer.expose().first(m_used)); }

private:
    void bytes(ByteView data)
    {
        reserve(data.size());
        std::copy(data.begin(), data.end(), m_buffer.expose().begin() + static_cast<ptrdiff_t>(m_used));
        m_used += data.size();
    }
    void reserve(size_t more)
    {
        if (m_used + more <= m_buffer.size())
            return;
        SecretBytes bigger(std::max(m_buffer.size() * 2, m_used + more + 256));
        std::copy_n(m_buffer.expose().begin(), m_used, bigger.expose().begin());
        m_buffer = std::move(bigger);  // the old block is wiped as it is released
    }

    SecretBytes m_buffer;
    size_t m_used{0};
};

Result<SecretBytes> decoded_secret(yyjson_val* object, const char* key, const std::string& what)
{
    yyjson_val* v = yyjson_obj_get(object, key);
    if (!yyjson_is_str(v))
        return Error::make(Errc::Format, "%s.%s: expected a base64 string", what.c_str(), key);
    auto secret = base64_decode_secret({yyjson_get_str(v), yyjson_get_len(v)});
    if (!secret)
        return Error::make(Errc::Format, "%s.%s: not canonical base64", what.c_str(), key);
    return std::move(*secret);
}

Result<std::string> name_member(yyjson_val* object, const std::string& what, std::vector<std::string>& seen)
{
    std::string_view name = TRY(string_member(object, "name", what));
    if (!valid_resource_name(name))
        return Error::make(Errc::Format, "%s.name: not a valid resource name", what.c_str());
    if (std::find(seen.begin(), seen.end(), name) != seen.end())
        return Error::make(Errc::Format, "%s.name: '%.*s' released twice", what.c_str(), static_cast<int>(name.size()),
                           name.data());
    seen.emplace_back(name);
    return std::string(name);
}

}  // namespace

Result<SecretBytes> serialize_release(const Release& release)
{
    SecretWriter w;
    w.text("{\"secrets\":[");
    for (size_t i = 0; i < release.secrets.size(); ++i) {
        const ReleasedSecret& s = release.secrets[i];
        if (!valid_resource_name(s.name) || (s.env && !valid_env_name(*s.env)))
            return Error::make(Errc::Config, "release: secret %zu has an invalid name or env name", i);
        w.text(i ? ",{\"name\":\"" : "{\"name\":\"");
        w.text(s.name);  // valid names need no JSON escaping
        w.text("\",\"value\":\"");
        w.base64(s.value.expose());
        w.text("\"");
        if (s.env) {
            w.text(",\"env\":\"");
            w.text(*s.env);
            w.text("\"");
        }
        w.text("}");
    }
    w.text("],\"volumes\":[");
    for (size_t i = 0; i < release.volumes.size(); ++i) {
        const ReleasedVolume& v = release.volumes[i];
        if (!valid_resource_name(v.name))
            return Error::make(Errc::Config, "release: volume %zu has an invalid name", i);
        w.text(i ? ",{\"name\":\"" : "{\"name\":\"");
        w.text(v.name);
        w.text("\",\"key\":\"");
        w.base64(v.key.expose());
        if (v.recovery.size()) {
            w.text("\",\"recovery\":\"");
            w.base64(v.recovery.expose());
        }
        w.text("\"}");
    }
    w.text("]}");
    return w.finish();
}

Result<Release> parse_release(ByteView plaintext)
{
    if (plaintext.size() > MAX_CIPHERTEXT)
        return Error::make(Errc::Format, "release: %zu bytes exceeds %zu", plaintext.size(), MAX_CIPHERTEXT);
    SecretBytes buffer(plaintext.size() + YYJSON_PADDING_SIZE);
    std::copy(plaintext.begin(), plaintext.end(), buffer.expose().begin());
    JsonDoc doc = TRY(JsonDoc::parse_in_place(buffer.expose(), plaintext.size(), "release"));
    TRY(check_members(doc.root(), "release", {"secrets", "volumes"}));
    Release out;
    std::vector<std::string> seen;
    yyjson_val* secrets = TRY(array_member(doc.root(), "secrets", "release", MAX_RESOURCES));
    size_t i = 0, n = 0;
    yyjson_val* item = nullptr;
    yyjson_arr_foreach(secrets, i, n, item)
    {
        std::string what = "release.secrets[" + std::to_string(i) + "]";
        TRY(check_members(item, what, {"name", "value"}, {"env"}));
        ReleasedSecret s;
        s.name = TRY(name_member(item, what, seen));
        s.value = TRY(decoded_secret(item, "value", what));
        if (yyjson_obj_get(item, "env")) {
            s.env = std::string(TRY(string_member(item, "env", what)));
            if (!valid_env_name(*s.env))
                return Error::make(Errc::Format, "%s.env: not a valid environment variable name", what.c_str());
        }
        out.secrets.push_back(std::move(s));
    }
    yyjson_val* volumes = TRY(array_member(doc.root(), "volumes", "release", MAX_RESOURCES));
    yyjson_arr_foreach(volumes, i, n, item)
    {
        std::string what = "release.volumes[" + std::to_string(i) + "]";
        TRY(check_members(item, what, {"name", "key"}, {"recovery"}));
        ReleasedVolume v;
        v.name = TRY(name_member(item, what, seen));
        v.key = TRY(decoded_secret(item, "key", what));
        if (yyjson_obj_get(item, "recovery")) {
            v.recovery = TRY(decoded_secret(item, "recovery", what));
            // Absent means none; present and empty would be a second spelling of it.
            if (v.recovery.size() == 0)
                return Error::make(Errc::Format, "%s.recovery: empty, expected the member left out", what.c_str());
        }
        out.volumes.push_back(std::move(v));
    }
    return out;
}

}  // namespace cvm::proto
