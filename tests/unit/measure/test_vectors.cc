// Every row of the launch-digest table in tests/vectors/README.md (sev-snp-measure's own test
// suite), computed from the firmware fixtures read in place. "empty" kernel and initrd are
// /dev/null, as in the reference tests.
#include <doctest.h>

#include "measure/measure.h"
#include "measure/vcpu_types.h"
#include "vectors.h"

using namespace cvm;
using namespace cvm::measure;

namespace {

const std::string AMDSEV = "measure/ovmf_AmdSev_suffix.bin";
const std::string OVMFX64 = "measure/ovmf_OvmfX64_suffix.bin";
const uint32_t EPYC_V4 = 0x800f12;

Inputs snp(const std::string& fw, uint32_t vcpus, uint64_t features, VmmType vmm = VmmType::Qemu)
{
    Inputs in;
    in.mode = Mode::Snp;
    in.ovmf = test::vector_path(fw);
    in.vcpus = vcpus;
    in.guest_features = features;
    in.vmm = vmm;
    if (vmm == VmmType::Qemu)
        in.vcpu_sig = EPYC_V4;
    return in;
}

Inputs with_empty_kernel(Inputs in, const std::string& append = "")
{
    in.kernel = "/dev/null";
    in.initrd = "/dev/null";
    in.append = append;
    return in;
}

std::string digest_of(const Inputs& in)
{
    auto m = measure::measure(in);
    if (!m.ok())
        return "error: " + std::string(m.error().message());
    return to_hex(m->digest);
}

}  // namespace

TEST_CASE("snp:ovmf-hash of the AmdSev fixture")
{
    Inputs in;
    in.mode = Mode::SnpOvmfHash;
    in.ovmf = test::vector_path(AMDSEV);
    CHECK(digest_of(in) ==
          "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74");
}

TEST_CASE("snp, AmdSev, QEMU, empty kernel and initrd")
{
    const std::string app = "console=ttyS0 loglevel=7";
    CHECK(digest_of(with_empty_kernel(snp(AMDSEV, 1, 0x21), app)) ==
          "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977");
    CHECK(digest_of(with_empty_kernel(snp(AMDSEV, 1, 0x1), app)) ==
          "6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa");
    CHECK(digest_of(with_empty_kernel(snp(AMDSEV, 1, 0x21))) ==
          "329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198");
    CHECK(digest_of(with_empty_kernel(snp(AMDSEV, 1, 0x1))) ==
          "ddc5224521617a536ee7ce9dd6224d1b58a8d4fda1c741f3ac99fc4bfa04ba6e9fc98646d4a07a9079397fa3852819b5");
    CHECK(digest_of(with_empty_kernel(snp(AMDSEV, 4, 0x21))) ==
          "4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942");
    CHECK(digest_of(with_empty_kernel(snp(AMDSEV, 4, 0x1))) ==
          "5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5");
}

TEST_CASE("snp from a precomputed OVMF hash gives the same digests")
{
    auto seed =
        from_hex("086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74");
    REQUIRE(seed);
    Inputs in = with_empty_kernel(snp(AMDSEV, 1, 0x21));
    in.snp_ovmf_hash.emplace();
    std::copy(seed->begin(), seed->end(), in.snp_ovmf_hash->begin());
    CHECK(digest_of(in) ==
          "329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198");
    in.guest_features = 0x1;
    CHECK(digest_of(in) ==
          "ddc5224521617a536ee7ce9dd6224d1b58a8d4fda1c741f3ac99fc4bfa04ba6e9fc98646d4a07a9079397fa3852819b5");
    in.append = "console=ttyS0 loglevel=7";
    CHECK(digest_of(in) ==
          "6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa");
}

TEST_CASE("snp on ec2 and gce")
{
    CHECK(digest_of(with_empty_kernel(snp(AMDSEV, 1, 0x21, VmmType::Ec2))) ==
          "0ce9ccc06bab55eebe8abc234f3df6514883977a68a591b71052498ab52b2f1aa415db338033946ef93aa8278c0d67fb");
    CHECK(digest_of(with_empty_kernel(snp(AMDSEV, 1, 0x1, VmmType::Ec2))) ==
          "0883bd0eeb716e65b7b977a321c278d1e51b33b5c655fab985443bbcc65c086b9c15e8a0bd8811050dec7e24964e5056");
    CHECK(digest_of(with_empty_kernel(snp(AMDSEV, 1, 0x1, VmmType::Gce))) ==
          "5da7106cf14cf46b1725ebab123eb9e53bd46a1e9f400cd0c08e7827b04b688ea8b4e403c8404efed4397ea5d5d0722e");
    CHECK(digest_of(with_empty_kernel(snp(AMDSEV, 4, 0x1, VmmType::Gce))) ==
          "5c5debf100fc339f90276e761ee1f1658d08922c3b20e2a2e6c7a6c3370b2452a15a00eae11886a93d6fd1e7ab81e29d");
}

