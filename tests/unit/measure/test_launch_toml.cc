// launch.toml: the full format, path resolution, and the errors that name the key.
#include <doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "initdata/initdata.h"
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

TEST_CASE("the report fields: policy, host_data, [id_block], author_key_enabled")
{
    const std::string fw = "[firmware]\novmf = \"fw\"\n";
    LaunchConfig plain = parse_launch_toml(fw, "/d").value();
    CHECK_FALSE(plain.policy);
    CHECK(plain.guest_policy() == 0x30000);
    CHECK_FALSE(plain.host_data);
    CHECK_FALSE(plain.id_block);
    CHECK_FALSE(plain.author_key_enabled);

    const std::string hd = std::string(62, '0') + "aB";
    LaunchConfig c =
        parse_launch_toml("policy = 0xb0000\nhost_data = \"" + hd + "\"\nauthor_key_enabled = true\n" + fw +
                              "[id_block]\nid_key = \"id.pem\"\nauthor_key = \"/k/author.pem\"\n"
                              "family_id = \"00112233445566778899aabbccddeeff\"\n"
                              "image_id = \"ffeeddccbbaa99887766554433221100\"\nguest_svn = 7\n",
                          "/d")
            .value();
    CHECK(c.guest_policy() == 0xb0000);
    REQUIRE(c.host_data);
    CHECK((*c.host_data)[31] == 0xab);
    CHECK((*c.host_data)[0] == 0);
    REQUIRE(c.id_block);
    CHECK(c.id_block->id_key == "/d/id.pem");
    CHECK(c.id_block->author_key == "/k/author.pem");
    CHECK(c.id_block->family_id[0] == 0x00);
    CHECK(c.id_block->family_id[15] == 0xff);
    CHECK(c.id_block->image_id[0] == 0xff);
    CHECK(c.id_block->guest_svn == 7u);
    CHECK(c.author_key_enabled);

    // author_key_enabled follows the author key when not given.
    CHECK(parse_launch_toml(fw + "[id_block]\nid_key = \"i\"\nauthor_key = \"a\"\n", "").value().author_key_enabled);
    CHECK_FALSE(parse_launch_toml(fw + "[id_block]\nid_key = \"i\"\n", "").value().author_key_enabled);
    CHECK_FALSE(parse_launch_toml("author_key_enabled = false\n" + fw, "").value().author_key_enabled);
}

TEST_CASE("the report fields' errors name the key")
{
    const std::string fw = "[firmware]\novmf = \"fw\"\n";
    // policy: bit 17 must be set, bits 63:26 clear (the firmware refuses the launch otherwise)
    CHECK(contains(error_of("policy = 0x10000\n" + fw), "key 'policy': 0x10000 has bit 17 clear"));
    CHECK(contains(error_of("policy = 0\n" + fw), "key 'policy': 0x0 has bit 17 clear"));
    CHECK(contains(error_of("policy = 0x4030000\n" + fw), "key 'policy': 0x4030000 has bit 17 clear or bits 63:26"));
    CHECK(error_of("policy = 0x3ff0000\n" + fw) == "parsed");  // bit 25 is the highest defined
    CHECK(contains(error_of("policy = -1\n" + fw), "key 'policy': expected a non-negative integer"));
    CHECK(contains(error_of("policy = \"0x30000\"\n" + fw), "key 'policy': expected a non-negative integer"));
    // host_data: exactly 64 hex digits
    CHECK(contains(error_of("host_data = \"00\"\n" + fw), "key 'host_data': expected 64 hex digits (32 bytes)"));
    CHECK(contains(error_of("host_data = \"" + std::string(66, '0') + "\"\n" + fw), "key 'host_data': expected 64"));
    CHECK(contains(error_of("host_data = \"" + std::string(63, '0') + "g\"\n" + fw), "key 'host_data'"));
    CHECK(contains(error_of("host_data = 5\n" + fw), "key 'host_data'"));
    // [id_block]
    CHECK(contains(error_of(fw + "[id_block]\nauthor_key = \"a\"\n"), "key 'id_block.id_key': missing"));
    CHECK(contains(error_of(fw + "[id_block]\n"), "key 'id_block.id_key': missing"));
    CHECK(contains(error_of("id_block = 1\n" + fw), "key 'id_block': expected a table"));
    CHECK(contains(error_of(fw + "[id_block]\nid_key = \"i\"\npolicy = 0x30000\n"), "key 'id_block.policy': unknown"));
    CHECK(contains(error_of(fw + "[id_block]\nid_key = \"i\"\nfamily_id = \"00\"\n"),
                   "key 'id_block.family_id': expected 32 hex digits (16 bytes)"));
    CHECK(contains(error_of(fw + "[id_block]\nid_key = \"i\"\nimage_id = \"" + std::string(34, '0') + "\"\n"),
                   "key 'id_block.image_id': expected 32 hex digits"));
    CHECK(contains(error_of(fw + "[id_block]\nid_key = \"i\"\nguest_svn = 4294967296\n"), "key 'id_block.guest_svn'"));
    CHECK(contains(error_of(fw + "[id_block]\nid_key = \"\"\n"), "key 'id_block.id_key': expected a non-empty"));
    // author_key_enabled can only say what [id_block] says
    CHECK(contains(error_of("author_key_enabled = true\n" + fw), "key 'author_key_enabled': true without"));
    CHECK(contains(error_of("author_key_enabled = true\n" + fw + "[id_block]\nid_key = \"i\"\n"),
                   "key 'author_key_enabled': true without an [id_block] author_key"));
    CHECK(contains(error_of("author_key_enabled = false\n" + fw + "[id_block]\nid_key = \"i\"\nauthor_key = \"a\"\n"),
                   "key 'author_key_enabled': false although [id_block] has an author_key"));
    CHECK(contains(error_of("author_key_enabled = 1\n" + fw), "key 'author_key_enabled': expected true or false"));
}

