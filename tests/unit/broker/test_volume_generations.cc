// Volume generations (volume_generations.h): the rule table, the record's encoding, the
// [[volume]] keys, and the broker's verdicts on protected volumes through the whole cvmkb/1
// exchange (accept, a retry of the same launch, a blank or older disk refused, reset, recovery).
#include <doctest.h>

#include <string>

#include "attest_harness.h"
#include "failing_store.h"
#include "snp/report.h"
#include "volume_admin.h"
#include "volume_generations.h"

using namespace cvm;
using namespace cvm::test;
using broker::GenerationRecord;
using proto::VolumeReport;
using proto::VolumeState;

namespace {

constexpr const char* UUID = "0f6e3c1a-2b4d-4e5f-8a9b-0c1d2e3f4a5b";
constexpr const char* LAUNCH = "aa11";
constexpr const char* OTHER = "bb22";

VolumeReport blank()
{
    return {"vault", VolumeState::Blank, 0, ""};
}
VolumeReport at(uint64_t generation, VolumeState state = VolumeState::Ready)
{
    return {"vault", state, generation, UUID};
}
GenerationRecord stored(uint64_t generation, std::string report_id = LAUNCH)
{
    return {false, generation, std::move(report_id)};
}

ByteView b(std::string_view s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

TEST_CASE("volume generations: the rule table")
{
    using broker::judge_volume;
    // Nothing stored, or reset by an operator: accepted whatever the disk says; g+1 with this launch.
    for (const auto& none : {std::optional<GenerationRecord>(), std::optional(GenerationRecord{true, 0, {}})}) {
        auto v = judge_volume("vault", at(7), none, LAUNCH);
        CHECK(v.accepted);
        CHECK(v.next == stored(8));
        CHECK_FALSE(v.first_format);
        auto first = judge_volume("vault", blank(), none, LAUNCH);
        CHECK(first.accepted);
        CHECK(first.next == stored(1));
        CHECK(first.first_format);
    }
    // g == s: accepted and advanced, from any launch.
    auto same = judge_volume("vault", at(5), stored(5, OTHER), LAUNCH);
    CHECK(same.accepted);
    CHECK(same.next == stored(6));
    CHECK(judge_volume("vault", at(5, VolumeState::Formatting), stored(5, OTHER), LAUNCH).accepted);
    // g == s-1 from the launch that set s: its retry, accepted without a change; from another: refused.
    auto retry = judge_volume("vault", at(4), stored(5), LAUNCH);
    CHECK(retry.accepted);
    CHECK_FALSE(retry.next);
    auto replay = judge_volume("vault", at(4), stored(5, OTHER), LAUNCH);
    CHECK_FALSE(replay.accepted);
    CHECK(replay.detail == "volume vault: the disk reports generation 4, the broker expects 5 (an older copy of the "
                           "disk?); if this disk is the one to keep: cvm broker volume reset vault");
    // The same launch's retry of its first format still gets the recovery key.
    auto first_retry = judge_volume("vault", blank(), stored(1), LAUNCH);
    CHECK(first_retry.accepted);
    CHECK_FALSE(first_retry.next);
    CHECK(first_retry.first_format);
    // Blank where the broker knows a volume: refused, naming the generation and the way out.
    auto zeroed = judge_volume("vault", blank(), stored(1, OTHER), LAUNCH);
    CHECK_FALSE(zeroed.accepted);
    CHECK(zeroed.detail == "volume vault: the disk is blank, the broker knows generation 1 (a zeroed or replaced "
                           "disk?); to start again: cvm broker volume reset vault");
    CHECK_FALSE(judge_volume("vault", blank(), stored(9), LAUNCH).accepted);
    // Older by more than one, even from the same launch; newer than ever issued.
    CHECK_FALSE(judge_volume("vault", at(3), stored(5), LAUNCH).accepted);
    auto future = judge_volume("vault", at(6), stored(5), LAUNCH);
    CHECK_FALSE(future.accepted);
    CHECK(future.detail.find("reports generation 6, the broker expects 5 (a generation the broker never issued)") !=
          std::string::npos);
    // The largest generation a report may carry is accepted and recorded past it.
    auto top = judge_volume("vault", at(proto::MAX_VOLUME_GENERATION), stored(proto::MAX_VOLUME_GENERATION), LAUNCH);
    CHECK(top.accepted);
    CHECK(top.next->generation == proto::MAX_VOLUME_GENERATION + 1);
    CHECK(broker::decode_record(b(broker::encode_record(*top.next))).value() == *top.next);
}

TEST_CASE("volume generations: records are read back exactly and nothing else is")
{
    using broker::decode_record;
    CHECK(broker::encode_record(stored(12, "00ff")) == "v1 12 00ff");
    CHECK(decode_record(b("v1 12 00ff")).value() == stored(12, "00ff"));
    CHECK(decode_record(b("v1 reset")).value() == GenerationRecord{true, 0, {}});
    for (const char* bad :
         {"", "v1", "v1 ", "v1 12", "v1 12 ", "v2 12 00ff", "v1 0 00ff", "v1 012 00ff", "v1 -1 00ff", "v1 12 00FF",
          "v1 12 00 ff", "v1 12a 00ff", "v1 9007199254740993 00ff", "v1 reset ", "V1 reset", "v1 12 00ff\n"})
        CHECK_MESSAGE(!decode_record(b(bad)).ok(), bad);
}

TEST_CASE("volume generations: [[volume]] rollback_protection, recovery_key_file and [volumes] state_file")
{
    BrokerFiles f;
    f.write("recovery.key", std::string(48, 'r'));
    f.write("short.key", std::string(31, 'r'));
    std::string base = broker_config_text();
    auto vault = [](std::string extra) {
        return "\n[[volume]]\nname = \"vault\"\nkey_file = \"data.key\"\nmeasurements = [\"" +
               std::string(GOOD_MEASUREMENT) + "\"]\n" + extra;
    };
    auto parsed = broker::parse_broker_config(base + vault("recovery_key_file = \"recovery.key\"\n"), f.dir());
    REQUIRE(parsed.ok());
    const broker::VolumeResource& v = parsed->volumes.back();
    CHECK(v.rollback_protection);  // the default
    CHECK(v.recovery_key.size() == 48);
    CHECK(parsed->volumes.front().recovery_key.empty());
    CHECK(parsed->volume_state_file.empty());
    CHECK_FALSE(broker::parse_broker_config(base + vault("rollback_protection = false\n"), f.dir())
                    ->volumes.back()
                    .rollback_protection);
    auto state = broker::parse_broker_config(base + "\n[volumes]\nstate_file = \"state/volumes.json\"\n", f.dir());
    REQUIRE(state.ok());
    CHECK(state->volume_state_file == f.dir() + "/state/volumes.json");

    auto refused = [&](const std::string& text, const char* key) {
        auto r = broker::parse_broker_config(text, f.dir());
        REQUIRE_FALSE(r.ok());
        CHECK_MESSAGE(std::string(r.error().message()).find(key) != std::string::npos, r.error().message());
    };
    refused(base + vault("rollback_protection = \"yes\"\n"), "rollback_protection");
    refused(base + vault("recovery_key_file = \"short.key\"\n"), "recovery_key_file");
    refused(base + vault("recovery_key_file = \"missing.key\"\n"), "recovery_key_file");
    refused(base + vault("recovery_key_file = \"data.key\"\n"), "recovery_key_file");  // the volume key itself
    refused(base + vault("recovery_key_file = 1\n"), "recovery_key_file");
    refused(base + vault("rollback = true\n"), "rollback");
    refused(base + "\n[volumes]\nstate_file = \"\"\n", "volumes.state_file");
    refused(base + "\n[volumes]\nstate_file = 1\n", "volumes.state_file");
    refused(base + "\n[volumes]\nstatefile = \"x\"\n", "statefile");
    refused("volumes = 1\n" + base, "volumes");
    refused(base + "\n[store]\nurl = \"redis://127.0.0.1:6379/0\"\n[volumes]\nstate_file = \"v.json\"\n",
            "volumes.state_file");
}

namespace {

// A broker with the protected volume "vault" (its recovery key in `keys`) besides the fixture's
// resources, on `store`.
struct VaultBroker {
    explicit VaultBroker(broker::Store* store = nullptr) : h("", vault_table(keys), true, store) {}

    // The [[volume]] table, among the top-level keys (the fixture's [kds] table follows it).
    static std::string vault_table(const BrokerFiles& keys)
    {
        std::string recovery = keys.write("recovery.key", std::string(40, 'R'));
        return "[[volume]]\nname = \"vault\"\nkey_file = \"data.key\"\nrecovery_key_file = \"" + recovery +
               "\"\nmeasurements = [\"" + GOOD_MEASUREMENT + "\"]\n";
    }
    // The configuration the broker runs on, for `cvm broker volume`.
    broker::BrokerConfig config() const
    {
        std::string text = broker_config_text("allow_simulated = true\n", simulated_top(h.files) + vault_table(keys));
        return broker::parse_broker_config(text, h.files.dir()).release_value();
    }

    BrokerFiles keys;
    BrokerHarness h;
};

struct Launch {
    sim::SimulatedPsp psp = sim::SimulatedPsp::create(simulated_platform(), good_launch()).release_value();
    std::vector<Bytes> certs = certs_of_table(psp.cert_table());
    std::string report_id() const
    {
        return to_hex(snp::parse_report(psp.get_report({}, 0).release_value()).release_value().report_id);
    }
};

struct Outcome {
    Result<proto::Release> released;
    std::optional<proto::ErrorBody> refusal;
    bool refused_with(proto::ErrorCode code) const { return !released.ok() && refusal && refusal->code == code; }
    bool recovery() const { return released.ok() && !released->volumes.at(0).recovery.empty(); }
};

Outcome attest(const BrokerHarness& h, const Launch& launch, std::vector<VolumeReport> volumes,
               std::vector<std::string> resources = {"vault"}, const proto::X25519KeyPair* key = nullptr)
{
    auto options = h.client(std::move(resources));
    options.volumes = std::move(volumes);
    client::Session s = (key ? client::Session::begin(options, *key) : client::Session::begin(options)).release_value();
    Bytes report = launch.psp.get_report(s.report_data(), 0).release_value();
    Outcome out{s.complete(report, launch.certs), s.last_refusal()};
    return out;
}

std::optional<GenerationRecord> record(broker::Store& store)
{
    auto raw = store.get(broker::store_keys::volume("vault")).release_value();
    if (!raw)
        return std::nullopt;
    return broker::decode_record(*raw).release_value();
}

bool logged(const BrokerHarness& h, std::string_view text)
{
    for (const std::string& line : h.log_lines()) {
        if (line.find(text) != std::string::npos)
            return true;
    }
    return false;
}

}  // namespace

TEST_CASE("volume generations: first format, retry, next boot; a blank, older or unknown disk is refused")
{
    broker::MemoryStore store;
    VaultBroker vb(&store);
    BrokerHarness& h = vb.h;
    Launch first;
    auto key = proto::X25519KeyPair::generate();

    // A blank disk the broker has never seen: released with the recovery key (keyslot 1 enrols).
    Outcome formatted = attest(h, first, {blank()}, {"vault"}, &key);
    REQUIRE_MESSAGE(formatted.released.ok(), formatted.released.error().message());
    CHECK(formatted.recovery());
    CHECK(formatted.released->volumes[0].recovery.equals(SecretBytes::copy_of(b(std::string(40, 'R')))));
    CHECK(record(store) == stored(1, first.report_id()));
    CHECK(logged(h, "volume vault: recovery key released for the first format (keyslot 1)"));
    CHECK(logged(h, "volumes=vault:blank:0"));
    // The same launch asks again (its answer was lost): the same release, nothing advanced.
    Outcome again = attest(h, first, {blank()}, {"vault"}, &key);
    CHECK(again.released.ok());
    CHECK(again.recovery());
    CHECK(record(store) == stored(1, first.report_id()));

    // The next boot opens generation 1: released without recovery, 2 expected next.
    Launch second;
    Outcome opened = attest(h, second, {at(1)});
    REQUIRE(opened.released.ok());
    CHECK_FALSE(opened.recovery());
    CHECK(record(store) == stored(2, second.report_id()));

    // Another launch with the copy of generation 1 (taken before the second boot): refused. Its
    // agent keeps its key for the boot, as cvminit does (the once-per-launch record is its key's).
    Launch third;
    auto third_key = proto::X25519KeyPair::generate();
    Outcome replayed = attest(h, third, {at(1)}, {"vault"}, &third_key);
    REQUIRE(replayed.refused_with(proto::ErrorCode::VolumeRollback));
    CHECK(replayed.refusal->claim == "volume.generation");
    CHECK(replayed.refusal->got == "vault generation 1");
    CHECK(replayed.refusal->expected == std::vector<std::string>{"vault generation 2"});
    CHECK(replayed.refusal->detail.find("an older copy of the disk?") != std::string::npos);
    CHECK(logged(h, "attest refused code=VOLUME_ROLLBACK claim=volume.generation found=\"vault generation 1\" "
                    "expected=\"vault generation 2\""));
    // A zeroed disk, and a generation never issued.
    Outcome zeroed = attest(h, third, {blank()}, {"vault"}, &third_key);
    REQUIRE(zeroed.refused_with(proto::ErrorCode::VolumeRollback));
    CHECK(zeroed.refusal->got == "vault blank");
    CHECK(zeroed.refusal->detail.find("cvm broker volume reset vault") != std::string::npos);
    CHECK(attest(h, third, {at(3)}, {"vault"}, &third_key).refused_with(proto::ErrorCode::VolumeRollback));
    CHECK(record(store) == stored(2, second.report_id()));  // nothing refused changed it

    // An agent that reports no state (an older one) is told why.
    Outcome silent = attest(h, third, {}, {"vault"}, &third_key);
    REQUIRE(silent.refused_with(proto::ErrorCode::ResourceNotAllowed));
    CHECK(silent.refusal->claim == "volume.generation");
    CHECK(silent.refusal->detail.find("must report the volume's state") != std::string::npos);
    // A state for a resource that is no volume, and for an unprotected volume (ignored, released).
    CHECK(attest(h, third, {{"db", VolumeState::Blank, 0, ""}, at(2)}, {"vault", "db"}, &third_key)
              .refused_with(proto::ErrorCode::BadRequest));
    Outcome unprotected = attest(h, third, {{"data", VolumeState::Ready, 40, UUID}}, {"data"}, &third_key);
    CHECK(unprotected.released.ok());
    CHECK(record(store) == stored(2, second.report_id()));

    // The current generation from the third launch: accepted.
    CHECK(attest(h, third, {at(2)}, {"vault"}, &third_key).released.ok());
    // Another key of that launch (a workload attesting after the handoff) gets nothing.
    CHECK(attest(h, third, {at(3)}).refused_with(proto::ErrorCode::AlreadyReleased));
    CHECK(record(store) == stored(3, third.report_id()));
}

TEST_CASE("volume generations: reset and recover by the operator, logged at the next use")
{
    broker::MemoryStore store;
    VaultBroker vb(&store);
    BrokerHarness& h = vb.h;
    broker::BrokerConfig config = vb.config();
    Launch one, two, three;
    REQUIRE(attest(h, one, {blank()}).released.ok());
    REQUIRE(attest(h, two, {at(1)}).released.ok());

    // An old copy is refused until the operator resets: then that disk is accepted as it is.
    auto key = proto::X25519KeyPair::generate();
    REQUIRE(attest(h, three, {at(1)}, {"vault"}, &key).refused_with(proto::ErrorCode::VolumeRollback));
    std::string out = broker::volume_admin(config, store, broker::VolumeAction::Reset, "vault", 0).value();
    CHECK(out.find("was next generation 2, set by the launch of REPORT_ID " + two.report_id()) != std::string::npos);
    CHECK(record(store) == GenerationRecord{true, 0, {}});
    Outcome restored = attest(h, three, {at(1)}, {"vault"}, &key);
    REQUIRE(restored.released.ok());
    CHECK(record(store) == stored(2, three.report_id()));
    CHECK(logged(h, "volume vault: generation record reset by an operator; accepted generation 1, next 2"));

    // Recovery: armed once, released once, then not again.
    Launch four, five;
    std::string shown = broker::volume_admin(config, store, broker::VolumeAction::Show, "vault", 0).value();
    CHECK(shown.find("recovery release not armed") != std::string::npos);
    REQUIRE(broker::volume_admin(config, store, broker::VolumeAction::Recover, "vault", 1'700'000'000).ok());
    CHECK(broker::volume_admin(config, store, broker::VolumeAction::Show, "vault", 0)
              .value()
              .find("recovery release armed (armed 1700000000)") != std::string::npos);
    Outcome recovered = attest(h, four, {at(2)});
    REQUIRE(recovered.released.ok());
    CHECK(recovered.recovery());
    CHECK(logged(h, "volume vault: recovery key released, armed by an operator (armed 1700000000)"));
    CHECK_FALSE(store.get(broker::store_keys::recover("vault")).value());
    Outcome after = attest(h, five, {at(3)});
    REQUIRE(after.released.ok());
    CHECK_FALSE(after.recovery());

    // The admin's refusals: no such volume, no recovery key.
    CHECK_FALSE(broker::volume_admin(config, store, broker::VolumeAction::Reset, "nope", 0).ok());
    auto no_key = broker::volume_admin(config, store, broker::VolumeAction::Recover, "data", 0);
    REQUIRE_FALSE(no_key.ok());
    CHECK(std::string(no_key.error().message()).find("no recovery_key_file") != std::string::npos);
    // A memory-only broker has no store another process can change.
    auto memory = broker::open_volume_store(config);
    REQUIRE_FALSE(memory.ok());
    CHECK(std::string(memory.error().message()).find("no [store], no [volumes] state_file") != std::string::npos);
}

TEST_CASE("volume generations: a store that is down releases nothing and records nothing")
{
    FailingStore store;
    VaultBroker vb(&store);
    Launch launch;
    REQUIRE(attest(vb.h, launch, {blank()}).released.ok());
    store.set_down(true);
    Launch next;
    CHECK(attest(vb.h, next, {at(1)}).refused_with(proto::ErrorCode::StoreUnavailable));
    store.set_down(false);
    // Lost after the nonce was recorded: the volume step finds the store gone.
    store.fail_after(1);
    Outcome lost = attest(vb.h, next, {at(1)});
    CHECK(lost.refused_with(proto::ErrorCode::StoreUnavailable));
    store.set_down(false);
    CHECK(record(store.memory()) == stored(1, launch.report_id()));
    CHECK(attest(vb.h, next, {at(1)}).released.ok());
}
