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

}  // namespace

void Metrics::attest(bool released, std::string_view code, bool simulated, double seconds)
{
    std::string labels = std::string("{outcome=\"") + (released ? "released" : "refused") + "\",code=\"" +
                         std::string(code) + "\",simulated=\"" + (simulated ? "true" : "false") + "\"}";
    std::lock_guard lock(m_mutex);
    ++m_attests[labels];
    for (size_t i = 0; i < BUCKETS.size(); ++i) {
        if (seconds <= BUCKETS[i])
            ++m_bucket_counts[i];
    }
    ++m_duration_count;
    m_duration_sum += seconds;
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

std::string Metrics::render(const VerifierCache& verifier) const
{
    std::string out = "# HELP cvmkb_challenges_total Challenge nonces issued.\n# TYPE cvmkb_challenges_total counter\n"
                      "cvmkb_challenges_total " +
                      std::to_string(m_challenges.load()) + "\n";
    std::lock_guard lock(m_mutex);
    counter_family(out, "cvmkb_attests_total", "Attest requests by outcome, reason code and simulated evidence.",
                   m_attests);
    out += "# HELP cvmkb_attest_duration_seconds Time to answer an attest request.\n"
           "# TYPE cvmkb_attest_duration_seconds histogram\n";
    for (size_t i = 0; i < BUCKETS.size(); ++i)
        out += "cvmkb_attest_duration_seconds_bucket{le=\"" + number(BUCKETS[i]) + "\"} " +
               std::to_string(m_bucket_counts[i]) + "\n";
    out += "cvmkb_attest_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(m_duration_count) + "\n";
    out += "cvmkb_attest_duration_seconds_sum " + number(m_duration_sum) + "\n";
    out += "cvmkb_attest_duration_seconds_count " + std::to_string(m_duration_count) + "\n";
    counter_family(out, "cvmkb_vcek_cache_total", "Lookups in the broker's VCEK cache.", m_vcek_cache);
    counter_family(out, "cvmkb_kds_fetches_total", "VCEKs obtained through the KDS client, by source.", m_kds);
    counter_family(out, "cvmkb_verifier_cache_hits_total", "Certificates whose verification was cached.",
                   {{"", verifier.hits}});
    counter_family(out, "cvmkb_verifier_cache_misses_total", "Certificates verified from scratch.",
                   {{"", verifier.misses}});
    return out;
}

}  // namespace cvm::broker
