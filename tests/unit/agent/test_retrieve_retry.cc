// The agent's attest and retrieve steps against an in-process broker: a retry (a new challenge
// and report, as retry.h does after a lost answer or a retryable refusal) presents this boot's
// X25519 key again, so a once_per_launch volume key already recorded for it is released again,
// while another key of the same launch is refused.
#include <doctest.h>

#include "attest_harness.h"
#include "providers/report_provider_sim.h"
#include "stages.h"

using namespace cvm;
using namespace cvm::test;

namespace cvm::agent {
Result<void> challenge(Context& ctx);     // stage_attest.cc
Result<void> fetch_report(Context& ctx);  // stage_attest.cc
}  // namespace cvm::agent

TEST_CASE("agent retry: the same boot's key after a lost answer gets the volume key again; another key does not")
{
    BrokerHarness h;
    agent::Context ctx;
    ctx.broker_url = h.url();
    ctx.broker_key = h.broker->public_key();
    ctx.resources = {"data"};
    ctx.provider = std::make_unique<agent::SimulatedProvider>(
        sim::SimulatedPsp::create(simulated_platform(), good_launch()).release_value());

    REQUIRE(agent::challenge(ctx).ok());
    REQUIRE(agent::fetch_report(ctx).ok());
    proto::X25519PublicKey key = ctx.session->key().public_key();
    proto::Nonce first_nonce = ctx.session->nonce();
    auto lost =
        ctx.session->complete(ctx.report, snp::cert_ders(ctx.certs));  // released and recorded; the answer is lost
    REQUIRE_MESSAGE(lost.ok(), std::string(lost.ok() ? "" : lost.error().message()));

    REQUIRE(agent::challenge(ctx).ok());
    CHECK(ctx.session->key().public_key() == key);
    CHECK(ctx.session->nonce() != first_nonce);
    REQUIRE(agent::fetch_report(ctx).ok());
    auto retried = ctx.session->complete(ctx.report, snp::cert_ders(ctx.certs));
    REQUIRE_MESSAGE(retried.ok(), std::string(retried.ok() ? "" : retried.error().message()));
    CHECK(retried->volumes[0].key.equals(lost->volumes[0].key));

    // Any other process of this launch has another key: refused, naming the volume.
    client::Session other = client::Session::begin(h.client({"data"})).release_value();
    CHECK(other.key().public_key() != key);
    agent::Evidence evidence = ctx.provider->get_report(other.report_data()).release_value();
    auto refused = other.complete(evidence.report, certs_of_table(evidence.cert_table));
    REQUIRE_FALSE(refused.ok());
    REQUIRE(other.last_refusal());
    CHECK(other.last_refusal()->code == proto::ErrorCode::AlreadyReleased);
    CHECK(other.last_refusal()->got == "data");
}
