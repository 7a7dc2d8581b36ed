#include "measure_output.h"

#include <yyjson.h>

#include "base/base64.h"

namespace cvm::cli {

namespace {

using measure::Mode;

std::string hex_number(uint64_t v)
{
    char text[24];
    snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(v));
    return text;
}

// A flat JSON object built with yyjson; keys and values are copied into the document.
class Json {
public:
    Json() : m_doc(yyjson_mut_doc_new(nullptr)), m_root(yyjson_mut_obj(m_doc))
    {
        yyjson_mut_doc_set_root(m_doc, m_root);
    }
    ~Json() { yyjson_mut_doc_free(m_doc); }
    Json(const Json&) = delete;
    Json& operator=(const Json&) = delete;

    void str(const char* key, const std::string& value)
    {
        yyjson_mut_obj_add_strncpy(m_doc, m_root, key, value.data(), value.size());
    }
    void num(const char* key, uint64_t value) { yyjson_mut_obj_add_uint(m_doc, m_root, key, value); }
    void null(const char* key) { yyjson_mut_obj_add_null(m_doc, m_root, key); }
    void hex(const char* key, ByteView value) { str(key, to_hex(value)); }
    void path(const char* key, const std::optional<std::string>& p)
    {
        if (p)
            str(key, *p);
        else
            null(key);
    }
    void print(FILE* out)
    {
        size_t len = 0;
        char* text = yyjson_mut_write(m_doc, YYJSON_WRITE_PRETTY, &len);
        if (text) {
            fwrite(text, 1, len, out);
            fputc('\n', out);
            free(text);
        }
    }

private:
    yyjson_mut_doc* m_doc;
    yyjson_mut_val* m_root;
};

void print_json(FILE* out, const MeasureOutput& o)
{
    const measure::Inputs& in = o.request.inputs;
    const measure::Measurement& m = o.measurement;
    Json j;
    j.str("tool", std::string("cvm measure ") + CVM_VERSION);
    j.str("compatible_with", "sev-snp-measure 0.0.13");
    j.str("mode", measure::mode_name(in.mode));
    j.hex("measurement", m.digest);
    j.str("measurement_base64", base64_encode(m.digest));
    if (o.launch_path) {
        j.str("launch", *o.launch_path);
        j.hex("launch_sha256", *o.launch_sha256);
    }
    j.str("ovmf", in.ovmf);
    if (m.ovmf_sha256)
        j.hex("ovmf_sha256", *m.ovmf_sha256);
    if (m.ovmf_snp_hash)
        j.hex("ovmf_snp_hash", *m.ovmf_snp_hash);
    if (in.mode == Mode::SnpOvmfHash) {
        j.print(out);
        return;
    }
    j.str("vmm_type", measure::vmm_type_name(in.vmm));
    if (in.mode != Mode::Sev)
        j.num("vcpus", in.vcpus);
    if (o.request.vcpu_type)
        j.str("vcpu_type", *o.request.vcpu_type);
    if (in.vcpu_sig)
        j.str("vcpu_sig", hex_number(*in.vcpu_sig));
    if (in.mode == Mode::Snp)
        j.str("guest_features", hex_number(in.guest_features));
    if (in.snp_ovmf_hash)
        j.hex("snp_ovmf_hash", *in.snp_ovmf_hash);
    if (o.request.memory_mib)
        j.num("memory_mib", *o.request.memory_mib);
    if (in.mode == Mode::SnpSvsm) {
        j.str("svsm", in.svsm);
        j.hex("svsm_sha256", *m.svsm_sha256);
        j.num("vars_size", in.vars_size);
        j.path("vars_file", o.request.vars_file);
        j.print(out);
        return;
    }
    j.path("kernel", in.kernel);
    j.path("initrd", in.initrd);
    if (in.kernel)
        j.str("append", in.append);
    else
        j.null("append");
    if (const auto& h = m.kernel_hashes) {
        j.hex("kernel_sha256", h->kernel);
        j.hex("initrd_sha256", h->initrd);
        j.hex("cmdline_sha256", h->cmdline);
    }
    j.print(out);
}

}  // namespace

std::optional<OutputFormat> output_format_from_name(const std::string& name)
{
    if (name == "hex")
        return OutputFormat::Hex;
    if (name == "base64")
        return OutputFormat::Base64;
    if (name == "json")
        return OutputFormat::Json;
    return std::nullopt;
}

void print_measurement(FILE* out, OutputFormat format, bool verbose, const MeasureOutput& o)
{
    const measure::Measurement& m = o.measurement;
    if (format == OutputFormat::Json) {
        print_json(out, o);
        return;
    }
    // sev-snp-measure prints snp:ovmf-hash as bare hex whatever the format: it is the input of
    // --snp-ovmf-hash, which takes hex.
    if (m.mode == Mode::SnpOvmfHash) {
        fprintf(out, "%s\n", to_hex(m.digest).c_str());
        return;
    }
    std::string text = format == OutputFormat::Base64 ? base64_encode(m.digest) : to_hex(m.digest);
    if (verbose)
        fprintf(out, "Calculated %s guest measurement: %s\n", measure::mode_title(m.mode), text.c_str());
    else
        fprintf(out, "%s\n", text.c_str());
}

}  // namespace cvm::cli
