// Secret<N> and SecretBytes: the only home of key material.
//
// Non-copyable; moves wipe the source; destruction wipes the whole capacity (sodium_memzero, which
// the compiler may not elide). Contents are reachable only through expose(), so `grep expose(`
// lists every reader. Comparison is constant-time. There is deliberately no conversion to string
// and no stream or format overload: a secret cannot be logged by accident.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/bytes.h"

namespace cvm {

// Wipes `data` in a way the optimiser keeps. Use it for every buffer that held key material.
void secure_wipe(std::span<uint8_t> data);

// Constant-time equality of equal-length spans; false when the lengths differ.
bool constant_time_equal(ByteView a, ByteView b);

template <size_t N>
class Secret {
public:
    Secret() = default;
    Secret(const Secret&) = delete;
    Secret& operator=(const Secret&) = delete;
    Secret(Secret&& other) noexcept : m_bytes(other.m_bytes) { other.wipe(); }
    Secret& operator=(Secret&& other) noexcept
    {
        if (this != &other) {
            m_bytes = other.m_bytes;
            other.wipe();
        }
        return *this;
    }
    ~Secret() { wipe(); }

    static constexpr size_t size() { return N; }
    std::span<uint8_t, N> expose() { return m_bytes; }
    std::span<const uint8_t, N> expose() const { return m_bytes; }
    bool equals(const Secret& other) const { return constant_time_equal(m_bytes, other.m_bytes); }
    void wipe() { secure_wipe(m_bytes); }

private:
    std::array<uint8_t, N> m_bytes{};
};

class SecretBytes {
public:
    SecretBytes() = default;
    explicit SecretBytes(size_t size);
    // Copies `data` in; the caller wipes its own copy.
    static SecretBytes copy_of(ByteView data);

    SecretBytes(const SecretBytes&) = delete;
    SecretBytes& operator=(const SecretBytes&) = delete;
    SecretBytes(SecretBytes&& other) noexcept;
    SecretBytes& operator=(SecretBytes&& other) noexcept;
    ~SecretBytes();

    size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    std::span<uint8_t> expose() { return {m_data, m_size}; }
    ByteView expose() const { return {m_data, m_size}; }
    bool equals(const SecretBytes& other) const { return constant_time_equal(expose(), other.expose()); }

private:
    void release();

    uint8_t* m_data{nullptr};
    size_t m_size{0};
};

}  // namespace cvm
