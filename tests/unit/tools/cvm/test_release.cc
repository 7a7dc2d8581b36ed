// `cvm release`'s own parts: shapes.toml (the product's order, the explicit shapes, every refusal
// by key) and the statement (each shape's MEASUREMENT against measure() for that launch alone,
// the subjects against the files' SHA-256, the launch.toml's own shape, the refusals), the same
// statement from launch.toml files in different directories, and no path in it.
#include <doctest.h>

#include <filesystem>

#include "crypto/digest.h"
#include "initdata/initdata.h"
#include "measure/measure.h"
#include "measure/vcpu_types.h"
#include "measure_request.h"
#include "release_shapes.h"
#include "release_statement.h"
#include "temp_dir.h"
#include "vectors.h"

using namespace cvm;
using namespace cvm::cli;

namespace {

std::string shapes_error(std::string_view text)
{
    auto shapes = parse_shapes_toml(text);
    return shapes.ok() ? "parsed" : std::string(shapes.error().message());
}

bool contains(const std::string& s, const std::string& part)
{
    return s.find(part) != std::string::npos;
}

ByteView bytes(const std::string& s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A project directory: the AmdSev fixture, a kernel, an initrd and `launch.toml` with `extra`.
struct Project {
    test::TempDir dir;
    Bytes kernel = test::fake_bzimage(128 << 10);
    Bytes initrd = Bytes(70000, 0x42);

    explicit Project(const std::string& extra = "")
    {
        dir.write("OVMF.fd", test::read_vector("measure/ovmf_AmdSev_suffix.bin"));
        dir.write("vmlinuz", kernel);
        dir.write("initrd.img", initrd);
        write_launch(extra);
    }
    void write_launch(const std::string& extra) const
    {
        std::string text = "mode = \"snp\"\nguest_features = 0x21\npolicy = 0x70000\n" + extra +
                           "\n[firmware]\novmf = \"OVMF.fd\"\n[kernel]\npath = \"vmlinuz\"\ninitrd = \"initrd.img\"\n"
                           "cmdline = [\"console=ttyS0\", \"cvminit.simulate=1\"]\n";
        dir.write("launch.toml", bytes(text));
    }
    launch::LaunchConfig config() const { return launch::load_launch_toml(dir.path() + "/launch.toml").value(); }
};

ReleaseRequest request_for(const Project& p, std::vector<release::Shape> shapes)
{
    ReleaseRequest r;
    r.launch = p.config();
    r.shapes = std::move(shapes);
    r.tool = "cvm test";
    r.source_date_epoch = 1700000000;
    return r;
}

std::string release_error(const ReleaseRequest& r)
{
    auto result = build_release(r);
    return result.ok() ? "built" : std::string(result.error().message());
}

const std::vector<release::Shape> MATRIX = {
    {1, "EPYC-v4", "QEMU"},   {4, "EPYC-Milan", "QEMU"}, {2, "EPYC-Genoa", "ec2"},
    {8, "EPYC-Genoa", "gce"}, {3, "EPYC-Milan", "QEMU"},
};

}  // namespace

TEST_CASE("shapes.toml: the product in the order written, then the explicit shapes")
{
    auto shapes = parse_shapes_toml("vcpus = [4, 1]\nvcpu_types = [\"EPYC-Milan\", \"EPYC-Genoa\"]\n"
                                    "vmm_types = [\"qemu\", \"gce\"]\n"
                                    "[[shape]]\nvcpus = 16\nvcpu_type = \"EPYC-Turin\"\n"
                                    "[[shape]]\nvcpus = 4\nvcpu_type = \"EPYC-Milan\"\nvmm_type = \"ec2\"\n")
                      .value();
    const std::vector<release::Shape> expected = {
        {4, "EPYC-Milan", "QEMU"},  {1, "EPYC-Milan", "QEMU"}, {4, "EPYC-Genoa", "QEMU"}, {1, "EPYC-Genoa", "QEMU"},
        {4, "EPYC-Milan", "gce"},   {1, "EPYC-Milan", "gce"},  {4, "EPYC-Genoa", "gce"},  {1, "EPYC-Genoa", "gce"},
        {16, "EPYC-Turin", "QEMU"}, {4, "EPYC-Milan", "ec2"},
    };
    CHECK(shapes == expected);
    // vmm_types defaults to QEMU; [[shape]] alone is a matrix too.
    CHECK(parse_shapes_toml("vcpus = [2]\nvcpu_types = [\"EPYC\"]").value() ==
          std::vector<release::Shape>{{2, "EPYC", "QEMU"}});
    CHECK(parse_shapes_toml("[[shape]]\nvcpus = 4096\nvcpu_type = \"EPYC-v4\"\nvmm_type = \"gce\"").value() ==
          std::vector<release::Shape>{{4096, "EPYC-v4", "gce"}});
    // Each shape passes the statement's own check.
    for (const release::Shape& s : shapes)
        CHECK(check_shape(s, "s").ok());
}

TEST_CASE("shapes.toml refusals name the key")
{
    CHECK(shapes_error("") == "shapes.toml: no shapes, expected vcpus and vcpu_types or [[shape]] tables");
    CHECK(contains(shapes_error("vcpus = [1"), "shapes.toml: TOML syntax error at line 1"));
    CHECK(shapes_error("vcpus = [1]\nvcpu_types = [\"EPYC\"]\nmemory = 4") == "shapes.toml key 'memory': unknown key");
    CHECK(shapes_error("vcpus = [1]") ==
          "shapes.toml key 'vcpu_types': missing: the product needs vcpus and vcpu_types");
    CHECK(shapes_error("vcpu_types = [\"EPYC\"]") ==
          "shapes.toml key 'vcpus': missing: the product needs vcpus and vcpu_types");
    CHECK(shapes_error("vmm_types = [\"QEMU\"]") ==
          "shapes.toml key 'vcpus': missing: the product needs vcpus and vcpu_types");
    CHECK(shapes_error("vcpus = []\nvcpu_types = [\"EPYC\"]") == "shapes.toml key 'vcpus': expected a non-empty list");
    CHECK(shapes_error("vcpus = 4\nvcpu_types = [\"EPYC\"]") == "shapes.toml key 'vcpus': expected a non-empty list");
    CHECK(shapes_error("vcpus = [1, 0]\nvcpu_types = [\"EPYC\"]") ==
          "shapes.toml key 'vcpus[1]': expected an integer from 1 to 4096");
    CHECK(shapes_error("vcpus = [4097]\nvcpu_types = [\"EPYC\"]") ==
          "shapes.toml key 'vcpus[0]': expected an integer from 1 to 4096");
    CHECK(shapes_error("vcpus = [2.0]\nvcpu_types = [\"EPYC\"]") ==
          "shapes.toml key 'vcpus[0]': expected an integer from 1 to 4096");
    CHECK(shapes_error("vcpus = [1, 2, 1]\nvcpu_types = [\"EPYC\"]") ==
          "shapes.toml key 'vcpus[2]': the value of vcpus[0] again, expected each once");
    CHECK(contains(shapes_error("vcpus = [1]\nvcpu_types = [\"EPYC-Zen9\"]"),
                   "shapes.toml key 'vcpu_types[0]': unknown vCPU type 'EPYC-Zen9', expected one of EPYC,"));
    CHECK(shapes_error("vcpus = [1]\nvcpu_types = [1]") == "shapes.toml key 'vcpu_types[0]': expected a string");
    CHECK(shapes_error("vcpus = [1]\nvcpu_types = [\"EPYC\"]\nvmm_types = [\"QEMU\", \"qemu\"]") ==
          "shapes.toml key 'vmm_types[1]': the value of vmm_types[0] again, expected each once");
    CHECK(shapes_error("vcpus = [1]\nvcpu_types = [\"EPYC\"]\nvmm_types = [\"kvmtool\"]") ==
          "shapes.toml key 'vmm_types[0]': unknown VMM type 'kvmtool', expected QEMU, ec2 or gce");
    CHECK(shapes_error("[shape]\nvcpus = 1\nvcpu_type = \"EPYC\"") ==
          "shapes.toml key 'shape': expected [[shape]] tables");
    CHECK(shapes_error("shape = [1]") == "shapes.toml key 'shape': expected [[shape]] tables");
    CHECK(shapes_error("[[shape]]\nvcpu_type = \"EPYC\"") == "shapes.toml key 'shape[0].vcpus': missing");
    CHECK(shapes_error("[[shape]]\nvcpus = 1") == "shapes.toml key 'shape[0].vcpu_type': missing");
    CHECK(shapes_error("[[shape]]\nvcpus = 1\nvcpu_type = \"EPYC\"\nvcpu_sig = 0xa00f11") ==
          "shapes.toml key 'shape[0].vcpu_sig': unknown key");
    CHECK(shapes_error("[[shape]]\nvcpus = 1\nvcpu_type = \"EPYC\"\nvmm_type = \"xen\"") ==
          "shapes.toml key 'shape[0].vmm_type': unknown VMM type 'xen', expected QEMU, ec2 or gce");
    CHECK(shapes_error("vcpus = [1]\nvcpu_types = [\"EPYC\"]\n[[shape]]\nvcpus = 2\nvcpu_type = \"EPYC\"\n"
                       "[[shape]]\nvcpus = 1\nvcpu_type = \"EPYC\"\nvmm_type = \"qemu\"") ==
          "shapes.toml key 'shape[1]': the shape 1 x EPYC on QEMU again, expected each shape once");

    // Bounded before the product is made: 4096 counts x 2 types.
    std::string big = "vcpu_types = [\"EPYC\", \"EPYC-v4\"]\nvcpus = [";
    for (int i = 1; i <= 4096; ++i)
        big += std::to_string(i) + (i < 4096 ? ", " : "]\n");
    CHECK(shapes_error(big) == "shapes.toml: the product is 1 x 2 x 4096 shapes, expected at most 4096");
}

TEST_CASE("the statement: every shape's MEASUREMENT as measure() gives it, the files as subjects")
{
    Project p;
    ReleaseResult r = build_release(request_for(p, MATRIX)).value();
    const release::Statement& s = r.statement;
    REQUIRE(s.predicate.shapes.size() == MATRIX.size());
    for (size_t i = 0; i < MATRIX.size(); ++i) {
        CAPTURE(i);
        launch::LaunchConfig one = p.config();
        one.vcpus = MATRIX[i].vcpus;
        one.vcpu_type = MATRIX[i].vcpu_type;
        one.vmm_type = MATRIX[i].vmm_type;
        measure::Measurement m = measure::measure(request_from_config(one).value().inputs).value();
        CHECK(s.predicate.shapes[i].shape == MATRIX[i]);
        CHECK(to_hex(s.predicate.shapes[i].measurement) == to_hex(m.digest));
    }
    REQUIRE(s.subjects.size() == 3);
    CHECK(s.subjects[0] ==
          release::Subject{"firmware", crypto::Sha256::of(test::read_vector("measure/ovmf_AmdSev_suffix.bin"))});
    CHECK(s.subjects[1] == release::Subject{"kernel", crypto::Sha256::of(p.kernel)});
    CHECK(s.subjects[2] == release::Subject{"initrd", crypto::Sha256::of(p.initrd)});
    CHECK(s.predicate.tool == "cvm test");
    CHECK(s.predicate.source_date_epoch == 1700000000);
    CHECK_FALSE(s.predicate.not_after);
    CHECK(s.predicate.mode == "snp");
    CHECK(s.predicate.policy == 0x70000);
    CHECK(s.predicate.guest_features == 0x21);
    CHECK(s.predicate.cmdline == "console=ttyS0 cvminit.simulate=1");
    CHECK_FALSE(s.predicate.host_data);
    CHECK(r.image_ms > 0);

    // What the bundle carries reads back as the same statement.
    std::string json = release::to_json(s);
    CHECK(release::parse_statement(json).value() == s);

    ReleaseRequest valid = request_for(p, MATRIX);
    valid.valid_days = 30;
    CHECK(*build_release(valid).value().statement.predicate.not_after == 1700000000 + 30 * 86400);
}

TEST_CASE("the same statement from any directory, naming none")
{
    Project a;
    Project b;
    std::string json_a = release::to_json(build_release(request_for(a, MATRIX)).value().statement);
    std::string json_b = release::to_json(build_release(request_for(b, MATRIX)).value().statement);
    CHECK(json_a == json_b);
    CHECK_FALSE(contains(json_a, a.dir.path()));
    CHECK_FALSE(contains(json_a, "/tmp"));
    CHECK_FALSE(contains(json_a, "OVMF.fd"));
    CHECK(contains(json_a, "\"source_date_epoch\":1700000000"));
    // Another SOURCE_DATE_EPOCH is another statement, with the same measurements.
    ReleaseRequest later = request_for(a, MATRIX);
    later.source_date_epoch += 1;
    release::Statement s = build_release(later).value().statement;
    CHECK(release::to_json(s) != json_a);
    CHECK(s.predicate.shapes == release::parse_statement(json_a).value().predicate.shapes);
}

TEST_CASE("HOST_DATA: given in launch.toml, or the init-data document's, which becomes a subject")
{
    Project p("host_data = \"" + std::string(64, 'a') + "\"");
    release::Statement s = build_release(request_for(p, MATRIX)).value().statement;
    REQUIRE(s.predicate.host_data);
    CHECK(to_hex(*s.predicate.host_data) == std::string(64, 'a'));
    CHECK(s.subjects.size() == 3);

    std::string document =
        initdata::compose(initdata::Algorithm::Sha384, {{"cvminit.toml", "broker = \"https://kb:8443\"\n"}}).value();
    p.dir.write("deploy.toml", bytes(document));
    p.write_launch("initdata = \"deploy.toml\"");
    release::Statement with_initdata = build_release(request_for(p, MATRIX)).value().statement;
    REQUIRE(with_initdata.subjects.size() == 4);
    CHECK(with_initdata.subjects[3] == release::Subject{"init-data", crypto::Sha256::of(bytes(document))});
    CHECK(*with_initdata.predicate.host_data == initdata::host_data(initdata::parse(document).value()));
    // HOST_DATA is not measured: the same MEASUREMENTs.
    CHECK(with_initdata.predicate.shapes == s.predicate.shapes);

    // The document read for the subject must still be the one launch.toml was read with.
    ReleaseRequest changed = request_for(p, MATRIX);
    p.dir.write("deploy.toml", bytes(initdata::compose(initdata::Algorithm::Sha384, {{"cvminit.toml", ""}}).value()));
    CHECK(contains(release_error(changed), "deploy.toml changed while it was read"));
}

TEST_CASE("the launch.toml's own shape: the release without shapes, and one of them with shapes")
{
    Project p("vcpus = 4\nvcpu_type = \"EPYC-Milan\"");
    ReleaseResult own = build_release(request_for(p, {})).value();
    REQUIRE(own.statement.predicate.shapes.size() == 1);
    CHECK(own.statement.predicate.shapes[0].shape == release::Shape{4, "EPYC-Milan", "QEMU"});
    CHECK(own.statement.predicate.shapes[0] ==
          build_release(request_for(p, MATRIX)).value().statement.predicate.shapes[1]);

    // Not in the matrix: cvm launch with this file would start a VM the release does not cover.
    std::vector<release::Shape> without = {MATRIX[0], MATRIX[2]};
    CHECK(contains(release_error(request_for(p, without)),
                   "launch.toml's own launch (vcpus = 4, vCPU signature 0xa00f11, QEMU; MEASUREMENT "));
    CHECK(contains(release_error(request_for(p, without)), "is none of the release's 2 shapes"));
    // Compared by MEASUREMENT: the same signature under another name is covered.
    p.write_launch("vcpus = 4\nvcpu_sig = 0xa00f11");
    CHECK(release_error(request_for(p, MATRIX)) == "built");
    // Without vcpus it chooses nothing.
    p.write_launch("vcpu_type = \"EPYC-Turin\"");
    CHECK(release_error(request_for(p, without)) == "built");

    // Without shapes, the file's own shape must be complete and named.
    CHECK(contains(release_error(request_for(p, {})), "launch.toml has no vcpus: without --shapes"));
    p.write_launch("vcpus = 2\nvcpu_sig = 0xa00f11");
    CHECK(contains(release_error(request_for(p, {})), "launch.toml has no vcpu_type"));
    p.write_launch("vcpus = 2\nvcpu_type = \"EPYC-v4\"\nvmm_type = \"qemu\"");
    CHECK(build_release(request_for(p, {})).value().statement.predicate.shapes[0].shape ==
          release::Shape{2, "EPYC-v4", "QEMU"});
    // A launch cvm measure would refuse is refused here too.
    p.write_launch("vcpus = 2");
    CHECK(contains(release_error(request_for(p, MATRIX)), "launch.toml: missing --vcpu-type"));
}

TEST_CASE("refusals")
{
    Project p;
    CHECK(release_error(request_for(p, MATRIX)) == "built");

    ReleaseRequest seves = request_for(p, MATRIX);
    seves.launch.mode = "seves";
    CHECK(release_error(seves) == "launch.toml key 'mode' is \"seves\", expected \"snp\": a release lists SEV-SNP "
                                  "MEASUREMENTs");
    Project seeded;
    std::string text = "mode = \"snp\"\n[firmware]\novmf = \"OVMF.fd\"\nsnp_ovmf_hash = \"" + std::string(96, '0') +
                       "\"\n[kernel]\npath = \"vmlinuz\"\n";
    seeded.dir.write("launch.toml", bytes(text));
    CHECK(contains(release_error(request_for(seeded, MATRIX)), "launch.toml key 'firmware.snp_ovmf_hash'"));

    Project ok;
    ReleaseRequest r = request_for(ok, MATRIX);
    r.source_date_epoch = -1;
    CHECK(release_error(r) == "SOURCE_DATE_EPOCH -1, expected 0 to 9007199254740991");
    r.source_date_epoch = int64_t{1} << 53;
    CHECK(contains(release_error(r), "expected 0 to 9007199254740991"));
    r = request_for(ok, MATRIX);
    r.valid_days = 0;
    CHECK(release_error(r) == "validity of 0 days, expected 1 to 36600");
    r.valid_days = MAX_VALID_DAYS + 1;
    CHECK(contains(release_error(r), "validity of 36601 days"));
    r.valid_days = MAX_VALID_DAYS;
    r.source_date_epoch = (int64_t{1} << 53) - 10;
    CHECK(contains(release_error(r), "is beyond 2^53 - 1 seconds"));

    r = request_for(ok, {MATRIX[0], MATRIX[1], MATRIX[0]});
    CHECK(release_error(r) == "shape 2: 1 x EPYC-v4 on QEMU again, expected each shape once");
    r = request_for(ok, {{0, "EPYC", "QEMU"}});
    CHECK(release_error(r) == "shape 0: 0 vCPUs, expected 1 to 4096");
    r = request_for(ok, {{1, "EPYC-Zen9", "QEMU"}});
    CHECK(contains(release_error(r), "shape 0: vCPU type 'EPYC-Zen9', expected a named type"));
    r = request_for(ok, {{1, "EPYC", "qemu"}});
    CHECK(release_error(r) == "shape 0: VMM type 'qemu', expected QEMU, ec2 or gce");
    r = request_for(ok, std::vector<release::Shape>(release::MAX_SHAPES + 1, MATRIX[0]));
    CHECK(release_error(r) == "4097 shapes, expected at most 4096");

    // The files' own errors, as cvm measure gives them.
    std::filesystem::remove(ok.dir.path() + "/vmlinuz");
    CHECK(contains(release_error(request_for(ok, MATRIX)), "vmlinuz"));
}
