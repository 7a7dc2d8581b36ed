// POST /v1/seal and /v1/unseal over the fake provider's derived keys, and the gate's rule for
// derived keys.
#include <doctest.h>

#include <string>

#include "api/workload_api.h"
#include "base/base64.h"
#include "fake_provider.h"
#include "proto/json.h"
#include "sealing/blob.h"

using namespace cvm;
using namespace cvm::agent;
using namespace cvm::agent::api;

namespace {

struct Fixture {
    explicit Fixture(const char* provider_name = PROVIDER_SEV_GUEST) : provider(provider_name), gate(provider)
    {
        auto boot = boot_info_from_report(test::FakeProvider::report({}), provider.name());
        REQUIRE(boot.ok());
        api = std::make_unique<WorkloadApi>(gate, boot.release_value(), nullptr, ApiLimits{}, [this] { return now; });
    }

    net::HttpResponse call(const std::string& target, const std::string& body, const std::string& method = "POST")
    {
        net::HttpRequest request;
        request.method = method;
        request.target = target;
        request.body.assign(body.begin(), body.end());
        return api->handle(request);
    }

    net::HttpResponse seal(const std::string& policy, const std::string& context, std::string_view plaintext)
    {
        return call("/v1/seal", "{\"policy\":\"" + policy + "\",\"context\":\"" + context + "\",\"plaintext\":\"" +
                                    base64_encode(as_bytes(plaintext)) + "\"}");
    }

    net::HttpResponse unseal(const std::string& context, const std::string& blob_b64)
    {
        return call("/v1/unseal", "{\"context\":\"" + context + "\",\"blob\":\"" + blob_b64 + "\"}");
    }

    std::chrono::steady_clock::time_point now = std::chrono::steady_clock::time_point{} + std::chrono::seconds(100);
    test::FakeProvider provider;
    ProviderGate gate;
    std::unique_ptr<WorkloadApi> api;
};

std::string member(const net::HttpResponse& response, const char* key)
{
    auto doc = proto::JsonDoc::parse(response.body_text(), "answer");
    REQUIRE(doc.ok());
    yyjson_val* v = yyjson_obj_get(doc.value().root(), key);
    REQUIRE(yyjson_is_str(v));
    return yyjson_get_str(v);
}

// The error code and message of an answer with `status`.
std::pair<std::string, std::string> error_of(const net::HttpResponse& response, int status)
{
    CHECK(response.status == status);
    auto doc = proto::JsonDoc::parse(response.body_text(), "answer");
    REQUIRE(doc.ok());
    yyjson_val* error = yyjson_obj_get(doc.value().root(), "error");
    REQUIRE(yyjson_is_obj(error));
    return {yyjson_get_str(yyjson_obj_get(error, "code")), yyjson_get_str(yyjson_obj_get(error, "message"))};
}

std::string sealed_blob(Fixture& f, const std::string& policy, const std::string& context, std::string_view text)
{
    auto answer = f.seal(policy, context, text);
    REQUIRE(answer.status == 200);
    return member(answer, "blob");
}

std::string plaintext_of(const net::HttpResponse& answer)
{
    REQUIRE(answer.status == 200);
    auto bytes = base64_decode(member(answer, "plaintext"));
    REQUIRE(bytes.has_value());
    return std::string(bytes->begin(), bytes->end());
}

constexpr const char* UNSEAL_FAILED =
    "unseal failed: the key derived now does not open this blob (another measurement, chip or context?)";

}  // namespace

TEST_CASE("POST /v1/seal then /v1/unseal: a round trip per policy, the blob naming its request")
{
    Fixture f;
    f.provider.has_vlek = true;
    for (const char* policy : {"measurement-and-chip", "measurement-only", "chip-only"}) {
        CAPTURE(policy);
        auto answer = f.seal(policy, "app/db", "the database key");
        REQUIRE(answer.status == 200);
        CHECK(member(answer, "policy") == policy);
        CHECK(member(answer, "tcb_version") == "1b00000000000004");  // the boot report's COMMITTED_TCB
        CHECK(member(answer, "aead") == "AES-256-GCM");
        auto blob = base64_decode(member(answer, "blob"));
        REQUIRE(blob.has_value());
        auto parsed = sealing::parse_blob(*blob);
        REQUIRE(parsed.ok());
        CHECK(sealing::policy_name(parsed->policy) == policy);
        CHECK(parsed->request == sealing::request_for(parsed->policy, test::FakeProvider::COMMITTED_TCB));
        CHECK(f.provider.last_key_request == parsed->request);
        size_t before = f.provider.derive_calls.load();
        CHECK(plaintext_of(f.unseal("app/db", member(answer, "blob"))) == "the database key");
        CHECK(f.provider.derive_calls.load() == before + 1);  // derived again: no key is cached
        CHECK(f.provider.last_key_request == parsed->request);
    }
    // Empty plaintext.
    CHECK(plaintext_of(f.unseal("c", sealed_blob(f, "chip-only", "c", ""))).empty());
}

