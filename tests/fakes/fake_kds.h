// A fake AMD KDS on 127.0.0.1 (ephemeral port), run in-process on net::HttpServer.
//
// Tests register what each request target answers (real VCEK DER and cert_chain PEM from the
// vectors, or a 429 with Retry-After, ...), point kds::KdsOptions::base_url at base_url(), and
// count requests to prove when the client did or did not use the network. Unknown targets get
// 404, as from the real KDS. stop() closes the port, so later connections are refused.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "net/http_server.h"

namespace cvm::fakes {

class FakeKds {
public:
    // Aborts the process if it cannot listen (tests cannot run without it).
    static std::unique_ptr<FakeKds> start();

    std::string base_url() const;

    // GET `target` (path and query, as the client sends it) answers 200 with `body`.
    void serve(const std::string& target, Bytes body, const std::string& content_type = "application/octet-stream");
    // The CRL endpoint of one product and key family (KDS spec 57230 §4: GET
    // /vcek/v1/{product}/crl, /vlek/v1/{product}/crl) answers 200 with `der`, typed
    // application/pkix-crl as RFC 2585 §4.2 registers it for CRLs over HTTP. Returns the target.
    std::string serve_crl(const std::string& product, const std::string& family, Bytes der);
    // GET `target` answers `response` (any status and headers).
    void respond(const std::string& target, net::HttpResponse response);
    // While non-zero, every request is answered with this status (e.g. 503), whatever its target.
    void set_outage(int status);
    // A client's request quota, as AMD's KDS enforces one per client: `requests` more requests
    // are served, every later one is answered 429 Too Many Requests with Retry-After
    // `retry_after_seconds`, whatever its target.
    void set_quota(size_t requests, int64_t retry_after_seconds);
    size_t rate_limited() const;  // requests answered 429 by the quota

    size_t requests() const;
    size_t requests_for(const std::string& target) const;

    void stop();

private:
    net::HttpResponse handle(const net::HttpRequest& request);

    std::unique_ptr<net::HttpServer> m_server;
    uint16_t m_port{0};
    mutable std::mutex m_mutex;
    std::map<std::string, net::HttpResponse> m_routes;
    std::map<std::string, size_t> m_counts;
    size_t m_total{0};
    int m_outage{0};
    std::optional<size_t> m_quota_left;
    int64_t m_retry_after{0};
    size_t m_rate_limited{0};
};

}  // namespace cvm::fakes
