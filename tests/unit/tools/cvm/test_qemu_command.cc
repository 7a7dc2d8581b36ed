// `cvm launch`'s QEMU command line read back the way QEMU reads it, and the MEASUREMENT
// recomputed from what QEMU would launch: equal to the one `cvm measure --launch` computes, for
// every supported combination. Also the refusals of what QEMU cannot launch as measured, and
// the hostfwd rules.
//
// The model of QEMU here is written from QEMU's sources, independently of qemu_command.cc:
// - -cpu: target/i386/cpu.c builtin_x86_defs (family/model/stepping of each EPYC model; their
//   versions change features and model-id only; "EPYC-IBPB" is an alias of EPYC-v2) and
//   x86_cpuid_version_set_family()/_model()/_stepping() for the CPUID signature; everything
//   after the first ',' of -cpu is a feature list (x86_cpu_parse_featurestr()).
// - -smp N or cpus=N (hw/core/machine-smp.c), -bios, -kernel, -initrd, -append (an absent
//   -append is the empty command line: hw/i386/x86.c x86_load_linux()).
// - sev-snp-guest properties (target/i386/sev.c, qapi/qom.json SevSnpGuestProperties): policy
//   (uint64, default 0x30000), host-data (base64 of exactly 32 bytes), id-block (exactly 96),
//   id-auth (at most 4096), author-key-enabled, kernel-hashes (off by default: then no hashes
//   table is measured), cbitpos, reduced-phys-bits; any other property is an error. "a,,b" is a
//   literal comma (util/keyval.c).
// - SNP_LAUNCH_FINISH (AMD 56860): the ID block's LD must be the launch digest and its POLICY
//   the launch's policy; the report's ID_KEY_DIGEST is SHA-384 of ID_AUTH 0x240..0x644 and
//   AUTHOR_KEY_DIGEST of 0x880..0xC84 when AUTHOR_KEY_EN.
// The launch digest itself is recomputed with measure/ from those inputs.
#include <doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "base/base64.h"
#include "crypto/digest.h"
#include "initdata/initdata.h"
#include "launch_plan.h"
#include "measure/measure.h"
#include "measure/vcpu_types.h"
#include "measure_request.h"
#include "qemu_command.h"
#include "temp_dir.h"
#include "vectors.h"

using namespace cvm;
using namespace cvm::cli;

namespace {

struct QemuCpuDef {
    const char* name;
    uint32_t family, model, stepping;
    int versions;
};

// target/i386/cpu.c builtin_x86_defs (EPYC-Turin from the patch adding it: family 26, model 0,
// stepping 0).
constexpr QemuCpuDef QEMU_CPU_DEFS[] = {
    {"EPYC", 23, 1, 2, 4},        {"EPYC-Rome", 23, 49, 0, 4}, {"EPYC-Milan", 25, 1, 1, 2},
    {"EPYC-Genoa", 25, 17, 0, 1}, {"EPYC-Turin", 26, 0, 0, 1},
};

// x86_cpuid_version_set_family/_model/_stepping: env->cpuid_version.
uint32_t cpuid_version(const QemuCpuDef& d)
{
    uint32_t v = d.family > 0x0f ? 0xf00 | (d.family - 0x0f) << 20 : d.family << 8;
    v |= (d.model & 0xf) << 4 | (d.model >> 4) << 16;
    return v | (d.stepping & 0xf);
}

std::optional<uint32_t> qemu_cpu_signature(const std::string& cpu_option)
{
    std::string name = cpu_option.substr(0, cpu_option.find(','));
    if (name != cpu_option)
        return std::nullopt;  // a feature list changes CPUID; cvm launch never writes one
    for (const QemuCpuDef& d : QEMU_CPU_DEFS) {
        if (name == d.name || (name == std::string(d.name) + "-IBPB" && std::string(d.name) == "EPYC"))
            return cpuid_version(d);
        for (int v = 1; v <= d.versions; ++v) {
            if (name == std::string(d.name) + "-v" + std::to_string(v))
                return cpuid_version(d);
        }
    }
    return std::nullopt;
}

// util/keyval.c: "a=b,c=d" with ",," for a literal comma.
std::vector<std::string> split_props(const std::string& text)
{
    std::vector<std::string> out(1);
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == ',' && i + 1 < text.size() && text[i + 1] == ',') {
            out.back() += ',';
            ++i;
        } else if (text[i] == ',') {
            out.emplace_back();
        } else {
            out.back() += text[i];
        }
    }
    return out;
}

