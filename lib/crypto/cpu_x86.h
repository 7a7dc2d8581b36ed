// What the CPU (and the OS, for the wider registers) lets the dispatching code use. Each check
// runs CPUID/XGETBV once and caches the answer; all are thread-safe and false off x86-64.
#pragma once

namespace cvm::crypto::detail {

// SHA256RNDS2/MSG1/MSG2 (CPUID.(EAX=7,ECX=0):EBX[29]) plus SSSE3 and SSE4.1 (CPUID.1:ECX[9], [19]).
bool cpu_has_sha_extensions();

// AVX2 (CPUID.7.0:EBX[5]), with the OS saving the YMM registers (XCR0 bits 1, 2).
bool cpu_has_avx2();

// AVX-512F and AVX-512BW (CPUID.7.0:EBX[16], [30]), with the OS saving the ZMM and opmask
// registers too (XCR0 bits 5, 6, 7).
bool cpu_has_avx512();

}  // namespace cvm::crypto::detail
