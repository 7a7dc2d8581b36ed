#include "storage/luks2_token.h"

#include <sodium.h>

#include <cinttypes>
#include <cstring>

#include "storage/luks2_header.h"
#include "storage/luks2_json.h"
#include "storage/luks2_metadata.h"

namespace cvm::storage::luks2 {
namespace {

constexpr size_t MAC_SIZE = crypto_auth_hmacsha256_BYTES;
static_assert(MAC_SIZE == 32);

std::string_view text_of(yyjson_val* v)
{
    return {yyjson_get_str(v), yyjson_get_len(v)};
}

Result<uint64_t> decimal_max(yyjson_val* object, std::string_view path, const char* key, uint64_t max)
{
    uint64_t n = TRY(decimal_at(object, path, key));
    if (n > max)
        return Error::make(Errc::Format, "luks2 header: %s.%s is %" PRIu64 ", expected at most %" PRIu64,
                           std::string(path).c_str(), key, n, max);
    return n;
}

Result<Derivation> parse_derivation(yyjson_val* d)
{
    constexpr std::string_view PATH = "tokens.0.derivation";
    if (!yyjson_is_obj(d))
        return unexpected(Errc::Format, PATH, d, "an object");
    TRY(check_members(d, PATH, {"policy", "fields", "guest_svn", "tcb_version"}));
    Derivation out;
    out.policy = std::string(TRY(string_at(d, PATH, "policy")));
    bool known = false;
    for (std::string_view p : POLICIES)
        known = known || p == out.policy;
    if (!known)
        return unexpected(Errc::Unsupported, "tokens.0.derivation.policy", yyjson_obj_get(d, "policy"),
                          "\"measurement-and-chip\", \"measurement-only\" or \"chip-only\"");
    out.field_select = TRY(decimal_at(d, PATH, "fields"));
    out.guest_svn = static_cast<uint32_t>(TRY(decimal_max(d, PATH, "guest_svn", UINT32_MAX)));
    out.tcb_version = TRY(decimal_at(d, PATH, "tcb_version"));
    return out;
}

Result<std::array<uint8_t, 32>> parse_hmac(yyjson_val* token)
{
    yyjson_val* hmac = TRY(member(token, "tokens.0", "hmac"));
    std::string_view hex = yyjson_is_str(hmac) ? text_of(hmac) : std::string_view{};
    bool lower_hex = hex.size() == 2 * MAC_SIZE && hex.find_first_not_of("0123456789abcdef") == std::string_view::npos;
    if (!lower_hex)
        return unexpected(Errc::Format, "tokens.0.hmac", hmac, "64 lower-case hex digits");
    std::array<uint8_t, 32> out{};
    Bytes bytes = *from_hex(hex);
    memcpy(out.data(), bytes.data(), out.size());
    return out;
}

void hmac_sha256(ByteView key, std::initializer_list<ByteView> parts, std::span<uint8_t, MAC_SIZE> out)
{
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, key.data(), key.size());
    for (ByteView part : parts)
        crypto_auth_hmacsha256_update(&state, part.data(), part.size());
    crypto_auth_hmacsha256_final(&state, out.data());
    sodium_memzero(&state, sizeof state);
}

}  // namespace

