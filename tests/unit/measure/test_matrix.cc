// measure_matrix(): the vector rows of one image computed together, every shape equal to its own
// measure(), in any order and with repeats, and the errors measure() gives, before any file is read.
#include <doctest.h>

#include "image_builder.h"
#include "measure/matrix.h"
#include "measure/vcpu_types.h"
#include "temp_dir.h"
#include "vectors.h"

using namespace cvm;
using namespace cvm::measure;

namespace {

constexpr uint32_t EPYC_V4 = 0x800f12;

Inputs amdsev_empty_kernel()
{
    Inputs in;
    in.mode = Mode::Snp;
    in.ovmf = test::vector_path("measure/ovmf_AmdSev_suffix.bin");
    in.kernel = "/dev/null";
    in.initrd = "/dev/null";
    return in;
}

std::string matrix_error(const Inputs& in, const std::vector<LaunchShape>& shapes)
{
    auto m = measure_matrix(in, shapes);
    return m.ok() ? "measured" : std::string(m.error().message());
}

std::string measure_error(Inputs in, const LaunchShape& shape)
{
    in.vcpus = shape.vcpus;
    in.vcpu_sig = shape.vcpu_sig;
    in.vmm = shape.vmm;
    auto m = measure::measure(in);
    return m.ok() ? "measured" : std::string(m.error().message());
}

// Every shape's digest from the matrix against measure() run for that shape alone.
void check_against_measure(const Inputs& in, const std::vector<LaunchShape>& shapes)
{
    Matrix matrix = measure_matrix(in, shapes).value();
    REQUIRE(matrix.measurements.size() == shapes.size());
    for (size_t i = 0; i < shapes.size(); ++i) {
        CAPTURE(i);
        Inputs one = in;
        one.vcpus = shapes[i].vcpus;
        one.vcpu_sig = shapes[i].vcpu_sig;
        one.vmm = shapes[i].vmm;
        Measurement m = measure::measure(one).value();
        CHECK(to_hex(matrix.measurements[i]) == to_hex(m.digest));
        CHECK(matrix.ovmf_snp_hash == *m.ovmf_snp_hash);
        CHECK(matrix.kernel_hashes.has_value() == m.kernel_hashes.has_value());
    }
}

}  // namespace