TEST_CASE("/v1/unseal: another chip, another measurement or another context does not open the blob")
{
    Fixture f;
    f.provider.has_vlek = true;
    const std::string both = sealed_blob(f, "measurement-and-chip", "ctx", "s1");
    const std::string measurement = sealed_blob(f, "measurement-only", "ctx", "s2");
    const std::string chip = sealed_blob(f, "chip-only", "ctx", "s3");

    auto refused = [&](const std::string& blob, const std::string& context = "ctx") {
        auto [code, message] = error_of(f.unseal(context, blob), 400);
        CHECK(code == "UNSEAL_FAILED");
        CHECK(message == UNSEAL_FAILED);
    };
    refused(both, "ctx2");
    refused(chip, "Ctx");

    f.provider.measurement = 0x4E;  // another launch on the same chip
    refused(both);
    refused(measurement);
    CHECK(plaintext_of(f.unseal("ctx", chip)) == "s3");  // chip-only does not bind the launch

    f.provider.measurement = 0x4D;
    f.provider.chip = 0xC2;  // the same launch on another chip
    refused(both);
    refused(chip);
    CHECK(plaintext_of(f.unseal("ctx", measurement)) == "s2");  // the VLEK is the provider's, not the chip's

    f.provider.chip = 0xC1;
    CHECK(plaintext_of(f.unseal("ctx", both)) == "s1");
}

TEST_CASE("/v1/seal measurement-only without a VLEK, and a blob above COMMITTED_TCB: 400, the gate stays open")
{
    Fixture f;
    auto [code, message] = error_of(f.seal("measurement-only", "c", "x"), 400);
    CHECK(code == "BAD_REQUEST");
    CHECK(message.find("needs a VLEK") != std::string::npos);
    CHECK_FALSE(f.gate.closed());

    // A blob that asks for a TCB_VERSION this platform has not committed (sealed after a firmware
    // update, opened after a rollback): the provider refuses it by name before the firmware.
    DerivedKey key;
    auto blob =
        sealing::seal(key, sealing::Policy::ChipOnly, test::FakeProvider::COMMITTED_TCB + 1, "c", as_bytes("x"));
    REQUIRE(blob.ok());
    auto [code2, message2] = error_of(f.unseal("c", base64_encode(blob.value())), 400);
    CHECK(code2 == "BAD_REQUEST");
    CHECK(message2.find("TCB_VERSION 0x1b00000000000005 is above COMMITTED_TCB") != std::string::npos);
    CHECK_FALSE(f.gate.closed());
    CHECK(f.provider.derive_calls.load() == 0);
    CHECK(plaintext_of(f.unseal("c", sealed_blob(f, "chip-only", "c", "ok"))) == "ok");
}

