// Benchmark (numbers, never a verdict) of issue 7's data volume on a 1 GiB image file, on the
// host: the first boot's format + open (LUKS2 format, keyslot, ext4 through the userspace
// plaintext view, finish_formatting) and the steady-state open (inspect both header copies,
// PBKDF2 + AF merge + digest, the header HMAC, the generation bump's two header writes), next to `cryptsetup open
// --test-passphrase` on the same volume (the same keyslot work, without device-mapper, in its own process). The QEMU
// storage boots (tests/e2e/storage.sh) print the same figures with the real dm-crypt, beside `cryptsetup open`. Best of
// CVM_BENCH_RUNS (default 3).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "bench_process.h"
#include "storage/crypt_device.h"
#include "storage/data_volume.h"

using namespace cvm;
using namespace cvm::storage;

namespace {

const std::string PASSPHRASE(64, 'k');

ByteView passphrase()
{
    return {reinterpret_cast<const uint8_t*>(PASSPHRASE.data()), PASSPHRASE.size()};
}

double ms_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// One open_or_format of `path`, in ms; exits on failure (a benchmark has no verdict to give).
double open_once(const std::string& path, bool expect_format)
{
    auto start = std::chrono::steady_clock::now();
    auto dev = FileBlockDevice::open(path, FileBlockDevice::Mode::ReadWrite);
    UserspaceActivator crypt;
    VolumeSecrets secrets;
    secrets.passphrase = [](std::string_view) -> Result<SecretBytes> { return SecretBytes::copy_of(passphrase()); };
    // As the agent does: inspect, report the generation (blank: 0), open with the next one. The
    // steady-state open includes the header rewrite that bumps the generation.
    auto seen = dev ? luks2::inspect(dev.value()) : Result<luks2::Inspection>(dev.error());
    uint64_t next = seen && seen->volume ? seen->volume->generation + 1 : 1;
    auto opened =
        seen ? open_or_format(dev.value(), seen.value(), next, secrets, crypt) : Result<OpenedVolume>(seen.error());
    double ms = ms_since(start);
    if (!opened) {
        fprintf(stderr, "bench_storage: %.*s\n", static_cast<int>(opened.error().message().size()),
                opened.error().message().data());
        exit(1);
    }
    if (opened->formatted_now != expect_format) {
        fprintf(stderr, "bench_storage: expected %s\n", expect_format ? "a format" : "an open");
        exit(1);
    }
    return ms;
}

}  // namespace

int main()
{
    constexpr uint64_t SIZE = uint64_t{1} << 30;
    bench::TempDir dir;
    bench::Runner runner;
    std::string image = dir.path("data.img"), key = dir.path("data.key");
    size_t runs = bench::env_number("CVM_BENCH_RUNS", 3);
    double format_ms = 1e9, open_ms = 1e9;
    for (size_t i = 0; i < runs; ++i) {
        FILE* f = fopen(image.c_str(), "wb");  // a blank, sparse disk each time
        if (!f || ftruncate(fileno(f), SIZE) != 0)
            return 1;
        fclose(f);
        format_ms = std::min(format_ms, open_once(image, true));
        open_ms = std::min(open_ms, open_once(image, false));
    }
    printf("bench: data volume 1 GiB image, first boot format + open (userspace view): %.1f ms\n", format_ms);
    printf("bench: data volume 1 GiB image, steady-state open: %.1f ms\n", open_ms);
    FILE* k = fopen(key.c_str(), "wb");
    if (!k || fwrite(PASSPHRASE.data(), 1, PASSPHRASE.size(), k) != PASSPHRASE.size())
        return 1;
    fclose(k);
    bench::Run cs = runner.best({"cryptsetup", "open", "--test-passphrase", "--key-file", key, image});
    if (cs.ok)
        printf("bench: cryptsetup open --test-passphrase, same volume (a process of its own): %.1f ms\n", cs.wall_ms);
    else
        printf("bench: cryptsetup open --test-passphrase: not run (cryptsetup missing or failed)\n");
    return 0;
}
