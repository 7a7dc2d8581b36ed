#include "verify/verification.h"

namespace cvm::verify {

const std::vector<std::string_view>& claim_names()
{
    static const std::vector<std::string_view> NAMES = {
        "report.format",    "report.signing_key", "chain.ark",          "chain.ask",   "chain.vek", "chain.validity",
        "chain.revocation", "vek.extensions",     "vek.struct_version", "vek.product", "vek.kind",  "vek.tcb",
        "vek.hwid",         "report.signature",
    };
    return NAMES;
}

Errc claim_errc(std::string_view name)
{
    if (name == "report.format")
        return Errc::Format;
    if (name.starts_with("report."))
        return Errc::Crypto;
    return Errc::Chain;
}

Result<void> Verification::status() const
{
    if (claims.empty())
        return Error::make(Errc::Chain, "verification produced no claims");
    for (const Claim& c : claims) {
        if (!c.pass)
            return Error::make(claim_errc(c.name), "%s: %s (found %s, expected %s)", c.name.c_str(), c.detail.c_str(),
                               c.found.c_str(), c.expected.c_str());
    }
    return {};
}

Result<snp::AttestationReport> Verification::verified_report() const
{
    TRY(status());
    if (!report)
        return Error::make(Errc::Format, "verification checked a chain only: there is no report");
    return *report;
}

const Claim* Verification::find(std::string_view name) const
{
    for (const Claim& c : claims) {
        if (c.name == name)
            return &c;
    }
    return nullptr;
}

}  // namespace cvm::verify
