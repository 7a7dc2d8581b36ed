#include "kernel-cmdline/values.h"

#include <doctest/doctest.h>

namespace cvm::cmdline {
namespace {

TEST_CASE("values: dotted quads have one spelling")
{
    CHECK(parse_ipv4("10.0.2.15") == Ipv4Address{10, 0, 2, 15});
    CHECK(parse_ipv4("0.0.0.0") == Ipv4Address{0, 0, 0, 0});
    CHECK(parse_ipv4("255.255.255.255") == Ipv4Address{255, 255, 255, 255});
    for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.256", "1.2.3.-1", "1.2.3.4 ", " 1.2.3.4",
                            "1..3.4", "0x1.2.3.4", "1.2.3.0004", "1.2.3.4/8"})
        CHECK_MESSAGE(!parse_ipv4(bad), bad);
    CHECK(format_ipv4({192, 168, 0, 1}) == "192.168.0.1");
}

TEST_CASE("values: unicast")
{
    CHECK(is_unicast({10, 0, 0, 1}));
    CHECK(is_unicast({223, 255, 255, 254}));
    CHECK(!is_unicast({0, 1, 2, 3}));
    CHECK(!is_unicast({127, 0, 0, 1}));
    CHECK(!is_unicast({224, 0, 0, 1}));
    CHECK(!is_unicast({255, 255, 255, 255}));
}

TEST_CASE("values: decimals")
{
    CHECK(parse_decimal("0", 5) == 0u);
    CHECK(parse_decimal("4294967295", 0xffffffffu) == 0xffffffffu);
    CHECK(!parse_decimal("4294967296", 0xffffffffu));
    CHECK(!parse_decimal("6", 5));
    CHECK(!parse_decimal("00", 5));
    CHECK(!parse_decimal("", 5));
    CHECK(!parse_decimal("-1", 5));
    CHECK(!parse_decimal("12345678901", 0xffffffffu));
}

TEST_CASE("values: split keeps empty parts")
{
    CHECK(split("a,b", ',') == std::vector<std::string_view>{"a", "b"});
    CHECK(split("", ',') == std::vector<std::string_view>{""});
    CHECK(split(",a,", ',') == std::vector<std::string_view>{"", "a", ""});
}

TEST_CASE("values: absolute paths")
{
    CHECK(valid_absolute_path("/a"));
    CHECK(valid_absolute_path("/usr/bin/app-1.2_x"));
    CHECK(valid_absolute_path("/a/..b/c.."));
    for (const char* bad : {"", "/", "a", "a/b", "//a", "/a/", "/a//b", "/./a", "/a/.", "/a/../b", "/a b", "/a\"b",
                            "/a\tb", "/\x7f", "/\xc3\xa9"})
        CHECK_MESSAGE(!valid_absolute_path(bad), bad);
    CHECK(valid_absolute_path("/" + std::string(4094, 'a')));
    CHECK(!valid_absolute_path("/" + std::string(4095, 'a')));
    CHECK(is_below("/run/secrets", "/run"));
    CHECK(!is_below("/run", "/run"));
    CHECK(!is_below("/runx/a", "/run"));
    CHECK(!is_below("/run/", "/run"));
}

TEST_CASE("values: shown")
{
    CHECK(shown("abc") == "abc");
    CHECK(shown("a\nb\x80") == "a?b?");
    CHECK(shown(std::string(64, 'x')) == std::string(64, 'x'));
    CHECK(shown(std::string(65, 'x')) == std::string(61, 'x') + "...");
}

}  // namespace
}  // namespace cvm::cmdline
