#include "release_shapes.h"

#include <set>
#include <tuple>

#include "base/file.h"
#include "base/toml_reader.h"
#include "measure/vcpu_types.h"

namespace cvm::cli {

namespace {

const TomlReader READER("shapes.toml");

std::string describe(const release::Shape& s)
{
    return std::to_string(s.vcpus) + " x " + s.vcpu_type + " on " + s.vmm_type;
}

Result<uint32_t> vcpu_count(const toml::node& v, const std::string& key)
{
    return static_cast<uint32_t>(TRY(READER.integer(v, key, 1, measure::MAX_VCPUS)));
}

Result<std::string> vcpu_type(const toml::node& v, const std::string& key)
{
    std::string name = TRY(READER.string(v, key));
    if (!measure::vcpu_type_sig(name)) {
        std::string what =
            "unknown vCPU type '" + name.substr(0, 64) + "', expected one of " + measure::vcpu_type_names();
        return READER.error(key, what.c_str());
    }
    return name;
}

// The statement's spelling of a VMM type.
Result<std::string> vmm_type(const toml::node& v, const std::string& key)
{
    std::string name = TRY(READER.string(v, key));
    auto vmm = measure::vmm_type_from_name(name);
    if (!vmm) {
        std::string what = "unknown VMM type '" + name.substr(0, 64) + "', expected QEMU, ec2 or gce";
        return READER.error(key, what.c_str());
    }
    return std::string(measure::vmm_type_name(*vmm));
}

// A non-empty list of `item`s, each at most once.
template <typename T, typename Item>
Result<std::vector<T>> list(const toml::node& v, const std::string& key, Item item)
{
    const toml::array* a = v.as_array();
    if (!a || a->empty())
        return READER.error(key, "expected a non-empty list");
    std::vector<T> out;
    for (size_t i = 0; i < a->size(); ++i) {
        std::string item_key = key + "[" + std::to_string(i) + "]";
        T value = TRY(item((*a)[i], item_key));
        for (size_t j = 0; j < out.size(); ++j) {
            if (out[j] == value) {
                std::string what = "the value of " + key + "[" + std::to_string(j) + "] again, expected each once";
                return READER.error(item_key, what.c_str());
            }
        }
        out.push_back(std::move(value));
    }
    return out;
}

Result<void> product(const toml::table& root, std::vector<release::Shape>& out)
{
    const toml::node* counts = root.get("vcpus");
    const toml::node* types = root.get("vcpu_types");
    const toml::node* vmms = root.get("vmm_types");
    if (!counts && !types && !vmms)
        return {};
    if (!counts || !types)
        return READER.error(counts ? "vcpu_types" : "vcpus", "missing: the product needs vcpus and vcpu_types");
    std::vector<uint32_t> n = TRY(list<uint32_t>(*counts, "vcpus", vcpu_count));
    std::vector<std::string> t = TRY(list<std::string>(*types, "vcpu_types", vcpu_type));
    std::vector<std::string> m = {"QEMU"};
    if (vmms)
        m = TRY(list<std::string>(*vmms, "vmm_types", vmm_type));
    if (n.size() * t.size() * m.size() > release::MAX_SHAPES)
        return Error::make(Errc::Config, "shapes.toml: the product is %zu x %zu x %zu shapes, expected at most %zu",
                           m.size(), t.size(), n.size(), release::MAX_SHAPES);
    for (const std::string& vmm : m)
        for (const std::string& type : t)
            for (uint32_t count : n)
                out.push_back({count, type, vmm});
    return {};
}

Result<void> explicit_shapes(const toml::table& root, std::vector<release::Shape>& out)
{
    const toml::node* node = root.get("shape");
    if (!node)
        return {};
    const toml::array* a = node->as_array();
    if (!a || a->empty() || !a->is_array_of_tables())
        return READER.error("shape", "expected [[shape]] tables");
    if (out.size() + a->size() > release::MAX_SHAPES)
        return Error::make(Errc::Config, "shapes.toml: %zu shapes, expected at most %zu", out.size() + a->size(),
                           release::MAX_SHAPES);
    for (size_t i = 0; i < a->size(); ++i) {
        const toml::table& t = *(*a)[i].as_table();
        std::string prefix = "shape[" + std::to_string(i) + "]";
        TRY(READER.only_keys(t, prefix, {"vcpus", "vcpu_type", "vmm_type"}));
        release::Shape s;
        s.vcpus = TRY(vcpu_count(*TRY(READER.required(t, "vcpus", prefix)), prefix + ".vcpus"));
        s.vcpu_type = TRY(vcpu_type(*TRY(READER.required(t, "vcpu_type", prefix)), prefix + ".vcpu_type"));
        s.vmm_type = "QEMU";
        if (const toml::node* vmm = t.get("vmm_type"))
            s.vmm_type = TRY(vmm_type(*vmm, prefix + ".vmm_type"));
        out.push_back(std::move(s));
    }
    return {};
}

}  // namespace

Result<std::vector<release::Shape>> parse_shapes_toml(std::string_view text)
{
    toml::table root = TRY(parse_toml(text, "shapes.toml"));
    TRY(READER.only_keys(root, "", {"vcpus", "vcpu_types", "vmm_types", "shape"}));
    std::vector<release::Shape> shapes;
    TRY(product(root, shapes));
    size_t from_product = shapes.size();
    TRY(explicit_shapes(root, shapes));
    if (shapes.empty())
        return Error::make(Errc::Config, "shapes.toml: no shapes, expected vcpus and vcpu_types or [[shape]] tables");

    std::set<std::tuple<uint32_t, std::string, std::string>> seen;
    for (size_t i = 0; i < shapes.size(); ++i) {
        const release::Shape& s = shapes[i];
        if (!seen.emplace(s.vcpus, s.vcpu_type, s.vmm_type).second) {
            std::string key = "shape[" + std::to_string(i - from_product) + "]";
            std::string what = "the shape " + describe(s) + " again, expected each shape once";
            return READER.error(key, what.c_str());
        }
    }
    return shapes;
}

Result<std::vector<release::Shape>> load_shapes_toml(const std::string& path)
{
    std::string text = TRY(read_text_file(path, MAX_SHAPES_TOML_SIZE));
    return TRY_PREFIX(parse_shapes_toml(text), "%s", path.c_str());
}

measure::LaunchShape launch_shape(const release::Shape& shape)
{
    return {shape.vcpus, measure::vcpu_type_sig(shape.vcpu_type),
            measure::vmm_type_from_name(shape.vmm_type).value_or(measure::VmmType::Qemu)};
}

Result<void> check_shape(const release::Shape& shape, const std::string& what)
{
    if (shape.vcpus < 1 || shape.vcpus > measure::MAX_VCPUS)
        return Error::make(Errc::Config, "%s: %u vCPUs, expected 1 to %u", what.c_str(), shape.vcpus,
                           measure::MAX_VCPUS);
    if (!measure::vcpu_type_sig(shape.vcpu_type))
        return Error::make(Errc::Config, "%s: vCPU type '%s', expected a named type (%s)", what.c_str(),
                           shape.vcpu_type.c_str(), measure::vcpu_type_names().c_str());
    auto vmm = measure::vmm_type_from_name(shape.vmm_type);
    if (!vmm || shape.vmm_type != measure::vmm_type_name(*vmm))
        return Error::make(Errc::Config, "%s: VMM type '%s', expected QEMU, ec2 or gce", what.c_str(),
                           shape.vmm_type.c_str());
    return {};
}

}  // namespace cvm::cli