TEST_CASE("sealing: malformed requests and blobs are refused by name before the provider, at no rate cost")
{
    Fixture f;
    auto [c1, m1] = error_of(f.call("/v1/seal", R"({"policy":"sealed","context":"c","plaintext":""})"), 400);
    CHECK(m1.find("seal request.policy") == 0);
    const std::string good = sealed_blob(f, "chip-only", "c", "x");
    auto bytes = base64_decode(good);
    REQUIRE(bytes.has_value());
    Bytes tampered = *bytes;
    tampered[8] = 9;  // VERSION
    auto [c2, m2] = error_of(f.unseal("c", base64_encode(tampered)), 400);
    CHECK(c2 == "BAD_REQUEST");
    CHECK(m2 == "sealed blob VERSION: 9, expected 1");
    tampered = *bytes;
    tampered[16] = 0x29;  // FIELD_SELECT of another policy than the recorded one
    auto [c3, m3] = error_of(f.unseal("c", base64_encode(tampered)), 400);
    CHECK(m3 == "sealed blob FIELD_SELECT: 0x29, expected 0x20 for chip-only");
    CHECK(f.provider.derive_calls.load() == 1);
    CHECK(error_of(f.call("/v1/seal", "", "GET"), 405).first == "METHOD_NOT_ALLOWED");
    CHECK(error_of(f.call("/v1/unseal", "", "PUT"), 405).first == "METHOD_NOT_ALLOWED");
    // Bodies: the sealing endpoints take up to 96 KiB, the others 16 KiB.
    auto big = f.seal("chip-only", "c", std::string(sealing::MAX_PLAINTEXT, 'p'));
    CHECK(big.status == 200);
    CHECK(error_of(f.call("/v1/seal", std::string(MAX_SEAL_BODY + 1, ' ')), 413).first == "TOO_LARGE");
    CHECK(error_of(f.call("/v1/evidence", std::string(MAX_BODY + 1, ' ')), 413).first == "TOO_LARGE");
    auto large_blob = member(big, "blob");
    CHECK(plaintext_of(f.unseal("c", large_blob)) == std::string(sealing::MAX_PLAINTEXT, 'p'));
}

TEST_CASE("sealing is rate limited with the reports: each derives a key")
{
    Fixture f;
    for (int i = 0; i < 20; ++i)
        REQUIRE(f.seal("chip-only", "c", "x").status == 200);
    auto refused = f.seal("chip-only", "c", "x");
    CHECK(error_of(refused, 429).first == "RATE_LIMITED");
    CHECK(f.provider.derive_calls.load() == 20);
}

TEST_CASE("a derived-key failure on hardware closes the gate like a report's; the simulator's does not")
{
    for (const char* name : {PROVIDER_SEV_GUEST, PROVIDER_SIMULATED}) {
        CAPTURE(name);
        Fixture f(name);
        const std::string blob = sealed_blob(f, "chip-only", "c", "x");
        f.provider.fail_from = f.provider.calls.load();
        auto [code, message] = error_of(f.unseal("c", blob), 500);
        CHECK(code == "PROVIDER");
        CHECK(message.find("derived key: SNP_GET_DERIVED_KEY: firmware error") != std::string::npos);
        bool hardware = std::string(name) != PROVIDER_SIMULATED;
        CHECK(f.gate.closed() == hardware);
        auto again = f.unseal("c", blob);
        if (hardware) {
            CHECK(error_of(again, 503).first == "PROVIDER_CLOSED");
            CHECK(f.provider.calls.load() == f.provider.fail_from + 1);  // not asked again
        } else {
            CHECK(error_of(again, 500).first == "PROVIDER");  // asked again: the fake's ENOTTY
        }
    }
}

TEST_CASE("the gate's derive_key: refusals made before the firmware keep their code and leave it open")
{
    test::FakeProvider provider;
    ProviderGate gate(provider);
    GateFailure failure = GateFailure::Provider;
    auto vlek = gate.derive_key(sealing::request_for(sealing::Policy::MeasurementOnly, 0), &failure);
    REQUIRE_FALSE(vlek.ok());
    CHECK(vlek.error().code() == Errc::Unsupported);
    CHECK(failure == GateFailure::None);
    auto tcb = gate.derive_key(sealing::request_for(sealing::Policy::ChipOnly, ~uint64_t{0}), &failure);
    REQUIRE_FALSE(tcb.ok());
    CHECK(tcb.error().code() == Errc::Config);
    CHECK(failure == GateFailure::None);
    CHECK_FALSE(gate.closed());
    auto ok = gate.derive_key(sealing::request_for(sealing::Policy::ChipOnly, 0), &failure);
    REQUIRE(ok.ok());
    CHECK(failure == GateFailure::None);
    CHECK_FALSE(all_zero(ok->expose()));
    // A report failure closes the door to derived keys too.
    provider.fail_from = provider.calls.load();
    CHECK_FALSE(gate.get_report(ReportData{}).ok());
    auto closed = gate.derive_key(sealing::request_for(sealing::Policy::ChipOnly, 0), &failure);
    REQUIRE_FALSE(closed.ok());
    CHECK(failure == GateFailure::Closed);
    CHECK(closed.error().code() == Errc::Unavailable);
}
