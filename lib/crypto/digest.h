// SHA-2 digests, incremental and one-shot, and streaming digests of files.
//
// SHA-256 uses the CPU's SHA extensions when it has them (detected once at run time) and
// mbedTLS's portable code otherwise; both give the same digests. SHA-384 and SHA-512 use mbedTLS,
// except sha384_pages(), which hashes many pages at once in SIMD lanes.
// File digests read in fixed-size chunks: memory does not grow with the file.
//
// The environment variable CVM_SHA_IMPL=portable makes the process use mbedTLS's portable code
// only (no SHA extensions, no SIMD lanes; for tests and benchmarks); set_sha256_impl() chooses
// the SHA-256 implementation from code.
#pragma once

#include <array>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace cvm::crypto {

using Sha256Digest = std::array<uint8_t, 32>;
using Sha384Digest = std::array<uint8_t, 48>;
using Sha512Digest = std::array<uint8_t, 64>;

template <size_t N>
class Digest {
public:
    Digest();
    ~Digest();
    Digest(Digest&&) noexcept;
    Digest& operator=(Digest&&) noexcept;
    Digest(const Digest&) = delete;
    Digest& operator=(const Digest&) = delete;

    void update(ByteView data);
    // Returns the digest; the object must not be used afterwards except to be destroyed.
    std::array<uint8_t, N> finish();

    static std::array<uint8_t, N> of(ByteView data)
    {
        Digest d;
        d.update(data);
        return d.finish();
    }

    struct State;

private:
    std::unique_ptr<State> m_state;
};

using Sha256 = Digest<32>;
using Sha384 = Digest<48>;
using Sha512 = Digest<64>;

// --- SHA-256 implementation choice ------------------------------------------------------------

enum class Sha256Impl : uint8_t {
    Portable,  // mbedTLS
    ShaNi,     // x86 SHA extensions (SHA256RNDS2, SHA256MSG1/2)
};

// "portable" or "sha-ni".
const char* sha256_impl_name(Sha256Impl impl);

// True when this CPU has the SHA extensions (and SSSE3/SSE4.1), whatever is selected.
bool sha256_shani_supported();

// The implementation that Sha256 objects constructed from now on use: ShaNi when supported,
// unless CVM_SHA_IMPL=portable was set at the first call or set_sha256_impl() chose otherwise.
// An object keeps the implementation it was constructed with.
Sha256Impl sha256_impl();

// Selects the implementation for the whole process (thread-safe). Errc::Unsupported when ShaNi
// is asked for on a CPU without the SHA extensions.
Result<void> set_sha256_impl(Sha256Impl impl);

// Back to the default of sha256_impl() (CPU and CVM_SHA_IMPL).
void reset_sha256_impl();

// --- Files --------------------------------------------------------------------------------------

// Digests of a whole file, read in chunks; Errc::Io names the file on failure. Any readable file
// works (regular files, /dev/null, pipes); peak memory is one chunk buffer.
Result<Sha256Digest> sha256_file(const std::string& path);
Result<Sha384Digest> sha384_file(const std::string& path);

// SHA-256 of each file in `paths`, in order, hashed concurrently on up to `max_threads` threads
// (0: one per available CPU; the calling thread is one of them). Fails with the error of the
// first path (in order) that failed.
Result<std::vector<Sha256Digest>> sha256_files(std::span<const std::string> paths, unsigned max_threads = 0);

// The kernel-and-initrd case: two files on two threads.
Result<std::pair<Sha256Digest, Sha256Digest>> sha256_files_parallel(const std::string& a, const std::string& b);

// --- Pages ----------------------------------------------------------------------------------

// SHA-384 of each consecutive `page_size`-byte piece of `data`, in order (a last, shorter piece
// gets its own digest): the CONTENTS of the SNP PAGE_INFO of every firmware page. Several pages
// at once in SIMD lanes (8 with AVX-512, 4 with AVX2; one at a time with mbedTLS otherwise or
// under CVM_SHA_IMPL=portable), on up to `max_threads` threads (0: one per CPU) once there is
// enough data to share. `page_size` must not be 0.
std::vector<Sha384Digest> sha384_pages(ByteView data, size_t page_size = 4096, unsigned max_threads = 0);

// How many pages sha384_pages() hashes at once on this machine: 8, 4 or 1.
unsigned sha384_pages_lanes();

}  // namespace cvm::crypto
