// Broker metrics in the Prometheus text exposition format (version 0.0.4), served on their own
// listen address so that a scraper never shares a port with attesting VMs.
//
//   cvmkb_challenges_total                              nonces issued
//   cvmkb_attests_total{outcome,code,simulated}        every attest, by verdict and reason code
//   cvmkb_attest_duration_seconds (histogram)          attest handling time, released or refused
//   cvmkb_vcek_cache_total{result="hit"|"miss"}        the broker's in-memory VCEK cache
//   cvmkb_kds_fetches_total{source}                    KDS answers by source (network, cache-fresh, cache-stale)
//   cvmkb_crl_cache_total{result="hit"|"miss"}         the broker's CRL cache (revocation of AMD evidence)
//   cvmkb_crl_fetches_total{source}                    CRLs obtained through the KDS client, by source
//   cvmkb_verifier_cache_hits_total / _misses_total    verified-certificate cache of the verify layer
//                                                      (per configuration generation: a reload restarts them)
//   cvmkb_heartbeats_total{outcome,code,simulated}     every heartbeat, "accepted" or "refused", by code
//   cvmkb_webhooks_total{event,result}                 webhook POSTs: sent, failed, dropped (webhooks.h)
//   cvmkb_vms{state="attesting"|"stale"}               VMs this broker has heard heartbeats from (gauge)
//   cvmkb_vm_heartbeat_age_seconds{report_id}          seconds since a VM's last accepted heartbeat, for
//                                                      the HeartbeatRegistry::MAX_AGE_SERIES oldest only
// and, about the process rather than the protocol (one Metrics object outlives every reload):
//   cvm_broker_build_info{version} 1                   which build is running
//   cvm_broker_config_generation                       the configuration in use, 1 at start, +1 per reload
//   cvm_broker_reloads_total{result="ok"|"failed"}     reload attempts (SIGHUP, POST /-/reload)
//   cvm_broker_store_requests_total{op,result}         store calls by operation, result "ok" or "error"
//   cvm_broker_store_duration_seconds (histogram)      store call time, every operation
// Thread-safe; counters only grow.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "heartbeats.h"

namespace cvm::broker {

class Metrics {
public:
    void challenge_issued() { m_challenges.fetch_add(1, std::memory_order_relaxed); }
    // `code` is "OK" for a release, else the error code sent.
    void attest(bool released, std::string_view code, bool simulated, double seconds);
    void vcek_cache(bool hit);
    void kds_fetch(std::string_view source);
    void crl_cache(bool hit);
    void crl_fetch(std::string_view source);
    // `code` is "OK" for an accepted heartbeat.
    void heartbeat(bool accepted, std::string_view code, bool simulated);
    // `result` is "sent", "failed" or "dropped".
    void webhook(std::string_view event, std::string_view result);
    void build_info(std::string_view version);
    void config_generation(uint64_t generation) { m_generation.store(generation, std::memory_order_relaxed); }
    void reload(bool ok);
    // `op` is the Store method ("set_if_absent", "put", "get", "ping").
    void store_request(std::string_view op, bool ok, double seconds);

    // Verifier cache counters are owned by the verifier; the broker passes them in at render time.
    struct VerifierCache {
        uint64_t hits{0}, misses{0};
    };
    std::string render(const VerifierCache& verifier) const;
    // The VM gauges at one instant (heartbeats.h), appended to render()'s text.
    static std::string render_vms(const VmSummary& vms);

private:
    static constexpr std::array<double, 12> BUCKETS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                       0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
    struct Histogram {
        std::array<uint64_t, BUCKETS.size()> buckets{};  // cumulative: observations <= BUCKETS[i]
        uint64_t count{0};
        double sum{0};
        void observe(double seconds);
    };
    static void histogram(std::string& out, const char* name, const char* help, const Histogram& h);

    std::atomic<uint64_t> m_challenges{0};
    mutable std::mutex m_mutex;                 // guards everything below
    std::map<std::string, uint64_t> m_attests;  // rendered label set -> count
    std::map<std::string, uint64_t> m_heartbeats;
    std::map<std::string, uint64_t> m_webhooks;
    std::map<std::string, uint64_t> m_vcek_cache;
    std::map<std::string, uint64_t> m_kds;
    std::map<std::string, uint64_t> m_crl_cache;
    std::map<std::string, uint64_t> m_crl_fetches;
    Histogram m_attest_duration;
    std::string m_version;
    std::atomic<uint64_t> m_generation{0};
    std::map<std::string, uint64_t> m_reloads;
    std::map<std::string, uint64_t> m_store_requests;
    Histogram m_store_duration;
};

}  // namespace cvm::broker
