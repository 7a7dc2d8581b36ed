#include <doctest.h>

#include <string>

#include "verify/verification.h"

using namespace cvm;
using namespace cvm::verify;

namespace {

Claim claim(const char* name, bool pass)
{
    return Claim{name, pass, "f", "e", "d"};
}

}  // namespace

TEST_CASE("status(): the first failing claim, with the code its name maps to")
{
    Verification v;
    v.claims = {claim("chain.ark", true), claim("vek.tcb", false), claim("report.signature", false)};
    auto s = v.status();
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code() == Errc::Chain);
    CHECK(std::string(s.error().message()) == "vek.tcb: d (found f, expected e)");
    CHECK_FALSE(v.pass());
    CHECK_FALSE(v.verified_report().ok());
}

TEST_CASE("claim names map to error codes")
{
    CHECK(claim_errc("report.format") == Errc::Format);
    CHECK(claim_errc("report.signature") == Errc::Crypto);
    CHECK(claim_errc("report.signing_key") == Errc::Crypto);
    CHECK(claim_errc("chain.vek") == Errc::Chain);
    CHECK(claim_errc("vek.hwid") == Errc::Chain);
}

TEST_CASE("no claims is not a pass")
{
    Verification v;
    CHECK_FALSE(v.pass());
    CHECK_FALSE(v.status().ok());
}

TEST_CASE("verified_report(): only with every claim passing and a report present")
{
    Verification v;
    v.claims = {claim("chain.ark", true)};
    CHECK(v.status().ok());
    CHECK_FALSE(v.verified_report().ok());  // a chain-only verification has no report
    v.report = snp::AttestationReport{};
    v.report->version = 3;
    auto r = v.verified_report();
    REQUIRE(r.ok());
    CHECK(r->version == 3);
    CHECK(v.find("chain.ark") != nullptr);
    CHECK(v.find("chain.ask") == nullptr);
}
