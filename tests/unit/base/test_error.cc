#include <doctest.h>

#include <string>

#include "base/result.h"

using namespace cvm;

namespace {

Result<int> half(int v)
{
    if (v % 2)
        return Error::make(Errc::Format, "%d is odd", v);
    return v / 2;
}

Result<int> quarter(int v)
{
    int h = TRY(half(v));
    return TRY(half(h));
}

Result<void> check_even(int v)
{
    TRY(half(v));
    return {};
}

}  // namespace

TEST_CASE("TRY propagates the first error and yields values")
{
    CHECK(quarter(8).value() == 2);
    auto e = quarter(6);
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().message() == "3 is odd");
    CHECK(check_even(4).ok());
    CHECK_FALSE(check_even(5).ok());
}

TEST_CASE("Error keeps code and errno, and prefixes context")
{
    Error e = Error::from_errno(Errc::Io, 2, "open %s", "/x");
    CHECK(e.code() == Errc::Io);
    CHECK(e.errno_value() == 2);
    e.prefix("loading %s", "config");
    CHECK(e.message() == "loading config: open /x");
    CHECK(errc_name(Errc::Policy) == "policy");
}

TEST_CASE("Error truncates long messages instead of overflowing")
{
    std::string long_text(1000, 'x');
    Error e = Error::make(Errc::Config, "%s", long_text.c_str());
    CHECK(e.message().size() == Error::MESSAGE_CAPACITY - 1);
    e.prefix("%s", long_text.c_str());
    CHECK(e.message().size() == Error::MESSAGE_CAPACITY - 1);
}
