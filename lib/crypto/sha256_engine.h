// SHA-256 message buffering and padding (FIPS 180-4 §5.1.1) around a block compression function.
// Internal to lib/crypto: Digest<32> uses it with the SHA-extensions compression; the portable
// path is mbedTLS's own context, so the two share no code and can check each other in tests.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "base/bytes.h"

namespace cvm::crypto::detail {

// Compresses `count` consecutive 64-byte blocks into `state`.
using Sha256Compress = void (*)(uint32_t state[8], const uint8_t* blocks, size_t count);

class Sha256Engine {
public:
    explicit Sha256Engine(Sha256Compress compress);
    // Wipes the chaining state and the buffered input: what is hashed may be key material (the
    // LUKS2 anti-forensic diffuser hashes the volume key's stripes).
    ~Sha256Engine();
    Sha256Engine(const Sha256Engine&) = default;
    Sha256Engine& operator=(const Sha256Engine&) = default;

    void update(ByteView data);
    // Pads, compresses the last block(s) and returns the big-endian digest. The engine must not be
    // updated afterwards.
    std::array<uint8_t, 32> finish();

private:
    Sha256Compress m_compress;
    uint32_t m_state[8];
    uint64_t m_total{0};  // bytes hashed so far; the message length is limited to 2^64 bits
    size_t m_buffered{0};
    uint8_t m_block[64]{};
};

}  // namespace cvm::crypto::detail
