#include "metrics.h"

#include <cstdio>

namespace cvm::broker {
namespace {

void counter_family(std::string& out, const char* name, const char* help, const std::map<std::string, uint64_t>& series)
{
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n";
    for (const auto& [labels, value] : series)
        out += std::string(name) + labels + " " + std::to_string(value) + "\n";
}

std::string number(double v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

std::string escape_label(std::string_view v)
{
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"')
            out += '\\';
        if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

}  // namespace

void Metrics::Histogram::observe(double seconds)
{
    for (size_t i = 0; i < BUCKETS.size(); ++i) {
        if (seconds <= BUCKETS[i])
            ++buckets[i];
    }
    ++count;
    sum += seconds;
}

void Metrics::attest(bool released, std::string_view code, bool simulated, double seconds)
{
    std::string labels = std::string("{outcome=\"") + (released ? "released" : "refused") + "\",code=\"" +
                         std::string(code) + "\",simulated=\"" + (simulated ? "true" : "false") + "\"}";
    std::lock_guard lock(m_mutex);
    ++m_attests[labels];
    m_attest_duration.observe(seconds);
}

void Metrics::heartbeat(bool accepted, std::string_view code, bool simulated)
{
    std::string labels = std::string("{outcome=\"") + (accepted ? "accepted" : "refused") + "\",code=\"" +
                         std::string(code) + "\",simulated=\"" + (simulated ? "true" : "false") + "\"}";
    std::lock_guard lock(m_mutex);
    ++m_heartbeats[labels];
}

void Metrics::webhook(std::string_view event, std::string_view result)
{
    std::string labels = "{event=\"" + std::string(event) + "\",result=\"" + std::string(result) + "\"}";
    std::lock_guard lock(m_mutex);
    ++m_webhooks[labels];
}

std::string Metrics::render_vms(const VmSummary& vms)
{
    std::string out = "# HELP cvmkb_vms VMs heard from by heartbeat, attesting or stale (no heartbeat for 2 x their "
                      "interval + grace).\n# TYPE cvmkb_vms gauge\n";
    out += "cvmkb_vms{state=\"attesting\"} " + std::to_string(vms.attesting) + "\n";
    out += "cvmkb_vms{state=\"stale\"} " + std::to_string(vms.stale) + "\n";
    out += "# HELP cvmkb_vm_heartbeat_age_seconds Seconds since a VM's last accepted heartbeat (the oldest " +
           std::to_string(HeartbeatRegistry::MAX_AGE_SERIES) +
           " VMs only; GET /vms lists all).\n"
           "# TYPE cvmkb_vm_heartbeat_age_seconds gauge\n";
    for (const auto& [report_id, age] : vms.ages)
        out += "cvmkb_vm_heartbeat_age_seconds{report_id=\"" + escape_label(report_id) + "\"} " + std::to_string(age) +
               "\n";
    return out;
}

void Metrics::build_info(std::string_view version)
{
    std::lock_guard lock(m_mutex);
    m_version = version;
}

void Metrics::reload(bool ok)
{
    std::lock_guard lock(m_mutex);
    ++m_reloads[ok ? "{result=\"ok\"}" : "{result=\"failed\"}"];
}

void Metrics::store_request(std::string_view op, bool ok, double seconds)
{
    std::string labels = "{op=\"" + std::string(op) + "\",result=\"" + (ok ? "ok" : "error") + "\"}";
    std::lock_guard lock(m_mutex);
    ++m_store_requests[labels];
    m_store_duration.observe(seconds);
}

void Metrics::vcek_cache(bool hit)
{
    std::lock_guard lock(m_mutex);
    ++m_vcek_cache[hit ? "{result=\"hit\"}" : "{result=\"miss\"}"];
}

void Metrics::kds_fetch(std::string_view source)
{
    std::lock_guard lock(m_mutex);
    ++m_kds["{source=\"" + std::string(source) + "\"}"];
}

void Metrics::crl_cache(bool hit)
{
    std::lock_guard lock(m_mutex);
    ++m_crl_cache[hit ? "{result=\"hit\"}" : "{result=\"miss\"}"];
}

void Metrics::crl_fetch(std::string_view source)
{
    std::lock_guard lock(m_mutex);
    ++m_crl_fetches["{source=\"" + std::string(source) + "\"}"];
}

std::string Metrics::render(const VerifierCache& verifier) const
{
    std::string out = "# HELP cvmkb_challenges_total Challenge nonces issued.\n# TYPE cvmkb_challenges_total counter\n"
                      "cvmkb_challenges_total " +
                      std::to_string(m_challenges.load()) + "\n";
    std::lock_guard lock(m_mutex);
    counter_family(out, "cvmkb_attests_total", "Attest requests by outcome, reason code and simulated evidence.",
                   m_attests);
    histogram(out, "cvmkb_attest_duration_seconds", "Time to answer an attest request.", m_attest_duration);
    counter_family(out, "cvmkb_heartbeats_total", "Heartbeats by outcome, reason code and simulated evidence.",
                   m_heartbeats);
    counter_family(out, "cvmkb_webhooks_total", "Webhook POSTs by event and result.", m_webhooks);
    counter_family(out, "cvmkb_vcek_cache_total", "Lookups in the broker's VCEK cache.", m_vcek_cache);
    counter_family(out, "cvmkb_kds_fetches_total", "VCEKs obtained through the KDS client, by source.", m_kds);
    counter_family(out, "cvmkb_crl_cache_total", "Lookups in the broker's CRL cache.", m_crl_cache);
    counter_family(out, "cvmkb_crl_fetches_total", "CRLs obtained through the KDS client, by source.", m_crl_fetches);
    counter_family(out, "cvmkb_verifier_cache_hits_total", "Certificates whose verification was cached.",
                   {{"", verifier.hits}});
    counter_family(out, "cvmkb_verifier_cache_misses_total", "Certificates verified from scratch.",
                   {{"", verifier.misses}});
    out += "# HELP cvm_broker_build_info The running build.\n# TYPE cvm_broker_build_info gauge\n"
           "cvm_broker_build_info{version=\"" +
           escape_label(m_version) + "\"} 1\n";
    out += "# HELP cvm_broker_config_generation The configuration in use: 1 at start, one more per reload.\n"
           "# TYPE cvm_broker_config_generation gauge\ncvm_broker_config_generation " +
           std::to_string(m_generation.load()) + "\n";
    counter_family(out, "cvm_broker_reloads_total", "Configuration reloads by result.", m_reloads);
    counter_family(out, "cvm_broker_store_requests_total", "Calls to the shared store by operation and result.",
                   m_store_requests);
    histogram(out, "cvm_broker_store_duration_seconds", "Time of a call to the shared store.", m_store_duration);
    return out;
}

void Metrics::histogram(std::string& out, const char* name, const char* help, const Histogram& h)
{
    std::string n(name);
    out += "# HELP " + n + " " + help + "\n# TYPE " + n + " histogram\n";
    for (size_t i = 0; i < BUCKETS.size(); ++i)
        out += n + "_bucket{le=\"" + number(BUCKETS[i]) + "\"} " + std::to_string(h.buckets[i]) + "\n";
    out += n + "_bucket{le=\"+Inf\"} " + std::to_string(h.count) + "\n";
    out += n + "_sum " + number(h.sum) + "\n";
    out += n + "_count " + std::to_string(h.count) + "\n";
}

}  // namespace cvm::broker
