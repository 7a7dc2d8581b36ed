#include "fake_kds.h"

#include <cstdio>
#include <cstdlib>

namespace cvm::fakes {

std::unique_ptr<FakeKds> FakeKds::start()
{
    std::unique_ptr<FakeKds> kds(new FakeKds);
    net::ServerOptions options;
    options.limits.max_body_bytes = 0;  // KDS takes GETs only
    FakeKds* raw = kds.get();
    auto server = net::HttpServer::start(options, [raw](const net::HttpRequest& r) { return raw->handle(r); });
    if (!server.ok()) {
        fprintf(stderr, "FakeKds: %.*s\n", static_cast<int>(server.error().message().size()),
                server.error().message().data());
        abort();
    }
    kds->m_server = server.release_value();
    kds->m_port = kds->m_server->port();
    return kds;
}

std::string FakeKds::base_url() const
{
    return "http://127.0.0.1:" + std::to_string(m_port);
}

void FakeKds::serve(const std::string& target, Bytes body, const std::string& content_type)
{
    respond(target, {200, {{"Content-Type", content_type}}, std::move(body)});
}

std::string FakeKds::serve_crl(const std::string& product, const std::string& family, Bytes der)
{
    std::string target = "/" + family + "/v1/" + product + "/crl";
    serve(target, std::move(der), "application/pkix-crl");
    return target;
}

void FakeKds::respond(const std::string& target, net::HttpResponse response)
{
    std::lock_guard lock(m_mutex);
    m_routes[target] = std::move(response);
}

void FakeKds::set_outage(int status)
{
    std::lock_guard lock(m_mutex);
    m_outage = status;
}

size_t FakeKds::requests() const
{
    std::lock_guard lock(m_mutex);
    return m_total;
}

size_t FakeKds::requests_for(const std::string& target) const
{
    std::lock_guard lock(m_mutex);
    auto it = m_counts.find(target);
    return it == m_counts.end() ? 0 : it->second;
}

void FakeKds::set_quota(size_t requests, int64_t retry_after_seconds)
{
    std::lock_guard lock(m_mutex);
    m_quota_left = requests;
    m_retry_after = retry_after_seconds;
}

size_t FakeKds::rate_limited() const
{
    std::lock_guard lock(m_mutex);
    return m_rate_limited;
}

void FakeKds::stop()
{
    m_server.reset();
}

net::HttpResponse FakeKds::handle(const net::HttpRequest& request)
{
    std::lock_guard lock(m_mutex);
    ++m_total;
    ++m_counts[request.target];
    if (m_outage != 0)
        return {m_outage, {{"Content-Type", "text/plain"}}, Bytes{'d', 'o', 'w', 'n', '\n'}};
    if (m_quota_left && *m_quota_left == 0) {
        ++m_rate_limited;
        return {429, {{"Retry-After", std::to_string(m_retry_after)}}, {}};
    }
    if (m_quota_left)
        --*m_quota_left;
    if (request.method != "GET")
        return {405, {}, {}};
    auto it = m_routes.find(request.target);
    if (it == m_routes.end())
        return {404, {{"Content-Type", "text/plain"}}, Bytes{'n', 'o', 't', ' ', 'f', 'o', 'u', 'n', 'd', '\n'}};
    return it->second;
}

}  // namespace cvm::fakes
