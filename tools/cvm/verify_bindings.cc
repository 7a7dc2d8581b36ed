#include "verify_bindings.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "base/file.h"
#include "proto/tags.h"
#include "verify/crl.h"

namespace cvm::cli {

namespace {

std::string quoted(std::string_view tag)
{
    return "\"" + std::string(tag) + "\"";
}

Result<std::string> binding_tag(const Args& args)
{
    std::string name = args.get("binding").value_or("workload");
    if (name == "workload")
        return std::string(proto::WORKLOAD_RATLS_TAG);
    if (name == "agent-key")
        return std::string(proto::AGENT_KEY_TAG);
    if (name == "broker")
        return std::string(proto::RATLS_BROKER_TAG);
    return Error::make(Errc::Config, "--binding %s: expected workload, agent-key or broker", name.c_str());
}

std::vector<Claim> issuer_claims(const std::optional<verify::Verification>& issuer)
{
    std::vector<Claim> out;
    if (!issuer)
        return out;
    for (Claim c : issuer->claims) {
        c.name = "issuer." + c.name;
        out.push_back(std::move(c));
    }
    return out;
}

}  // namespace

Claim user_data_claim(const std::optional<snp::AttestationReport>& report, ByteView user_data)
{
    proto::ReportData expected = proto::workload_user_data(user_data);
    std::string definition = "SHA-512(" + quoted(proto::WORKLOAD_USER_DATA_TAG) + " || 0x00 || u16be(" +
                             std::to_string(user_data.size()) + ") || " +
                             (user_data.empty() ? std::string("\"\"") : to_hex(user_data)) + ")";
    if (!report)
        return {"binding.user_data", false, "not checked", to_hex(expected),
                "the report did not parse, so its REPORT_DATA is unknown"};
    if (std::equal(report->report_data.begin(), report->report_data.end(), expected.begin(), expected.end()))
        return {"binding.user_data", true, to_hex(report->report_data), to_hex(expected),
                "REPORT_DATA is the workload user-data binding " + definition};
    return {"binding.user_data", false, to_hex(report->report_data), to_hex(expected),
            "REPORT_DATA is not the workload user-data binding " + definition +
                ": the report was made for other user data, or not by the agent's POST /v1/evidence"};
}

Result<ratls::Expectation> ratls_expectation(const Args& args, size_t max_nonce)
{
    ratls::Expectation expect;
    expect.binding = TRY(binding_tag(args));
    if (auto hex = args.get("nonce")) {
        auto nonce = from_hex(*hex);
        if (!nonce || nonce->empty() || nonce->size() > max_nonce)
            return Error::make(Errc::Config, "--nonce %s: expected 1 to %zu bytes in hex", hex->c_str(), max_nonce);
        if (expect.binding == proto::RATLS_BROKER_TAG && nonce->size() != sizeof(proto::ReportData))
            return Error::make(Errc::Config,
                               "--nonce with --binding broker: expected the 64-byte cvmkb/1 report_data, got %zu bytes",
                               nonce->size());
        expect.nonce = std::move(*nonce);
    }
    return expect;
}

Result<VerifyOutcome> verify_ratls(const ratls::Certificate& cert, const ratls::Expectation& expect,
                                   const VerifySetup& setup)
{
    const RevocationSettings& revocation = setup.revocation;
    verify::VerifyOptions options = revocation_options(setup.options, revocation);
    std::optional<Bytes> crl;
    if (revocation.off_by.empty() && revocation.crl_file)
        crl = TRY(read_file(*revocation.crl_file, verify::CRL_MAX_PEM_SIZE));
    auto complete = [&crl](verify::Evidence& evidence) {
        if (crl)
            evidence.crl = *crl;
    };
    ratls::RatlsVerification r = ratls::verify_certificate(cert, expect, *setup.verifier, options, complete);
    // Without --crl, AMD's CRL for the subject's platform; the issuer report is from the same
    // launch, hence the same chip and CRL, when ratls.same_launch passes.
    crl = amd_crl_for(r.subject, revocation, options.crl_now.value_or(time(nullptr)));
    if (crl)
        r = ratls::verify_certificate(cert, expect, *setup.verifier, options, complete);
    std::vector<Claim> extra = r.claims;
    std::vector<Claim> issuer = issuer_claims(r.issuer);
    extra.insert(extra.end(), issuer.begin(), issuer.end());
    return outcome_of(r.subject, setup, std::move(extra));
}

}  // namespace cvm::cli