struct QemuLaunch {
    std::optional<uint32_t> vcpus;
    std::optional<uint32_t> signature;
    std::string bios, kernel, append;
    std::optional<std::string> initrd;
    bool snp{false}, kernel_hashes{false}, author_key_enabled{false};
    uint64_t policy{0x30000};
    Bytes host_data = Bytes(32, 0);
    std::optional<Bytes> id_block, id_auth;
    std::map<std::string, std::string> fw_cfg;  // name -> file
};

// What QEMU launches for `argv`; a failed CHECK for anything it would refuse or we cannot model.
// QEMU's -machine / -object property "key=value" from a comma-separated list, "" when absent.
std::string prop(const std::string& props, const std::string& key)
{
    for (const std::string& p : split_props(props)) {
        if (p.starts_with(key + "="))
            return p.substr(key.size() + 1);
    }
    return "";
}

// system/vl.c parse_fw_cfg(): "name=...,file=..." (keyval), a name of at most
// FW_CFG_MAX_FILE_PATH - 1 = 55 characters under "opt/" (others are warned about), a file QEMU
// reads whole at startup.
void read_fw_cfg(const std::string& value, std::map<std::string, std::string>& out)
{
    std::string name = prop(value, "name"), file = prop(value, "file");
    CHECK_MESSAGE((!name.empty() && !file.empty()), "fw_cfg without a name or a file: ", value);
    CHECK(name.size() <= 55);
    CHECK(name.starts_with("opt/"));
    CHECK_MESSAGE(file.starts_with("/"), "a relative fw_cfg file depends on QEMU's directory: ", file);
    CHECK(out.emplace(name, file).second);
}

