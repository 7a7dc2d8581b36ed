#include <doctest.h>

#include <thread>
#include <vector>

#include "api/provider_gate.h"
#include "fake_provider.h"

using namespace cvm;
using namespace cvm::agent;
using namespace cvm::agent::api;

namespace {

ReportData data_of(uint8_t fill)
{
    ReportData d;
    d.fill(fill);
    return d;
}

}  // namespace

TEST_CASE("the gate passes the report through and asks with exactly the REPORT_DATA given")
{
    test::FakeProvider provider;
    ProviderGate gate(provider);
    GateFailure failure = GateFailure::Closed;
    auto got = gate.get_report(data_of(7), &failure);
    REQUIRE(got.ok());
    CHECK(failure == GateFailure::None);
    CHECK(provider.last_report_data == data_of(7));
    CHECK(got->provider == PROVIDER_SEV_GUEST);
    CHECK(gate.hardware());
    CHECK_FALSE(gate.closed());
}

TEST_CASE("the provider is never asked twice at once")
{
    test::FakeProvider provider;
    provider.delay_ms = 20;
    ProviderGate gate(provider);
    std::vector<std::thread> threads;
    for (int i = 0; i < 6; ++i)
        threads.emplace_back([&gate, i] { (void)gate.get_report(data_of(static_cast<uint8_t>(i))); });
    for (auto& t : threads)
        t.join();
    CHECK(provider.calls.load() == 6);
    CHECK(provider.max_in_flight.load() == 1);
}

TEST_CASE("a hardware provider error is reported once, then the gate is closed and the provider not asked again")
{
    test::FakeProvider provider;
    provider.fail_from = 1;
    ProviderGate gate(provider);
    REQUIRE(gate.get_report(data_of(1)).ok());
    GateFailure failure = GateFailure::None;
    auto first = gate.get_report(data_of(2), &failure);
    REQUIRE_FALSE(first.ok());
    CHECK(failure == GateFailure::Provider);
    CHECK(first.error().code() == Errc::Io);
    CHECK(first.error().message().find("firmware error 0x16") != std::string_view::npos);
    CHECK(gate.closed());
    auto second = gate.get_report(data_of(3), &failure);
    REQUIRE_FALSE(second.ok());
    CHECK(failure == GateFailure::Closed);
    CHECK(second.error().code() == Errc::Unavailable);
    CHECK(second.error().message().find("VMPCK may be wiped") != std::string_view::npos);
    CHECK(second.error().message().find("firmware error 0x16") != std::string_view::npos);  // the cause
    CHECK(provider.calls.load() == 2);                                                      // never a third request
}

TEST_CASE("the simulated provider's errors do not close the gate (no VMPCK to lose)")
{
    test::FakeProvider provider(PROVIDER_SIMULATED);
    provider.fail_from = 0;
    ProviderGate gate(provider);
    CHECK_FALSE(gate.hardware());
    GateFailure failure = GateFailure::None;
    CHECK_FALSE(gate.get_report(data_of(1), &failure).ok());
    CHECK(failure == GateFailure::Provider);
    CHECK_FALSE(gate.closed());
    CHECK_FALSE(gate.get_report(data_of(1), &failure).ok());
    CHECK(failure == GateFailure::Provider);
    CHECK(provider.calls.load() == 2);
}

namespace {

class UnavailableProvider : public ReportProvider {
public:
    const char* name() const override { return PROVIDER_CONFIGFS_TSM; }
    Result<Evidence> get_report(const ReportData&) override { return Error::make(Errc::Unavailable, "outblob: EBUSY"); }
};

}  // namespace

TEST_CASE("a provider's Unavailable becomes Io: nothing above the gate may take it as worth a retry")
{
    UnavailableProvider provider;
    ProviderGate gate(provider);
    auto got = gate.get_report(data_of(0));
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().code() == Errc::Io);
    CHECK(got.error().message().find("configfs-tsm report: outblob: EBUSY") != std::string_view::npos);
}

TEST_CASE("a derived key the firmware refuses with a STATUS leaves the gate open: it answered, the VMPCK is intact")
{
    test::FakeProvider provider;
    provider.refuse_key_status = true;
    ProviderGate gate(provider);
    GateFailure failure = GateFailure::Closed;
    auto got = gate.derive_key(DerivedKeyRequest{}, &failure);
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().code() == Errc::Policy);
    CHECK(failure == GateFailure::None);
    CHECK_FALSE(gate.closed());
    provider.refuse_key_status = false;
    CHECK(gate.derive_key(DerivedKeyRequest{}).ok());
    CHECK(gate.get_report(data_of(1)).ok());
}
