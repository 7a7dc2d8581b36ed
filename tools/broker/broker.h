// The reference cvmkb/1 broker (docs/cvmkb-1.md): challenges, attestation, release.
//
// Broker::handle() is the whole protocol as a function from an HTTP request to an HTTP response,
// so the same object serves the `cvm broker` command, the in-process tests and the benchmark.
// It is thread-safe: the HTTP server calls it from one thread per connection.
//
// An attest is released only when every step passes, in this order: the message parses; the
// nonce is ours, fresh and unused (it is used up by this request whatever follows); the report
// parses; REPORT_DATA is the binding of nonce, key and request; the VCEK chain and the report
// signature verify (certificates from the request, else the VCEK cache, else KDS), and neither
// the ASK/ASVK nor the VEK is revoked (policy.revocation, on by default: the broker's own copy of
// the CRL — simulated_crl for simulated evidence, AMD's from KDS through the VCEK path's cache
// otherwise — never one from the request, which could be an old one replayed); the policy
// passes, including simulated evidence only with allow_simulated; every requested resource
// exists and lists this MEASUREMENT; every protected volume's reported generation is the one the
// broker expects (volume_generations.h). Each refusal is one error object naming the code, the
// claim, what was found and what was expected, and one log line with the same code.
//
// The RA-TLS transport (POST /cvmkb/v1/attest-ratls, over mutual TLS) takes the same steps with
// the evidence from the client certificate the handshake proved the agent holds the key of:
// parsed with lib/ratls, its binding (proto::ratls_broker of the certificate's key and the cvmkb/1
// report_data of the body's nonce, key and request) checked where attest checks REPORT_DATA, and
// verified by ratls::verify_certificate with the broker's own VEK and CRL; a certificate under
// any other binding (a workload's) is REPORT_DATA_MISMATCH. The answer is the same sealed,
// signed release.
//
// A heartbeat (docs/cvmkb-1.md §9) goes through the same steps up to the policy, releases
// nothing, and is answered with the broker's signed verdict; an accepted one records the VM's
// last-seen time in the HeartbeatRegistry, a refused one queues the on_refused webhook.
//
// Logs carry the verdict, reason code, peer, MEASUREMENT, the first bytes of CHIP_ID and the
// resource names — never secret values and never the whole report. Every response and log line
// about simulated evidence says so.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "config.h"
#include "heartbeats.h"
#include "kds/clock.h"
#include "metrics.h"
#include "net/http.h"
#include "nonces.h"
#include "proto/messages.h"
#include "proto/release.h"
#include "store.h"
#include "vcek_source.h"
#include "verify/verifier.h"
#include "webhooks.h"

namespace cvm::broker {

struct BrokerOptions {
    kds::Clock* clock = nullptr;  // nullptr: the system clock; must outlive the broker
    // Used nonces and release records (store.h); must outlive the broker, and is kept across
    // reloads. nullptr: a MemoryStore owned by the broker. With a configured nonce_key and a store
    // in memory, nonces issued before the store was made are refused (Store::remembers_since).
    Store* store = nullptr;
    // The volume generations and armed recoveries (volume_generations.h); nullptr: `store`.
    // `cvm broker` gives the FileStore of [volumes] state_file here when there is no [store].
    Store* volume_store = nullptr;
    Metrics* metrics = nullptr;  // nullptr: the broker's own; set, it outlives the broker (kept across reloads)
    std::function<void(const std::string&)> log;  // one call per line; nullptr: stderr
    // Last heartbeat per REPORT_ID (heartbeats.h); must outlive the broker, and is kept across
    // reloads. nullptr: the broker's own.
    HeartbeatRegistry* heartbeats = nullptr;
    // How often the broker's thread looks for stale VMs; 0: no thread (check_stale() by hand).
    int64_t stale_scan_ms = 0;
};

class Broker {
public:
    // Errc::Config when the simulated root fails the root rules or the KDS options are invalid.
    static Result<std::unique_ptr<Broker>> create(BrokerConfig config, BrokerOptions options = {});

    net::HttpResponse handle(const net::HttpRequest& request);

    // The Prometheus text of metrics.h.
    std::string metrics_text() const;

    const proto::Ed25519PublicKey& public_key() const { return m_config.signing_key->public_key(); }

    struct Attempt;  // one request as it goes through the steps (attempt.h)

    // Looks for VMs whose heartbeats stopped (heartbeats.h) and queues their on_stale webhooks;
    // returns how many became stale. Called every BrokerOptions::stale_scan_ms by the broker's
    // own thread, and by tests with a fake clock.
    size_t check_stale();