QemuLaunch read_back(const std::vector<std::string>& argv)
{
    QemuLaunch q;
    bool kvm = false;
    std::string machine, memory, sev_id, memfd;
    // Options that change nothing measured; anything else unknown fails the test.
    const std::vector<std::string> unmeasured = {"-serial", "-netdev", "-device", "-drive"};
    for (size_t i = 1; i < argv.size(); ++i) {
        const std::string& o = argv[i];
        if (o == "-nodefaults" || o == "-nographic" || o == "-no-reboot")
            continue;
        if (o == "-enable-kvm") {
            kvm = true;
            continue;
        }
        REQUIRE(i + 1 < argv.size());
        const std::string& v = argv[++i];
        if (o == "-machine") {
            machine = v;
        } else if (o == "-m") {
            memory = v;
        } else if (o == "-object" && v.starts_with("memory-backend-memfd,")) {
            memfd = v;
        } else if (o == "-smp") {
            std::string n = v.substr(0, v.find(','));
            if (n.starts_with("cpus="))
                n = n.substr(5);
            q.vcpus = static_cast<uint32_t>(std::stoul(n));
        } else if (o == "-cpu") {
            q.signature = qemu_cpu_signature(v);
            CHECK_MESSAGE(q.signature, "QEMU has no -cpu ", v);
        } else if (o == "-bios") {
            q.bios = v;
        } else if (o == "-kernel") {
            q.kernel = v;
        } else if (o == "-initrd") {
            q.initrd = v;
        } else if (o == "-append") {
            q.append = v;
        } else if (o == "-fw_cfg") {
            read_fw_cfg(v, q.fw_cfg);
        } else if (o == "-object" && v.starts_with("sev-snp-guest,")) {
            sev_id = prop(v.substr(14), "id");
            for (const std::string& p : split_props(v.substr(14))) {
                size_t eq = p.find('=');
                REQUIRE(eq != std::string::npos);
                std::string key = p.substr(0, eq), value = p.substr(eq + 1);
                if (key == "policy") {
                    q.policy = std::stoull(value, nullptr, 0);
                } else if (key == "host-data") {
                    auto b = base64_decode(value);
                    REQUIRE(b);
                    CHECK(b->size() == 32);
                    q.host_data = *b;
                } else if (key == "id-block") {
                    q.id_block = base64_decode(value);
                    REQUIRE(q.id_block);
                    CHECK(q.id_block->size() == 96);
                } else if (key == "id-auth") {
                    q.id_auth = base64_decode(value);
                    REQUIRE(q.id_auth);
                    CHECK(q.id_auth->size() <= 4096);
                } else if (key == "author-key-enabled") {
                    CHECK((value == "on" || value == "off"));
                    q.author_key_enabled = value == "on";
                } else if (key == "kernel-hashes") {
                    q.kernel_hashes = value == "on";
                } else {
                    CHECK_MESSAGE((key == "id" || key == "cbitpos" || key == "reduced-phys-bits"),
                                  "sev-snp-guest has no property ", key);
                }
            }
        } else {
            CHECK_MESSAGE(std::find(unmeasured.begin(), unmeasured.end(), o) != unmeasured.end(),
                          "an option the model does not know: ", o);
        }
    }
    // QEMU ignores an sev-snp-guest object no machine names, and then runs a plain VM; SNP needs
    // KVM and guest memory from the memfd backend the machine names, as large as -m.
    std::string machine_props = machine.substr(machine.find(',') + 1);
    q.snp = !sev_id.empty() && prop(machine_props, "confidential-guest-support") == sev_id;
    CHECK_MESSAGE(q.snp, "the machine does not name the sev-snp-guest object: ", machine);
    CHECK(kvm);
    std::string backend = prop(machine_props, "memory-backend");
    CHECK_MESSAGE((!backend.empty() && prop(memfd.substr(memfd.find(',') + 1), "id") == backend),
                  "the machine's memory backend is not the memfd object: ", machine);
    CHECK(prop(memfd.substr(memfd.find(',') + 1), "size") == memory);
    return q;
}

// The launch digest of what QEMU launches, with measure/.
Bytes qemu_measurement(const QemuLaunch& q)
{
    REQUIRE(q.snp);
    REQUIRE(q.kernel_hashes);  // without it the hashes table stays empty and the kernel is unmeasured
    REQUIRE(q.vcpus);
    REQUIRE(q.signature);
    measure::Inputs in;
    in.mode = measure::Mode::Snp;
    in.vmm = measure::VmmType::Qemu;
    in.guest_features = 0x1;  // KVM_SEV_INIT2 vmsa_features = 0: SNPActive alone
    in.vcpus = *q.vcpus;
    in.vcpu_sig = q.signature;
    in.ovmf = q.bios;
    in.kernel = q.kernel;
    in.initrd = q.initrd;
    in.append = q.append;
    return measure::measure(in).value().digest;
}

template <size_t N>
std::array<uint8_t, N> slice(const Bytes& b, size_t offset)
{
    std::array<uint8_t, N> out{};
    REQUIRE(b.size() >= offset + N);
    std::copy(b.begin() + static_cast<long>(offset), b.begin() + static_cast<long>(offset + N), out.begin());
    return out;
}

struct Files {
    test::TempDir dir;
    std::string kernel = dir.write("vmlinuz", test::fake_bzimage(64 << 10));
    std::string initrd = dir.write("initrd, with a comma", Bytes(10000, 5));
    std::string ovmf = test::vector_path("measure/ovmf_AmdSev_suffix.bin");
};

