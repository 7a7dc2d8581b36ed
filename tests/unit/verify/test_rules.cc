#include <doctest.h>

#include "verify/rules.h"

using namespace cvm;
using namespace cvm::verify;

TEST_CASE("Rules: the first broken rule decides the claim; later rules are skipped")
{
    Rules rules("chain.x", "object", "what is wanted");
    CHECK(rules.need(true, "a", "b", "never shown"));
    CHECK_FALSE(rules.need(false, "found 1", "expected 1", "first"));
    CHECK_FALSE(rules.need(false, "found 2", "expected 2", "second"));
    CHECK(rules.need(true, "c", "d", "e"));
    CHECK_FALSE(rules.ok());
    Claim c = std::move(rules).finish("all good");
    CHECK(c.name == "chain.x");
    CHECK_FALSE(c.pass);
    CHECK(c.found == "found 1");
    CHECK(c.expected == "expected 1");
    CHECK(c.detail == "first");
}

TEST_CASE("Rules: a pass keeps the object's description and takes the pass detail")
{
    Rules rules("chain.y", "object", "wanted");
    rules.need(Result<void>{}, "x", "y");
    Claim c = std::move(rules).finish("checked everything");
    CHECK(c.pass);
    CHECK(c.found == "object");
    CHECK(c.detail == "checked everything");
}

TEST_CASE("Rules: a failed Result's message becomes the detail")
{
    Rules rules("chain.z", "object", "wanted");
    rules.need(Result<void>(Error::make(Errc::Chain, "bad %d", 7)), "found", "expected");
    Claim c = std::move(rules).finish("unused");
    CHECK_FALSE(c.pass);
    CHECK(c.detail == "bad 7");
}

TEST_CASE("not_checked claims fail")
{
    Claim c = not_checked("vek.tcb", "SPLs", "no report");
    CHECK_FALSE(c.pass);
    CHECK(c.found == "not checked");
    CHECK(c.detail == "no report");
}

TEST_CASE("printable escapes control and non-ASCII bytes and bounds the length")
{
    CHECK(printable("SEV-VCEK") == "SEV-VCEK");
    CHECK(printable(std::string("a\nb\x1b[31m\\\xff", 10)) == "a\\x0ab\\x1b[31m\\x5c\\xff");
    std::string long_name(200, 'x');
    std::string p = printable(long_name);
    CHECK(p.size() < 100);
    CHECK(p.ends_with("..."));
}
