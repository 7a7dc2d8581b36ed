#include "verify_output.h"

#include <cstdlib>
#include <string>
#include <yyjson.h>

#include "base/bytes.h"

namespace cvm::cli {

namespace {

std::string hex_u64(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
    return buf;
}

std::string version_string(uint8_t major, uint8_t minor, uint8_t build)
{
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(build);
}

size_t failures(const std::vector<Claim>& claims)
{
    size_t n = 0;
    for (const Claim& c : claims)
        n += !c.pass;
    return n;
}

}  // namespace

void print_text(FILE* out, const VerifyOutcome& o)
{
    for (const Claim& c : o.claims) {
        if (c.pass)
            fprintf(out, "PASS %-24s %s\n", c.name.c_str(), c.found.c_str());
        else
            fprintf(out, "FAIL %-24s found %s, expected %s%s%s\n", c.name.c_str(), c.found.c_str(), c.expected.c_str(),
                    c.detail.empty() ? "" : ": ", c.detail.c_str());
    }
    if (o.report) {
        const auto& r = *o.report;
        fprintf(out, "product: %s  signer: %s  report version: %u  firmware: %s  vmpl: %u\n",
                o.product ? std::string(snp::product_name(*o.product)).c_str() : "unknown", o.signer, r.version,
                version_string(r.current_major, r.current_minor, r.current_build).c_str(), r.vmpl);
        fprintf(out, "measurement: %s\n", to_hex(r.measurement).c_str());
    }
    if (o.pass())
        fprintf(out, "verdict: PASS\n");
    else
        fprintf(out, "verdict: FAIL (%zu of %zu claims failed)\n", failures(o.claims), o.claims.size());
}

namespace {

class JsonObject {
public:
    JsonObject() : m_doc(yyjson_mut_doc_new(nullptr))
    {
        if (!m_doc)
            abort();
        m_root = yyjson_mut_obj(m_doc);
        yyjson_mut_doc_set_root(m_doc, m_root);
    }
    ~JsonObject() { yyjson_mut_doc_free(m_doc); }
    JsonObject(const JsonObject&) = delete;
    JsonObject& operator=(const JsonObject&) = delete;

    void str(const std::string& key, const std::string& value)
    {
        yyjson_mut_obj_add_strncpy(m_doc, m_root, copy(key), value.data(), value.size());
    }
    void num(const std::string& key, uint64_t value) { yyjson_mut_obj_add_uint(m_doc, m_root, copy(key), value); }
    void flag(const std::string& key, bool value) { yyjson_mut_obj_add_bool(m_doc, m_root, copy(key), value); }
    void hex(const std::string& key, ByteView value) { str(key, to_hex(value)); }

    void write(FILE* out) const
    {
        size_t len = 0;
        char* text = yyjson_mut_write(m_doc, YYJSON_WRITE_PRETTY, &len);
        if (!text)
            abort();
        fprintf(out, "%.*s\n", static_cast<int>(len), text);
        free(text);
    }

private:
    const char* copy(const std::string& key) { return yyjson_mut_strncpy(m_doc, key.data(), key.size())->uni.str; }

    yyjson_mut_doc* m_doc;
    yyjson_mut_val* m_root;
};

void add_tcb(JsonObject& j, const std::string& key, uint64_t raw, std::optional<snp::Product> product)
{
    j.str(key, hex_u64(raw));
    if (!product)
        return;
    auto t = snp::TcbVersion::decode(raw, *product);
    if (*product == snp::Product::Turin)
        j.num(key + ".fmc", t.fmc);
    j.num(key + ".bootloader", t.boot_loader);
    j.num(key + ".tee", t.tee);
    j.num(key + ".snp", t.snp);
    j.num(key + ".microcode", t.microcode);
}

void add_report(JsonObject& j, const snp::AttestationReport& r, std::optional<snp::Product> product)
{
    j.num("version", r.version);
    j.num("guest_svn", r.guest_svn);
    j.str("policy", hex_u64(r.policy.raw));
    j.str("abi", std::to_string(r.policy.abi_major()) + "." + std::to_string(r.policy.abi_minor()));
    j.flag("debug", r.policy.debug());
    j.flag("migrate_ma", r.policy.migrate_ma());
    j.flag("smt", r.policy.smt());
    j.flag("single_socket", r.policy.single_socket());
    j.num("vmpl", r.vmpl);
    j.str("signing_key", std::string(snp::signing_key_name(r.signing_key)));
    j.flag("author_key_en", r.author_key_en);
    j.hex("measurement", r.measurement);
    j.hex("report_data", r.report_data);
    j.hex("host_data", r.host_data);
    j.hex("id_key_digest", r.id_key_digest);
    j.hex("author_key_digest", r.author_key_digest);
    j.hex("family_id", r.family_id);
    j.hex("image_id", r.image_id);
    j.hex("report_id", r.report_id);
    j.hex("report_id_ma", r.report_id_ma);
    j.hex("chip_id", r.chip_id);
    j.str("platform_info", hex_u64(r.platform_info.raw));
    add_tcb(j, "reported_tcb", r.reported_tcb, product);
    add_tcb(j, "current_tcb", r.current_tcb, product);
    add_tcb(j, "committed_tcb", r.committed_tcb, product);
    add_tcb(j, "launch_tcb", r.launch_tcb, product);
    j.str("current_version", version_string(r.current_major, r.current_minor, r.current_build));
    j.str("committed_version", version_string(r.committed_major, r.committed_minor, r.committed_build));
    j.str("launch_mit_vector", hex_u64(r.launch_mit_vector));
    j.str("current_mit_vector", hex_u64(r.current_mit_vector));
}

}  // namespace

void print_json(FILE* out, const VerifyOutcome& o)
{
    JsonObject j;
    j.str("verdict", o.pass() ? "pass" : "fail");
    j.str("product", o.product ? std::string(snp::product_name(*o.product)) : "");
    j.str("signer", o.signer);
    for (const Claim& c : o.claims)
        j.flag(c.name, c.pass);
    if (o.report)
        add_report(j, *o.report, o.product);
    j.write(out);
}

}  // namespace cvm::cli