launch::LaunchConfig base_config(const Files& f)
{
    launch::LaunchConfig c;
    c.vcpus = 1;
    c.vcpu_type = "EPYC-v4";
    c.ovmf = f.ovmf;
    c.kernel = f.kernel;
    c.cmdline = {"console=ttyS0", "panic=-1"};
    return c;
}

std::string error_of(const launch::LaunchConfig& c)
{
    auto plan = plan_launch(c);
    return plan.ok() ? "planned" : std::string(plan.error().message());
}

bool contains(const std::string& s, const char* part)
{
    return s.find(part) != std::string::npos;
}

const std::string KEYS = MEASURE_TEST_KEYS;

}  // namespace

TEST_CASE("the -cpu table: every model is QEMU's, with the signature cvm measure gives its name")
{
    CHECK(qemu_cpu_models().size() == measure::vcpu_types().size());
    for (std::string_view m : qemu_cpu_models()) {
        CAPTURE(m);
        auto qemu = qemu_cpu_signature(std::string(m));
        REQUIRE(qemu);
        CHECK(measure::vcpu_type_sig(m) == *qemu);
    }
    CHECK_FALSE(qemu_cpu_signature("EPYC-Milan,+avx512f"));
    CHECK_FALSE(qemu_cpu_signature("EPYC-v9"));
}

TEST_CASE("QEMU's launch of cvm launch's command line has cvm measure's MEASUREMENT, for every combination")
{
    Files f;
    int combination = 0;
    for (std::string_view model : qemu_cpu_models()) {
        for (uint32_t vcpus : {1u, 2u, 7u}) {
            for (bool initrd : {false, true}) {
                launch::LaunchConfig c = base_config(f);
                c.vcpu_type = std::string(model);
                c.vcpus = vcpus;
                if (initrd)
                    c.initrd = f.initrd;
                int extras = combination++ % 4;
                if (extras == 1 || extras == 3) {
                    c.policy = 0xb0000;
                    c.host_data.emplace();
                    for (size_t i = 0; i < 32; ++i)
                        (*c.host_data)[i] = static_cast<uint8_t>(i + vcpus);
                }
                if (extras >= 2) {
                    c.id_block.emplace();
                    c.id_block->id_key = KEYS + "/id_key_TEST_ONLY.pem";
                    c.id_block->family_id[0] = 0xfa;
                    c.id_block->image_id[15] = 0x1e;
                    c.id_block->guest_svn = 3;
                    if (extras == 3) {
                        c.id_block->author_key = KEYS + "/author_key_TEST_ONLY.pem";
                        c.author_key_enabled = true;
                    }
                }
                CAPTURE(model);
                CAPTURE(vcpus);
                CAPTURE(initrd);
                CAPTURE(extras);
                LaunchPlan plan = plan_launch(c).value();
                std::vector<std::string> argv = qemu_command(plan, QemuOptions{}).value();
                QemuLaunch q = read_back(argv);

                // cvm measure --launch: the same launch.toml through the same request.
                MeasureRequest request = request_from_config(c).value();
                Bytes measured = measure::measure(request.inputs).value().digest;
                Bytes launched = qemu_measurement(q);
                CHECK(to_hex(launched) == to_hex(measured));
                CHECK(to_hex(plan.measurement) == to_hex(measured));

                // SNP_LAUNCH_FINISH accepts the ID block, and the report carries what the
                // simulated launch of the same launch.toml reports.
                sim::LaunchState sim = sim_launch_state(plan.config, plan.measurement, plan.id_block);
                CHECK(q.policy == c.guest_policy());
                CHECK(sim.policy == q.policy);
                CHECK(to_hex(sim.host_data) == to_hex(q.host_data));
                CHECK(q.id_block.has_value() == (extras >= 2));
                CHECK(q.id_auth.has_value() == (extras >= 2));
                CHECK(q.author_key_enabled == (extras == 3));
                std::array<uint8_t, 48> zero{};
                if (q.id_block) {
                    CHECK(to_hex(slice<48>(*q.id_block, 0x00)) == to_hex(launched));
                    CHECK((get_le32(&(*q.id_block)[0x58]) | uint64_t{get_le32(&(*q.id_block)[0x5c])} << 32) ==
                          q.policy);
                    CHECK(get_le32(&(*q.id_block)[0x50]) == 1);
                    CHECK(sim.family_id == slice<16>(*q.id_block, 0x30));
                    CHECK(sim.image_id == slice<16>(*q.id_block, 0x40));
                    CHECK(sim.guest_svn == get_le32(&(*q.id_block)[0x54]));
                    Bytes auth = *q.id_auth;
                    auth.resize(4096);
                    CHECK(sim.id_key_digest == crypto::Sha384::of(ByteView(auth).subspan(0x240, 0x404)));
                    auto author = crypto::Sha384::of(ByteView(auth).subspan(0x880, 0x404));
                    CHECK(sim.author_key_digest == (q.author_key_enabled ? author : zero));
                } else {
                    CHECK(sim.id_key_digest == zero);
                    CHECK(sim.author_key_digest == zero);
                }
            }
        }
    }
    CHECK(combination == 96);
}

