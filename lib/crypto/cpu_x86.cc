#include "crypto/cpu_x86.h"

#include <cstdint>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace cvm::crypto::detail {

#if defined(__x86_64__)

namespace {

struct Features {
    bool sha{false};
    bool avx2{false};
    bool avx512{false};
};

Features detect()
{
    Features f;
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
        return f;
    const bool ssse3 = (ecx & (1u << 9)) != 0;
    const bool sse41 = (ecx & (1u << 19)) != 0;
    const bool osxsave = (ecx & (1u << 27)) != 0;
    uint64_t xcr0 = 0;
    if (osxsave) {  // XGETBV is only defined once the OS has set CR4.OSXSAVE
        uint32_t lo = 0, hi = 0;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = uint64_t{hi} << 32 | lo;
    }
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
        return f;
    f.sha = ssse3 && sse41 && (ebx & (1u << 29)) != 0;
    f.avx2 = (ebx & (1u << 5)) != 0 && (xcr0 & 0x06) == 0x06;
    f.avx512 = f.avx2 && (ebx & (1u << 16)) != 0 && (ebx & (1u << 30)) != 0 && (xcr0 & 0xe6) == 0xe6;
    return f;
}

const Features& features()
{
    static const Features f = detect();
    return f;
}

}  // namespace

bool cpu_has_sha_extensions()
{
    return features().sha;
}
bool cpu_has_avx2()
{
    return features().avx2;
}
bool cpu_has_avx512()
{
    return features().avx512;
}

#else

bool cpu_has_sha_extensions()
{
    return false;
}
bool cpu_has_avx2()
{
    return false;
}
bool cpu_has_avx512()
{
    return false;
}

#endif

}  // namespace cvm::crypto::detail
