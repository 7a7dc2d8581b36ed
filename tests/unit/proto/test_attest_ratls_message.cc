// The attest-ratls message (docs/cvmkb-1.md, "The RA-TLS transport"): an attest request whose
// evidence is in the TLS client certificate, so the body has none.
#include <doctest.h>

#include <string>

#include "proto/binding.h"
#include "proto/messages.h"
#include "proto/tags.h"

using namespace cvm;
using namespace cvm::proto;

namespace {

AttestRatlsRequest sample()
{
    AttestRatlsRequest r;
    r.nonce.fill(1);
    r.pubkey.fill(2);
    r.resources = {"db", "data"};
    r.canonical_request = canonical_request(r.resources).value();
    return r;
}

std::string error_of(std::string_view body)
{
    auto r = parse_attest_ratls_request(body);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Format);
    return std::string(r.error().message());
}

}  // namespace

TEST_CASE("attest-ratls request: round trip; the canonical request is attest's, whatever the whitespace")
{
    AttestRatlsRequest r = sample();
    std::string body = serialize_attest_ratls_request(r);
    CHECK(body.find("report") == std::string::npos);
    auto back = parse_attest_ratls_request(body);
    REQUIRE(back.ok());
    CHECK(back->nonce == r.nonce);
    CHECK(back->pubkey == r.pubkey);
    CHECK(back->resources == r.resources);
    CHECK(back->canonical_request == "{\"resources\":[\"db\",\"data\"]}");

    std::string spaced = body;
    spaced.replace(spaced.find("{\"resources\""), 1, "{ ");
    CHECK(parse_attest_ratls_request(spaced).value().canonical_request == r.canonical_request);

    r.resources.clear();
    r.canonical_request = canonical_request(r.resources).value();
    back = parse_attest_ratls_request(serialize_attest_ratls_request(r));
    REQUIRE(back.ok());
    CHECK(back->resources.empty());
}

TEST_CASE("attest-ratls request: every malformed member is named; evidence in the body is refused")
{
    std::string good = serialize_attest_ratls_request(sample());
    auto with = [&](const std::string& from, const std::string& to) {
        std::string s = good;
        size_t at = s.find(from);
        REQUIRE(at != std::string::npos);
        return s.replace(at, from.size(), to);
    };
    CHECK(error_of("{").find("not valid JSON") != std::string::npos);
    CHECK(error_of("[]").find("expected a JSON object") != std::string::npos);
    CHECK(error_of("{}").find("attest-ratls.nonce") != std::string::npos);
    // The evidence is the certificate's: a report or certs in the body are unknown members, not
    // something a broker might look at instead.
    CHECK(error_of(with("{\"nonce\"", "{\"report\":\"AAAA\",\"nonce\"")).find("attest-ratls.report: unknown member") !=
          std::string::npos);
    CHECK(error_of(with("{\"nonce\"", "{\"certs\":[],\"nonce\"")).find("attest-ratls.certs: unknown member") !=
          std::string::npos);
    CHECK(error_of(with("{\"nonce\"", "{\"pubkey\":\"\",\"nonce\"")).find("attest-ratls.pubkey: duplicate member") !=
          std::string::npos);
    CHECK(error_of(with("\"nonce\":\"AQEB", "\"nonce\":\"AQE")).find("attest-ratls.nonce") != std::string::npos);
    CHECK(error_of(with("\"pubkey\":\"", "\"pubkey\":\"AAAA")).find("attest-ratls.pubkey") != std::string::npos);
    CHECK(error_of(with("\"db\"", "\"../db\"")).find("attest-ratls.request.resources[0]") != std::string::npos);
    CHECK(error_of(with("\"data\"", "\"db\"")).find("attest-ratls.request.resources[1]: 'db' is listed twice") !=
          std::string::npos);
    CHECK(error_of(with("\"resources\"", "\"resources\":[],\"more\"")).find("attest-ratls.request.more") !=
          std::string::npos);
    CHECK(error_of(with("{\"resources\":[\"db\",\"data\"]}", "[]")).find("attest-ratls.request") != std::string::npos);
    CHECK(error_of(std::string(MAX_MESSAGE_BYTES + 1, ' ')).find("exceeds") != std::string::npos);

    // An attest body is not an attest-ratls body, nor the other way round.
    AttestRequest a;
    a.report.assign(REPORT_SIZE, 3);
    a.canonical_request = canonical_request({}).value();
    CHECK(error_of(serialize_attest_request(a)).find("attest-ratls.report: unknown member") != std::string::npos);
    auto as_attest = parse_attest_request(good);
    REQUIRE_FALSE(as_attest.ok());
    CHECK(std::string(as_attest.error().message()).find("attest.report") != std::string::npos);
}

TEST_CASE("attest-ratls: the binding of docs/cvmkb-1.md §10 chains the §4 vector (computed with Python's hashlib)")
{
    Nonce nonce{};
    nonce.fill(0x11);
    std::array<uint8_t, 32> key{};
    key.fill(0x22);
    ReportData rd = report_data(nonce, key, request_hash("{\"resources\":[\"db\"]}"));
    Bytes spki(91, 0);
    spki[0] = 0x30;
    spki[1] = 0x59;
    CHECK(
        to_hex(ratls_broker(spki, rd)) ==
        "a3d4c106c4a894376c711dd13a619a1d4e2e34e56ecaf79c4680dd8828e88386faea83378c10ac8f091e30e2b3e5892d10dfc3b1e6361d"
        "2821e71d7dedd7c50f");
}
