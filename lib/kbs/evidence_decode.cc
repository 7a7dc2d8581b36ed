// The decoder: virtee/sev's serde JSON -> the 1184 bytes, the inverse of evidence.cc. Stricter than
// serde (evidence.h): serde_derive ignores unknown members, this refuses them, so that what is
// accepted here is exactly what report_to_json can produce (its sources: evidence_layout.h).
#include <yyjson.h>

#include <algorithm>
#include <cstdio>
#include <span>
#include <string>

#include "kbs/evidence.h"
#include "kbs/evidence_layout.h"
#include "proto/json.h"
#include "snp/report.h"

namespace cvm::kbs {
namespace {

using detail::TcbLayout;
using Names = std::span<const std::string_view>;

constexpr size_t REPORT_JSON_MAX_SIZE = 64 * 1024;  // 2.2-2.5 KiB compact; room for indentation

// sev's AttestationReport fields (guest/types/snp.rs:245), in serde's order.
// clang-format off
constexpr std::string_view REPORT_MEMBERS[] = {
    "version", "guest_svn", "policy", "family_id", "image_id", "vmpl", "sig_algo", "current_tcb",
    "plat_info", "key_info", "report_data", "measurement", "host_data", "id_key_digest",
    "author_key_digest", "report_id", "report_id_ma", "reported_tcb", "cpuid_fam_id", "cpuid_mod_id",
    "cpuid_step", "chip_id", "committed_tcb", "current", "committed", "launch_tcb",
    "launch_mit_vector", "current_mit_vector", "signature"};
// clang-format on
constexpr std::string_view TCB_MEMBERS[] = {"fmc", "bootloader", "tee", "snp", "microcode"};
constexpr std::string_view VERSION_MEMBERS[] = {"major", "minor", "build"};
constexpr std::string_view SIGNATURE_MEMBERS[] = {"r", "s"};

Error found(const std::string& path, yyjson_val* v, const char* expected)
{
    return Error::make(Errc::Format, "%s: found %s, expected %s", path.c_str(), proto::describe_json(v).c_str(),
                       expected);
}

// An object whose members are each one of sev's fields, given once (serde_derive refuses a
// duplicate field). Missing members are named by the reader of each.
Result<void> check_names(yyjson_val* object, const std::string& path, Names known)
{
    if (!object)
        return Error::make(Errc::Format, "%s: missing", path.c_str());
    if (!yyjson_is_obj(object))
        return found(path, object, "an object");
    return proto::check_members(object, path, {}, known);
}

Result<uint64_t> uint_value(yyjson_val* v, const std::string& path, uint64_t max)
{
    if (!v)
        return Error::make(Errc::Format, "%s: missing", path.c_str());
    char expected[48];
    snprintf(expected, sizeof expected, "an integer from 0 to %llu", static_cast<unsigned long long>(max));
    if (!yyjson_is_uint(v) || yyjson_get_uint(v) > max)
        return found(path, v, expected);
    return yyjson_get_uint(v);
}

Result<uint64_t> uint_member(yyjson_val* object, const std::string& path, const char* key, uint64_t max)
{
    return uint_value(yyjson_obj_get(object, key), path + "." + key, max);
}

// An Option<_> of sev's: an integer when `present`, else null. serde_derive gives a missing Option
// field None, and Trustee's own attestation-service/tests/e2e/evidence.json (made before sev had
// the mitigation vectors) omits them, so absence is accepted wherever null is.
Result<uint64_t> option_member(yyjson_val* object, const std::string& path, const char* key, uint64_t max, bool present,
                               const char* why_null)
{
    if (present)
        return uint_member(object, path, key, max);
    yyjson_val* v = yyjson_obj_get(object, key);
    if (v && !yyjson_is_null(v))
        return found(path + "." + key, v, why_null);
    return 0;
}

template <size_t N>
Result<void> bytes_member(yyjson_val* object, const std::string& path, const char* key, std::array<uint8_t, N>& out)
{
    std::string p = path + "." + key;
    yyjson_val* v = yyjson_obj_get(object, key);
    char expected[48];
    snprintf(expected, sizeof expected, "an array of %zu integers from 0 to 255", N);
    if (!v)
        return Error::make(Errc::Format, "%s: missing", p.c_str());
    if (!yyjson_is_arr(v) || yyjson_arr_size(v) != N)
        return found(p, v, expected);
    for (size_t i = 0; i < N; i++)
        out[i] = static_cast<uint8_t>(TRY(uint_value(yyjson_arr_get(v, i), p + "[" + std::to_string(i) + "]", 255)));
    return {};
}

// sev's TcbVersion, written back in the report's layout (to_legacy_bytes / to_turin_bytes).
Result<uint64_t> tcb_member(yyjson_val* object, const std::string& path, const char* key, TcbLayout layout)
{
    std::string p = path + "." + key;
    yyjson_val* v = yyjson_obj_get(object, key);
    if (!v)
        return Error::make(Errc::Format, "%s: missing", p.c_str());
    TRY(check_names(v, p, TCB_MEMBERS));
    snp::TcbVersion t;
    t.fmc = static_cast<uint8_t>(TRY(option_member(v, p, "fmc", 255, layout == TcbLayout::Turin,
                                                   "null (fmc is Turin's alone; the report's CPUID says otherwise)")));
    t.boot_loader = static_cast<uint8_t>(TRY(uint_member(v, p, "bootloader", 255)));
    t.tee = static_cast<uint8_t>(TRY(uint_member(v, p, "tee", 255)));
    t.snp = static_cast<uint8_t>(TRY(uint_member(v, p, "snp", 255)));
    t.microcode = static_cast<uint8_t>(TRY(uint_member(v, p, "microcode", 255)));
    return t.encode(detail::layout_product(layout));
}

// sev's Version {major, minor, build}: CURRENT_/COMMITTED_ MAJOR, MINOR, BUILD.
Result<void> version_member(yyjson_val* object, const std::string& path, const char* key, uint8_t& major,
                            uint8_t& minor, uint8_t& build)
{
    std::string p = path + "." + key;
    TRY(check_names(yyjson_obj_get(object, key), p, VERSION_MEMBERS));
    yyjson_val* v = yyjson_obj_get(object, key);
    major = static_cast<uint8_t>(TRY(uint_member(v, p, "major", 255)));
    minor = static_cast<uint8_t>(TRY(uint_member(v, p, "minor", 255)));
    build = static_cast<uint8_t>(TRY(uint_member(v, p, "build", 255)));
    return {};
}

// The 72-byte little-endian R or S field; P-384 leaves its 24 high bytes zero (report.h).
Result<std::array<uint8_t, detail::SIG_USED>> signature_component(yyjson_val* sig, const std::string& path,
                                                                  const char* key)
{
    std::array<uint8_t, detail::SIG_FIELD> le{};
    TRY(bytes_member(sig, path, key, le));
    for (size_t i = detail::SIG_USED; i < le.size(); i++) {
        if (le[i] != 0)
            return Error::make(Errc::Format, "%s.%s[%zu]: found %u, expected 0 (P-384 uses the low 48 bytes)",
                               path.c_str(), key, i, le[i]);
    }
    std::array<uint8_t, detail::SIG_USED> be;
    std::reverse_copy(le.begin(), le.begin() + detail::SIG_USED, be.begin());
    return be;
}

// The policy and key_info rules of snp::parse_report (report.cc), named after the JSON members.
Result<void> check_policy_and_key_info(const std::string& path, uint64_t policy, uint32_t key_info)
{
    if (!(policy & snp::GuestPolicy::RESERVED_MUST_BE_ONE) || (policy & snp::GuestPolicy::MBZ_MASK))
        return Error::make(Errc::Format, "%s.policy: found 0x%llx, expected bit 17 set and bits 63:26 clear",
                           path.c_str(), static_cast<unsigned long long>(policy));
    uint32_t signing_key = key_info >> 2 & 7;
    if (key_info >> 5 != 0 || (signing_key != 0 && signing_key != 1 && signing_key != 7))
        return Error::make(Errc::Format,
                           "%s.key_info: found 0x%x, expected bits 31:5 clear and SIGNING_KEY (bits 4:2) 0, 1 or 7",
                           path.c_str(), key_info);
    return {};
}

}  // namespace

Result<Bytes> report_from_json(yyjson_val* value)
{
    const std::string p = "attestation_report";
    TRY(check_names(value, p, REPORT_MEMBERS));
    snp::AttestationReport r;
    r.version = static_cast<uint32_t>(TRY(uint_member(value, p, "version", UINT32_MAX)));
    if (r.version < 2 || r.version > 5)
        return Error::make(Errc::Format, "%s.version: found %u, expected 2, 3, 4 or 5", p.c_str(), r.version);
    bool v3 = r.version >= 3;
    bool v5 = r.version >= 5;
    r.guest_svn = static_cast<uint32_t>(TRY(uint_member(value, p, "guest_svn", UINT32_MAX)));
    r.policy.raw = TRY(uint_member(value, p, "policy", UINT64_MAX));
    TRY(bytes_member(value, p, "family_id", r.family_id));
    TRY(bytes_member(value, p, "image_id", r.image_id));
    r.vmpl = static_cast<uint32_t>(TRY(uint_member(value, p, "vmpl", UINT32_MAX)));
    r.signature_algo = static_cast<uint32_t>(TRY(uint_member(value, p, "sig_algo", UINT32_MAX)));
    if (r.signature_algo != snp::SIGNATURE_ALGO_ECDSA_P384_SHA384)
        return Error::make(Errc::Format, "%s.sig_algo: found %u, expected 1 (ECDSA P-384 with SHA-384)", p.c_str(),
                           r.signature_algo);
    r.platform_info.raw = TRY(uint_member(value, p, "plat_info", UINT64_MAX));
    auto key_info = static_cast<uint32_t>(TRY(uint_member(value, p, "key_info", UINT32_MAX)));
    TRY(check_policy_and_key_info(p, r.policy.raw, key_info));
    r.author_key_en = key_info & 1;
    r.mask_chip_key = key_info >> 1 & 1;
    r.signing_key = static_cast<snp::SigningKey>(key_info >> 2 & 7);
    TRY(bytes_member(value, p, "report_data", r.report_data));
    TRY(bytes_member(value, p, "measurement", r.measurement));
    TRY(bytes_member(value, p, "host_data", r.host_data));
    TRY(bytes_member(value, p, "id_key_digest", r.id_key_digest));
    TRY(bytes_member(value, p, "author_key_digest", r.author_key_digest));
    TRY(bytes_member(value, p, "report_id", r.report_id));
    TRY(bytes_member(value, p, "report_id_ma", r.report_id_ma));
    const char* no_cpuid = "null (CPUID fields begin with report version 3)";
    r.cpuid_fam_id = static_cast<uint8_t>(TRY(option_member(value, p, "cpuid_fam_id", 255, v3, no_cpuid)));
    r.cpuid_mod_id = static_cast<uint8_t>(TRY(option_member(value, p, "cpuid_mod_id", 255, v3, no_cpuid)));
    r.cpuid_step = static_cast<uint8_t>(TRY(option_member(value, p, "cpuid_step", 255, v3, no_cpuid)));
    TRY(bytes_member(value, p, "chip_id", r.chip_id));

    auto layout = detail::tcb_layout(r.version, r.cpuid_fam_id, r.cpuid_mod_id, r.chip_id);
    if (!layout)
        return Error::make(Errc::Format,
                           "%s.cpuid_fam_id, cpuid_mod_id: found family 0x%02x model 0x%02x, expected a product "
                           "virtee/sev knows (Milan, Genoa, Turin)",
                           p.c_str(), r.cpuid_fam_id, r.cpuid_mod_id);
    r.current_tcb = TRY(tcb_member(value, p, "current_tcb", *layout));
    r.reported_tcb = TRY(tcb_member(value, p, "reported_tcb", *layout));
    r.committed_tcb = TRY(tcb_member(value, p, "committed_tcb", *layout));
    r.launch_tcb = TRY(tcb_member(value, p, "launch_tcb", *layout));
    TRY(version_member(value, p, "current", r.current_major, r.current_minor, r.current_build));
    TRY(version_member(value, p, "committed", r.committed_major, r.committed_minor, r.committed_build));
    const char* no_mit = "null (mitigation vectors begin with report version 5)";
    r.launch_mit_vector = TRY(option_member(value, p, "launch_mit_vector", UINT64_MAX, v5, no_mit));
    r.current_mit_vector = TRY(option_member(value, p, "current_mit_vector", UINT64_MAX, v5, no_mit));

    std::string sig_path = p + ".signature";
    yyjson_val* sig = yyjson_obj_get(value, "signature");
    TRY(check_names(sig, sig_path, SIGNATURE_MEMBERS));
    r.signature_r = TRY(signature_component(sig, sig_path, "r"));
    r.signature_s = TRY(signature_component(sig, sig_path, "s"));

    auto raw = snp::serialize_report(r);
    TRY(snp::parse_report(raw));  // the structural checks the encoder applies; the ones above imply them
    return Bytes(raw.begin(), raw.end());
}

Result<Bytes> report_from_json_text(std::string_view text)
{
    if (text.size() > REPORT_JSON_MAX_SIZE)
        return Error::make(Errc::Format, "attestation_report: %zu bytes of JSON, expected at most %zu", text.size(),
                           REPORT_JSON_MAX_SIZE);
    proto::JsonDoc doc = TRY(proto::JsonDoc::parse(text, "attestation_report"));
    return report_from_json(doc.root());
}

}  // namespace cvm::kbs
