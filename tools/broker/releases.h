// Releases the broker trusts (docs/broker.md, "Releases"): the [[policy.release]] entries of its
// configuration, each a release key with its freshness rules, and the signed release bundles of
// its [releases] directory, verified against those keys when the configuration is loaded (at
// start and on every reload). A report whose MEASUREMENT is a shape of a fresh release passes the
// policy's measurement rule as if policy.measurements listed it.
//
//   [[policy.release]]
//   name = "prod"                 required; what [[secret]]/[[volume]] `releases` lists
//   key = "release.pub"           the release key, SubjectPublicKeyInfo PEM (cvm release keygen)
//   require_tlog = false          true: every bundle needs a verified Rekor entry
//   trusted_root = "root.json"    the Sigstore trusted root (Rekor keys); needed by require_tlog,
//                                 and by any bundle that carries tlog entries
//   max_age = 7776000             seconds: a release is accepted until its source_date_epoch (or,
//                                 with a verified tlog entry, its integratedTime) plus this
//   not_after = 2027-06-30T00:00:00Z    or seconds since the epoch: no release of this key is
//                                 accepted after it (how a fleet retires a key's images)
//   [releases]
//   dir = "releases/"             every *.sigstore.json in it is loaded; others are ignored
//
// A release is accepted at time `now` while now < its expiry: the earliest of the statement's
// own not_after, the entry's not_after and the max_age limit. Freshness is judged per request,
// so a running broker stops accepting a release the second it expires. Keyless entries (a
// certificate identity and issuer instead of a key) are not supported and are refused by name.
//
// A release that names its init-data (predicate.host_data) vouches for its MEASUREMENTs with that
// HOST_DATA only. A release is named in logs and errors by its statement digest (the first 12
// hex digits of the SHA-256 of the statement's canonical JSON) and its expiry.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <toml++/toml.hpp>

#include "base/result.h"
#include "policy/policy.h"
#include "release/keys.h"
#include "release/release.h"
#include "release/tlog.h"

namespace cvm::broker {

// One [[policy.release]] entry.
struct ReleaseTrust {
    std::string name;
    release::PublicKey key;
    bool require_tlog{false};
    std::optional<release::TrustedRoot> trusted_root;
    std::optional<int64_t> max_age;    // seconds
    std::optional<int64_t> not_after;  // seconds since the epoch
};

// One verified bundle of the releases directory.
struct TrustedRelease {
    std::string file;    // the bundle's file name, for the summary
    size_t trust{0};     // the index of the [[policy.release]] entry whose key signed it
    std::string digest;  // lower-case hex SHA-256 of the statement's canonical JSON
    release::Statement statement;
    std::optional<int64_t> integrated_time;  // a verified tlog entry's
    std::optional<int64_t> expires;          // nullopt: never

    // "release 1a2b3c4d5e6f (not_after 2027-01-01T00:00:00Z)" or "(... no expiry)".
    std::string label() const;
    // Expired at not_after itself, as release::verify_bundle judges it.
    bool fresh(int64_t now) const { return !expires || now < *expires; }
};

// What the releases say about one report.
struct ReleaseMatch {
    const TrustedRelease* fresh{nullptr};            // a fresh release listing the MEASUREMENT (and HOST_DATA)
    const TrustedRelease* expired{nullptr};          // else an expired one that would have
    const TrustedRelease* other_host_data{nullptr};  // else one listing it for another HOST_DATA
};

class ReleaseSet {
public:
    ReleaseSet() = default;

    const std::vector<ReleaseTrust>& trusts() const { return m_trusts; }
    const std::vector<TrustedRelease>& releases() const { return m_releases; }
    bool empty() const { return m_trusts.empty(); }

    // The trust entry named `name`, or nullptr.
    const ReleaseTrust* trust(std::string_view name) const;

    // The first fresh release (signed under one of `names`, or any when `names` is nullptr)
    // listing this MEASUREMENT for this HOST_DATA; failing that, why none is.
    ReleaseMatch match(const policy::Measurement& measurement, const std::array<uint8_t, 32>& host_data, int64_t now,
                       const std::vector<std::string>* names = nullptr) const;

    // The claim "policy.measurement" that evaluate() made (`claim`), judged again with the
    // releases: passes when the static list or a fresh release accepts the MEASUREMENT, and
    // otherwise says which releases were looked at and why none accepts it.
    Claim measurement_claim(Claim claim, const policy::Measurement& measurement,
                            const std::array<uint8_t, 32>& host_data, int64_t now) const;

    // A one-line summary: the entries, each with its releases, shapes and expiry.
    std::string summary(int64_t now) const;

    // Parses the [[policy.release]] array (`node`, the policy table's "release" member);
    // relative paths resolve against `base_dir`. Errc::Config naming the key.
    static Result<std::vector<ReleaseTrust>> parse_trusts(const toml::node& node, const std::string& base_dir);

    // The trust entries and the bundles of `dir` (nullopt: no [releases] table), each verified
    // against the entry whose key its verificationMaterial names. A bundle that fails (no such
    // key, bad signature, broken tlog entry, a tlog entry missing under require_tlog) fails the
    // load with Errc::Config naming the file; an expired one loads (it is refused per request).
    static Result<ReleaseSet> load(std::vector<ReleaseTrust> trusts, const std::optional<std::string>& dir);

private:
    std::vector<ReleaseTrust> m_trusts;
    std::vector<TrustedRelease> m_releases;
};

// The policy table of a broker configuration without its [[policy.release]] entries, for
// parse_policy_table(): when the table has entries and no `measurements`, the list the policy
// parser requires is left empty instead (releases supply the measurements); `has_releases`
// says whether there were entries.
Result<policy::Policy> parse_policy_with_releases(const toml::table& policy_table, bool& has_releases);

// "2027-01-01T00:00:00Z".
std::string utc_time(int64_t seconds);

}  // namespace cvm::broker
