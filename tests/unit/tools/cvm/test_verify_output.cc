// cvm verify's outputs: the claims a document promises (every_claim) and the cvm.verify/2
// document (print_json), read back with yyjson as a policy engine would read them.
#include <doctest.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <yyjson.h>

#include "policy/policy.h"
#include "verify/verification.h"
#include "verify_output.h"

using namespace cvm;
using namespace cvm::cli;

namespace {

size_t listed_count()
{
    return verify::claim_names().size() + policy::claim_names().size();
}

std::string json_of(const VerifyOutcome& o)
{
    char* buf = nullptr;
    size_t len = 0;
    FILE* f = open_memstream(&buf, &len);
    REQUIRE(f);
    print_json(f, o);
    fclose(f);
    std::string text(buf, len);
    free(buf);
    return text;
}

class Doc {
public:
    explicit Doc(const std::string& text) : m_doc(yyjson_read(text.data(), text.size(), 0)) { REQUIRE(m_doc); }
    ~Doc() { yyjson_doc_free(m_doc); }
    yyjson_val* at(const char* pointer) const { return yyjson_doc_ptr_get(m_doc, pointer); }
    std::string str(const char* pointer) const
    {
        yyjson_val* v = at(pointer);
        REQUIRE(yyjson_is_str(v));
        return yyjson_get_str(v);
    }

private:
    yyjson_doc* m_doc;
};

void collect_keys(yyjson_val* obj, const std::string& path, std::set<std::string>& out)
{
    if (!yyjson_is_obj(obj))
        return;
    size_t i, n;
    yyjson_val *key, *val;
    yyjson_obj_foreach(obj, i, n, key, val)
    {
        std::string k = yyjson_get_str(key);
        out.insert(k);
        out.insert(path + "." + k);
        collect_keys(val, path + "." + k, out);
    }
}

snp::AttestationReport sample_report(uint32_t version)
{
    snp::AttestationReport r;
    r.version = version;
    r.guest_svn = 7;
    r.policy.raw = 0x30000 | (1u << 19) | 0x0105;  // SMT, bit 17, DEBUG, ABI 1.5
    r.vmpl = 2;
    r.signature_algo = 1;
    r.platform_info.raw = 0x67;
    r.measurement.fill(0xAB);
    r.reported_tcb = 0xDB18000000000004ull;  // above 2^53: must survive a reader that uses doubles
    r.current_tcb = r.reported_tcb;
    r.cpuid_fam_id = 0x1A;
    r.current_major = 1, r.current_minor = 55, r.current_build = 21;
    r.launch_mit_vector = 0x8000000000000001ull;
    return r;
}

}  // namespace

TEST_CASE("every_claim: a run that produced nothing shows every listed claim, each failing 'not checked'")
{
    auto claims = every_claim({});
    REQUIRE(claims.size() == listed_count());
    CHECK(claims.front().name == verify::claim_names().front());
    CHECK(claims.back().name == policy::claim_names().back());
    for (const Claim& c : claims) {
        CHECK_FALSE(c.pass);
        CHECK(c.found == "not checked");
    }
    CHECK_FALSE(all_pass(claims));
}

TEST_CASE("every_claim: listed order, one instance per name (a failing one wins), unlisted names last")
{
    std::vector<Claim> produced = {
        {"zz.extra", true, "x", "x", ""},      {"policy.debug", true, "0", "0", ""},
        {"chain.ark", true, "ARK", "ARK", ""}, {"chain.ark", false, "other", "ARK", "not pinned"},
        {"chain.ark", true, "ARK", "ARK", ""}, {"zz.extra", false, "y", "x", "second"},
    };
    auto claims = every_claim(produced);
    REQUIRE(claims.size() == listed_count() + 1);
    std::set<std::string> names;
    for (const Claim& c : claims)
        CHECK(names.insert(c.name).second);
    auto find = [&](const char* name) {
        for (const Claim& c : claims)
            if (c.name == name)
                return c;
        FAIL("no claim ", name);
        return Claim{};
    };
    CHECK_FALSE(find("chain.ark").pass);
    CHECK(find("chain.ark").found == "other");
    CHECK(find("policy.debug").pass);
    CHECK(claims.back().name == "zz.extra");
    CHECK_FALSE(claims.back().pass);  // the failing instance, though it came second
    CHECK(claims[2].name == "chain.ark");
}

TEST_CASE("every_claim: every listed claim passing gives a passing outcome; one missing does not")
{
    std::vector<Claim> produced;
    for (auto n : verify::claim_names())
        produced.push_back({std::string(n), true, "ok", "ok", ""});
    for (auto n : policy::claim_names())
        produced.push_back({std::string(n), true, "ok", "ok", ""});
    CHECK(all_pass(every_claim(produced)));
    produced.erase(produced.begin() + 3);
    auto claims = every_claim(produced);
    CHECK_FALSE(all_pass(claims));
    CHECK(claims[3].found == "not checked");
}

