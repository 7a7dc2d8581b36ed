// libFuzzer harness: the workload API's socket, from raw bytes to the answer. The input is parsed
// as one HTTP/1.1 request with the agent's own limits (agent/api/server.h server_options: 16 KiB
// of headers and of body) by net::MessageParser, then handled by WorkloadApi over a fake provider
// (tests/unit/agent/api/fake_provider.h). Whatever the input: the answer is one of the API's
// statuses with a JSON body, an error answer carries {"error": {"code", "message"}}, the provider
// is asked at most twice (a certificate: the issuer's report once per process, then the leaf's),
// and the REPORT_DATA it is asked for is never the workload's bytes themselves.
#include <cstdlib>
#include <memory>

#include "api/server.h"
#include "api/workload_api.h"
#include "fake_provider.h"
#include "net/http_parser.h"
#include "proto/json.h"

namespace {

struct Harness {
    Harness() : gate(provider)
    {
        provider.with_certificates = false;
        auto info = cvm::agent::api::boot_info_from_report(cvm::test::FakeProvider::report({}), provider.name());
        auto issuer = cvm::agent::api::AgentIssuer::create(gate);
        if (!info || !issuer)
            abort();
        api = std::make_unique<cvm::agent::api::WorkloadApi>(gate, info.release_value(), issuer.release_value(),
                                                             cvm::agent::api::ApiLimits{1e9, 1e9});
    }
    cvm::test::FakeProvider provider{cvm::agent::PROVIDER_SIMULATED};
    cvm::agent::api::ProviderGate gate;
    std::unique_ptr<cvm::agent::api::WorkloadApi> api;
};

bool is_api_status(int status)
{
    for (int s : {200, 400, 404, 405, 429, 500, 503})
        if (status == s)
            return true;
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static Harness h;
    cvm::net::ServerOptions options = cvm::agent::api::server_options({});
    cvm::net::MessageParser parser(cvm::net::MessageKind::Request, options.limits, "fuzz");
    auto fed = parser.feed(cvm::ByteView(data, size));
    if (!fed.ok() || !fed.value())
        return 0;
    cvm::net::HttpRequest request = parser.take_request();
    if (request.body.size() > options.limits.max_body_bytes)
        abort();
    size_t calls_before = h.provider.calls.load();
    cvm::net::HttpResponse response = h.api->handle(request);
    if (!is_api_status(response.status) || h.provider.calls.load() > calls_before + 2)
        abort();
    auto doc = cvm::proto::JsonDoc::parse(response.body_text(), "answer");
    if (!doc.ok())
        abort();
    if (response.status != 200) {
        yyjson_val* error = yyjson_obj_get(doc.value().root(), "error");
        if (!yyjson_is_str(yyjson_obj_get(error, "code")) || !yyjson_is_str(yyjson_obj_get(error, "message")))
            abort();
    }
    // The workload never chooses REPORT_DATA: its body's bytes are never what the provider saw.
    if (h.provider.calls.load() > calls_before && request.body.size() >= 64) {
        for (size_t at = 0; at + 64 <= request.body.size(); ++at)
            if (std::equal(h.provider.last_report_data.begin(), h.provider.last_report_data.end(),
                           request.body.begin() + static_cast<std::ptrdiff_t>(at)))
                abort();
    }
    return 0;
}
