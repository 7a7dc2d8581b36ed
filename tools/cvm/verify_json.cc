// The cvm.verify/2 document (verify_output.h). Report fields keep the spec's names in lower case
// (56860 Table 23), grouped where the spec packs bits into one field (GUEST_POLICY, PLATFORM_INFO,
// the signer info word, each TCB_VERSION, the firmware versions), so that a policy engine reads
// every value without decoding: input.report.guest_policy.debug, input.report.reported_tcb.snp.
#include <cstdlib>
#include <string>
#include <yyjson.h>

#include "base/bytes.h"
#include "verify_output.h"

namespace cvm::cli {

namespace {

// One yyjson object under construction. Keys are string literals or copied into the document.
class Obj {
public:
    Obj(yyjson_mut_doc* doc, yyjson_mut_val* val) : m_doc(doc), m_val(val) {}

    Obj obj(const char* key) { return {m_doc, yyjson_mut_obj_add_obj(m_doc, m_val, key)}; }
    Obj obj(const std::string& key)
    {
        yyjson_mut_val* child = yyjson_mut_obj(m_doc);
        yyjson_mut_obj_add(m_val, yyjson_mut_strncpy(m_doc, key.data(), key.size()), child);
        return {m_doc, child};
    }
    void str(const char* key, std::string_view v) { yyjson_mut_obj_add_strncpy(m_doc, m_val, key, v.data(), v.size()); }
    void num(const char* key, uint64_t v) { yyjson_mut_obj_add_uint(m_doc, m_val, key, v); }
    void flag(const char* key, bool v) { yyjson_mut_obj_add_bool(m_doc, m_val, key, v); }
    void null(const char* key) { yyjson_mut_obj_add_null(m_doc, m_val, key); }
    void hex(const char* key, ByteView v) { str(key, to_hex(v)); }
    void hex64(const char* key, uint64_t v)
    {
        char buf[24];
        snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
        str(key, buf);
    }
    template <typename T>
    void num_or_null(const char* key, bool present, T v)
    {
        present ? num(key, v) : null(key);
    }

private:
    yyjson_mut_doc* m_doc;
    yyjson_mut_val* m_val;
};

// TCB_VERSION: raw, and its components when the product line (hence the layout) is known; fmc
// only on Turin (structVersion 1).
void add_tcb(Obj parent, const char* key, uint64_t raw, std::optional<snp::Product> product)
{
    Obj t = parent.obj(key);
    t.hex64("raw", raw);
    auto v = product ? std::optional(snp::TcbVersion::decode(raw, *product)) : std::nullopt;
    t.num_or_null("fmc", v && *product == snp::Product::Turin, v ? v->fmc : 0);
    t.num_or_null("bootloader", v.has_value(), v ? v->boot_loader : 0);
    t.num_or_null("tee", v.has_value(), v ? v->tee : 0);
    t.num_or_null("snp", v.has_value(), v ? v->snp : 0);
    t.num_or_null("microcode", v.has_value(), v ? v->microcode : 0);
}

void add_guest_policy(Obj parent, const snp::GuestPolicy& p)
{
    Obj o = parent.obj("guest_policy");
    o.hex64("raw", p.raw);
    o.num("abi_minor", p.abi_minor());
    o.num("abi_major", p.abi_major());
    o.flag("smt", p.smt());
    o.flag("migrate_ma", p.migrate_ma());
    o.flag("debug", p.debug());
    o.flag("single_socket", p.single_socket());
    o.flag("cxl_allow", p.cxl_allow());
    o.flag("mem_aes_256_xts", p.mem_aes_256_xts());
    o.flag("rapl_dis", p.rapl_dis());
    o.flag("ciphertext_hiding", p.ciphertext_hiding());
    o.flag("page_swap_disable", p.page_swap_disable());
}

void add_platform_info(Obj parent, const snp::PlatformInfo& p)
{
    Obj o = parent.obj("platform_info");
    o.hex64("raw", p.raw);
    o.flag("smt_enabled", p.smt_enabled());
    o.flag("tsme_enabled", p.tsme_enabled());
    o.flag("ecc_enabled", p.ecc_enabled());
    o.flag("rapl_disabled", p.rapl_disabled());
    o.flag("ciphertext_hiding_enabled", p.ciphertext_hiding_enabled());
    o.flag("alias_check_complete", p.alias_check_complete());
    o.flag("tio_enabled", p.tio_enabled());
}

void add_version(Obj parent, const char* key, uint8_t major, uint8_t minor, uint8_t build)
{
    Obj o = parent.obj(key);
    o.num("major", major);
    o.num("minor", minor);
    o.num("build", build);
}

void add_report(Obj r, const snp::AttestationReport& rep, std::optional<snp::Product> product)
{
    const bool v3 = rep.version >= 3, v5 = rep.version >= 5;  // fields the version defines
    r.num("version", rep.version);
    r.num("guest_svn", rep.guest_svn);
    add_guest_policy(r, rep.policy);
    r.hex("family_id", rep.family_id);
    r.hex("image_id", rep.image_id);
    r.num("vmpl", rep.vmpl);
    r.num("signature_algo", rep.signature_algo);
    add_tcb(r, "current_tcb", rep.current_tcb, product);
    add_platform_info(r, rep.platform_info);
    Obj signer = r.obj("signer_info");
    signer.flag("author_key_en", rep.author_key_en);
    signer.flag("mask_chip_key", rep.mask_chip_key);
    signer.str("signing_key", snp::signing_key_name(rep.signing_key));
    r.hex("report_data", rep.report_data);
    r.hex("measurement", rep.measurement);
    r.hex("host_data", rep.host_data);
    r.hex("id_key_digest", rep.id_key_digest);
    r.hex("author_key_digest", rep.author_key_digest);
    r.hex("report_id", rep.report_id);
    r.hex("report_id_ma", rep.report_id_ma);
    add_tcb(r, "reported_tcb", rep.reported_tcb, product);
    r.num_or_null("cpuid_fam_id", v3, rep.cpuid_fam_id);
    r.num_or_null("cpuid_mod_id", v3, rep.cpuid_mod_id);
    r.num_or_null("cpuid_step", v3, rep.cpuid_step);
    r.hex("chip_id", rep.chip_id);
    add_tcb(r, "committed_tcb", rep.committed_tcb, product);
    add_version(r, "current_version", rep.current_major, rep.current_minor, rep.current_build);
    add_version(r, "committed_version", rep.committed_major, rep.committed_minor, rep.committed_build);
    add_tcb(r, "launch_tcb", rep.launch_tcb, product);
    if (v5) {
        r.hex64("launch_mit_vector", rep.launch_mit_vector);
        r.hex64("current_mit_vector", rep.current_mit_vector);
    } else {
        r.null("launch_mit_vector");
        r.null("current_mit_vector");
    }
    r.hex("signature_r", rep.signature_r);
    r.hex("signature_s", rep.signature_s);
}

}  // namespace

void print_json(FILE* out, const VerifyOutcome& o)
{
    yyjson_mut_doc* doc = yyjson_mut_doc_new(nullptr);
    if (!doc)
        abort();
    yyjson_mut_val* root_val = yyjson_mut_obj(doc);
    yyjson_mut_doc_set_root(doc, root_val);
    Obj root(doc, root_val);
    root.str("schema", VERIFY_JSON_SCHEMA);
    root.str("verdict", o.pass() ? "pass" : "fail");
    root.flag("simulated", o.simulated);
    o.product ? root.str("product", snp::product_name(*o.product)) : root.null("product");
    o.signer ? root.str("signer", verify::vek_kind_name(*o.signer)) : root.null("signer");
    if (o.report)
        add_report(root.obj("report"), *o.report, o.product);
    else
        root.null("report");
    Obj claims = root.obj("claims");
    for (const Claim& c : o.claims) {
        Obj claim = claims.obj(c.name);
        claim.flag("pass", c.pass);
        claim.str("found", c.found);
        claim.str("expected", c.expected);
        claim.str("reason", c.detail);
    }
    size_t len = 0;
    char* text = yyjson_mut_write(doc, YYJSON_WRITE_PRETTY, &len);
    if (!text)
        abort();
    fprintf(out, "%.*s\n", static_cast<int>(len), text);
    free(text);
    yyjson_mut_doc_free(doc);
}

}  // namespace cvm::cli