    // The VMs this broker has heard from, as the JSON of GET /vms on the operations port.
    std::string vms_json();

    ~Broker();

private:
    Broker(BrokerConfig config, BrokerOptions options);
    net::HttpResponse challenge(const net::HttpRequest& request);
    net::HttpResponse attest(const net::HttpRequest& request);
    Result<proto::AttestAnswer> run_attest(Attempt& attempt, std::string_view body);
    // The RA-TLS transport (attest_ratls.cc): the evidence is the TLS client certificate's.
    Result<proto::AttestAnswer> run_attest_ratls(Attempt& attempt, std::string_view body, ByteView client_cert);
    // The last steps of a release: the resources, sealed to `pubkey` with `report_data` as the
    // HPKE aad and signed, once the once-per-launch records are written.
    Result<proto::AttestAnswer> seal_release(Attempt& attempt, const snp::AttestationReport& report,
                                             const proto::X25519PublicKey& pubkey,
                                             const proto::ReportData& report_data);
    net::HttpResponse heartbeat(const net::HttpRequest& request);
    // The evidence steps that attest and heartbeat share, in the order of the comment above, up
    // to and including the policy; returns the parsed report.
    struct EvidenceInput {
        const proto::Nonce& nonce;
        const proto::X25519PublicKey& pubkey;
        std::string_view canonical_request;
        const Bytes& report;
        const std::vector<Bytes>& certs;
    };
    Result<snp::AttestationReport> check_evidence(Attempt& attempt, const EvidenceInput& input);
    Result<void> use_nonce(Attempt& attempt, const proto::Nonce& nonce);
    Result<verify::Evidence> evidence_for(Attempt& attempt, verify::Evidence evidence,
                                          const snp::AttestationReport& report);
    // Puts the broker's CRL for this evidence in `evidence.crl`, or says in `options` that the
    // policy turned revocation off.
    Result<void> add_crl(Attempt& attempt, verify::Evidence& evidence, const snp::AttestationReport& report,
                         verify::VerifyOptions& options);
    // The CRL of the simulated root this evidence names (its ARK, or its ASK's issuer), or nullptr
    // for evidence that names none (AMD's roots, as far as it says).
    const Bytes* simulated_crl_for(const verify::Evidence& evidence) const;
    Result<void> check_policy(Attempt& attempt, const verify::Verification& verification);
    Result<proto::Release> release_for(Attempt& attempt, const snp::AttestationReport& report);
    Result<void> record_once_per_launch(Attempt& attempt, const snp::AttestationReport& report,
                                        const proto::X25519PublicKey& pubkey);
    // The volume steps (volume_reports.cc): judges the request's report of `volume` against its
    // generation record, adds the recovery key to `out` when it is due, and plans the records.
    Result<void> judge_volume(Attempt& attempt, const VolumeResource& volume, proto::ReleasedVolume& out);
    // Every volume report names a [[volume]] of this broker (BAD_REQUEST otherwise).
    Result<void> check_volume_names(Attempt& attempt);
    // Writes the planned records by compare-and-set; VOLUME_ROLLBACK when one changed meanwhile.
    Result<void> record_volumes(Attempt& attempt);
    Store& volume_store();
    bool once_per_launch(std::string_view name) const;
    const VolumeResource* volume_resource(std::string_view name) const;  // nullptr: no such [[volume]]
    int64_t now();
    void log(const std::string& line) const;
    Store& own_store();  // makes the MemoryStore of a broker given none

    BrokerConfig m_config;
    BrokerOptions m_options;
    std::unique_ptr<MemoryStore> m_own_store;  // null when options.store is set
    std::unique_ptr<NonceIssuer> m_nonces;
    std::unique_ptr<verify::Verifier> m_verifier;
    struct SimulatedRoot {
        verify::Certificate root;  // a copy of the verifier's
        Bytes crl;                 // its CRL from the configuration; empty: none
    };
    std::vector<SimulatedRoot> m_simulated;
    std::unique_ptr<Metrics> m_own_metrics;  // null when options.metrics is set
    Metrics& m_metrics;
    std::unique_ptr<VcekSource> m_vceks;                  // null without [kds]
    std::unique_ptr<HeartbeatRegistry> m_own_heartbeats;  // null when options.heartbeats is set
    HeartbeatRegistry& m_heartbeats;
    std::unique_ptr<WebhookSender> m_webhooks;  // null without [webhooks]
    std::unique_ptr<PeriodicTask> m_scanner;    // null when stale_scan_ms is 0
};

}  // namespace cvm::broker
