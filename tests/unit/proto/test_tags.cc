// The REPORT_DATA bindings (proto/tags.h): golden values computed independently with Python's
// hashlib (tag || 0x00 || u16be(len) || field ...), and the separation the tags promise.
#include <doctest.h>

#include <set>
#include <string>

#include "proto/binding.h"
#include "proto/tags.h"

using namespace cvm;
using namespace cvm::proto;

namespace {

std::string hex(const ReportData& d)
{
    return to_hex(ByteView(d));
}

Bytes filled(size_t size, uint8_t value)
{
    return Bytes(size, value);
}

}  // namespace

TEST_CASE("each binding matches its definition, computed outside this code")
{
    Bytes counting(64);
    for (size_t i = 0; i < counting.size(); ++i)
        counting[i] = static_cast<uint8_t>(i);
    CHECK(hex(workload_user_data(counting)) ==
          "9d29e08931ef83121ff70d5ca9b7c27a66b6e5884851c774f2f467c7621168e89dad19cb847ca1de78b99f970a76791f0a40d749d1"
          "07b42aa3ef67126daf3f0b");
    CHECK(hex(workload_user_data({})) ==
          "c613403a5c91fafeabb90e0e055977bad885954229bd3859825737b6cd0121c13aeebeb1c1f591471676ab38a8d6834b832cef997e"
          "fabc60b8012f18b0a9878c");
    Bytes spki42 = filled(42, 0);
    spki42[0] = 0x30;
    spki42[1] = 0x2a;
    CHECK(hex(workload_ratls(spki42, filled(32, 0xaa))) ==
          "02ae1d4465084f1ba2a71a7b3209d587494d76e7508a3c705b71645c8f88220a8f31c01783caf276af39fee5c36071a16854b1368f"
          "37a17aa7559f57406edd19");
    Bytes spki91 = filled(91, 0);
    spki91[0] = 0x30;
    spki91[1] = 0x59;
    CHECK(hex(agent_key(spki91)) ==
          "2ea73ff024a2c06be294a6fe197ff2b15801e46e147e797e867410bcd762bd622676398595dbfb58e9ed0e84de993f5d231a0d57e1"
          "1b243c65c5c3230ddf0fdd");
    ReportData sevens{};
    sevens.fill(7);
    CHECK(hex(ratls_broker(spki91, sevens)) ==
          "2e73cfbb1b9e15ab5b1a1e020ef9f4a9da721fa756cff7f82ccb3996bbc89fdf784103cd42a3f5d88f53e30ce500afcc5e81cbc1d9"
          "dce41b71db171c47ca9b71");
    CHECK(hex(initdata_check("sha384", filled(48, 0x5a))) ==
          "2a5a2f2e124ce2e3245bf7b539c20ffb5020cda1e5db8ca57f275acb77a47f88e2cee3c1f51381b15741634c60b263688f1ba2f21d"
          "ce50781e800bd45d55c8db");
}

TEST_CASE("the cvmkb/1 report_data is the same construction under its own tag")
{
    Nonce nonce{};
    nonce.fill(1);
    std::array<uint8_t, 32> key{};
    key.fill(2);
    RequestHash request = request_hash("{\"resources\":[]}");
    CHECK(report_data(nonce, key, request) == tagged_report_data(REPORT_DATA_TAG, {nonce, key, request}));
}

TEST_CASE("no tag contains 0x00 or is another's prefix, so the same fields never give the same binding")
{
    std::set<std::string_view> tags{REPORT_DATA_TAG,        RATLS_BROKER_TAG,   AGENT_KEY_TAG,
                                    WORKLOAD_USER_DATA_TAG, WORKLOAD_RATLS_TAG, INITDATA_TAG};
    CHECK(tags.size() == 6);
    for (std::string_view a : tags) {
        CHECK(a.find('\0') == std::string_view::npos);
        for (std::string_view b : tags)
            CHECK((a == b || b.substr(0, a.size()) != a));
    }
    // The workload's user data can be exactly what the agent binds for the broker, and still differs.
    Bytes data = filled(64, 9);
    std::set<std::string> out;
    for (std::string_view tag : tags)
        out.insert(hex(tagged_report_data(tag, {data})));
    CHECK(out.size() == tags.size());
    // Moving a byte across a field boundary changes the value (the lengths are in the input).
    CHECK(tagged_report_data(WORKLOAD_RATLS_TAG, {filled(2, 1), filled(1, 1)}) !=
          tagged_report_data(WORKLOAD_RATLS_TAG, {filled(1, 1), filled(2, 1)}));
}
