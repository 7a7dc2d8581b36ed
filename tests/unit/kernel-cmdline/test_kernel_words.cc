#include "kernel-cmdline/kernel_words.h"

#include <doctest/doctest.h>

#include <string>

namespace cvm::cmdline {
namespace {

std::vector<KernelWord> split_ok(std::string_view text)
{
    auto words = split_kernel_words(text);
    REQUIRE(words.ok());
    return words.value();
}

TEST_CASE("words: names, values and the kernel's separators")
{
    auto w = split_ok("  console=ttyS0\tquiet\nroot=/dev/vda1 \xa0x=1\n");
    REQUIRE(w.size() == 4);
    CHECK(w[0].name == "console");
    CHECK(w[0].value == "ttyS0");
    CHECK(w[1].name == "quiet");
    CHECK(!w[1].value);
    CHECK(w[2].value == "/dev/vda1");
    CHECK(w[3].name == "x");  // 0xA0 is a space to the kernel (lib/ctype.c)
    CHECK(split_ok("").empty());
    CHECK(split_ok(" \n").empty());
}

TEST_CASE("words: only the first '=' splits, a leading '=' never does")
{
    auto w = split_ok("a=b=c =x=y");
    REQUIRE(w.size() == 2);
    CHECK(w[0].name == "a");
    CHECK(w[0].value == "b=c");
    CHECK(w[1].name == "=x");  // next_arg() keeps `equals` 0 for a '=' at index 0
    CHECK(w[1].value == "y");
    CHECK(split_ok("k=")[0].value == "");
}

TEST_CASE("words: quotes as next_arg() strips them")
{
    auto w = split_ok("k=\"a b\" \"q=x y\" \"bare word\" e=\"\" m=a\"b c\"d");
    REQUIRE(w.size() == 5);
    CHECK(w[0].name == "k");
    CHECK(w[0].value == "a b");
    CHECK(!w[0].stray_quote);
    CHECK(w[1].name == "q");
    CHECK(w[1].value == "x y");
    CHECK(w[2].name == "bare word");
    CHECK(!w[2].value);
    CHECK(w[3].value == "");
    CHECK(w[4].value == "a\"b c\"d");  // quotes in the middle stay, and are marked
    CHECK(w[4].stray_quote);
}

TEST_CASE("words: a quoted value of another parameter hides what looks like ours")
{
    auto w = split_ok("dyndbg=\"file x cvminit.simulate=1\" y");
    REQUIRE(w.size() == 2);
    CHECK(w[0].name == "dyndbg");
    CHECK(w[1].name == "y");
}

TEST_CASE("words: edge quotes")
{
    auto w = split_ok("\"k=\" \"\"");
    REQUIRE(w.size() == 2);
    CHECK(w[0].name == "k");
    CHECK(w[0].value == "");  // the closing quote cleared is the opening one of the value
    CHECK(w[1].name == "");
    auto q = split_ok("k=\"v\"x");  // the value's last byte is not a quote: only the first goes
    CHECK(q[0].value == "v\"x");
    CHECK(q[0].stray_quote);
}

TEST_CASE("words: an open quote is refused with its position")
{
    auto w = split_kernel_words("console=ttyS0 k=\"a b cvminit.broker=x");
    REQUIRE(!w.ok());
    CHECK(w.error().code() == Errc::Config);
    CHECK(w.error().message().find("byte 16 is never closed") != std::string_view::npos);
    CHECK(!split_kernel_words("\"").ok());
    CHECK(!split_kernel_words("a=\"\"\"").ok());
}

TEST_CASE("words: from a bare -- on, the words are init's")
{
    auto w = split_ok("a=1 -- b=2 -- c");
    REQUIRE(w.size() == 5);
    CHECK(!w[0].past_parameters);
    CHECK(w[1].name == "--");
    CHECK(w[1].past_parameters);
    CHECK(w[2].name == "b");
    CHECK(w[2].past_parameters);
    CHECK(w[3].name == "--");  // init's own argument
    CHECK(w[4].past_parameters);
    auto quoted = split_ok("\"--\" x");  // parse_args() compares the name after unquoting
    REQUIRE(quoted.size() == 2);
    CHECK(quoted[1].past_parameters);
    auto valued = split_ok("--=1 x");
    CHECK(!valued[0].past_parameters);
    CHECK(!valued[1].past_parameters);
    CHECK(split_ok("quiet --")[1].past_parameters);
}

}  // namespace
}  // namespace cvm::cmdline