TEST_CASE("print_json: no report gives report null, no product, and every claim")
{
    VerifyOutcome o;
    o.claims = every_claim({});
    Doc d(json_of(o));
    CHECK(d.str("/schema") == "cvm.verify/2");
    CHECK(d.str("/verdict") == "fail");
    CHECK(yyjson_is_null(d.at("/report")));
    CHECK(yyjson_is_null(d.at("/product")));
    CHECK(yyjson_is_null(d.at("/signer")));
    CHECK(yyjson_is_false(d.at("/simulated")));
    CHECK(yyjson_obj_size(d.at("/claims")) == listed_count());
    CHECK(d.str("/claims/chain.ark/found") == "not checked");
    CHECK(yyjson_is_false(d.at("/claims/chain.ark/pass")));
    CHECK(yyjson_is_str(d.at("/claims/chain.ark/reason")));
}

TEST_CASE("print_json: report fields typed; 64-bit values as hex strings; fields by report version")
{
    VerifyOutcome o;
    std::vector<Claim> all;
    for (auto n : verify::claim_names())
        all.push_back({std::string(n), true, "ok", "ok", ""});
    for (auto n : policy::claim_names())
        all.push_back({std::string(n), true, "ok", "ok", ""});
    o.claims = every_claim(all);
    o.report = sample_report(5);
    o.product = snp::Product::Turin;
    o.signer = verify::VekKind::Vlek;
    o.simulated = true;
    Doc d(json_of(o));
    CHECK(d.str("/verdict") == "pass");
    CHECK(d.str("/product") == "Turin");
    CHECK(d.str("/signer") == "VLEK");
    CHECK(yyjson_is_true(d.at("/simulated")));
    CHECK(yyjson_get_uint(d.at("/report/version")) == 5);
    CHECK(yyjson_get_uint(d.at("/report/vmpl")) == 2);
    std::string ab;
    for (int i = 0; i < 48; ++i)
        ab += "ab";
    CHECK(d.str("/report/measurement") == ab);  // lower case
    CHECK(d.str("/report/guest_policy/raw") == "0x00000000000b0105");
    CHECK(yyjson_is_true(d.at("/report/guest_policy/debug")));
    CHECK(yyjson_is_true(d.at("/report/guest_policy/smt")));
    CHECK(yyjson_is_false(d.at("/report/guest_policy/migrate_ma")));
    CHECK(yyjson_get_uint(d.at("/report/guest_policy/abi_major")) == 1);
    CHECK(yyjson_get_uint(d.at("/report/guest_policy/abi_minor")) == 5);
    CHECK(d.str("/report/platform_info/raw") == "0x0000000000000067");
    CHECK(yyjson_is_true(d.at("/report/platform_info/alias_check_complete")));
    CHECK(yyjson_is_false(d.at("/report/platform_info/tio_enabled")));
    CHECK(d.str("/report/reported_tcb/raw") == "0xdb18000000000004");
    // Turin layout: byte0 FMC, byte1 BOOT_LOADER, byte2 TEE, byte3 SNP, byte7 MICROCODE.
    CHECK(yyjson_get_uint(d.at("/report/reported_tcb/fmc")) == 4);
    CHECK(yyjson_get_uint(d.at("/report/reported_tcb/microcode")) == 0xDB);
    CHECK(yyjson_get_uint(d.at("/report/current_version/minor")) == 55);
    CHECK(yyjson_get_uint(d.at("/report/cpuid_fam_id")) == 0x1A);
    CHECK(d.str("/report/launch_mit_vector") == "0x8000000000000001");
    CHECK(d.str("/report/signer_info/signing_key") == "VCEK");

    std::set<std::string> keys = {"schema", "verdict", "simulated", "product", "signer", "report", "claims"};
    collect_keys(d.at("/report"), "report", keys);
    for (auto n : verify::claim_names())
        CHECK_MESSAGE(keys.count(std::string(n)) == 0, n);
    for (auto n : policy::claim_names())
        CHECK_MESSAGE(keys.count(std::string(n)) == 0, n);
}

TEST_CASE("print_json: version 2 has no CPUID or mitigation vectors; no product means no TCB components")
{
    VerifyOutcome o;
    o.claims = every_claim({});
    o.report = sample_report(2);
    Doc d(json_of(o));
    CHECK(yyjson_is_null(d.at("/report/cpuid_fam_id")));
    CHECK(yyjson_is_null(d.at("/report/cpuid_step")));
    CHECK(yyjson_is_null(d.at("/report/launch_mit_vector")));
    CHECK(yyjson_is_null(d.at("/report/current_mit_vector")));
    CHECK(d.str("/report/reported_tcb/raw") == "0xdb18000000000004");
    CHECK(yyjson_is_null(d.at("/report/reported_tcb/snp")));
    CHECK(yyjson_is_null(d.at("/report/reported_tcb/fmc")));

    o.product = snp::Product::Milan;  // byte0 BOOT_LOADER, byte6 SNP, byte7 MICROCODE; no FMC
    Doc milan(json_of(o));
    CHECK(yyjson_is_null(milan.at("/report/reported_tcb/fmc")));
    CHECK(yyjson_get_uint(milan.at("/report/reported_tcb/bootloader")) == 4);
    CHECK(yyjson_get_uint(milan.at("/report/reported_tcb/snp")) == 0x18);
    CHECK(yyjson_get_uint(milan.at("/report/reported_tcb/microcode")) == 0xDB);
}