TEST_CASE("a vCPU given by signature gets the first QEMU model with that signature")
{
    Files f;
    launch::LaunchConfig c = base_config(f);
    c.vcpu_type.reset();
    c.vcpu_sig = 0xa00f11;
    LaunchPlan plan = plan_launch(c).value();
    CHECK(plan.cpu_model == "EPYC-Milan");
    c.vcpu_sig.reset();
    c.vcpu_family = 25;
    c.vcpu_model = 17;
    c.vcpu_stepping = 0;
    CHECK(plan_launch(c).value().cpu_model == "EPYC-Genoa");
    c.vcpu_type = "EPYC-Genoa-v1";
    CHECK(plan_launch(c).value().cpu_model == "EPYC-Genoa-v1");
    std::vector<std::string> argv = qemu_command(plan_launch(c).value(), QemuOptions{}).value();
    CHECK(to_hex(qemu_measurement(read_back(argv))) == to_hex(plan_launch(c).value().measurement));
}

TEST_CASE("what QEMU cannot launch as measured is refused, naming the key")
{
    Files f;
    auto with = [&f](auto edit) {
        launch::LaunchConfig c = base_config(f);
        edit(c);
        return error_of(c);
    };
    CHECK(with([](launch::LaunchConfig&) {}) == "planned");
    CHECK(contains(with([](auto& c) { c.vcpu_type = "EPYC-Milan,+avx512f"; }), "key 'vcpu_type': 'EPYC-Milan,+avx"));
    CHECK(contains(with([](auto& c) { c.vcpu_type = "host"; }), "key 'vcpu_type': 'host' is not one of QEMU's"));
    CHECK(contains(with([](auto& c) { c.vcpu_type = "EPYC-Rome-v4"; }), "key 'vcpu_type'"));
    CHECK(contains(with([](auto& c) {
                       c.vcpu_type.reset();
                       c.vcpu_sig = 0x800f13;
                   }),
                   "key 'vcpu_sig': signature 0x800f13 is produced by no QEMU -cpu model"));
    CHECK(contains(with([](auto& c) {
                       c.vcpu_type.reset();
                       c.vcpu_family = 25;
                       c.vcpu_model = 1;
                       c.vcpu_stepping = 2;
                   }),
                   "key 'vcpu_family': signature 0xa00f12 is produced by no QEMU -cpu model"));
    CHECK(contains(with([](auto& c) {
                       c.vcpu_type = "EPYC-Milan";
                       c.vcpu_sig = 0xa10f10;
                   }),
                   "key 'vcpu_sig': signature 0xa10f10 is not that of vcpu_type 'EPYC-Milan'"));
    CHECK(contains(with([](auto& c) { c.guest_features = 0x21; }), "key 'guest_features': 0x21, but QEMU"));
    CHECK(contains(with([](auto& c) { c.guest_features = 0; }), "key 'guest_features': 0x0"));
    CHECK(contains(with([](auto& c) { c.vmm_type = "ec2"; }), "key 'vmm_type': \"ec2\" is not QEMU"));
    CHECK(contains(with([](auto& c) { c.vmm_type = "qemu"; }), "key 'vmm_type'"));
    CHECK(contains(with([](auto& c) { c.mode = "sev"; }), "key 'mode': cvm launch runs \"snp\" launches"));
    CHECK(contains(with([](auto& c) { c.mode = "snp:svsm"; }), "key 'mode'"));
    CHECK(contains(with([](auto& c) { c.snp_ovmf_hash = std::string(96, '0'); }), "key 'firmware.snp_ovmf_hash'"));
    CHECK(contains(with([](auto& c) { c.kernel.reset(); }), "key 'kernel.path'"));
    // KVM's snp_launch_start() refusals, beyond the firmware's rules that launch.toml checks.
    CHECK(contains(with([](auto& c) { c.policy = 0x20000; }), "key 'policy': 0x20000: SMT (bit 16) is clear"));
    CHECK(contains(with([](auto& c) { c.policy = 0x130000; }), "key 'policy': 0x130000: SINGLE_SOCKET (bit 20)"));
    CHECK(contains(with([](auto& c) { c.policy = 0x70000; }), "key 'policy': 0x70000: MIGRATE_MA (bit 18)"));
    CHECK(with([](auto& c) { c.policy = 0xb0000; }) == "planned");
    CHECK(with([](auto& c) { c.policy = 0x230000; }) == "planned");  // bit 21: a note, the host decides
    CHECK(contains(with([](auto& c) { c.vcpus = 0; }), "key 'vcpus'"));
    CHECK(contains(with([](auto& c) { c.vcpus.reset(); }), "key 'vcpus'"));
    CHECK(contains(with([](auto& c) {
                       c.id_block.emplace();
                       c.id_block->id_key = "/nonexistent/id.pem";
                   }),
                   "launch.toml key 'id_block.id_key'"));
    CHECK(contains(with([](auto& c) {
                       c.id_block.emplace();
                       c.id_block->id_key = KEYS + "/p256_key_TEST_ONLY.pem";
                   }),
                   "launch.toml key 'id_block.id_key'"));
    CHECK(contains(with([](auto& c) {
                       c.id_block.emplace();
                       c.id_block->id_key = KEYS + "/id_key_TEST_ONLY.pem";
                       c.id_block->author_key = KEYS + "/p256_key_TEST_ONLY.pem";
                   }),
                   "launch.toml key 'id_block.author_key'"));
}

