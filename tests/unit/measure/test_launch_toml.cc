// launch.toml: the full format, path resolution, and the errors that name the key.
#include <doctest.h>

#include "measure/launch_toml.h"

using namespace cvm;
using namespace cvm::launch;

namespace {

std::string error_of(const std::string& text)
{
    auto c = parse_launch_toml(text, "/etc/vm");
    return c.ok() ? "parsed" : std::string(c.error().message());
}

bool contains(const std::string& s, const char* part)
{
    return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a complete launch.toml")
{
    const char* text = R"(
mode = "snp"
vcpus = 4
vcpu_type = "EPYC-Milan"
vmm_type = "ec2"
guest_features = 0x21
memory_mib = 4096

[firmware]
ovmf = "OVMF.amdsev.fd"
snp_ovmf_hash = "00"

[kernel]
path = "/boot/vmlinuz"
initrd = "images/initrd.img"
cmdline = ["console=ttyS0", "cvminit.broker=https://kb:8443"]
)";
    LaunchConfig c = parse_launch_toml(text, "/etc/vm").value();
    CHECK(c.mode == "snp");
    CHECK(c.vcpus == 4u);
    CHECK(c.vcpu_type == "EPYC-Milan");
    CHECK(c.vmm_type == "ec2");
    CHECK(c.guest_features == 0x21);
    CHECK(c.memory_mib == 4096u);
    CHECK(c.ovmf == "/etc/vm/OVMF.amdsev.fd");
    CHECK(c.snp_ovmf_hash == "00");
    CHECK(c.kernel == "/boot/vmlinuz");
    CHECK(c.initrd == "/etc/vm/images/initrd.img");
    CHECK(c.cmdline_string() == "console=ttyS0 cvminit.broker=https://kb:8443");
}

TEST_CASE("defaults and the minimal file")
{
    LaunchConfig c = parse_launch_toml("[firmware]\novmf = \"fw.fd\"\n", "").value();
    CHECK(c.mode == "snp");
    CHECK(c.vmm_type == "QEMU");
    CHECK(c.guest_features == 0x1);
    CHECK(c.ovmf == "fw.fd");
    CHECK_FALSE(c.vcpus);
    CHECK_FALSE(c.kernel);
    CHECK(c.cmdline_string().empty());
}

TEST_CASE("vCPU signature keys and SVSM keys")
{
    LaunchConfig c =
        parse_launch_toml("vcpu_sig = 0xa10f10\nvcpu_family = 25\nvcpu_model = 17\nvcpu_stepping = 0\n"
                          "mode = \"snp:svsm\"\n[firmware]\novmf = \"a\"\nsvsm = \"s\"\nvars_size = 540672\n"
                          "vars_file = \"v\"\n",
                          "/d")
            .value();
    CHECK(c.vcpu_sig == 0xa10f10u);
    CHECK(c.vcpu_family == 25u);
    CHECK(c.vcpu_model == 17u);
    CHECK(c.vcpu_stepping == 0u);
    CHECK(c.svsm == "/d/s");
    CHECK(c.vars_size == 540672u);
    CHECK(c.vars_file == "/d/v");
}

TEST_CASE("errors name the key")
{
    const std::string fw = "[firmware]\novmf = \"fw\"\n";
    CHECK(contains(error_of("vcpu = 4\n" + fw), "key 'vcpu': unknown key"));
    CHECK(contains(error_of("vcpus = \"4\"\n" + fw), "key 'vcpus': expected an integer"));
    CHECK(contains(error_of("vcpus = -1\n" + fw), "key 'vcpus': expected an integer from 0 to 4294967295"));
    CHECK(contains(error_of("mode = \"\"\n" + fw), "key 'mode': expected a non-empty string"));
    CHECK(contains(error_of("mode = 1\n" + fw), "key 'mode': expected a non-empty string"));
    CHECK(contains(error_of("firmware = 1\n"), "key 'firmware': expected a table"));
    CHECK(contains(error_of("[firmware]\nkernel = \"k\"\n"), "key 'firmware.kernel': unknown key"));
    CHECK(contains(error_of("vcpus = 1\n"), "key 'firmware.ovmf': missing"));
    CHECK(contains(error_of(fw + "[kernel]\ninitrd = \"i\"\n"), "key 'kernel.path': missing"));
    CHECK(contains(error_of(fw + "[kernel]\npath = \"k\"\ncmdline = \"a b\"\n"), "expected a list of strings"));
    CHECK(contains(error_of(fw + "[kernel]\npath = \"k\"\ncmdline = [\"a\", 2]\n"), "key 'kernel.cmdline'"));
    CHECK(contains(error_of(fw + "[kernel]\npath = \"k\"\ncmdline = [\"a\\u0000b\"]\n"), "key 'kernel.cmdline'"));
    CHECK(contains(error_of("vcpus = 4\nvcpus = 5\n" + fw), "TOML syntax error at line 2"));
}
