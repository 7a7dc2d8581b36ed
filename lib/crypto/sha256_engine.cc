#include "crypto/sha256_engine.h"

#include <cstring>

#include "base/secret.h"

namespace cvm::crypto::detail {

namespace {

// FIPS 180-4 §5.3.3: the first 32 bits of the fractional parts of the square roots of the first
// eight primes.
constexpr uint32_t H0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                            0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

}  // namespace

Sha256Engine::Sha256Engine(Sha256Compress compress) : m_compress(compress)
{
    memcpy(m_state, H0, sizeof m_state);
}

Sha256Engine::~Sha256Engine()
{
    secure_wipe({reinterpret_cast<uint8_t*>(m_state), sizeof m_state});
    secure_wipe(m_block);
}

void Sha256Engine::update(ByteView data)
{
    if (data.empty())  // data() may be null
        return;
    const uint8_t* p = data.data();
    size_t n = data.size();
    m_total += n;
    if (m_buffered > 0) {
        size_t take = n < 64 - m_buffered ? n : 64 - m_buffered;
        memcpy(m_block + m_buffered, p, take);
        m_buffered += take;
        p += take;
        n -= take;
        if (m_buffered < 64)
            return;
        m_compress(m_state, m_block, 1);
        m_buffered = 0;
    }
    // Whole blocks straight from the caller's buffer: no copy on the bulk path.
    if (n >= 64) {
        m_compress(m_state, p, n / 64);
        p += n - n % 64;
        n %= 64;
    }
    if (n > 0) {
        memcpy(m_block, p, n);
        m_buffered = n;
    }
}

std::array<uint8_t, 32> Sha256Engine::finish()
{
    // Append the bit "1", zeros up to 56 mod 64, then the message length in bits, big-endian.
    const uint64_t bits = m_total * 8;
    m_block[m_buffered++] = 0x80;
    if (m_buffered > 56) {
        memset(m_block + m_buffered, 0, 64 - m_buffered);
        m_compress(m_state, m_block, 1);
        m_buffered = 0;
    }
    memset(m_block + m_buffered, 0, 56 - m_buffered);
    for (int i = 0; i < 8; ++i)
        m_block[56 + i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
    m_compress(m_state, m_block, 1);

    std::array<uint8_t, 32> out{};
    for (size_t i = 0; i < 8; ++i) {
        out[4 * i] = static_cast<uint8_t>(m_state[i] >> 24);
        out[4 * i + 1] = static_cast<uint8_t>(m_state[i] >> 16);
        out[4 * i + 2] = static_cast<uint8_t>(m_state[i] >> 8);
        out[4 * i + 3] = static_cast<uint8_t>(m_state[i]);
    }
    return out;
}

}  // namespace cvm::crypto::detail