TEST_CASE("initdata: HOST_DATA is the document's digest, read relative to launch.toml")
{
    char tmpl[] = "/tmp/test_launch_toml.XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    const std::string dir = tmpl;
    auto write = [&dir](const std::string& name, const std::string& text) {
        std::ofstream(dir + "/" + name, std::ios::binary) << text;
    };
    // HOST_DATA: python3 hashlib.sha384(document).hexdigest()[:64].
    const std::string doc = "algorithm = \"sha384\"\nversion = \"0.1.0\"\n\n[data]\n"
                            "\"cvminit.toml\" = '''\nbroker = \"https://kb-eu.example:8443\"\n'''\n";
    write("deploy.toml", doc);
    write("bad.toml", "algorithm = \"md5\"\nversion = \"0.1.0\"\n[data]\n");
    const std::string fw = "[firmware]\novmf = \"fw\"\n";

    LaunchConfig c = parse_launch_toml("initdata = \"deploy.toml\"\n" + fw, dir).value();
    CHECK(c.initdata == dir + "/deploy.toml");
    REQUIRE(c.host_data);
    CHECK(to_hex(*c.host_data) == "4301d9d9f61bd702e6bb2dd192db635f43443267b6734da821495eabcef434b4");
    CHECK(parse_launch_toml("initdata = \"" + dir + "/deploy.toml\"\n" + fw, "/elsewhere").value().host_data ==
          c.host_data);

    auto error = [&dir](const std::string& text) {
        auto r = parse_launch_toml(text, dir);
        return r.ok() ? std::string("parsed") : std::string(r.error().message());
    };
    const std::string hd = "host_data = \"" + std::string(64, '0') + "\"\n";
    CHECK(contains(error("initdata = \"deploy.toml\"\n" + hd + fw),
                   "key 'initdata': given with host_data, which it sets"));
    CHECK(contains(error(hd + "initdata = \"deploy.toml\"\n" + fw), "key 'initdata': given with host_data"));
    CHECK(contains(error("initdata = \"bad.toml\"\n" + fw),
                   ("launch.toml key 'initdata': " + dir + "/bad.toml: initdata key 'algorithm'").c_str()));
    CHECK(contains(error("initdata = \"missing.toml\"\n" + fw), "launch.toml key 'initdata': "));
    CHECK(contains(error("initdata = \"missing.toml\"\n" + fw), "missing.toml"));
    CHECK(contains(error("initdata = \"\"\n" + fw), "key 'initdata': expected a non-empty string"));
    CHECK(contains(error("initdata = 1\n" + fw), "key 'initdata': expected a non-empty string"));
    write("big.toml", std::string(cvm::initdata::MAX_INITDATA_SIZE + 1, '#'));
    CHECK(contains(error("initdata = \"big.toml\"\n" + fw), "launch.toml key 'initdata'"));
    std::filesystem::remove_all(dir);
}