Result<void> parse_tokens(yyjson_val* tokens, Volume& v)
{
    if (!yyjson_is_obj(tokens))
        return unexpected(Errc::Format, "tokens", tokens, "an object");
    // A foreign token is named by its type ("systemd-tpm2", ...), whatever its id.
    yyjson_obj_iter it = yyjson_obj_iter_with(tokens);
    while (yyjson_val* key = yyjson_obj_iter_next(&it)) {
        yyjson_val* type = yyjson_obj_get(yyjson_obj_iter_get_val(key), "type");
        std::string path = join("tokens", text_of(key)) + ".type";
        if (yyjson_is_str(type) && text_of(type) == OLD_FORMATTING_TOKEN_TYPE)
            return Error::make(Errc::Unsupported,
                               "luks2 header: %s is \"cvminit-formatting\", the token of an earlier cvminit that "
                               "this version does not write or accept, expected a \"cvminit\" token",
                               path.c_str());
        if (!yyjson_is_str(type) || text_of(type) != TOKEN_TYPE)
            return unexpected(Errc::Unsupported, path, type, "only our \"cvminit\" token");
    }
    if (yyjson_obj_size(tokens) == 0) {
        // ADOPTION (luks2_volume.h): cryptsetup's volumes and our earlier finished ones.
        v.adopt = true;
        return {};
    }
    TRY(check_members(tokens, "tokens", {"0"}));
    yyjson_val* token = yyjson_obj_get(tokens, "0");
    TRY(check_members(token, "tokens.0", {"type", "keyslots", "state", "generation", "hmac"}, {"derivation"}));
    yyjson_val* keyslots = TRY(member(token, "tokens.0", "keyslots"));
    if (!yyjson_is_arr(keyslots) || yyjson_arr_size(keyslots) != 0)
        return unexpected(Errc::Format, "tokens.0.keyslots", keyslots, "[]");
    yyjson_val* state = TRY(member(token, "tokens.0", "state"));
    if (yyjson_equals_str(state, "formatting"))
        v.formatting = true;
    else if (yyjson_equals_str(state, "ready"))
        v.formatting = false;
    else
        return unexpected(Errc::Format, "tokens.0.state", state, "\"formatting\" or \"ready\"");
    v.generation = TRY(decimal_at(token, "tokens.0", "generation"));
    if (yyjson_val* d = yyjson_obj_get(token, "derivation"))
        v.derivation = TRY(parse_derivation(d));
    v.hmac = TRY(parse_hmac(token));
    return {};
}

std::string write_tokens(const Volume& v, bool with_hmac)
{
    if (v.adopt)
        return "{}";
    auto num = [](uint64_t n) { return "\"" + std::to_string(n) + "\""; };
    std::string out = "{\"0\":{\"type\":\"" + std::string(TOKEN_TYPE) + "\",\"keyslots\":[],\"state\":\"" +
                      (v.formatting ? "formatting" : "ready") + "\",\"generation\":" + num(v.generation);
    if (v.derivation) {
        // The policy is written as it is held: parse_tokens() admits only POLICIES, and format()
        // and reenroll_keyslot0() refuse any other before writing.
        out += ",\"derivation\":{\"policy\":\"" + v.derivation->policy +
               "\",\"fields\":" + num(v.derivation->field_select) + ",\"guest_svn\":" + num(v.derivation->guest_svn) +
               ",\"tcb_version\":" + num(v.derivation->tcb_version) + "}";
    }
    if (with_hmac)
        out += ",\"hmac\":\"" + to_hex(v.hmac) + "\"";
    return out + "}}";
}

std::array<uint8_t, 32> header_hmac(const Volume& v, ByteView volume_key)
{
    // HKDF-SHA256 (RFC 5869 §2.2, §2.3) with no salt (HashLen zeros) and one output block.
    static constexpr uint8_t NO_SALT[MAC_SIZE] = {};
    static constexpr uint8_t ONE[1] = {1};
    ByteView info = as_bytes(HMAC_INFO);
    Secret<MAC_SIZE> prk, key;
    hmac_sha256(NO_SALT, {volume_key}, prk.expose());
    hmac_sha256(prk.expose(), {info, ONE}, key.expose());

    // M: the tag and its NUL, the shared binary header fields in their on-disk slots, the JSON.
    uint8_t fields[2 + 8 + LABEL_SIZE + UUID_SIZE + SUBSYSTEM_SIZE] = {};
    fields[1] = 2;  // version, be16
    for (int i = 0; i < 8; ++i)
        fields[2 + i] = static_cast<uint8_t>(v.seqid >> (56 - 8 * i));
    memcpy(fields + 10, v.label.data(), std::min(v.label.size(), LABEL_SIZE - 1));
    memcpy(fields + 10 + LABEL_SIZE, v.uuid.data(), std::min(v.uuid.size(), UUID_SIZE - 1));
    std::string json = write_metadata(v, false);
    static constexpr uint8_t NUL[1] = {0};
    std::array<uint8_t, 32> out{};
    hmac_sha256(key.expose(), {info, NUL, fields, as_bytes(json)}, out);
    return out;
}

}  // namespace cvm::storage::luks2
