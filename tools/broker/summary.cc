#include "summary.h"

#include <algorithm>

#include "base/bytes.h"

namespace cvm::broker {
namespace {

// "aaaaaaaaaaaa…" for a MEASUREMENT: enough to tell the listed ones apart in a log.
std::string short_hex(ByteView bytes)
{
    return to_hex(bytes.first(std::min<size_t>(bytes.size(), 6))) + "…";
}

std::string measurement_list(const std::vector<policy::Measurement>& list)
{
    std::string out;
    for (const auto& m : list)
        out += (out.empty() ? "" : ", ") + short_hex(m);
    return out;
}

template <typename Resource>
std::string resource_list(const std::vector<Resource>& resources)
{
    std::string out;
    for (const Resource& r : resources) {
        std::string to;
        if (!r.measurements.empty())
            to = std::to_string(r.measurements.size()) + " measurement" + (r.measurements.size() == 1 ? "" : "s");
        if (!r.releases.empty()) {
            to += (to.empty() ? "releases " : ", releases ");
            for (size_t i = 0; i < r.releases.size(); ++i)
                to += (i ? "," : "") + r.releases[i];
        }
        if (!r.host_data.empty())
            to += "; HOST_DATA one of " + std::to_string(r.host_data.size());
        out += (out.empty() ? "" : ", ") + r.name + " (" + to + ")";
    }
    return out.empty() ? "none" : out;
}

}  // namespace

std::string policy_summary(const BrokerConfig& c, int64_t now)
{
    const policy::Policy& p = c.policy;
    std::string s = "policy: accepts " + std::to_string(p.measurements.size()) + " measurement" +
                    (p.measurements.size() == 1 ? "" : "s") + " (" + measurement_list(p.measurements) + ")" +
                    (c.releases.empty() ? "" : " and the shapes of its releases (" + c.releases.summary(now) + ")") +
                    "; VMPL <= " + std::to_string(p.max_vmpl) + "; debug " + (p.allow_debug ? "ALLOWED" : "refused") +
                    "; migration agent " + (p.allow_migration_agent ? "ALLOWED" : "refused") + "; SMT " +
                    (p.allow_smt ? "allowed" : "refused") + "; min_tcb ";
    if (p.min_tcb.empty())
        s += "NONE (any firmware TCB)";
    for (auto it = p.min_tcb.begin(); it != p.min_tcb.end(); ++it)
        s += (it == p.min_tcb.begin() ? "" : ", ") + std::string(snp::product_name(it->first)) + " " +
             it->second.to_string(it->first);
    if (p.min_guest_svn)
        s += "; GUEST_SVN >= " + std::to_string(p.min_guest_svn);
    if (!p.id_key_digests.empty())
        s += "; ID key: one of " + std::to_string(p.id_key_digests.size());
    if (!p.author_key_digests.empty())
        s += "; author key: one of " + std::to_string(p.author_key_digests.size());
    if (p.host_data)
        s += "; HOST_DATA fixed";
    s += std::string("; simulated evidence ") +
         (p.allow_simulated ? "ACCEPTED" : (c.simulated_roots.empty() ? "unknown" : "recognised and refused"));
    s += "; secrets: " + resource_list(c.secrets) + "; volumes: " + resource_list(c.volumes);
    s += "; VCEKs from " +
         (c.kds ? (c.kds->mode == kds::Mode::Offline ? "the KDS cache " + c.kds->cache_dir + " (offline)"
                                                     : c.kds->base_url)
                : std::string("the requests only"));
    s += "; revocation ";
    if (!p.revocation) {
        s += "OFF (policy.revocation = false)";
    } else {
        s += std::string("on (AMD's CRLs ") +
             (c.kds ? "from there too" : "from nowhere: no [kds], AMD evidence refused");
        if (!c.simulated_crl_path.empty())
            s += "; the simulated CRL " + c.simulated_crl_path;
        s += ")";
    }
    s += "; nonces live " + std::to_string(c.nonce_lifetime) + " s";
    return s;
}

std::vector<std::string> policy_warnings(const BrokerConfig& c)
{
    std::vector<std::string> w;
    if (c.policy.allow_debug)
        w.push_back("WARNING: policy.allow_debug = true: guests launched with DEBUG, whose memory the host can "
                    "read and change, are given secrets");
    if (c.policy.allow_simulated)
        w.push_back("WARNING: policy.allow_simulated = true: evidence from the simulated platform (cvm sim, no "
                    "hardware, keys on disk) is accepted; development and CI only");
    if (c.policy.min_tcb.empty())
        w.push_back("WARNING: no policy.min_tcb: reports from firmware of any TCB version, including ones with "
                    "published vulnerabilities, are accepted");
    if (!c.policy.revocation)
        w.push_back("WARNING: policy.revocation = false: an ASK, ASVK or VLEK that AMD revoked is still trusted");
    else if (!c.kds)
        w.push_back("WARNING: no [kds]: revocation needs AMD's CRLs, so every AMD-rooted report is refused "
                    "(chain.revocation); only simulated evidence can pass");
    if (c.policy.allow_migration_agent)
        w.push_back("WARNING: policy.allow_migration_agent = true: a migration agent may export the guest's memory");
    bool protected_volume = std::any_of(c.volumes.begin(), c.volumes.end(),
                                        [](const VolumeResource& v) { return v.rollback_protection; });
    if (protected_volume && !c.store && c.volume_state_file.empty())
        w.push_back("WARNING: volume generations are kept in this process's memory (no [store], no [volumes] "
                    "state_file): a restart forgets them, and an older copy of a disk is accepted after it");
    return w;
}

}  // namespace cvm::broker
