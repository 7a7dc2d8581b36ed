// Benchmark (numbers, never a verdict) of issue 16's goal for `cvm release`: the MEASUREMENT of
// every shape of a matrix should cost about one measurement, not N.
//   in-process: measure() of one shape; measure_matrix() of 12, 84 and 4096 shapes; and the 12
//   shapes as 12 separate measure() calls, which hash the firmware, kernel and initrd each time
//   processes (when CVM is given): `cvm measure --launch` of one shape against `cvm release` of
//   the 84-shape matrix, statement and signed bundle included
// Inputs: the real firmware and kernel from the realworld or e2e cache when fetched, else the
// 4 KiB AmdSev fixture and a generated kernel; a generated initrd of CVM_BENCH_INITRD_MIB
// (default 64) MiB. Best of CVM_BENCH_RUNS (default 3), page cache warm.
// Usage: bench_release [CVM]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/file.h"
#include "bench_process.h"
#include "measure/matrix.h"
#include "measure/vcpu_types.h"

using namespace cvm;
using namespace cvm::measure;

namespace {

constexpr size_t MIB = 1 << 20;

std::string first_existing(const std::vector<std::string>& candidates)
{
    for (const auto& c : candidates) {
        if (bench::file_size(c) > 0)
            return c;
    }
    return "";
}

// A file with the Linux boot-protocol header measure/ checks for (bzimage.h).
void write_kernel(const std::string& path, size_t size)
{
    bench::write_pattern_file(path, size, 7);
    const uint8_t header[] = {0x55, 0xaa, 0xeb, 0x66, 'H', 'd', 'r', 'S', 0x0f, 0x02};
    FILE* f = fopen(path.c_str(), "r+b");
    if (!f || fseek(f, 0x1fe, SEEK_SET) != 0 || fwrite(header, 1, sizeof header, f) != sizeof header) {
        fprintf(stderr, "bench_release: cannot write %s\n", path.c_str());
        exit(2);
    }
    fclose(f);
}

std::vector<LaunchShape> shapes(std::vector<uint32_t> counts, std::vector<const char*> types, std::vector<VmmType> vmms)
{
    std::vector<LaunchShape> out;
    for (VmmType vmm : vmms)
        for (const char* type : types)
            for (uint32_t n : counts)
                out.push_back({n, vcpu_type_sig(type), vmm});
    return out;
}

// The fastest of `runs` calls of `f`, in milliseconds; exits if `f` fails.
template <typename F>
double best_ms(size_t runs, F f)
{
    double best = 1e300;
    for (size_t i = 0; i < runs; ++i) {
        auto start = std::chrono::steady_clock::now();
        if (!f()) {
            fprintf(stderr, "bench_release: a measurement failed\n");
            exit(2);
        }
        best =
            std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    return best;
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc > 2) {
        fprintf(stderr, "usage: bench_release [CVM]\n");
        return 2;
    }
    const std::string cvm = argc == 2 ? argv[1] : "";
    const size_t runs = bench::env_number("CVM_BENCH_RUNS", 3);
    const size_t initrd_mib = bench::env_number("CVM_BENCH_INITRD_MIB", 64);
    const std::string root = CVM_SOURCE_ROOT;
    bench::TempDir tmp;

    Inputs in;
    in.mode = Mode::Snp;
    in.ovmf = first_existing({root + "/.cache/realworld/ovmf", root + "/.cache/e2e/ovmf"});
    if (in.ovmf.empty())
        in.ovmf = std::string(CVM_VECTORS_DIR) + "/measure/ovmf_AmdSev_suffix.bin";
    std::vector<std::string> kernels = {root + "/.cache/realworld/kernel"};
    for (const auto& name : bench::list_dir(root + "/.cache/e2e"))
        if (name.rfind("linux-", 0) == 0)
            kernels.push_back(root + "/.cache/e2e/" + name + "/boot/vmlinuz-" + name.substr(6));
    in.kernel = first_existing(kernels);
    if (in.kernel->empty()) {
        in.kernel = tmp.path("vmlinuz");
        write_kernel(*in.kernel, 10 * MIB);
    }
    in.initrd = tmp.path("initrd.img");
    bench::write_pattern_file(*in.initrd, initrd_mib * MIB, 1);
    in.append = "console=ttyS0 cvminit.simulate=1";
    printf("bench release: firmware %s (%.1f MiB), kernel %s (%.1f MiB), generated initrd %zu MiB\n", in.ovmf.c_str(),
           double(bench::file_size(in.ovmf)) / MIB, in.kernel->c_str(), double(bench::file_size(*in.kernel)) / MIB,
           initrd_mib);

    const std::vector<LaunchShape> small =
        shapes({1, 2, 4, 8}, {"EPYC-Milan"}, {VmmType::Qemu, VmmType::Ec2, VmmType::Gce});
    const std::vector<LaunchShape> fleet =
        shapes({1, 2, 4, 8, 16, 32, 64}, {"EPYC-v4", "EPYC-Milan", "EPYC-Genoa", "EPYC-Turin"},
               {VmmType::Qemu, VmmType::Ec2, VmmType::Gce});
    std::vector<uint32_t> all_counts;
    for (uint32_t n = 1; n <= 512; ++n)
        all_counts.push_back(n);
    const std::vector<LaunchShape> most =
        shapes(all_counts, {"EPYC-v4", "EPYC-Milan", "EPYC-Genoa", "EPYC-Turin"}, {VmmType::Qemu, VmmType::Gce});

    Inputs one = in;
    one.vcpus = 4;
    one.vcpu_sig = vcpu_type_sig("EPYC-Milan");
    double single = best_ms(runs, [&] { return measure::measure(one).ok(); });
    printf("bench release: %-44s %9.1f ms\n", "measure(), one shape", single);
    for (const auto* set : {&small, &fleet, &most}) {
        double ms = best_ms(runs, [&] { return measure_matrix(in, *set).ok(); });
        std::string name = "measure_matrix(), " + std::to_string(set->size()) + " shapes";
        printf("bench release: %-44s %9.1f ms  %5.2fx one measurement\n", name.c_str(), ms, ms / single);
    }
    double separate = best_ms(1, [&] {
        for (const LaunchShape& s : small) {
            Inputs each = in;
            each.vcpus = s.vcpus;
            each.vcpu_sig = s.vcpu_sig;
            each.vmm = s.vmm;
            if (!measure::measure(each).ok())
                return false;
        }
        return true;
    });
    std::string name = std::to_string(small.size()) + " separate measure() calls";
    printf("bench release: %-44s %9.1f ms  %5.2fx one measurement\n", name.c_str(), separate, separate / single);

    if (cvm.empty())
        return 0;
    const std::string launch = tmp.path("launch.toml");
    const std::string shapes_toml = tmp.path("shapes.toml");
    std::string text = "mode = \"snp\"\nvcpus = 4\nvcpu_type = \"EPYC-Milan\"\n[firmware]\novmf = \"" + in.ovmf +
                       "\"\n[kernel]\npath = \"" + *in.kernel + "\"\ninitrd = \"" + *in.initrd +
                       "\"\ncmdline = [\"console=ttyS0\", \"cvminit.simulate=1\"]\n";
    std::string matrix = "vcpus = [1, 2, 4, 8, 16, 32, 64]\nvcpu_types = [\"EPYC-v4\", \"EPYC-Milan\", \"EPYC-Genoa\", "
                         "\"EPYC-Turin\"]\nvmm_types = [\"QEMU\", \"ec2\", \"gce\"]\n";
    auto bytes = [](const std::string& s) { return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()); };
    if (!write_file_atomic(launch, bytes(text)).ok() || !write_file_atomic(shapes_toml, bytes(matrix)).ok())
        return 2;
    const std::string key = tmp.path("release.key");
    tmp.path("release.pub");
    tmp.path("statement.json");
    tmp.path("release.sigstore.json");
    bench::Runner runner;
    if (!runner.once({cvm, "release", "keygen", "--out", key.substr(0, key.size() - 4)}).ok) {
        printf("bench release: %s release keygen failed: no cvm figures\n", cvm.c_str());
        return 0;
    }
    bench::Run measured = runner.best({cvm, "measure", "--launch", launch});
    bench::Run released = runner.best({cvm, "release", "--launch", launch, "--shapes", shapes_toml, "--key", key,
                                       "--out", key.substr(0, key.rfind('/'))},
                                      {"SOURCE_DATE_EPOCH=1700000000"});
    if (!measured.ok || !released.ok) {
        printf("bench release: cvm failed (measure %d, release %d)\n", measured.status, released.status);
        return 0;
    }
    printf("bench release: %-44s %9.1f ms  peak RSS %6.1f MiB\n", "cvm measure --launch, one shape", measured.wall_ms,
           double(measured.max_rss_kib) / 1024.0);
    printf("bench release: %-44s %9.1f ms  peak RSS %6.1f MiB  %5.2fx cvm measure\n", "cvm release, 84 shapes, signed",
           released.wall_ms, double(released.max_rss_kib) / 1024.0, released.wall_ms / measured.wall_ms);
    return 0;
}
