// measure(): input checks, the kernel path end to end, and digests beyond the vectors table
// (computed with sev-snp-measure 0.0.13 on the same fixtures, ../shared/reference/measure.md §3).
#include <doctest.h>

#include "measure/measure.h"
#include "measure/ovmf.h"
#include "temp_dir.h"
#include "vectors.h"

using namespace cvm;
using namespace cvm::measure;

namespace {

Inputs amdsev(uint32_t vcpus)
{
    Inputs in;
    in.mode = Mode::Snp;
    in.ovmf = test::vector_path("measure/ovmf_AmdSev_suffix.bin");
    in.vcpus = vcpus;
    in.vcpu_sig = 0x800f12;
    return in;
}

std::string error_of(const Inputs& in)
{
    auto m = measure::measure(in);
    return m.ok() ? "measured" : std::string(m.error().message());
}

bool contains(const std::string& s, const char* part)
{
    return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("more reference digests: two vCPUs, signature 0")
{
    CHECK(to_hex(measure::measure(amdsev(2)).value().digest) ==
          "ae7e31b6e2220dcb2832b050464cf9fb5da4feed92be5cdd966435c2ee722f341410bb2438923ee696bd23460ff9c904");
    Inputs zero = amdsev(2);
    zero.vcpu_sig = 0;
    CHECK(to_hex(measure::measure(zero).value().digest) ==
          "9c2d327d3c04cf05853eb1ff13e021ac794a9fbd4457bc36cc3c7caf821e950039776a9413badbd29e7a95e4b4500ff8");
}

TEST_CASE("snp:ovmf-hash ignores a precomputed OVMF hash, as sev-snp-measure does")
{
    Inputs in = amdsev(1);
    in.mode = Mode::SnpOvmfHash;
    in.snp_ovmf_hash.emplace().fill(0xEE);
    CHECK(to_hex(measure::measure(in).value().digest) ==
          "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74");
}

TEST_CASE("what a measurement reports besides the digest")
{
    Inputs in = amdsev(3);
    in.file_digests = true;
    Measurement m = measure::measure(in).value();
    CHECK(m.digest.size() == 48);
    CHECK_FALSE(measure::measure(amdsev(3)).value().ovmf_sha256);  // only when asked for
    REQUIRE(m.ovmf_sha256);
    CHECK(to_hex(*m.ovmf_sha256) == "8f765dfabc127fc0a938a0744a3103ec15864d7d794eb4c398aa976b6d6ab16c");
    CHECK(to_hex(*m.ovmf_snp_hash) ==
          "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74");
    REQUIRE(m.vmsas.size() == 2);
    CHECK(&m.vmsa_for(0) == &m.vmsas[0]);
    CHECK(&m.vmsa_for(2) == &m.vmsas[1]);
    CHECK_FALSE(m.kernel_hashes);

    Inputs sev;
    sev.mode = Mode::Sev;
    sev.ovmf = test::vector_path("measure/ovmf_OvmfX64_suffix.bin");
    sev.file_digests = true;
    Measurement s = measure::measure(sev).value();
    CHECK(s.digest.size() == 32);
    REQUIRE(s.ovmf_sha256);
    CHECK(to_hex(s.digest) == to_hex(*s.ovmf_sha256));
    CHECK(s.vmsas.empty());
}

TEST_CASE("a measured direct boot hashes the files it is given")
{
    test::TempDir dir;
    Bytes kernel = test::fake_bzimage(1 << 20);
    Bytes initrd(3 << 20, 7);
    Inputs in = amdsev(1);
    in.kernel = dir.write("vmlinuz", kernel);
    in.initrd = dir.write("initrd", initrd);
    in.append = "console=ttyS0";
    Measurement m = measure::measure(in).value();
    REQUIRE(m.kernel_hashes);
    CHECK(m.kernel_hashes->kernel == crypto::Sha256::of(kernel));
    CHECK(m.kernel_hashes->initrd == crypto::Sha256::of(initrd));
    CHECK(m.kernel_hashes->cmdline == cmdline_hash("console=ttyS0"));
    CHECK(m.digest != measure::measure(amdsev(1)).value().digest);

    in.kernel = dir.write("not-a-kernel", Bytes(4096, 1));
    CHECK(contains(error_of(in), "not-a-kernel: not a bzImage"));
}

TEST_CASE("inconsistent inputs")
{
    Inputs in = amdsev(0);
    CHECK(contains(error_of(in), "0 vCPUs: mode snp needs 1 to 4096"));
    in.vcpus = MAX_VCPUS + 1;
    CHECK(contains(error_of(in), "4097 vCPUs"));
    in = amdsev(1);
    in.vcpu_sig.reset();
    CHECK(contains(error_of(in), "needs the vCPU signature"));
    in.vmm = VmmType::Ec2;
    CHECK(error_of(in) == "measured");
    in = amdsev(1);
    in.initrd = "/dev/null";
    CHECK(contains(error_of(in), "an initrd or a command line needs a kernel"));
    in = amdsev(1);
    in.mode = Mode::SevEs;
    in.snp_ovmf_hash = LaunchDigest{};
    CHECK(contains(error_of(in), "only works in mode snp"));
    in = amdsev(1);
    in.mode = Mode::SnpSvsm;
    CHECK(contains(error_of(in), "needs the SVSM image"));
    in.svsm = test::vector_path("measure/svsm.bin");
    in.vmm = VmmType::Gce;
    CHECK(contains(error_of(in), "only defined for QEMU"));
    in = amdsev(1);
    in.ovmf.clear();
    CHECK(contains(error_of(in), "an OVMF image is required"));
}

TEST_CASE("firmware that cannot carry the requested launch")
{
    test::TempDir dir;
    Bytes fixture = test::read_vector("measure/ovmf_AmdSev_suffix.bin");
    Inputs in = amdsev(1);
    in.ovmf = dir.write("odd.fd", ByteView(fixture).subspan(100));
    CHECK(contains(error_of(in), "odd.fd: 3996 bytes is not a whole number of 4 KiB pages"));
    in.mode = Mode::Sev;  // SEV hashes the image as it is
    CHECK(error_of(in) == "measured");

    in = amdsev(1);
    in.ovmf = dir.write("plain.fd", Bytes(8192, 0));
    CHECK(contains(error_of(in), "plain.fd: the firmware has no SEV-ES reset block"));

    in = amdsev(1);
    in.mode = Mode::SnpSvsm;
    in.svsm = test::vector_path("measure/ovmf_AmdSev_suffix.bin");
    CHECK(contains(error_of(in), "no SVSM info entry"));
    in.svsm = test::vector_path("measure/svsm.bin");
    in.vars_size = 100;
    CHECK(contains(error_of(in), "variable store size 0x64"));
    in.vars_size = FOUR_GIB;
    CHECK(contains(error_of(in), "variable store size"));

    in = amdsev(1);
    in.mode = Mode::Sev;
    in.ovmf = test::vector_path("measure/ovmf_OvmfX64_suffix.bin");
    in.kernel = "/dev/null";
    CHECK(contains(error_of(in), "the firmware has no kernel-hashes table"));
}
