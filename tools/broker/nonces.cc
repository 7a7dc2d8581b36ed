#include "nonces.h"

#include <sodium.h>

#include <algorithm>
#include <string_view>

namespace cvm::broker {
namespace {

constexpr size_t RANDOM_SIZE = 16;
constexpr size_t EXPIRY_OFFSET = 16;
constexpr size_t TAG_OFFSET = 24;
constexpr std::string_view NONCE_TAG = "cvmkb/1 nonce";

int64_t expiry_of(const Nonce& nonce)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i)
        v = v << 8 | nonce[EXPIRY_OFFSET + i];
    return static_cast<int64_t>(v);
}

}  // namespace

std::array<uint8_t, 8> NonceIssuer::tag(const Nonce& nonce) const
{
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, m_key.expose().data(), m_key.size());
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const uint8_t*>(NONCE_TAG.data()), NONCE_TAG.size());
    crypto_auth_hmacsha256_update(&state, nonce.data(), TAG_OFFSET);
    std::array<uint8_t, crypto_auth_hmacsha256_BYTES> mac;
    crypto_auth_hmacsha256_final(&state, mac.data());
    sodium_memzero(&state, sizeof state);
    std::array<uint8_t, 8> out;
    std::copy_n(mac.begin(), out.size(), out.begin());
    return out;
}

Nonce NonceIssuer::issue(int64_t now) const
{
    Nonce nonce{};
    randombytes_buf(nonce.data(), RANDOM_SIZE);
    int64_t expiry_seconds = now + m_lifetime;
    if (m_not_before && expiry_seconds <= m_not_before + m_lifetime)
        expiry_seconds = m_not_before + m_lifetime + 1;  // told apart from an earlier process's
    auto expiry = static_cast<uint64_t>(expiry_seconds);
    for (size_t i = 0; i < 8; ++i)
        nonce[EXPIRY_OFFSET + i] = static_cast<uint8_t>(expiry >> (56 - 8 * i));
    auto t = tag(nonce);
    std::copy(t.begin(), t.end(), nonce.begin() + TAG_OFFSET);
    return nonce;
}

Result<NonceCheck> NonceIssuer::check_and_use(const Nonce& nonce, int64_t now)
{
    auto expected = tag(nonce);
    if (!constant_time_equal(expected, ByteView(nonce).subspan(TAG_OFFSET)))
        return NonceCheck::Invalid;
    int64_t expiry = expiry_of(nonce);
    if (expiry > now + m_lifetime + MAX_CLOCK_SKEW_SECONDS)
        return NonceCheck::Invalid;
    if (expiry < now)
        return NonceCheck::Expired;
    // Every nonce this process issued expires after m_not_before + m_lifetime (issue() above).
    if (m_not_before && expiry <= m_not_before + m_lifetime)
        return NonceCheck::BeforeStart;
    static constexpr uint8_t USED[] = {'1'};
    bool first = TRY(m_store.set_if_absent(store_keys::nonce(nonce), USED, expiry - now + 1 + MAX_CLOCK_SKEW_SECONDS));
    return first ? NonceCheck::Fresh : NonceCheck::Reused;
}

}  // namespace cvm::broker
