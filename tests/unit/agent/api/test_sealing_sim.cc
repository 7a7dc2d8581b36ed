// /v1/seal and /v1/unseal over the simulated PSP's derived keys (agent/providers/
// report_provider_sim.h): what the QEMU test shows across boots, in process. A blob sealed in one
// "boot" opens in another boot of the same launch on the same simulated chip, and not after a
// change of measurement (unless chip-only) or of chip; measurement-only is refused by name (a
// simulated platform has no VLEK).
#include <doctest.h>

#include <string>

#include "api/workload_api.h"
#include "base/base64.h"
#include "proto/json.h"
#include "providers/report_provider_sim.h"
#include "sim_fixture.h"

using namespace cvm;
using namespace cvm::agent;

namespace {

// One boot: the simulated provider for `platform` with a launch whose MEASUREMENT is `fill`s.
struct Boot {
    Boot(const sim::Platform& platform, uint8_t fill) : provider(test::psp_for(platform, fill)), gate(provider)
    {
        auto report = provider.get_report(test::report_data(1));
        REQUIRE(report.ok());
        auto info = api::boot_info_from_report(report->report, provider.name());
        REQUIRE(info.ok());
        api = std::make_unique<api::WorkloadApi>(gate, info.release_value(), nullptr);
    }

    net::HttpResponse call(const std::string& target, const std::string& body)
    {
        net::HttpRequest request;
        request.method = "POST";
        request.target = target;
        request.body.assign(body.begin(), body.end());
        return api->handle(request);
    }

    SimulatedProvider provider;
    api::ProviderGate gate;
    std::unique_ptr<api::WorkloadApi> api;
};

std::string member(const net::HttpResponse& answer, const char* path_a, const char* path_b = nullptr)
{
    auto doc = proto::JsonDoc::parse(answer.body_text(), "answer");
    REQUIRE(doc.ok());
    yyjson_val* v = yyjson_obj_get(doc.value().root(), path_a);
    if (path_b)
        v = yyjson_obj_get(v, path_b);
    REQUIRE(yyjson_is_str(v));
    return yyjson_get_str(v);
}

std::string seal(Boot& boot, const std::string& policy, const std::string& plaintext)
{
    auto answer = boot.call("/v1/seal", "{\"policy\":\"" + policy + "\",\"context\":\"e2e\",\"plaintext\":\"" +
                                            base64_encode(as_bytes(plaintext)) + "\"}");
    CAPTURE(answer.body_text());
    REQUIRE(answer.status == 200);
    return member(answer, "blob");
}

// The plaintext, or "<status> <code>".
std::string unseal(Boot& boot, const std::string& blob)
{
    auto answer = boot.call("/v1/unseal", "{\"context\":\"e2e\",\"blob\":\"" + blob + "\"}");
    if (answer.status != 200)
        return std::to_string(answer.status) + " " + member(answer, "error", "code");
    auto bytes = base64_decode(member(answer, "plaintext"));
    REQUIRE(bytes.has_value());
    return std::string(bytes->begin(), bytes->end());
}

}  // namespace

TEST_CASE("sealing on the simulated platform: the same launch and chip open it, another measurement or chip do not")
{
    std::string both, chip;
    {
        Boot first(test::genoa(), 0x5A);
        both = seal(first, "measurement-and-chip", "bound to launch and chip");
        chip = seal(first, "chip-only", "bound to the chip");
        auto vlek = first.call("/v1/seal", R"({"policy":"measurement-only","context":"e2e","plaintext":""})");
        CHECK(vlek.status == 400);
        CHECK(member(vlek, "error", "message").find("VLEK") != std::string::npos);
        CHECK_FALSE(first.gate.closed());
    }
    Boot again(test::genoa(), 0x5A);  // a reboot of the same launch
    CHECK(unseal(again, both) == "bound to launch and chip");
    CHECK(unseal(again, chip) == "bound to the chip");

    Boot other_image(test::genoa(), 0x5B);  // another MEASUREMENT on the same chip
    CHECK(unseal(other_image, both) == "400 UNSEAL_FAILED");
    CHECK(unseal(other_image, chip) == "bound to the chip");

    // Another simulated chip (its TCB is lower, so seal there and open on genoa, whose
    // COMMITTED_TCB is above it: the derivation is allowed and gives another key).
    Boot low(test::low_tcb_genoa(), 0x5A);
    const std::string low_both = seal(low, "measurement-and-chip", "x");
    const std::string low_chip = seal(low, "chip-only", "y");
    CHECK(unseal(low, low_chip) == "y");
    CHECK(unseal(again, low_both) == "400 UNSEAL_FAILED");
    CHECK(unseal(again, low_chip) == "400 UNSEAL_FAILED");
    // The other way, the blob asks for a TCB_VERSION above the low platform's: refused by name.
    CHECK(unseal(low, chip) == "400 BAD_REQUEST");
}
