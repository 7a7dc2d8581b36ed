#include "kbs_script.h"

#include <doctest.h>

#include "base/base64.h"
#include "kbs/jwe.h"
#include "proto/json.h"

namespace cvm::test {
namespace {

constexpr std::string_view RESOURCE_PREFIX = "/kbs/v0/resource/";

Bytes bytes_of(const std::string& s)
{
    return Bytes(s.begin(), s.end());
}

}  // namespace

net::HttpResponse problem(int status, const std::string& kind, const std::string& detail)
{
    std::string body = "{\"type\":\"https://github.com/confidential-containers/kbs/errors/" + kind +
                       "\",\"detail\":\"" + detail + "\"}";
    return net::HttpResponse{status, {}, bytes_of(body)};
}

net::HttpResponse json_reply(const std::string& body)
{
    return net::HttpResponse{200, {{"Content-Type", "application/json"}}, bytes_of(body)};
}

std::string jwe_to(std::string_view x, std::string_view y, ByteView plaintext)
{
    auto bx = base64url_decode(x), by = base64url_decode(y);
    REQUIRE((bx && by));
    auto jwe = kbs::jwe::encrypt_flattened(plaintext, *bx, *by, kbs::jwe::TEE_PROFILE);
    REQUIRE_MESSAGE(jwe.ok(), std::string(jwe.ok() ? "" : jwe.error().message()));
    return jwe.value();
}

ScriptedKbs::ScriptedKbs(KbsScript script) : m_script(std::move(script))
{
    auto server = net::HttpServer::start({}, [this](const net::HttpRequest& r) { return answer(r); });
    REQUIRE(server.ok());
    m_server = server.release_value();
}

ScriptedKbs::~ScriptedKbs()
{
    m_server->stop();
}

std::string ScriptedKbs::url() const
{
    return "http://127.0.0.1:" + std::to_string(m_server->port());
}

std::vector<net::HttpRequest> ScriptedKbs::requests() const
{
    std::lock_guard lock(m_mutex);
    return m_requests;
}

net::HttpResponse ScriptedKbs::answer(const net::HttpRequest& request)
{
    std::lock_guard lock(m_mutex);
    m_requests.push_back(request);
    if (request.method == "POST" && request.target == "/kbs/v0/auth") {
        if (m_script.auth_reply)
            return *m_script.auth_reply;
        net::HttpResponse r = json_reply("{\"nonce\":\"" + m_script.nonce + "\",\"extra-params\":\"\"}");
        for (const std::string& c : m_script.set_cookies)
            r.headers.add("Set-Cookie", c);
        return r;
    }
    if (request.method == "POST" && request.target == "/kbs/v0/attest") {
        std::string body(request.body.begin(), request.body.end());
        auto doc = proto::JsonDoc::parse(body, "attest");
        if (doc.ok()) {
            yyjson_val* key = yyjson_ptr_get(doc->root(), "/runtime-data/tee-pubkey");
            if (yyjson_is_str(yyjson_obj_get(key, "x")) && yyjson_is_str(yyjson_obj_get(key, "y"))) {
                m_x = yyjson_get_str(yyjson_obj_get(key, "x"));
                m_y = yyjson_get_str(yyjson_obj_get(key, "y"));
            }
        }
        if (m_script.attest_reply)
            return *m_script.attest_reply;
        return json_reply(std::string("{\"token\":\"") + SCRIPT_TOKEN + "\"}");
    }
    if (request.method == "GET" && request.target.rfind(RESOURCE_PREFIX, 0) == 0) {
        std::string path = request.target.substr(RESOURCE_PREFIX.size());
        if (m_script.expired_requests > 0) {
            --m_script.expired_requests;
            return problem(401, "TokenNotFound", "Attestation Token not found");
        }
        if (auto it = m_script.resource_replies.find(path); it != m_script.resource_replies.end())
            return it->second;
        if (auto it = m_script.resources.find(path); it != m_script.resources.end() && !m_x.empty())
            return json_reply(jwe_to(m_x, m_y, as_bytes(it->second)));
        return problem(401, "PluginInternalError", "Plugin internal error");
    }
    return problem(404, "PluginNotFound", "Plugin " + request.target + " not found");
}

}  // namespace cvm::test
