// Benchmark (numbers, never a verdict) of the launch-measurement hashing, for issue 4's goal: at
// most 1.2x one `openssl dgst -sha256` pass over the same bytes, peak RSS under 16 MiB whatever
// the input size.
//   kernel+initrd: SHA-256 of a real kernel and a generated 512 MiB initrd, on two threads
//   firmware only: SHA-384 of every 4 KiB firmware page chained through 0x70-byte PAGE_INFOs
//   (both also with CVM_SHA_IMPL=portable, mbedTLS alone, for comparison)
//   and, when CVM is given and has `measure`, the whole `cvm measure` process for both cases.
// Every figure is a separate process (wall time from spawn to exit, peak RSS from wait4), so
// openssl and we pay the same start-up. Best of CVM_BENCH_RUNS (default 3), page cache warm.
// Usage: bench_measure [CVM]. CVM_BENCH_INITRD_MIB (default 512) sets the initrd size.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <vector>

#include "base/file.h"
#include "bench_process.h"
#include "crypto/digest.h"

using namespace cvm;

namespace {

constexpr size_t MIB = 1 << 20;

// --- child modes: the hashing paths alone, in a fresh process -------------------------------

int child_kernel_initrd(const std::string& kernel, const std::string& initrd)
{
    auto digests = crypto::sha256_files_parallel(kernel, initrd);
    if (!digests.ok())
        return 1;
    printf("%s %s\n", to_hex(digests->first).c_str(), to_hex(digests->second).c_str());
    return 0;
}

// What SNP does with the firmware (AMD SEV-SNP ABI SNP_LAUNCH_UPDATE): digest = SHA-384 of a
// PAGE_INFO holding the previous digest and the SHA-384 of the page, for every 4 KiB page. The
// page digests come from sha384_pages() (SIMD lanes; one by one under CVM_SHA_IMPL=portable).
// The image is mapped, not read: copying 4 MiB into fresh memory costs as much as hashing it.
int child_firmware(const std::string& firmware)
{
    UniqueFd fd(open(firmware.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!fd.valid() || fstat(fd.get(), &st) != 0 || st.st_size == 0 || st.st_size % 4096 != 0)
        return 1;
    const size_t size = static_cast<size_t>(st.st_size);
    void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd.get(), 0);
    if (map == MAP_FAILED)
        return 1;
    const auto pages = crypto::sha384_pages({static_cast<const uint8_t*>(map), size}, 4096);
    uint8_t info[0x70] = {};
    crypto::Sha384Digest digest{};
    for (size_t i = 0; i < pages.size(); ++i) {
        memcpy(info, digest.data(), 48);
        memcpy(info + 48, pages[i].data(), 48);
        info[0x60] = 0x70;
        info[0x62] = 1;
        put_le64(info + 0x68, (1ull << 32) - size + i * 4096);
        digest = crypto::Sha384::of(info);
    }
    munmap(map, size);
    printf("%s\n", to_hex(digest).c_str());
    return 0;
}

// --- inputs -----------------------------------------------------------------------------------

// A real file from the realworld cache or /boot, or a generated one (and say so). A generated
// kernel gets the Linux boot-protocol header `cvm measure` checks for (boot_flag 0xaa55 at 0x1fe,
// "HdrS" and version 2.15 at 0x202).
std::string pick_input(const char* what, const std::vector<std::string>& candidates, const std::string& fallback,
                       size_t fallback_size, bench::TempDir& tmp)
{
    for (const auto& c : candidates) {
        if (bench::file_size(c) > 0) {
            printf("bench measure: %-8s %s (%.1f MiB)\n", what, c.c_str(), double(bench::file_size(c)) / MIB);
            return c;
        }
    }
    std::string path = tmp.path(fallback);
    bench::write_pattern_file(path, fallback_size, 7);
    if (strcmp(what, "kernel") == 0) {
        const uint8_t header[] = {0x55, 0xaa, 0xeb, 0x66, 'H', 'd', 'r', 'S', 0x0f, 0x02};
        FILE* f = fopen(path.c_str(), "r+b");
        if (!f || fseek(f, 0x1fe, SEEK_SET) != 0 || fwrite(header, 1, sizeof header, f) != sizeof header) {
            fprintf(stderr, "bench_measure: cannot write %s\n", path.c_str());
            exit(2);
        }
        fclose(f);
    }
    printf("bench measure: %-8s none found (run tests/realworld/measure_real.sh to fetch one): generated %s, "
           "%.1f MiB\n",
           what, path.c_str(), double(fallback_size) / MIB);
    return path;
}

std::vector<std::string> boot_kernels()
{
    std::vector<std::string> out;
    for (const auto& name : bench::list_dir("/boot"))
        if (name.rfind("vmlinuz-", 0) == 0)
            out.push_back("/boot/" + name);
    return out;
}

void report(const char* name, const bench::Run& run, double bytes, const bench::Run* openssl)
{
    if (!run.ok) {
        printf("bench measure: %-44s failed (exit status %d)\n", name, run.status);
        return;
    }
    printf("bench measure: %-44s %8.1f ms %7.0f MB/s  peak RSS %6.1f MiB", name, run.wall_ms, bytes / run.wall_ms / 1e3,
           static_cast<double>(run.max_rss_kib) / 1024.0);
    if (openssl && openssl->ok)
        printf("  %.2fx openssl", run.wall_ms / openssl->wall_ms);
    printf("\n");
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc == 4 && strcmp(argv[1], "--child-hash") == 0)
        return child_kernel_initrd(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "--child-firmware") == 0)
        return child_firmware(argv[2]);
    if (argc > 2) {
        fprintf(stderr, "usage: bench_measure [CVM]\n");
        return 2;
    }
    const std::string self = bench::self_path();
    const std::string cvm = argc == 2 ? argv[1] : "";
    const size_t initrd_mib = bench::env_number("CVM_BENCH_INITRD_MIB", 512);
    bench::TempDir tmp;

    const char* cache_env = getenv("CVM_REALWORLD_CACHE");
    const std::string cache = cache_env ? cache_env : CVM_REALWORLD_CACHE;
    std::vector<std::string> kernels = {cache + "/kernel"};
    for (const auto& k : boot_kernels())
        kernels.push_back(k);
    const std::string kernel = pick_input("kernel", kernels, "vmlinuz", 10 * MIB, tmp);
    // Without the real firmware, the 4 KiB AmdSev fixture still lets `cvm measure` run.
    const std::string ovmf =
        pick_input("firmware", {cache + "/ovmf", std::string(CVM_VECTORS_DIR) + "/measure/ovmf_AmdSev_suffix.bin"},
                   "ovmf.fd", 4 * MIB, tmp);
    const std::string initrd = tmp.path("initrd.img");
    const std::string small_initrd = tmp.path("initrd-small.img");
    bench::write_pattern_file(initrd, initrd_mib * MIB, 1);
    bench::write_pattern_file(small_initrd, 16 * MIB, 2);
    printf("bench measure: initrd   generated, %zu MiB (and 16 MiB for the RSS comparison)\n", initrd_mib);
    printf("bench measure: SHA-256  %s (CPU %s the SHA extensions); SHA-384 pages %u at a time\n",
           crypto::sha256_impl_name(crypto::sha256_impl()), crypto::sha256_shani_supported() ? "has" : "lacks",
           crypto::sha384_pages_lanes());

    const double hashed = double(bench::file_size(kernel) + bench::file_size(initrd));
    const double fw_bytes = double(bench::file_size(ovmf));
    bench::Runner runner;
    bench::Run ossl = runner.best({"openssl", "dgst", "-sha256", kernel, initrd});
    bench::Run ossl_fw = runner.best({"openssl", "dgst", "-sha256", ovmf});
    if (!ossl.ok)
        printf("bench measure: openssl not runnable (exit status %d): no openssl ratios\n", ossl.status);

    printf("bench measure: --- kernel + %zu MiB initrd (%.1f MiB) ---\n", initrd_mib, hashed / MIB);
    report("openssl dgst -sha256 (one pass)", ossl, hashed, nullptr);
    report("sha256 kernel || initrd, 2 threads", runner.best({self, "--child-hash", kernel, initrd}), hashed, &ossl);
    report("same, portable SHA-256 (mbedTLS)",
           runner.best({self, "--child-hash", kernel, initrd}, {"CVM_SHA_IMPL=portable"}), hashed, &ossl);
    report("same, 16 MiB initrd (RSS vs size)", runner.best({self, "--child-hash", kernel, small_initrd}),
           double(bench::file_size(kernel) + 16 * MIB), nullptr);

    printf("bench measure: --- firmware only (%.1f MiB) ---\n", fw_bytes / MIB);
    report("openssl dgst -sha256 (one pass)", ossl_fw, fw_bytes, nullptr);
    report("sha384 pages + PAGE_INFO chain", runner.best({self, "--child-firmware", ovmf}), fw_bytes, &ossl_fw);
    report("same, portable (mbedTLS, page by page)",
           runner.best({self, "--child-firmware", ovmf}, {"CVM_SHA_IMPL=portable"}), fw_bytes, &ossl_fw);

    if (cvm.empty())
        return 0;
    std::vector<std::string> snp = {cvm, "measure",     "--mode",  "snp",    "--vcpus",
                                    "4", "--vcpu-type", "EPYC-v4", "--ovmf", ovmf};
    bench::Run probe = runner.once(snp);
    if (!probe.ok) {
        printf("bench measure: %s measure does not measure this firmware (exit status %d): no cvm figures\n",
               cvm.c_str(), probe.status);
        return 0;
    }
    std::vector<std::string> full = snp;
    for (const char* a : {"--kernel", kernel.c_str(), "--initrd", initrd.c_str(), "--append", "console=ttyS0"})
        full.push_back(a);
    std::vector<std::string> small = full;
    small[small.size() - 3] = small_initrd;
    printf("bench measure: --- cvm measure --mode snp, 4 vCPUs (%s) ---\n", cvm.c_str());
    report("kernel + initrd + firmware", runner.best(full), hashed + fw_bytes, &ossl);
    report("same, 16 MiB initrd (RSS vs size)", runner.best(small), double(bench::file_size(kernel) + 16 * MIB),
           nullptr);
    report("firmware only (no --kernel)", runner.best(snp), fw_bytes, &ossl_fw);
    return 0;
}
