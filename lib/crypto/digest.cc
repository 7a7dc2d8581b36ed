#include "crypto/digest.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>
#include <optional>

#include "crypto/cpu_x86.h"
#include "crypto/sha256_engine.h"
#include "crypto/sha256_x86.h"

namespace cvm::crypto {

// SHA-256 is either mbedTLS's context or our engine around the SHA-extensions compression;
// the choice is made once per object. mbedTLS keeps SHA-384 inside its SHA-512 context.
template <>
struct Digest<32>::State {
    std::optional<detail::Sha256Engine> hw;
    mbedtls_sha256_context portable;
};
template <>
struct Digest<48>::State {
    mbedtls_sha512_context ctx;
};
template <>
struct Digest<64>::State {
    mbedtls_sha512_context ctx;
};

namespace {

// -1: follow the default; otherwise a Sha256Impl forced by set_sha256_impl().
std::atomic<int> g_forced_impl{-1};

Sha256Impl default_impl()
{
    static const Sha256Impl impl = [] {
        const char* env = getenv("CVM_SHA_IMPL");
        if (env && strcmp(env, "portable") == 0)
            return Sha256Impl::Portable;
        return detail::cpu_has_sha_extensions() ? Sha256Impl::ShaNi : Sha256Impl::Portable;
    }();
    return impl;
}

}  // namespace

const char* sha256_impl_name(Sha256Impl impl)
{
    return impl == Sha256Impl::ShaNi ? "sha-ni" : "portable";
}

bool sha256_shani_supported()
{
    return detail::cpu_has_sha_extensions();
}

Sha256Impl sha256_impl()
{
    int forced = g_forced_impl.load(std::memory_order_relaxed);
    return forced < 0 ? default_impl() : static_cast<Sha256Impl>(forced);
}

Result<void> set_sha256_impl(Sha256Impl impl)
{
    if (impl == Sha256Impl::ShaNi && !detail::cpu_has_sha_extensions())
        return Error::make(Errc::Unsupported, "this CPU has no SHA extensions");
    g_forced_impl.store(static_cast<int>(impl), std::memory_order_relaxed);
    return {};
}

void reset_sha256_impl()
{
    g_forced_impl.store(-1, std::memory_order_relaxed);
}

template <size_t N>
Digest<N>::Digest() : m_state(std::make_unique<State>())
{
    if constexpr (N == 32) {
        if (sha256_impl() == Sha256Impl::ShaNi) {
            m_state->hw.emplace(&detail::sha256_compress_shani);
            return;
        }
        mbedtls_sha256_init(&m_state->portable);
        mbedtls_sha256_starts(&m_state->portable, 0);
    } else {
        mbedtls_sha512_init(&m_state->ctx);
        mbedtls_sha512_starts(&m_state->ctx, N == 48 ? 1 : 0);
    }
}

template <size_t N>
Digest<N>::~Digest()
{
    if (!m_state)
        return;
    if constexpr (N == 32) {
        if (!m_state->hw)
            mbedtls_sha256_free(&m_state->portable);
    } else {
        mbedtls_sha512_free(&m_state->ctx);
    }
}

template <size_t N>
Digest<N>::Digest(Digest&&) noexcept = default;
template <size_t N>
Digest<N>& Digest<N>::operator=(Digest&&) noexcept = default;

template <size_t N>
void Digest<N>::update(ByteView data)
{
    if constexpr (N == 32) {
        if (m_state->hw)
            m_state->hw->update(data);
        else
            mbedtls_sha256_update(&m_state->portable, data.data(), data.size());
    } else {
        mbedtls_sha512_update(&m_state->ctx, data.data(), data.size());
    }
}

template <size_t N>
std::array<uint8_t, N> Digest<N>::finish()
{
    std::array<uint8_t, N> out{};
    if constexpr (N == 32) {
        if (m_state->hw)
            return m_state->hw->finish();
        mbedtls_sha256_finish(&m_state->portable, out.data());
    } else {
        uint8_t full[64];
        mbedtls_sha512_finish(&m_state->ctx, full);
        memcpy(out.data(), full, N);
    }
    return out;
}

template class Digest<32>;
template class Digest<48>;
template class Digest<64>;

}  // namespace cvm::crypto
