#include <doctest.h>

#include <type_traits>

#include "base/secret.h"

using namespace cvm;

static_assert(!std::is_copy_constructible_v<Secret<32>>);
static_assert(!std::is_copy_assignable_v<SecretBytes>);

TEST_CASE("Secret moves wipe the source")
{
    Secret<4> a;
    a.expose()[0] = 0x42;
    Secret<4> b(std::move(a));
    CHECK(b.expose()[0] == 0x42);
    CHECK(all_zero(a.expose()));  // NOLINT(bugprone-use-after-move): the wipe is the contract
    b.wipe();
    CHECK(all_zero(b.expose()));
}

TEST_CASE("SecretBytes copies in, compares in constant time and moves")
{
    const uint8_t key[] = {1, 2, 3};
    SecretBytes s = SecretBytes::copy_of(key);
    SecretBytes t = SecretBytes::copy_of(key);
    CHECK(s.equals(t));
    t.expose()[2] = 9;
    CHECK_FALSE(s.equals(t));
    SecretBytes u = std::move(s);
    CHECK(u.size() == 3);
    CHECK(s.empty());  // NOLINT(bugprone-use-after-move)
    CHECK(constant_time_equal(u.expose(), key));
    CHECK_FALSE(constant_time_equal(u.expose(), ByteView(key, 2)));
}

TEST_CASE("secure_wipe zeroes the buffer")
{
    uint8_t buf[16];
    for (auto& b : buf)
        b = 0xAA;
    secure_wipe(buf);
    CHECK(all_zero(buf));
}
