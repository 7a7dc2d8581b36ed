// Stages attest and retrieve with cvminit.broker_protocol=kbs against a scripted Trustee KBS
// (tests/unit/client/kbs_script.h) and the simulated PSP: the secrets and the data volume's key
// land in the release, a 401 gets exactly one new handshake (a new session, TEE key and report)
// before it is final, and anything else is final at once. The protocol itself is
// tests/unit/client's; the independent KBS is tests/blackbox/kbs_client.sh's and tests/e2e/kbs.sh's.
#include <doctest.h>

#include "attest_harness.h"
#include "kbs_script.h"
#include "providers/report_provider_sim.h"
#include "stages.h"

using namespace cvm;
using namespace cvm::test;

namespace {

void kbs_context(agent::Context& ctx, const ScriptedKbs& kbs)
{
    ctx.broker_protocol = cmdline::BrokerProtocol::Kbs;
    ctx.broker_url = kbs.url();
    ctx.resources = {"db", "data"};
    ctx.kbs_paths = {{"db", "prod/db/password"}, {"data", "default/cvminit/data"}};
    ctx.data = cmdline::DataVolume{"/dev/vdb"};
    ctx.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    ctx.provider = std::make_unique<agent::SimulatedProvider>(
        sim::SimulatedPsp::create(simulated_platform(), good_launch()).release_value());
}

size_t count(const ScriptedKbs& kbs, std::string_view target)
{
    size_t n = 0;
    for (const net::HttpRequest& r : kbs.requests())
        n += r.target == target;
    return n;
}

KbsScript two_resources()
{
    KbsScript script;
    script.resources = {{"prod/db/password", "s3cret"}, {"default/cvminit/data", "volume-key-bytes"}};
    return script;
}

}  // namespace

TEST_CASE("agent kbs: the secret and the data volume's key through RCAR")
{
    ScriptedKbs kbs(two_resources());
    agent::Context ctx;
    kbs_context(ctx, kbs);
    auto attested = agent::stage_attest(ctx);
    REQUIRE_MESSAGE(attested.ok(), std::string(attested.ok() ? "" : attested.error().message()));
    CHECK(attested.value().find("the KBS's nonce and a fresh P-256 TEE key") != std::string::npos);
    CHECK(!ctx.session);  // no cvmkb/1 session, no X25519 key
    REQUIRE(ctx.kbs_session);
    CHECK(ctx.provider->get_report(ctx.kbs_session->report_data()).ok());

    auto retrieved = agent::stage_retrieve(ctx);
    REQUIRE_MESSAGE(retrieved.ok(), std::string(retrieved.ok() ? "" : retrieved.error().message()));
    CHECK(retrieved.value().find("1 secrets and 1 volume keys from the KBS") != std::string::npos);
    REQUIRE(ctx.release->secrets.size() == 1);
    CHECK(ctx.release->secrets[0].name == "db");
    CHECK(ctx.release->secrets[0].value.equals(SecretBytes::copy_of(as_bytes("s3cret"))));
    REQUIRE(ctx.release->volumes.size() == 1);
    CHECK(ctx.release->volumes[0].name == "data");
    CHECK(ctx.release->volumes[0].recovery.empty());
    CHECK(count(kbs, "/kbs/v0/auth") == 1);
}

TEST_CASE("agent kbs: a 401 gets one new handshake, then it is final")
{
    KbsScript script = two_resources();
    script.resource_replies["prod/db/password"] = problem(401, "PolicyDeny", "Access denied by policy");
    ScriptedKbs kbs(script);
    agent::Context ctx;
    kbs_context(ctx, kbs);
    REQUIRE(agent::stage_attest(ctx).ok());
    auto refused = agent::stage_retrieve(ctx);
    REQUIRE_FALSE(refused.ok());
    std::string message(refused.error().message());
    INFO(message);
    CHECK(message.find("db (prod/db/password)") != std::string::npos);
    CHECK(message.find("401 PolicyDeny") != std::string::npos);
    CHECK(count(kbs, "/kbs/v0/auth") == 2);
    CHECK(count(kbs, "/kbs/v0/attest") == 2);
    REQUIRE(ctx.fail_hint);
    CHECK(std::string(ctx.fail_hint).find("after a new handshake") != std::string::npos);
    CHECK(!ctx.release);
}

TEST_CASE("agent kbs: an expired session recovers with one new handshake")
{
    KbsScript script = two_resources();
    script.expired_requests = 1;
    ScriptedKbs kbs(script);
    agent::Context ctx;
    kbs_context(ctx, kbs);
    REQUIRE(agent::stage_attest(ctx).ok());
    std::string first_key = ctx.kbs_session->tee_key().x();
    auto retrieved = agent::stage_retrieve(ctx);
    REQUIRE_MESSAGE(retrieved.ok(), std::string(retrieved.ok() ? "" : retrieved.error().message()));
    CHECK(ctx.release->secrets.size() == 1);
    CHECK(count(kbs, "/kbs/v0/auth") == 2);
    CHECK(count(kbs, "/kbs/v0/attest") == 2);
    CHECK(ctx.kbs_session->tee_key().x() != first_key);  // a new session has a new TEE key
}

TEST_CASE("agent kbs: a refused new handshake says so")
{
    KbsScript script = two_resources();
    script.expired_requests = 1;
    ScriptedKbs kbs(script);
    agent::Context ctx;
    kbs_context(ctx, kbs);
    REQUIRE(agent::stage_attest(ctx).ok());
    ScriptedKbs gone(
        KbsScript{.auth_reply = problem(401, "AttestationError", "Attestation error: RCAR handshake Auth failed")});
    ctx.broker_url = gone.url();  // the next handshake reaches a KBS that refuses it
    auto refused = agent::stage_retrieve(ctx);
    REQUIRE_FALSE(refused.ok());
    CHECK(std::string(refused.error().message()).find("KBS auth: HTTP 401 AttestationError") != std::string::npos);
    REQUIRE(ctx.fail_hint);
    CHECK(std::string(ctx.fail_hint).find("refused a new handshake") != std::string::npos);
}

TEST_CASE("agent kbs: no request starts after the boot's deadline")
{
    ScriptedKbs kbs(two_resources());
    agent::Context ctx;
    kbs_context(ctx, kbs);
    ctx.deadline = std::chrono::steady_clock::now() - std::chrono::milliseconds(1);
    auto late = agent::stage_attest(ctx);
    REQUIRE_FALSE(late.ok());
    CHECK(std::string(late.error().message()).find("KBS auth: the deadline passed before the request") !=
          std::string::npos);
    CHECK(kbs.requests().empty());
}

TEST_CASE("agent kbs: a 404 is final at once and names the path")
{
    KbsScript script = two_resources();
    script.resource_replies["default/cvminit/data"] = problem(404, "InvalidRequestPath", "Invalid Request Path");
    ScriptedKbs kbs(script);
    agent::Context ctx;
    kbs_context(ctx, kbs);
    REQUIRE(agent::stage_attest(ctx).ok());
    auto refused = agent::stage_retrieve(ctx);
    REQUIRE_FALSE(refused.ok());
    CHECK(std::string(refused.error().message()).find("data (default/cvminit/data)") != std::string::npos);
    CHECK(count(kbs, "/kbs/v0/auth") == 1);
    REQUIRE(ctx.fail_hint);
    CHECK(std::string(ctx.fail_hint).find("kbs_paths") != std::string::npos);
}
