#include <doctest.h>

#include <string>

#include "derived_key_fixture.h"
#include "sealing/policy.h"

using namespace cvm;
using namespace cvm::agent;
using namespace cvm::agent::sealing;
using cvm::test::key_of;

namespace {

Bytes bytes_0_to_31()
{
    Bytes b(32);
    for (size_t i = 0; i < b.size(); ++i)
        b[i] = static_cast<uint8_t>(i);
    return b;
}

constexpr const char* UUID = "0b5ec2f6-6e49-4c3a-9a7e-2f1d3c4b5a69";

}  // namespace

TEST_CASE("policies: the three names, exactly, and back")
{
    CHECK(parse_policy("measurement-and-chip") == Policy::MeasurementAndChip);
    CHECK(parse_policy("measurement-only") == Policy::MeasurementOnly);
    CHECK(parse_policy("chip-only") == Policy::ChipOnly);
    for (Policy p : ALL_POLICIES)
        CHECK(parse_policy(policy_name(p)) == p);
    for (const char* bad :
         {"", "Chip-Only", "chip-only ", "chip_only", "measurement", "measurement-and-chip\n", "vcek", "chip-only-"})
        CHECK_FALSE(parse_policy(bad).has_value());
    CHECK_FALSE(parse_policy(std::string_view("chip-only\0", 10)).has_value());
}

TEST_CASE("policies: each is one derived-key request, VMPL 0 and GUEST_SVN 0, at the given TCB")
{
    const uint64_t tcb = 0x1b00000000000004;
    DerivedKeyRequest both = request_for(Policy::MeasurementAndChip, tcb);
    CHECK(both.root == RootKey::Vcek);
    CHECK(both.field_select == (FIELD_GUEST_POLICY | FIELD_MEASUREMENT | FIELD_TCB_VERSION));
    CHECK(both.field_select == 0x29);
    DerivedKeyRequest measurement = request_for(Policy::MeasurementOnly, tcb);
    CHECK(measurement.root == RootKey::Vlek);
    CHECK(measurement.field_select == 0x29);
    DerivedKeyRequest chip = request_for(Policy::ChipOnly, tcb);
    CHECK(chip.root == RootKey::Vcek);
    CHECK(chip.field_select == FIELD_TCB_VERSION);
    for (Policy p : ALL_POLICIES) {
        DerivedKeyRequest r = request_for(p, tcb);
        CHECK(r.vmpl == 0);
        CHECK(r.guest_svn == 0);
        CHECK(r.tcb_version == tcb);
        CHECK((r.field_select & ~FIELD_ALL) == 0);
        CHECK(policy_of(r.root, r.field_select) == p);
        CHECK(request_for(p, 7).tcb_version == 7);
    }
    CHECK_FALSE(policy_of(RootKey::Vlek, FIELD_TCB_VERSION).has_value());
    CHECK_FALSE(policy_of(RootKey::Vcek, FIELD_MEASUREMENT).has_value());
    CHECK_FALSE(policy_of(RootKey::Vcek, 0).has_value());
}

