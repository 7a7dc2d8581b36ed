#include "verify_output.h"

#include <algorithm>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "policy/policy.h"
#include "verify/verification.h"

namespace cvm::cli {

namespace {

std::string version_string(uint8_t major, uint8_t minor, uint8_t build)
{
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(build);
}

size_t failures(const std::vector<Claim>& claims)
{
    return std::count_if(claims.begin(), claims.end(), [](const Claim& c) { return !c.pass; });
}

// The instance of `name` a document shows: the first failing one, else the first; null if none.
const Claim* pick(const std::vector<Claim>& produced, std::string_view name)
{
    const Claim* first = nullptr;
    for (const Claim& c : produced) {
        if (c.name != name)
            continue;
        if (!c.pass)
            return &c;
        if (!first)
            first = &c;
    }
    return first;
}

}  // namespace

std::vector<Claim> every_claim(const std::vector<Claim>& produced)
{
    std::vector<Claim> out;
    auto listed = [&](std::string_view name) {
        return std::any_of(out.begin(), out.end(), [&](const Claim& c) { return c.name == name; });
    };
    auto add = [&](std::string_view name) {
        if (listed(name))
            return;
        if (const Claim* c = pick(produced, name))
            out.push_back(*c);
        else
            out.push_back({std::string(name), false, "not checked", "a result",
                           "this run did not produce the claim (an earlier step failed or it was not asked for)"});
    };
    for (std::string_view name : verify::claim_names())
        add(name);
    for (std::string_view name : policy::claim_names())
        add(name);
    for (const Claim& c : produced)
        add(c.name);
    return out;
}

void print_text(FILE* out, const VerifyOutcome& o)
{
    int width = 24;  // the names in one column, however long the longest is
    for (const Claim& c : o.claims)
        width = std::max(width, static_cast<int>(c.name.size()));
    for (const Claim& c : o.claims) {
        if (c.pass)
            fprintf(out, "PASS %-*s %s\n", width, c.name.c_str(), c.found.c_str());
        else
            fprintf(out, "FAIL %-*s found %s, expected %s%s%s\n", width, c.name.c_str(), c.found.c_str(),
                    c.expected.c_str(), c.detail.empty() ? "" : ": ", c.detail.c_str());
    }
    if (o.report) {
        const auto& r = *o.report;
        fprintf(out, "product: %s  signer: %s  report version: %u  firmware: %s  vmpl: %u\n",
                o.product ? std::string(snp::product_name(*o.product)).c_str() : "unknown",
                o.signer ? std::string(verify::vek_kind_name(*o.signer)).c_str() : "?", r.version,
                version_string(r.current_major, r.current_minor, r.current_build).c_str(), r.vmpl);
        fprintf(out, "measurement: %s\n", to_hex(r.measurement).c_str());
    }
    if (o.pass())
        fprintf(out, "verdict: PASS\n");
    else
        fprintf(out, "verdict: FAIL (%zu of %zu claims failed)\n", failures(o.claims), o.claims.size());
}

}  // namespace cvm::cli