TEST_CASE("options change nothing measured; hostfwd rules are QEMU's and nothing else")
{
    Files f;
    LaunchPlan plan = plan_launch(base_config(f)).value();
    QemuOptions o;
    o.disks = {"/d/a,b.img"};
    o.hostfwd = {"tcp:127.0.0.1:8080-:80", "udp::5353-10.0.2.15:53"};
    std::vector<std::string> argv = qemu_command(plan, o).value();
    CHECK(to_hex(qemu_measurement(read_back(argv))) == to_hex(plan.measurement));
    const std::string netdev = "user,id=net0,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp::5353-10.0.2.15:53";
    CHECK(std::find(argv.begin(), argv.end(), netdev) != argv.end());
    o.network = false;
    CHECK(contains(std::string(qemu_command(plan, o).error().message()), "--hostfwd needs the network"));

    for (const char* good : {"tcp:127.0.0.1:8080-:80", "::8080-:80", "udp:0.0.0.0:0-10.0.2.15:65535", "tcp::1-:1"}) {
        CAPTURE(good);
        CHECK(check_hostfwd(good).ok());
    }
    for (const char* bad : {"", "tcp:127.0.0.1:8080-:80,guestfwd=tcp:10.0.2.100:1-cmd:sh", "tcp::8080-:80,",
                            "sctp::8080-:80", ":8080-:80", "tcp::8080:80", "tcp::65536-:80", "tcp::8080-:0",
                            "tcp::080-:80", "tcp::-1-:80", "tcp:localhost:8080-:80", "tcp:1.2.3:8080-:80",
                            "tcp::8080-:80:1", "tcp::8080-:8x", "tcp::8080--:80", "tcp::+80-:80"}) {
        CAPTURE(bad);
        auto r = check_hostfwd(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(contains(std::string(r.error().message()), "--hostfwd"));
    }
}

TEST_CASE("init-data: the document goes to the guest as fw_cfg opt/cvminit/initdata, HOST_DATA its digest")
{
    Files f;
    std::string doc =
        initdata::compose(initdata::Algorithm::Sha384, {{"cvminit.toml", "broker = \"https://kb-eu.example:8443\"\n"}})
            .value();
    // A comma in the name: QEMU reads ",," as one.
    std::string path = f.dir.write("deploy, eu.toml", as_bytes(doc));
    const std::string dir = path.substr(0, path.rfind('/'));
    const std::string launch_toml = "vcpus = 2\nvcpu_type = \"EPYC-Milan\"\ninitdata = \"deploy, eu.toml\"\n"
                                    "[firmware]\novmf = \"" +
                                    f.ovmf + "\"\n[kernel]\npath = \"vmlinuz\"\n";
    f.dir.write("launch.toml", as_bytes(launch_toml));
    // Loaded by a relative path, as `cvm launch --launch launch.toml` from its directory does.
    std::string cwd = std::filesystem::current_path().string();
    REQUIRE(chdir(dir.c_str()) == 0);
    // The relative paths stay relative in the config, so the test stays there until the end.
    auto config = launch::load_launch_toml("launch.toml");
    REQUIRE(config.ok());
    CHECK(config->initdata == "./deploy, eu.toml");
    LaunchPlan plan = plan_launch(config.value()).value();
    auto document = initdata::parse(doc).value();
    auto expected = initdata::host_data(document);

    // Hardware: host-data is the digest's first 32 bytes, the file is the document, by absolute path.
    QemuLaunch q = read_back(qemu_command(plan, QemuOptions{}).value());
    CHECK(to_hex(q.host_data) == to_hex(expected));
    REQUIRE(q.fw_cfg.count(initdata::FW_CFG_NAME) == 1);
    CHECK(q.fw_cfg.at(initdata::FW_CFG_NAME) == path);
    // HOST_DATA is not measured: the same launch without init-data has the same MEASUREMENT.
    launch::LaunchConfig plain = config.value();
    plain.initdata.reset();
    plain.host_data.reset();
    CHECK(to_hex(plan_launch(plain).value().measurement) == to_hex(plan.measurement));
    CHECK(to_hex(qemu_measurement(q)) == to_hex(plan.measurement));
    std::vector<std::string> plain_argv = qemu_command(plan_launch(plain).value(), QemuOptions{}).value();
    CHECK(read_back(plain_argv).fw_cfg.empty());

    // Simulated: the same fw_cfg file, and the simulated PSP's reports carry the same HOST_DATA.
    QemuOptions sim_options;
    sim_options.mode = LaunchMode::Simulated;
    std::vector<std::string> simulated = qemu_command(plan, sim_options).value();
    auto at = std::find(simulated.begin(), simulated.end(), "-fw_cfg");
    REQUIRE(at + 1 < simulated.end());
    std::map<std::string, std::string> sim_fw_cfg;
    read_fw_cfg(*(at + 1), sim_fw_cfg);
    CHECK(sim_fw_cfg.at(initdata::FW_CFG_NAME) == path);
    sim::LaunchState sim = sim_launch_state(plan.config, plan.measurement, plan.id_block);
    CHECK(to_hex(sim.host_data) == to_hex(expected));
    REQUIRE(chdir(cwd.c_str()) == 0);
}
