#include "verify_vectors.h"

#include <doctest.h>

#include <unistd.h>

#include "vectors.h"

namespace cvm::test {

bool vector_has(const std::string& dir, const std::string& name)
{
    return access(vector_path("snp-reports/" + dir + "/" + name).c_str(), R_OK) == 0;
}

verify::Evidence vector_evidence(const std::string& dir, bool with_chain)
{
    const std::string base = "snp-reports/" + dir + "/";
    verify::Evidence ev;
    if (vector_has(dir, "report.bin"))
        ev.report = read_vector(base + "report.bin");
    ev.vek = read_vector(base + (vector_has(dir, "vlek.der") ? "vlek.der" : "vcek.der"));
    if (!with_chain)
        return ev;
    if (vector_has(dir, "ask_ark.pem")) {
        Bytes pem = read_vector(base + "ask_ark.pem");
        auto added = verify::add_chain_pem(ev, std::string(pem.begin(), pem.end()));
        REQUIRE_MESSAGE(added.ok(), std::string(added.error().message()));
        return ev;
    }
    ev.ark = read_vector(base + "ark.pem");
    ev.ask = read_vector(base + (vector_has(dir, "asvk.pem") ? "asvk.pem" : "ask.pem"));
    return ev;
}

std::string dump(const verify::Verification& v)
{
    std::string out;
    for (const Claim& c : v.claims)
        out += "\n  " + c.name + (c.pass ? " pass" : " FAIL") + " found=" + c.found + " expected=" + c.expected +
               " detail=" + c.detail;
    return out;
}

const Claim& claim(const verify::Verification& v, const std::string& name)
{
    const Claim* c = v.find(name);
    REQUIRE_MESSAGE(c != nullptr, "no claim ", name, dump(v));
    return *c;
}

std::unique_ptr<verify::Verifier> make_verifier(verify::VerifierOptions options)
{
    auto v = verify::Verifier::create(std::move(options));
    REQUIRE_MESSAGE(v.ok(), std::string(v.error().message()));
    return v.release_value();
}

Names names(const verify::Verification& v)
{
    Names out;
    for (const Claim& c : v.claims)
        out.push_back(c.name);
    return out;
}

Names failing(const verify::Verification& v)
{
    Names out;
    for (const Claim& c : v.claims) {
        if (!c.pass)
            out.push_back(c.name);
    }
    return out;
}

}  // namespace cvm::test
