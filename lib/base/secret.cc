#include "base/secret.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>

namespace cvm {

void secure_wipe(std::span<uint8_t> data)
{
    if (!data.empty())
        sodium_memzero(data.data(), data.size());
}

bool constant_time_equal(ByteView a, ByteView b)
{
    if (a.size() != b.size())
        return false;
    if (a.empty())
        return true;
    return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

SecretBytes::SecretBytes(size_t size) : m_size(size)
{
    if (size == 0)
        return;
    m_data = static_cast<uint8_t*>(calloc(size, 1));
    if (!m_data)
        abort();  // no partial secret: allocation failure of key material is fatal
}

SecretBytes SecretBytes::copy_of(ByteView data)
{
    SecretBytes s(data.size());
    if (!data.empty())
        memcpy(s.m_data, data.data(), data.size());
    return s;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : m_data(other.m_data), m_size(other.m_size)
{
    other.m_data = nullptr;
    other.m_size = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept
{
    if (this != &other) {
        release();
        m_data = other.m_data;
        m_size = other.m_size;
        other.m_data = nullptr;
        other.m_size = 0;
    }
    return *this;
}

SecretBytes::~SecretBytes()
{
    release();
}

void SecretBytes::release()
{
    if (m_data) {
        secure_wipe({m_data, m_size});
        free(m_data);
    }
    m_data = nullptr;
    m_size = 0;
}

}  // namespace cvm
