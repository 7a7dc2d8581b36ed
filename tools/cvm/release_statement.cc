#include "release_statement.h"

#include <set>
#include <tuple>

#include "base/file.h"
#include "initdata/initdata.h"
#include "measure/matrix.h"
#include "measure/vcpu_types.h"
#include "measure_request.h"
#include "release_shapes.h"

namespace cvm::cli {

namespace {

constexpr int64_t MAX_JSON_INTEGER = (int64_t{1} << 53) - 1;  // what the statement's JSON carries exactly
constexpr int64_t SECONDS_PER_DAY = 86400;

Result<void> check_request(const ReleaseRequest& r)
{
    const launch::LaunchConfig& c = r.launch;
    if (c.mode != "snp")
        return Error::make(Errc::Config,
                           "launch.toml key 'mode' is \"%s\", expected \"snp\": a release lists SEV-SNP MEASUREMENTs",
                           c.mode.c_str());
    if (c.snp_ovmf_hash)
        return Error::make(Errc::Config, "launch.toml key 'firmware.snp_ovmf_hash': a release hashes the firmware it "
                                         "names as its subject, not a digest it is given; remove the key");
    if (r.source_date_epoch < 0 || r.source_date_epoch > MAX_JSON_INTEGER)
        return Error::make(Errc::Config, "SOURCE_DATE_EPOCH %lld, expected 0 to %lld",
                           static_cast<long long>(r.source_date_epoch), static_cast<long long>(MAX_JSON_INTEGER));
    if (r.valid_days && (*r.valid_days < 1 || *r.valid_days > MAX_VALID_DAYS))
        return Error::make(Errc::Config, "validity of %lld days, expected 1 to %lld",
                           static_cast<long long>(*r.valid_days), static_cast<long long>(MAX_VALID_DAYS));
    if (r.valid_days && r.source_date_epoch + *r.valid_days * SECONDS_PER_DAY > MAX_JSON_INTEGER)
        return Error::make(Errc::Config, "SOURCE_DATE_EPOCH %lld plus %lld days is beyond 2^53 - 1 seconds",
                           static_cast<long long>(r.source_date_epoch), static_cast<long long>(*r.valid_days));
    if (r.shapes.size() > release::MAX_SHAPES)
        return Error::make(Errc::Config, "%zu shapes, expected at most %zu", r.shapes.size(), release::MAX_SHAPES);
    std::set<std::tuple<uint32_t, std::string, std::string>> seen;
    for (size_t i = 0; i < r.shapes.size(); ++i) {
        const release::Shape& s = r.shapes[i];
        TRY(check_shape(s, "shape " + std::to_string(i)));
        if (!seen.emplace(s.vcpus, s.vcpu_type, s.vmm_type).second)
            return Error::make(Errc::Config, "shape %zu: %u x %s on %s again, expected each shape once", i, s.vcpus,
                               s.vcpu_type.c_str(), s.vmm_type.c_str());
    }
    return {};
}

// Without shapes, the release is the launch.toml's own launch, which must name its vCPU type
// (the statement names every shape's).
Result<release::Shape> own_named_shape(const launch::LaunchConfig& c)
{
    if (!c.vcpus || !c.vcpu_type)
        return Error::make(Errc::Config,
                           "launch.toml has no %s: without --shapes the release is the launch.toml's "
                           "own shape, which needs vcpus and vcpu_type (a named type)",
                           c.vcpus ? "vcpu_type" : "vcpus");
    auto vmm = measure::vmm_type_from_name(c.vmm_type);
    release::Shape shape{*c.vcpus, *c.vcpu_type, vmm ? measure::vmm_type_name(*vmm) : c.vmm_type};
    TRY(check_shape(shape, "launch.toml"));
    return shape;
}

// The launch the launch.toml describes by itself (as `cvm measure --launch` and `cvm launch` take
// it), when it has vcpus.
Result<std::optional<measure::LaunchShape>> own_launch(const launch::LaunchConfig& c)
{
    if (!c.vcpus)
        return std::optional<measure::LaunchShape>();
    MeasureRequest own = TRY_PREFIX(request_from_config(c), "launch.toml");
    return std::optional<measure::LaunchShape>(
        measure::LaunchShape{own.inputs.vcpus, own.inputs.vcpu_sig, own.inputs.vmm});
}

// The init-data document as a subject: its SHA-256 over the bytes read now, which must still give
// the HOST_DATA the launch.toml was read with.
Result<release::Subject> initdata_subject(const launch::LaunchConfig& c)
{
    std::string text =
        TRY_PREFIX(read_text_file(*c.initdata, initdata::MAX_INITDATA_SIZE), "launch.toml key 'initdata'");
    initdata::Document document = TRY_PREFIX(initdata::parse(text), "launch.toml key 'initdata'");
    if (!c.host_data || initdata::host_data(document) != *c.host_data)
        return Error::make(Errc::Config, "launch.toml key 'initdata': %s changed while it was read (HOST_DATA %s)",
                           c.initdata->c_str(), to_hex(initdata::host_data(document)).c_str());
    release::Subject subject{"init-data", {}};
    subject.sha256 = crypto::Sha256::of(ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
    return subject;
}

}  // namespace

Result<ReleaseResult> build_release(const ReleaseRequest& r)
{
    TRY(check_request(r));
    const launch::LaunchConfig& c = r.launch;
    std::vector<release::Shape> shapes = r.shapes;
    if (shapes.empty())
        shapes.push_back(TRY(own_named_shape(c)));
    std::optional<measure::LaunchShape> own = TRY(own_launch(c));

    // The shape-independent inputs, resolved and checked as `cvm measure` does, with the first
    // shape standing in for the launch.toml's own.
    launch::LaunchConfig base = c;
    base.vcpus = shapes[0].vcpus;
    base.vcpu_type = shapes[0].vcpu_type;
    base.vcpu_sig.reset();
    base.vcpu_family.reset();
    base.vcpu_model.reset();
    base.vcpu_stepping.reset();
    base.vmm_type = shapes[0].vmm_type;
    MeasureRequest request = TRY_PREFIX(request_from_config(base), "launch.toml");
    request.inputs.file_digests = true;

    std::vector<measure::LaunchShape> matrix_shapes;
    for (const release::Shape& s : shapes)
        matrix_shapes.push_back(launch_shape(s));
    if (own)
        matrix_shapes.push_back(*own);
    measure::Matrix matrix = TRY(measure::measure_matrix(request.inputs, matrix_shapes));

    ReleaseResult out;
    out.image_ms = matrix.image_ms;
    out.shapes_ms = matrix.shapes_ms;
    release::Predicate& p = out.statement.predicate;
    for (size_t i = 0; i < shapes.size(); ++i)
        p.shapes.push_back({shapes[i], matrix.measurements[i]});
    if (own && !out.statement.find(matrix.measurements.back()))
        return Error::make(Errc::Config,
                           "launch.toml's own launch (vcpus = %u, vCPU signature 0x%x, %s; MEASUREMENT %s) is none of "
                           "the release's %zu shapes, so cvm launch with this file would start a VM the release does "
                           "not cover: add its shape, or remove vcpus from launch.toml",
                           own->vcpus, own->vcpu_sig.value_or(0), measure::vmm_type_name(own->vmm),
                           to_hex(matrix.measurements.back()).c_str(), shapes.size());

    std::vector<release::Subject>& subjects = out.statement.subjects;
    subjects.push_back({"firmware", *matrix.ovmf_sha256});
    if (c.kernel)
        subjects.push_back({"kernel", matrix.kernel_hashes->kernel});
    if (c.initrd)
        subjects.push_back({"initrd", matrix.kernel_hashes->initrd});
    if (c.initdata)
        subjects.push_back(TRY(initdata_subject(c)));

    p.tool = r.tool;
    p.source_date_epoch = r.source_date_epoch;
    if (r.valid_days)
        p.not_after = r.source_date_epoch + *r.valid_days * SECONDS_PER_DAY;
    p.mode = "snp";
    p.policy = c.guest_policy();
    p.guest_features = c.guest_features;
    p.cmdline = request.inputs.append;
    p.host_data = c.host_data;
    return out;
}

}  // namespace cvm::cli