TEST_CASE("the matrix of the vector rows: one image, five shapes")
{
    std::vector<LaunchShape> shapes = {
        {4, EPYC_V4, VmmType::Qemu},     {1, std::nullopt, VmmType::Gce}, {1, EPYC_V4, VmmType::Qemu},
        {4, std::nullopt, VmmType::Gce}, {1, std::nullopt, VmmType::Ec2},
    };
    Matrix m = measure_matrix(amdsev_empty_kernel(), shapes).value();
    REQUIRE(m.measurements.size() == 5);
    CHECK(to_hex(m.measurements[0]) ==
          "5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5");
    CHECK(to_hex(m.measurements[1]) ==
          "5da7106cf14cf46b1725ebab123eb9e53bd46a1e9f400cd0c08e7827b04b688ea8b4e403c8404efed4397ea5d5d0722e");
    CHECK(to_hex(m.measurements[2]) ==
          "ddc5224521617a536ee7ce9dd6224d1b58a8d4fda1c741f3ac99fc4bfa04ba6e9fc98646d4a07a9079397fa3852819b5");
    CHECK(to_hex(m.measurements[3]) ==
          "5c5debf100fc339f90276e761ee1f1658d08922c3b20e2a2e6c7a6c3370b2452a15a00eae11886a93d6fd1e7ab81e29d");
    CHECK(to_hex(m.measurements[4]) ==
          "0883bd0eeb716e65b7b977a321c278d1e51b33b5c655fab985443bbcc65c086b9c15e8a0bd8811050dec7e24964e5056");
    CHECK(to_hex(m.ovmf_snp_hash) ==
          "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74");
    REQUIRE(m.kernel_hashes);
    CHECK(to_hex(m.kernel_hashes->kernel) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK_FALSE(m.ovmf_sha256);  // only when asked for

    Inputs with_digests = amdsev_empty_kernel();
    with_digests.file_digests = true;
    Matrix d = measure_matrix(with_digests, shapes).value();
    REQUIRE(d.ovmf_sha256);
    CHECK(to_hex(*d.ovmf_sha256) == "8f765dfabc127fc0a938a0744a3103ec15864d7d794eb4c398aa976b6d6ab16c");
    CHECK(d.measurements == m.measurements);
}

TEST_CASE("without a kernel: every row of the no-kernel vectors at once")
{
    Inputs in;
    in.mode = Mode::Snp;
    in.ovmf = test::vector_path("measure/ovmf_AmdSev_suffix.bin");
    std::vector<LaunchShape> shapes = {
        {2, 0, VmmType::Qemu},
        {2, EPYC_V4, VmmType::Qemu},
        {1, vcpu_type_sig("EPYC-Turin"), VmmType::Qemu},
        {1, EPYC_V4, VmmType::Qemu},
    };
    Matrix m = measure_matrix(in, shapes).value();
    CHECK(to_hex(m.measurements[0]) ==
          "9c2d327d3c04cf05853eb1ff13e021ac794a9fbd4457bc36cc3c7caf821e950039776a9413badbd29e7a95e4b4500ff8");
    CHECK(to_hex(m.measurements[1]) ==
          "ae7e31b6e2220dcb2832b050464cf9fb5da4feed92be5cdd966435c2ee722f341410bb2438923ee696bd23460ff9c904");
    CHECK(to_hex(m.measurements[2]) ==
          "4450c0703e809d10bad0ff1429817e9e95d0fbf9da316278d4f9acbbab8da5a695a098a90f9cfaaee831e91b6ed4d54c");
    CHECK(to_hex(m.measurements[3]) ==
          "19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d");
    CHECK_FALSE(m.kernel_hashes);
}

TEST_CASE("every shape of a large matrix equals its own measure(), whatever the order")
{
    test::TempDir dir;
    Inputs in = amdsev_empty_kernel();
    in.kernel = dir.write("vmlinuz", test::fake_bzimage(256 << 10));
    in.initrd = dir.write("initrd", Bytes(300000, 0x5a));
    in.append = "console=ttyS0 cvminit.simulate=1";
    in.guest_features = 0x21;

    std::vector<LaunchShape> shapes;
    const uint32_t counts[] = {64, 1, 3, 2, 16, 1, 7};  // unsorted, 1 twice
    const std::optional<uint32_t> sigs[] = {EPYC_V4, vcpu_type_sig("EPYC-Milan"), vcpu_type_sig("EPYC-Genoa"), 0};
    for (VmmType vmm : {VmmType::Gce, VmmType::Qemu, VmmType::Ec2})
        for (auto sig : sigs)
            for (uint32_t n : counts)
                shapes.push_back({n, sig, vmm});
    check_against_measure(in, shapes);

    // The same matrix seeded with the OVMF pages' digest, and from firmware without a kernel.
    in.snp_ovmf_hash = measure_matrix(in, shapes).value().ovmf_snp_hash;
    check_against_measure(in, shapes);
    Inputs x64;
    x64.mode = Mode::Snp;
    x64.ovmf = test::vector_path("measure/ovmf_OvmfX64_suffix.bin");
    check_against_measure(x64, shapes);

    // A different seed changes every digest: the seed is used, not recomputed.
    Matrix seeded = measure_matrix(in, shapes).value();
    in.snp_ovmf_hash->at(0) ^= 1;
    Matrix other = measure_matrix(in, shapes).value();
    for (size_t i = 0; i < shapes.size(); ++i)
        CHECK(other.measurements[i] != seeded.measurements[i]);
}

TEST_CASE("the shapes are checked first, each named")
{
    Inputs in = amdsev_empty_kernel();
    CHECK(matrix_error(in, {}) == "no shapes to measure: expected at least one");
    CHECK(matrix_error(in, {{1, EPYC_V4, VmmType::Qemu}, {0, EPYC_V4, VmmType::Qemu}}) ==
          "shape 1: 0 vCPUs: mode snp needs 1 to 4096");
    CHECK(matrix_error(in, {{MAX_VCPUS + 1, EPYC_V4, VmmType::Qemu}}) ==
          "shape 0: 4097 vCPUs: mode snp needs 1 to 4096");
    CHECK(matrix_error(in, {{MAX_VCPUS, EPYC_V4, VmmType::Qemu}}) == "measured");
    CHECK(
        matrix_error(
            in, {{1, std::nullopt, VmmType::Ec2}, {2, std::nullopt, VmmType::Gce}, {2, std::nullopt, VmmType::Qemu}}) ==
        "shape 2: QEMU needs the vCPU signature (a vCPU type)");

    // measure() refuses the same shapes.
    CHECK(measure_error(in, {0, EPYC_V4, VmmType::Qemu}) != "measured");
    CHECK(measure_error(in, {1, std::nullopt, VmmType::Qemu}) != "measured");

    // Before any file is read: a bad shape wins over a missing firmware.
    in.ovmf = "/nonexistent/OVMF.fd";
    CHECK(matrix_error(in, {{1, EPYC_V4, VmmType::Qemu}, {0, EPYC_V4, VmmType::Qemu}}) ==
          "shape 1: 0 vCPUs: mode snp needs 1 to 4096");
    CHECK(matrix_error(in, {{1, EPYC_V4, VmmType::Qemu}}).find("/nonexistent/OVMF.fd") != std::string::npos);
}

TEST_CASE("launch errors are measure()'s")
{
    const LaunchShape one{1, EPYC_V4, VmmType::Qemu};
    Inputs in = amdsev_empty_kernel();
    in.mode = Mode::SevEs;
    CHECK(matrix_error(in, {one}) == "mode seves: the shape matrix is computed for mode snp only");
    in.mode = Mode::SnpOvmfHash;
    CHECK(matrix_error(in, {one}) == "mode snp:ovmf-hash: the shape matrix is computed for mode snp only");
    in.mode = Mode::SnpSvsm;
    CHECK(matrix_error(in, {one}) == "mode snp:svsm: the shape matrix is computed for mode snp only");

    in = amdsev_empty_kernel();
    in.kernel.reset();
    CHECK(matrix_error(in, {one}) == measure_error(in, one));
    CHECK(matrix_error(in, {one}).find("needs a kernel") != std::string::npos);
    in = amdsev_empty_kernel();
    in.ovmf.clear();
    CHECK(matrix_error(in, {one}) == measure_error(in, one));

    in = amdsev_empty_kernel();
    in.ovmf = test::vector_path("measure/ovmf_OvmfX64_suffix.bin");
    CHECK(matrix_error(in, {one}) == measure_error(in, one));
    CHECK(matrix_error(in, {one}).find("no kernel-hashes section") != std::string::npos);

    test::TempDir dir;
    in = amdsev_empty_kernel();
    in.kernel = dir.write("not-a-kernel", Bytes(4096, 1));
    CHECK(matrix_error(in, {one}) == measure_error(in, one));
    CHECK(matrix_error(in, {one}).find("not a bzImage") != std::string::npos);
}

TEST_CASE("an AP reset address of 0 is refused once a shape has a second vCPU")
{
    test::TempDir dir;
    Inputs in;
    in.mode = Mode::Snp;
    in.ovmf = dir.write("eip0.fd", test::image_with_table({{SEV_ES_RESET_BLOCK_GUID, test::u32_data(0)}}));
    const LaunchShape one{1, EPYC_V4, VmmType::Qemu};
    const LaunchShape two{2, EPYC_V4, VmmType::Qemu};
    CHECK(matrix_error(in, {one}) == "measured");
    CHECK(measure_error(in, one) == "measured");
    CHECK(matrix_error(in, {one, two}) == measure_error(in, two));
    CHECK(matrix_error(in, {one, two}).find("AP reset address 0") != std::string::npos);
}
