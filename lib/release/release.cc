// The in-toto statement of a release: written as RFC 8785 JSON, read back strictly, and DSSE's
// PAE. The member names are release.h's; every check names the member as a JSON path.
#include "release/release.h"

#include <yyjson.h>

#include <cinttypes>
#include <cstdio>

#include "proto/jcs.h"
#include "proto/json.h"
#include "release/internal.h"

namespace cvm::release {
namespace {

constexpr int64_t MAX_JSON_INTEGER = (int64_t{1} << 53) - 1;  // RFC 7493 §2.2, which JCS keeps
constexpr size_t MAX_SUBJECTS = 4;                            // firmware, kernel, initrd, init-data
constexpr size_t MAX_TOOL_SIZE = 64;
constexpr size_t MAX_CMDLINE_SIZE = 4096;  // the longest x86 COMMAND_LINE_SIZE a kernel is built with
constexpr size_t MAX_VCPU_TYPE_SIZE = 64;
constexpr uint32_t MAX_VCPUS = 4096;  // measure/measure.h MAX_VCPUS

constexpr const char* SUBJECT_NAMES[] = {"firmware", "kernel", "initrd", "init-data"};
constexpr const char* MODES[] = {"snp", "snp:svsm"};
constexpr const char* VMM_TYPES[] = {"QEMU", "ec2", "gce"};

template <size_t N>
bool one_of(std::string_view value, const char* const (&set)[N])
{
    for (const char* s : set) {
        if (value == s)
            return true;
    }
    return false;
}

std::string hex_u64(uint64_t value)
{
    char text[24];
    std::snprintf(text, sizeof text, "0x%" PRIx64, value);
    return text;
}

Error bad(const std::string& path, const char* found, const char* expected)
{
    return Error::make(Errc::Format, "%s is %s, expected %s", path.c_str(), found, expected);
}

// Lower-case hex of exactly N bytes: one spelling per value, so the statement round-trips.
template <size_t N>
Result<std::array<uint8_t, N>> hex_fixed(yyjson_val* object, const char* key, const std::string& what)
{
    std::string_view text = TRY(proto::string_member(object, key, what));
    std::string path = what + "." + key;
    for (char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return bad(path, "not lower-case hex", "lower-case hex");
    }
    if (text.size() != 2 * N) {
        std::string found = std::to_string(text.size()) + " hex digits";
        std::string expected = std::to_string(2 * N) + " hex digits";
        return bad(path, found.c_str(), expected.c_str());
    }
    auto bytes = from_hex(text);
    std::array<uint8_t, N> out{};
    std::copy(bytes->begin(), bytes->end(), out.begin());
    return out;
}

// "0x" and lower-case hex without leading zeros, as hex_u64 writes it.
Result<uint64_t> hex_u64_member(yyjson_val* object, const char* key, const std::string& what)
{
    std::string_view text = TRY(proto::string_member(object, key, what));
    std::string path = what + "." + key;
    std::string_view digits = text.substr(text.starts_with("0x") ? 2 : 0);
    bool ok =
        text.starts_with("0x") && !digits.empty() && digits.size() <= 16 && !(digits.size() > 1 && digits[0] == '0');
    for (char c : digits)
        ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    if (!ok) {
        std::string found = "\"" + std::string(text.substr(0, 24)) + "\"";
        return bad(path, found.c_str(), "\"0x\" and 1 to 16 lower-case hex digits without leading zeros");
    }
    return std::strtoull(std::string(digits).c_str(), nullptr, 16);
}

Result<std::string> text_member(yyjson_val* object, const char* key, const std::string& what, size_t max_size)
{
    std::string_view text = TRY(proto::string_member(object, key, what));
    if (text.empty() || text.size() > max_size) {
        std::string found = std::to_string(text.size()) + " bytes";
        std::string expected = "1 to " + std::to_string(max_size) + " bytes";
        return bad(what + "." + key, found.c_str(), expected.c_str());
    }
    return std::string(text);
}

Result<std::vector<Subject>> parse_subjects(yyjson_val* root)
{
    const std::string what = "statement.subject";
    yyjson_val* array = TRY(proto::array_member(root, "subject", "statement", MAX_SUBJECTS));
    if (yyjson_arr_size(array) == 0)
        return bad(what, "empty", "at least one subject");
    std::vector<Subject> subjects;
    size_t i = 0;
    yyjson_val* item = nullptr;
    yyjson_arr_iter it = yyjson_arr_iter_with(array);
    while ((item = yyjson_arr_iter_next(&it))) {
        std::string path = what + "[" + std::to_string(i++) + "]";
        TRY(proto::check_members(item, path, {"name", "digest"}));
        Subject s;
        s.name = std::string(TRY(proto::string_member(item, "name", path)));
        if (!one_of(s.name, SUBJECT_NAMES))
            return bad(path + ".name", ("\"" + s.name.substr(0, 32) + "\"").c_str(),
                       "\"firmware\", \"kernel\", \"initrd\" or \"init-data\"");
        for (const Subject& other : subjects) {
            if (other.name == s.name)
                return bad(path + ".name", ("\"" + s.name + "\" again").c_str(), "each subject once");
        }
        yyjson_val* digest = yyjson_obj_get(item, "digest");
        TRY(proto::check_members(digest, path + ".digest", {"sha256"}));
        s.sha256 = TRY(hex_fixed<32>(digest, "sha256", path + ".digest"));
        subjects.push_back(std::move(s));
    }
    return subjects;
}

Result<std::vector<ShapeMeasurement>> parse_shapes(yyjson_val* predicate)
{
    const std::string what = "statement.predicate.shapes";
    yyjson_val* array = TRY(proto::array_member(predicate, "shapes", "statement.predicate", MAX_SHAPES));
    if (yyjson_arr_size(array) == 0)
        return bad(what, "empty", "at least one shape");
    std::vector<ShapeMeasurement> shapes;
    size_t i = 0;
    yyjson_val* item = nullptr;
    yyjson_arr_iter it = yyjson_arr_iter_with(array);
    while ((item = yyjson_arr_iter_next(&it))) {
        std::string path = what + "[" + std::to_string(i++) + "]";
        TRY(proto::check_members(item, path, {"vcpus", "vcpu_type", "vmm_type", "measurement"}));
        ShapeMeasurement s;
        s.shape.vcpus = static_cast<uint32_t>(TRY(proto::int_member(item, "vcpus", path, 1, MAX_VCPUS)));
        s.shape.vcpu_type = TRY(text_member(item, "vcpu_type", path, MAX_VCPU_TYPE_SIZE));
        s.shape.vmm_type = std::string(TRY(proto::string_member(item, "vmm_type", path)));
        if (!one_of(s.shape.vmm_type, VMM_TYPES))
            return bad(path + ".vmm_type", ("\"" + s.shape.vmm_type.substr(0, 32) + "\"").c_str(),
                       "\"QEMU\", \"ec2\" or \"gce\"");
        s.measurement = TRY(hex_fixed<48>(item, "measurement", path));
        // Linear in the shapes so far: a matrix is at most MAX_SHAPES, checked once per bundle.
        for (size_t j = 0; j < shapes.size(); ++j) {
            if (shapes[j].shape == s.shape) {
                std::string found = "the shape of shapes[" + std::to_string(j) + "] again";
                return bad(path, found.c_str(), "each (vcpus, vcpu_type, vmm_type) once");
            }
        }
        shapes.push_back(std::move(s));
    }
    return shapes;
}

Result<Predicate> parse_predicate(yyjson_val* root)
{
    const std::string what = "statement.predicate";
    yyjson_val* p = yyjson_obj_get(root, "predicate");
    TRY(proto::check_members(p, what,
                             {"tool", "source_date_epoch", "mode", "policy", "guest_features", "cmdline", "shapes"},
                             {"not_after", "host_data"}));
    Predicate out;
    out.tool = TRY(text_member(p, "tool", what, MAX_TOOL_SIZE));
    out.source_date_epoch = TRY(proto::int_member(p, "source_date_epoch", what, 0, MAX_JSON_INTEGER));
    if (yyjson_obj_get(p, "not_after")) {
        out.not_after = TRY(proto::int_member(p, "not_after", what, 0, MAX_JSON_INTEGER));
        if (*out.not_after <= out.source_date_epoch)
            return bad(what + ".not_after", std::to_string(*out.not_after).c_str(),
                       ("after source_date_epoch " + std::to_string(out.source_date_epoch)).c_str());
    }
    out.mode = std::string(TRY(proto::string_member(p, "mode", what)));
    if (!one_of(out.mode, MODES))
        return bad(what + ".mode", ("\"" + out.mode.substr(0, 32) + "\"").c_str(), "\"snp\" or \"snp:svsm\"");
    out.policy = TRY(hex_u64_member(p, "policy", what));
    out.guest_features = TRY(hex_u64_member(p, "guest_features", what));
    std::string_view cmdline = TRY(proto::string_member(p, "cmdline", what));
    if (cmdline.size() > MAX_CMDLINE_SIZE)
        return bad(what + ".cmdline", (std::to_string(cmdline.size()) + " bytes").c_str(),
                   ("at most " + std::to_string(MAX_CMDLINE_SIZE)).c_str());
    out.cmdline = std::string(cmdline);
    if (yyjson_obj_get(p, "host_data"))
        out.host_data = TRY(hex_fixed<32>(p, "host_data", what));
    out.shapes = TRY(parse_shapes(p));
    return out;
}

}  // namespace

const ShapeMeasurement* Statement::find(const Measurement& measurement) const
{
    for (const ShapeMeasurement& s : predicate.shapes) {
        if (s.measurement == measurement)
            return &s;
    }
    return nullptr;
}

Result<std::string> statement_json(const Statement& statement)
{
    yyjson_mut_doc* doc = yyjson_mut_doc_new(nullptr);
    if (!doc)
        abort();  // only on allocation failure
    yyjson_mut_val* root = yyjson_mut_obj(doc);
    yyjson_mut_doc_set_root(doc, root);
    yyjson_mut_obj_add_str(doc, root, "_type", STATEMENT_TYPE);
    yyjson_mut_val* subjects = yyjson_mut_obj_add_arr(doc, root, "subject");
    for (const Subject& s : statement.subjects) {
        yyjson_mut_val* item = yyjson_mut_arr_add_obj(doc, subjects);
        yyjson_mut_obj_add_strncpy(doc, item, "name", s.name.data(), s.name.size());
        yyjson_mut_val* digest = yyjson_mut_obj_add_obj(doc, item, "digest");
        yyjson_mut_obj_add_strcpy(doc, digest, "sha256", to_hex(s.sha256).c_str());
    }
    yyjson_mut_obj_add_str(doc, root, "predicateType", PREDICATE_TYPE);
    const Predicate& p = statement.predicate;
    yyjson_mut_val* predicate = yyjson_mut_obj_add_obj(doc, root, "predicate");
    yyjson_mut_obj_add_strncpy(doc, predicate, "tool", p.tool.data(), p.tool.size());
    yyjson_mut_obj_add_sint(doc, predicate, "source_date_epoch", p.source_date_epoch);
    if (p.not_after)
        yyjson_mut_obj_add_sint(doc, predicate, "not_after", *p.not_after);
    yyjson_mut_obj_add_strncpy(doc, predicate, "mode", p.mode.data(), p.mode.size());
    yyjson_mut_obj_add_strcpy(doc, predicate, "policy", hex_u64(p.policy).c_str());
    yyjson_mut_obj_add_strcpy(doc, predicate, "guest_features", hex_u64(p.guest_features).c_str());
    yyjson_mut_obj_add_strncpy(doc, predicate, "cmdline", p.cmdline.data(), p.cmdline.size());
    if (p.host_data)
        yyjson_mut_obj_add_strcpy(doc, predicate, "host_data", to_hex(*p.host_data).c_str());
    yyjson_mut_val* shapes = yyjson_mut_obj_add_arr(doc, predicate, "shapes");
    for (const ShapeMeasurement& s : p.shapes) {
        yyjson_mut_val* item = yyjson_mut_arr_add_obj(doc, shapes);
        yyjson_mut_obj_add_uint(doc, item, "vcpus", s.shape.vcpus);
        yyjson_mut_obj_add_strncpy(doc, item, "vcpu_type", s.shape.vcpu_type.data(), s.shape.vcpu_type.size());
        yyjson_mut_obj_add_strncpy(doc, item, "vmm_type", s.shape.vmm_type.data(), s.shape.vmm_type.size());
        yyjson_mut_obj_add_strcpy(doc, item, "measurement", to_hex(s.measurement).c_str());
    }
    // yyjson refuses invalid UTF-8 on the way out; jcs_canonicalize sorts and checks the rest.
    size_t length = 0;
    char* text = yyjson_mut_write(doc, YYJSON_WRITE_NOFLAG, &length);
    yyjson_mut_doc_free(doc);
    if (!text)
        return Error::make(Errc::Config, "statement: a string is not valid UTF-8, expected UTF-8 text");
    std::string json(text, length);
    free(text);
    return proto::jcs_canonicalize(json, MAX_BUNDLE_SIZE);
}

std::string to_json(const Statement& statement)
{
    // A statement that cannot be written (a string not UTF-8) gives no text; make_bundle reports
    // statement_json's error instead of signing anything.
    auto json = statement_json(statement);
    return json ? json.release_value() : std::string();
}

Result<Statement> parse_statement(std::string_view json)
{
    if (json.size() > MAX_BUNDLE_SIZE)
        return bad("statement", (std::to_string(json.size()) + " bytes").c_str(),
                   ("at most " + std::to_string(MAX_BUNDLE_SIZE)).c_str());
    proto::JsonDoc doc = TRY(proto::JsonDoc::parse(json, "statement"));
    yyjson_val* root = doc.root();
    TRY(proto::check_members(root, "statement", {"_type", "subject", "predicateType", "predicate"}));
    std::string_view type = TRY(proto::string_member(root, "_type", "statement"));
    if (type != STATEMENT_TYPE)
        return bad("statement._type", ("\"" + std::string(type.substr(0, 64)) + "\"").c_str(), STATEMENT_TYPE);
    std::string_view predicate_type = TRY(proto::string_member(root, "predicateType", "statement"));
    if (predicate_type != PREDICATE_TYPE)
        return bad("statement.predicateType", ("\"" + std::string(predicate_type.substr(0, 64)) + "\"").c_str(),
                   PREDICATE_TYPE);
    Statement out;
    out.subjects = TRY(parse_subjects(root));
    out.predicate = TRY(parse_predicate(root));
    return out;
}

Bytes pae(std::string_view payload_type, ByteView payload)
{
    // secure-systems-lab/dsse protocol.md: PAE(type, body) = "DSSEv1" + SP + LEN(type) + SP + type
    // + SP + LEN(body) + SP + body, LEN as ASCII decimal without leading zeros.
    std::string head = "DSSEv1 " + std::to_string(payload_type.size()) + " " + std::string(payload_type) + " " +
                       std::to_string(payload.size()) + " ";
    Bytes out(head.begin(), head.end());
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

}  // namespace cvm::release
