#include "releases.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <set>

#include "base/bytes.h"
#include "base/file.h"
#include "base/toml_reader.h"
#include "crypto/digest.h"
#include "policy/policy_toml.h"
#include "proto/json.h"
#include "release/bundle.h"

namespace cvm::broker {
namespace {

const TomlReader R("broker config");
constexpr const char* BUNDLE_SUFFIX = ".sigstore.json";
constexpr size_t MAX_BUNDLES = 1024;
constexpr int64_t MAX_SECONDS = 253402300799;  // 9999-12-31T23:59:59Z

std::string resolve(const std::string& base_dir, const std::string& path)
{
    return path.empty() || path[0] == '/' || base_dir.empty() ? path : base_dir + "/" + path;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-Compatible Low-Level
// Date Algorithms", days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = static_cast<unsigned>(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// A TOML offset date-time (2027-06-30T00:00:00Z) or an integer of seconds since the epoch.
Result<int64_t> time_value(const toml::node& v, const std::string& key)
{
    if (v.is_integer())
        return R.integer(v, key, 0, MAX_SECONDS);
    const toml::value<toml::date_time>* dt = v.as_date_time();
    if (!dt || !dt->get().offset)
        return R.error(key, "expected a UTC date-time such as 2027-06-30T00:00:00Z (with its offset) or seconds "
                            "since the epoch");
    const toml::date_time& t = dt->get();
    int64_t days = days_from_civil(t.date.year, t.date.month, t.date.day);
    int64_t seconds = days * 86400 + t.time.hour * 3600 + t.time.minute * 60 + t.time.second -
                      static_cast<int64_t>(t.offset->minutes) * 60;
    if (seconds < 0 || seconds > MAX_SECONDS)
        return R.error(key, "expected a time between 1970 and 9999");
    return seconds;
}

Result<ReleaseTrust> parse_trust(const toml::table& t, const std::string& key, const std::string& base_dir)
{
    for (const char* keyless : {"identity", "issuer", "certificate_identity", "certificate_oidc_issuer"}) {
        if (t.contains(keyless))
            return R.error(key + "." + keyless, "keyless releases (a Fulcio certificate identity) are not supported: "
                                                "name the release's public key with `key`");
    }
    TRY(R.only_keys(t, key, {"name", "key", "require_tlog", "trusted_root", "max_age", "not_after"}));
    ReleaseTrust r;
    r.name = TRY(R.string(*TRY(R.required(t, "name", key)), key + ".name"));
    if (r.name.empty() || r.name.size() > 64 || !std::ranges::all_of(r.name, [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                   c == '.';
        }))
        return R.error(key + ".name", "expected 1 to 64 of A-Z a-z 0-9 _ . -");
    std::string key_path = resolve(base_dir, TRY(R.string(*TRY(R.required(t, "key", key)), key + ".key")));
    r.key = TRY_PREFIX(release::PublicKey::load(key_path), "%s.key %s", key.c_str(), key_path.c_str());
    if (const toml::node* n = t.get("require_tlog"))
        r.require_tlog = TRY(R.boolean(*n, key + ".require_tlog"));
    if (const toml::node* n = t.get("trusted_root")) {
        std::string path = resolve(base_dir, TRY(R.string(*n, key + ".trusted_root")));
        r.trusted_root = TRY_PREFIX(release::load_trusted_root(path), "%s.trusted_root %s", key.c_str(), path.c_str());
    } else if (r.require_tlog) {
        return R.error(key + ".trusted_root", "missing: require_tlog needs the Sigstore trusted root whose Rekor "
                                              "keys sign the log entries");
    }
    if (const toml::node* n = t.get("max_age"))
        r.max_age = TRY(R.integer(*n, key + ".max_age", 1, MAX_SECONDS));
    if (const toml::node* n = t.get("not_after"))
        r.not_after = TRY(time_value(*n, key + ".not_after"));
    return r;
}

// The bundle's verificationMaterial.publicKey.hint: which entry's key to verify it with.
Result<std::string> key_hint(std::string_view json)
{
    proto::JsonDoc doc = TRY(proto::JsonDoc::parse(json, "bundle"));
    yyjson_val* material = yyjson_obj_get(doc.root(), "verificationMaterial");
    yyjson_val* key = material ? yyjson_obj_get(material, "publicKey") : nullptr;
    yyjson_val* hint = key ? yyjson_obj_get(key, "hint") : nullptr;
    if (!yyjson_is_str(hint))
        return Error::make(Errc::Format, "bundle.verificationMaterial.publicKey.hint: missing (a release is signed "
                                         "with a key, and the hint names it)");
    return std::string(yyjson_get_str(hint), yyjson_get_len(hint));
}

Result<std::vector<std::string>> bundle_files(const std::string& dir)
{
    DIR* d = opendir(dir.c_str());
    if (!d)
        return Error::from_errno(Errc::Config, errno, "releases.dir %s: cannot open the directory", dir.c_str());
    std::vector<std::string> names;
    while (const dirent* e = readdir(d)) {
        std::string name = e->d_name;
        if (name.size() > strlen(BUNDLE_SUFFIX) && name.ends_with(BUNDLE_SUFFIX) && name[0] != '.')
            names.push_back(name);
    }
    closedir(d);
    if (names.size() > MAX_BUNDLES)
        return Error::make(Errc::Config, "releases.dir %s: %zu bundles, more than the %zu a broker loads", dir.c_str(),
                           names.size(), MAX_BUNDLES);
    std::sort(names.begin(), names.end());
    return names;
}

std::string short_digest(const std::string& digest)
{
    return digest.substr(0, 12);
}

Result<TrustedRelease> load_bundle(const std::string& path, const std::string& name,
                                   const std::vector<ReleaseTrust>& trusts)
{
    std::string json = TRY(read_text_file(path, release::MAX_BUNDLE_SIZE));
    std::string hint = TRY_PREFIX(key_hint(json), "releases.dir %s", name.c_str());
    auto trust =
        std::find_if(trusts.begin(), trusts.end(), [&](const ReleaseTrust& t) { return t.key.hint() == hint; });
    if (trust == trusts.end())
        return Error::make(Errc::Config,
                           "releases.dir %s: signed with the key %.16s…, which no [[policy.release]] key is",
                           name.c_str(), hint.c_str());
    release::VerifyOptions options;
    options.key = &trust->key;
    options.require_tlog = trust->require_tlog;
    options.trusted_root = trust->trusted_root ? &*trust->trusted_root : nullptr;
    // Expiry is judged per request (ReleaseSet::match), not at load: an expired release loads,
    // and is refused naming it. verify_bundle wants a time; the epoch's first second expires none.
    options.now = 1;
    auto verified = release::verify_bundle(json, options);
    if (!verified)
        return Error::make(Errc::Config, "releases.dir %s (policy.release '%s'): %.*s", name.c_str(),
                           trust->name.c_str(), static_cast<int>(verified.error().message().size()),
                           verified.error().message().data());
    TrustedRelease r;
    r.file = name;
    r.trust = static_cast<size_t>(trust - trusts.begin());
    r.statement = std::move(verified->statement);
    r.integrated_time = verified->integrated_time;
    std::string canonical = release::to_json(r.statement);
    r.digest = to_hex(crypto::Sha256::of({reinterpret_cast<const uint8_t*>(canonical.data()), canonical.size()}));
    auto earliest = [&r](std::optional<int64_t> t) {
        if (t && (!r.expires || *t < *r.expires))
            r.expires = t;
    };
    earliest(r.statement.predicate.not_after);
    earliest(trust->not_after);
    if (trust->max_age) {
        int64_t since = r.integrated_time.value_or(r.statement.predicate.source_date_epoch);
        earliest(since > MAX_SECONDS - *trust->max_age ? MAX_SECONDS : since + *trust->max_age);
    }
    return r;
}

}  // namespace

std::string utc_time(int64_t seconds)
{
    time_t t = static_cast<time_t>(seconds);
    struct tm tm {};
    char out[32];
    if (!gmtime_r(&t, &tm) || strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return std::to_string(seconds);
    return out;
}

std::string TrustedRelease::label() const
{
    return "release " + short_digest(digest) + (expires ? " (not_after " + utc_time(*expires) + ")" : " (no expiry)");
}

const ReleaseTrust* ReleaseSet::trust(std::string_view name) const
{
    for (const ReleaseTrust& t : m_trusts) {
        if (t.name == name)
            return &t;
    }
    return nullptr;
}

ReleaseMatch ReleaseSet::match(const policy::Measurement& measurement, const std::array<uint8_t, 32>& host_data,
                               int64_t now, const std::vector<std::string>* names) const
{
    ReleaseMatch m;
    for (const TrustedRelease& r : m_releases) {
        if (names && std::find(names->begin(), names->end(), m_trusts[r.trust].name) == names->end())
            continue;
        if (!r.statement.find(measurement))
            continue;
        const auto& wanted = r.statement.predicate.host_data;
        if (wanted && *wanted != host_data) {
            m.other_host_data = m.other_host_data ? m.other_host_data : &r;
            continue;
        }
        if (r.fresh(now)) {
            m.fresh = &r;
            return m;
        }
        m.expired = m.expired ? m.expired : &r;
    }
    return m;
}

Claim ReleaseSet::measurement_claim(Claim claim, const policy::Measurement& measurement,
                                    const std::array<uint8_t, 32>& host_data, int64_t now) const
{
    if (claim.pass || m_trusts.empty())
        return claim;
    ReleaseMatch m = match(measurement, host_data, now);
    std::string releases;
    for (const TrustedRelease& r : m_releases)
        releases += (releases.empty() ? "" : " | ") + r.label() + (r.fresh(now) ? "" : " EXPIRED");
    std::string listed = claim.expected.find("none listed") == std::string::npos ? claim.expected + " | " : "";
    claim.expected = listed + "a MEASUREMENT of a fresh release: " + (releases.empty() ? "none loaded" : releases);
    if (m.fresh) {
        claim.pass = true;
        claim.detail =
            "a shape of " + m.fresh->label() + ", signed with policy.release '" + m_trusts[m.fresh->trust].name + "'";
    } else if (m.expired) {
        claim.detail = "MEASUREMENT is in " + m.expired->label() + ", which expired: refusing";
    } else if (m.other_host_data) {
        claim.detail = "MEASUREMENT is in " + m.other_host_data->label() + " only with HOST_DATA " +
                       to_hex(*m.other_host_data->statement.predicate.host_data) + ", not " + to_hex(host_data) +
                       ": refusing";
    } else {
        claim.detail = "MEASUREMENT is in no accepted release (" + std::to_string(m_releases.size()) +
                       " loaded) and not in policy.measurements: refusing";
    }
    return claim;
}

std::string ReleaseSet::summary(int64_t now) const
{
    std::string out;
    for (size_t i = 0; i < m_trusts.size(); ++i) {
        const ReleaseTrust& t = m_trusts[i];
        out += (out.empty() ? "" : "; ") + std::string("policy.release '") + t.name + "' key " +
               t.key.hint().substr(0, 12) + "…" + (t.require_tlog ? " tlog required" : "") +
               (t.max_age ? " max_age " + std::to_string(*t.max_age) + " s" : "") +
               (t.not_after ? " not_after " + utc_time(*t.not_after) : "") + ": ";
        std::string list;
        for (const TrustedRelease& r : m_releases) {
            if (r.trust == i)
                list += (list.empty() ? "" : ", ") + r.label() + " " +
                        std::to_string(r.statement.predicate.shapes.size()) + " shapes" +
                        (r.fresh(now) ? "" : " EXPIRED");
        }
        out += list.empty() ? "no releases" : list;
    }
    return out;
}

Result<std::vector<ReleaseTrust>> ReleaseSet::parse_trusts(const toml::node& node, const std::string& base_dir)
{
    const toml::array* list = node.as_array();
    if (!list || list->empty())
        return R.error("policy.release", "expected an array of tables ([[policy.release]])");
    std::vector<ReleaseTrust> out;
    std::set<std::string> names, keys;
    for (size_t i = 0; i < list->size(); ++i) {
        std::string key = "policy.release[" + std::to_string(i) + "]";
        const toml::table* t = (*list)[i].as_table();
        if (!t)
            return R.error(key, "expected a table");
        out.push_back(TRY(parse_trust(*t, key, base_dir)));
        if (!names.insert(out.back().name).second)
            return R.error(key + ".name", "another [[policy.release]] has this name");
        if (!keys.insert(out.back().key.hint()).second)
            return R.error(key + ".key", "another [[policy.release]] has this key");
    }
    return out;
}

Result<ReleaseSet> ReleaseSet::load(std::vector<ReleaseTrust> trusts, const std::optional<std::string>& dir)
{
    ReleaseSet set;
    set.m_trusts = std::move(trusts);
    if (!dir)
        return set;
    std::set<std::string> digests;
    for (const std::string& name : TRY(bundle_files(*dir))) {
        TrustedRelease r = TRY(load_bundle(*dir + "/" + name, name, set.m_trusts));
        if (!digests.insert(r.digest).second)
            continue;  // the same statement twice (another copy, another signature): one release
        set.m_releases.push_back(std::move(r));
    }
    return set;
}

Result<policy::Policy> parse_policy_with_releases(const toml::table& policy_table, bool& has_releases)
{
    has_releases = policy_table.contains("release");
    if (!has_releases)
        return policy::parse_policy_table(policy_table);
    toml::table copy = policy_table;
    copy.erase("release");
    bool listed = copy.contains("measurements");
    if (!listed)  // the parser requires a list; releases supply it here, so a placeholder is parsed and dropped
        copy.insert("measurements", toml::array{std::string(96, '0')});
    policy::Policy p = TRY(policy::parse_policy_table(copy));
    if (!listed)
        p.measurements.clear();
    return p;
}

}  // namespace cvm::broker
