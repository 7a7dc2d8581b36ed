// The Sigstore trusted root (sigstore/protobuf-specs protos/sigstore_trustroot.proto: TrustedRoot,
// TransparencyLogInstance; JSON by protobuf's mapping, as sigstore's TUF repository and
// @sigstore/mock's trust-root.js write it). Only `tlogs` are read: the other members (certificate
// authorities, CT logs, timestamp authorities) serve keyless signing, which cvm does not verify.
//
// A log whose key is neither ECDSA P-256 nor Ed25519 (the algorithms release/keys.h verifies) is
// left out, as a verifier that cannot use a key does not trust it: its entries are refused as
// entries of an unknown log. A trusted root left without a log is refused.
#include <algorithm>
#include <optional>
#include <string>

#include "base/base64.h"
#include "base/file.h"
#include "crypto/digest.h"
#include "proto/json.h"
#include "proto/pem.h"
#include "release/checkpoint.h"
#include "release/tlog.h"

namespace cvm::release {
namespace {

constexpr std::string_view TRUSTED_ROOT_MEDIA_TYPE = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
constexpr size_t MAX_TRUSTED_ROOT_SIZE = 1 << 20;
constexpr size_t MAX_TLOGS = 64;
constexpr size_t MAX_KEY_SIZE = 4096;

int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    // Howard Hinnant's days_from_civil (proleptic Gregorian calendar, days since 1970-01-01).
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// RFC 3339 date-time as protobuf's JSON mapping writes a Timestamp: "2021-01-12T11:53:27.000Z",
// 0 to 9 fractional digits, "Z" or a numeric offset. Fractions are dropped (whole seconds are what
// Rekor's integratedTime has).
Result<int64_t> parse_rfc3339(std::string_view text, const std::string& what)
{
    auto fail = [&]() {
        return Error::make(Errc::Format, "%s: \"%.*s\" is not an RFC 3339 time", what.c_str(),
                           static_cast<int>(std::min<size_t>(text.size(), 40)), text.data());
    };
    auto number = [&](size_t pos, size_t len, int64_t& out) {
        if (pos + len > text.size())
            return false;
        out = 0;
        for (size_t i = pos; i < pos + len; ++i) {
            if (text[i] < '0' || text[i] > '9')
                return false;
            out = out * 10 + (text[i] - '0');
        }
        return true;
    };
    int64_t year, month, day, hour, minute, second;
    if (!number(0, 4, year) || text.size() < 20 || text[4] != '-' || !number(5, 2, month) || text[7] != '-' ||
        !number(8, 2, day) || (text[10] != 'T' && text[10] != 't') || !number(11, 2, hour) || text[13] != ':' ||
        !number(14, 2, minute) || text[16] != ':' || !number(17, 2, second))
        return fail();
    static constexpr int DAYS[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month < 1 || month > 12 || day < 1 || day > DAYS[month - 1] || (month == 2 && day == 29 && !leap) ||
        hour > 23 || minute > 59 || second > 60)
        return fail();
    size_t pos = 19;
    if (text[pos] == '.') {
        size_t digits = 0;
        while (pos + 1 + digits < text.size() && text[pos + 1 + digits] >= '0' && text[pos + 1 + digits] <= '9')
            ++digits;
        if (digits == 0 || digits > 9)
            return fail();
        pos += 1 + digits;
    }
    int64_t offset = 0;
    std::string_view zone = text.substr(pos);
    if (zone == "Z" || zone == "z") {
        offset = 0;
    } else {
        int64_t oh, om;
        if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || !number(pos + 1, 2, oh) || zone[3] != ':' ||
            !number(pos + 4, 2, om) || oh > 23 || om > 59)
            return fail();
        offset = (zone[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    }
    int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    return days * 86400 + hour * 3600 + minute * 60 + std::min<int64_t>(second, 59) - offset;
}

// A member that must appear at most once (I-JSON; yyjson_obj_get would take the first of two).
Result<yyjson_val*> unique_member(yyjson_val* object, std::string_view key, const std::string& what)
{
    yyjson_val* found = nullptr;
    yyjson_obj_iter it = yyjson_obj_iter_with(object);
    while (yyjson_val* name = yyjson_obj_iter_next(&it)) {
        if (std::string_view(yyjson_get_str(name), yyjson_get_len(name)) != key)
            continue;
        if (found)
            return Error::make(Errc::Format, "%s.%.*s: duplicate member", what.c_str(), static_cast<int>(key.size()),
                               key.data());
        found = yyjson_obj_iter_get_val(name);
    }
    return found;
}

Result<void> no_duplicates(yyjson_val* object, const std::string& what)
{
    if (!yyjson_is_obj(object))
        return Error::make(Errc::Format, "%s: expected a JSON object", what.c_str());
    yyjson_obj_iter it = yyjson_obj_iter_with(object);
    while (yyjson_val* name = yyjson_obj_iter_next(&it))
        TRY(unique_member(object, std::string_view(yyjson_get_str(name), yyjson_get_len(name)), what));
    return {};
}

Result<yyjson_val*> object_member(yyjson_val* object, const char* key, const std::string& what)
{
    yyjson_val* v = yyjson_obj_get(object, key);
    if (!v)
        return Error::make(Errc::Format, "%s.%s: missing", what.c_str(), key);
    TRY(no_duplicates(v, what + "." + key));
    return v;
}

// Parses one tlogs[] element; nullopt for a log whose key algorithm cvm does not verify.
Result<std::optional<TransparencyLog>> parse_tlog(yyjson_val* value, const std::string& what)
{
    TRY(no_duplicates(value, what));
    TransparencyLog log;
    log.base_url = std::string(TRY(proto::string_member(value, "baseUrl", what)));
    if (log_host(log.base_url).empty())
        return Error::make(Errc::Format, "%s.baseUrl: \"%.64s\" names no host", what.c_str(), log.base_url.c_str());
    std::string_view hash_algorithm = TRY(proto::string_member(value, "hashAlgorithm", what));
    if (hash_algorithm != "SHA2_256")
        return Error::make(Errc::Unsupported, "%s.hashAlgorithm: \"%.*s\", expected \"SHA2_256\"", what.c_str(),
                           static_cast<int>(std::min<size_t>(hash_algorithm.size(), 32)), hash_algorithm.data());
    yyjson_val* log_id = TRY(object_member(value, "logId", what));
    log.log_id = TRY(proto::base64_fixed_member<32>(log_id, "keyId", what + ".logId"));

    std::string key_what = what + ".publicKey";
    yyjson_val* key = TRY(object_member(value, "publicKey", what));
    std::string_view details = TRY(proto::string_member(key, "keyDetails", key_what));
    if (details != "PKIX_ECDSA_P256_SHA_256" && details != "PKIX_ED25519")
        return std::optional<TransparencyLog>();
    Bytes der = TRY(proto::base64_member(key, "rawBytes", key_what, MAX_KEY_SIZE));
    auto pem = proto::pem_encode(der, "PUBLIC KEY");
    auto parsed =
        PublicKey::parse_pem(std::string_view(reinterpret_cast<const char*>(pem.expose().data()), pem.expose().size()));
    if (!parsed.ok())
        return parsed.release_error().prefix("%s.rawBytes", key_what.c_str());
    if ((details == "PKIX_ED25519") != (parsed->kind() == KeyKind::Ed25519))
        return Error::make(Errc::Format, "%s.rawBytes: not a key of keyDetails %.*s", key_what.c_str(),
                           static_cast<int>(details.size()), details.data());
    log.key = parsed.release_value();

    yyjson_val* valid_for = TRY(object_member(key, "validFor", key_what));
    std::string valid_what = key_what + ".validFor";
    log.valid_from =
        TRY(parse_rfc3339(TRY(proto::string_member(valid_for, "start", valid_what)), valid_what + ".start"));
    if (yyjson_obj_get(valid_for, "end")) {
        int64_t end = TRY(parse_rfc3339(TRY(proto::string_member(valid_for, "end", valid_what)), valid_what + ".end"));
        if (end < log.valid_from)
            return Error::make(Errc::Format, "%s: end before start", valid_what.c_str());
        log.valid_until = end;
    }
    return std::optional<TransparencyLog>(std::move(log));
}

}  // namespace

Result<TrustedRoot> parse_trusted_root(std::string_view json)
{
    if (json.size() > MAX_TRUSTED_ROOT_SIZE)
        return Error::make(Errc::Format, "trusted root: %zu bytes, at most %zu", json.size(), MAX_TRUSTED_ROOT_SIZE);
    auto doc = TRY(proto::JsonDoc::parse(json, "trusted root"));
    yyjson_val* root = doc.root();
    TRY(no_duplicates(root, "trustedRoot"));
    std::string_view media_type = TRY(proto::string_member(root, "mediaType", "trustedRoot"));
    if (media_type != TRUSTED_ROOT_MEDIA_TYPE)
        return Error::make(Errc::Unsupported, "trustedRoot.mediaType: \"%.*s\", expected \"%.*s\"",
                           static_cast<int>(std::min<size_t>(media_type.size(), 80)), media_type.data(),
                           static_cast<int>(TRUSTED_ROOT_MEDIA_TYPE.size()), TRUSTED_ROOT_MEDIA_TYPE.data());
    yyjson_val* tlogs = TRY(proto::array_member(root, "tlogs", "trustedRoot", MAX_TLOGS));
    TrustedRoot out;
    size_t i = 0;
    yyjson_val* value = nullptr;
    yyjson_arr_iter it = yyjson_arr_iter_with(tlogs);
    while ((value = yyjson_arr_iter_next(&it))) {
        auto log = TRY(parse_tlog(value, "trustedRoot.tlogs[" + std::to_string(i++) + "]"));
        if (log)
            out.tlogs.push_back(std::move(*log));
    }
    if (out.tlogs.empty())
        return Error::make(Errc::Config, "trustedRoot.tlogs: no log with an ECDSA P-256 or Ed25519 key");
    return out;
}

Result<TrustedRoot> load_trusted_root(const std::string& path)
{
    std::string text = TRY(read_text_file(path, MAX_TRUSTED_ROOT_SIZE));
    auto root = parse_trusted_root(text);
    if (!root.ok())
        return root.release_error().prefix("%s", path.c_str());
    return root;
}

}  // namespace cvm::release