TEST_CASE("HKDF-SHA256 with an empty salt: RFC 5869 A.3 through the same helper")
{
    // RFC 5869 Appendix A.3 (Test Case 3): IKM = 22 bytes of 0x0b, salt and info empty, L = 42.
    Bytes ikm(22, 0x0b);
    Bytes okm(42);
    REQUIRE(hkdf_sha256(ikm, {}, okm).ok());
    CHECK(to_hex(okm) == "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST_CASE("hybrid passphrase: the documented formula against an independent computation")
{
    // Made with Python's hmac/hashlib (RFC 5869 written out: PRK = HMAC(32 zero bytes, IKM),
    // T(i) = HMAC(PRK, T(i-1) || info || i)) over broker_key = 00..1f, derived key = (d0..df)x2,
    // info = b"cvminit hybrid volume/1\0" + UUID, L = 64.
    auto got = hybrid_passphrase(bytes_0_to_31(), key_of(0xd0), UUID);
    REQUIRE(got.ok());
    CHECK(got->size() == HYBRID_PASSPHRASE_SIZE);
    CHECK(to_hex(got->expose()) ==
          "a5b0ec375fa5b116452e11557a8f1e8bdf8033e90bba89f9b35e71bba27ef35f5cd8e1b3e158dfa1a0433ad4873504e4cbad007785da"
          "1ae4ecac7a3ec71e8156");
}

TEST_CASE("hybrid passphrase: each input changes it; neither key alone gives it")
{
    auto base = hybrid_passphrase(bytes_0_to_31(), key_of(0xd0), UUID);
    REQUIRE(base.ok());
    auto other_derived = hybrid_passphrase(bytes_0_to_31(), key_of(0xd1), UUID);
    Bytes other_key = bytes_0_to_31();
    other_key[31] ^= 1;
    auto other_broker = hybrid_passphrase(other_key, key_of(0xd0), UUID);
    auto other_uuid = hybrid_passphrase(bytes_0_to_31(), key_of(0xd0), "0b5ec2f6-6e49-4c3a-9a7e-2f1d3c4b5a6a");
    REQUIRE(other_derived.ok());
    REQUIRE(other_broker.ok());
    REQUIRE(other_uuid.ok());
    CHECK_FALSE(base->equals(other_derived.value()));
    CHECK_FALSE(base->equals(other_broker.value()));
    CHECK_FALSE(base->equals(other_uuid.value()));
    // The same inputs, the same passphrase (the next boot must open the volume).
    auto again = hybrid_passphrase(bytes_0_to_31(), key_of(0xd0), UUID);
    REQUIRE(again.ok());
    CHECK(base->equals(again.value()));
}

TEST_CASE("hybrid passphrase: a UUID that is not canonical lower-case text, an empty or huge broker key")
{
    for (const char* bad : {"", "0B5EC2F6-6E49-4C3A-9A7E-2F1D3C4B5A69", "0b5ec2f66e494c3a9a7e2f1d3c4b5a69",
                            "{0b5ec2f6-6e49-4c3a-9a7e-2f1d3c4b5a69}", "0b5ec2f6-6e49-4c3a-9a7e-2f1d3c4b5a6",
                            "0b5ec2f6-6e49-4c3a-9a7e-2f1d3c4b5a699", "0b5ec2f6_6e49-4c3a-9a7e-2f1d3c4b5a69",
                            "0b5ec2f6-6e49-4c3a-9a7e-2f1d3c4b5a6g", "0b5ec2f6-6e494-c3a-9a7e-2f1d3c4b5a69"}) {
        CAPTURE(bad);
        auto got = hybrid_passphrase(bytes_0_to_31(), key_of(0xd0), bad);
        REQUIRE_FALSE(got.ok());
        CHECK(got.error().code() == Errc::Format);
        CHECK(std::string(got.error().message()).find("volume UUID") == 0);
    }
    auto upper = hybrid_passphrase(bytes_0_to_31(), key_of(0xd0), "0B5EC2F6-6E49-4C3A-9A7E-2F1D3C4B5A69");
    REQUIRE_FALSE(upper.ok());
    CHECK(std::string(upper.error().message()) ==
          "volume UUID: \"0B5EC2F6-6E49-4C3A-9A7E-2F1D3C4B5A69\" (36 bytes), expected lower-case canonical text "
          "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
    auto control = hybrid_passphrase(bytes_0_to_31(), key_of(0xd0), "0b5ec2f6-6e49-4c3a-9a7e-2f1d3c4b5a6\x1b");
    REQUIRE_FALSE(control.ok());
    CHECK(std::string(control.error().message()).find("volume UUID: \"(not printable)\" (36 bytes)") == 0);
    auto nul =
        hybrid_passphrase(bytes_0_to_31(), key_of(0xd0), std::string_view("0b5ec2f6-6e49-4c3a-9a7e-2f1d3c4b5a6\0", 36));
    CHECK_FALSE(nul.ok());
    auto empty = hybrid_passphrase({}, key_of(0xd0), UUID);
    REQUIRE_FALSE(empty.ok());
    CHECK(std::string(empty.error().message()) == "broker volume key: 0 bytes, expected 1 to 1024");
    Bytes huge(MAX_BROKER_KEY + 1, 7);
    CHECK_FALSE(hybrid_passphrase(huge, key_of(0xd0), UUID).ok());
    Bytes largest(MAX_BROKER_KEY, 7);
    CHECK(hybrid_passphrase(largest, key_of(0xd0), UUID).ok());
    CHECK(is_canonical_uuid(UUID));
}