TEST_CASE("snp without a kernel")
{
    CHECK(digest_of(snp(AMDSEV, 1, 0x21)) ==
          "e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b");
    CHECK(digest_of(snp(AMDSEV, 1, 0x1)) ==
          "19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d");
    CHECK(digest_of(snp(OVMFX64, 1, 0x21)) ==
          "28797ae0afaba4005a81e629acebfb59e6687949d6be44007cd5506823b0dd66f146aaae26ff291eed7b493d8a64c385");
    CHECK(digest_of(snp(OVMFX64, 1, 0x1)) ==
          "da0296de8193586a5512078dcd719eccecbd87e2b825ad4148c44f665dc87df21e5b49e21523a9ad993afdb6a30b4005");
    Inputs turin = snp(AMDSEV, 1, 0x1);
    turin.vcpu_sig = vcpu_type_sig("EPYC-Turin");
    CHECK(digest_of(turin) ==
          "4450c0703e809d10bad0ff1429817e9e95d0fbf9da316278d4f9acbbab8da5a695a098a90f9cfaaee831e91b6ed4d54c");
}

TEST_CASE("a kernel with a firmware that has no kernel-hashes section is an error")
{
    auto m = measure::measure(with_empty_kernel(snp(OVMFX64, 1, 0x21)));
    REQUIRE_FALSE(m.ok());
    std::string message(m.error().message());
    CHECK(message.find("the firmware has no kernel-hashes section") != std::string::npos);
    CHECK(message.find("ovmf_OvmfX64_suffix.bin") != std::string::npos);
}

TEST_CASE("seves")
{
    Inputs in = with_empty_kernel(snp(AMDSEV, 1, 0x1));
    in.mode = Mode::SevEs;
    CHECK(digest_of(in) == "13810ae661ea11e2bb205621f582fee268f0367c8f97bc297b7fadef3e12002c");
    in.vcpus = 4;
    in.guest_features = 0x21;  // ignored: SEV-ES VMSAs have SEV_FEATURES 0
    CHECK(digest_of(in) == "0dccbcaba8e90b261bd0d2e1863a2f9da714768b7b2a19363cd6ae35aa90de91");
}

TEST_CASE("sev")
{
    Inputs in;
    in.mode = Mode::Sev;
    in.ovmf = test::vector_path(AMDSEV);
    in.kernel = "/dev/null";
    CHECK(digest_of(in) == "77f613d7bbcdf12a73782ea9e88b0172aeda50d1a54201cb903594ff52846898");
    in.initrd = "/dev/null";
    in.append = "console=ttyS0 loglevel=7";
    CHECK(digest_of(in) == "82a3ee5d537c3620628270c292ae30cb40c3c878666a7890ee7ef2a08fb535ff");

    Inputs x64;
    x64.mode = Mode::Sev;
    x64.ovmf = test::vector_path(OVMFX64);
    CHECK(digest_of(x64) == "b4c021e085fb83ceffe6571a3d357b4a98773c83c474e47f76c876708fe316da");
}

TEST_CASE("snp:svsm")
{
    Inputs in;
    in.mode = Mode::SnpSvsm;
    in.ovmf = test::vector_path("measure/svsm_ovmf.fd");
    in.svsm = test::vector_path("measure/svsm.bin");
    in.vars_size = 540672;
    in.vcpu_sig = EPYC_V4;
    in.guest_features = 0x21;  // ignored: SVSM VMSAs have SEV_FEATURES 0x1
    in.vcpus = 4;
    CHECK(digest_of(in) ==
          "27d154c27b7b359c935e250ec6fee72aa0ae8c1225e3b0e1cf46a9567e938066d7d6f94bbdc4a857818bdb79277a44b2");
    in.vcpus = 2;
    CHECK(digest_of(in) ==
          "9b94745036aafddf4f7f8b00c7513abb5b7703178cb95aaa57928bd963d68d3bfcb715d6019b9167ee2517b11b0d9be7");
}
