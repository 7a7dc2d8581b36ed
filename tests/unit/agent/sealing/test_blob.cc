#include <doctest.h>

#include <string>

#include "derived_key_fixture.h"
#include "sealing/blob.h"

using namespace cvm;
using namespace cvm::agent;
using namespace cvm::agent::sealing;
using cvm::test::key_of;

namespace {

constexpr uint64_t TCB = 0x1b00000000000004;
const std::array<uint8_t, NONCE_SIZE> NONCE = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab};

std::string text_of(const SecretBytes& s)
{
    return {reinterpret_cast<const char*>(s.expose().data()), s.size()};
}

std::string message_of(const Error& e)
{
    return std::string(e.message());
}

Bytes sealed(Policy policy = Policy::MeasurementAndChip, std::string_view context = "app/db",
             std::string_view plaintext = "hello, sealed world", Aead aead = Aead::Aes256Gcm)
{
    auto blob = seal(key_of(0xd0), policy, TCB, context, as_bytes(plaintext), aead);
    REQUIRE(blob.ok());
    return blob.release_value();
}

}  // namespace

TEST_CASE("sealed blob: the exact bytes of an independent implementation, both AEADs")
{
    // Made with Python's hmac/hashlib (HKDF written out) and the `cryptography` package's AESGCM
    // and ChaCha20Poly1305 over the layout of blob.h: derived key (d0..df)x2, measurement-and-chip,
    // TCB_VERSION 0x1b00000000000004, context "app/db", nonce a0..ab, plaintext
    // "hello, sealed world", AAD = the header.
    const char* gcm =
        "43564d5345414c31010001000100000029000000000000000000000000000000040000000000001b06006170702f6462a0a1a2a3a4a5a6"
        "a7a8a9aaaba02bda7798bbc59d7ba3cbaae31aafdf51f5059897b3e32f4babf38c7e19c94dc2ed25";
    const char* chacha =
        "43564d5345414c31010002000100000029000000000000000000000000000000040000000000001b06006170702f6462a0a1a2a3a4a5a6"
        "a7a8a9aaabb8815d52c18072049e28edaa478bf2b747acb68713bb2952194a166ae983efe616ebac";
    for (const auto& vector : {std::pair{Aead::Aes256Gcm, gcm}, std::pair{Aead::ChaCha20Poly1305, chacha}}) {
        const Aead aead = vector.first;  // not a structured binding: CAPTURE's lambda takes it (clang 14)
        const char* expected = vector.second;
        CAPTURE(aead_name(aead));
        auto blob = seal_with_nonce(key_of(0xd0), Policy::MeasurementAndChip, TCB, "app/db",
                                    as_bytes("hello, sealed world"), aead, NONCE);
        REQUIRE(blob.ok());
        CHECK(to_hex(blob.value()) == expected);
        auto golden = from_hex(expected);
        REQUIRE(golden.has_value());
        auto parsed = parse_blob(*golden);
        REQUIRE(parsed.ok());
        auto opened = unseal(key_of(0xd0), parsed.value(), "app/db");
        REQUIRE(opened.ok());
        CHECK(text_of(opened.value()) == "hello, sealed world");
    }
}

TEST_CASE("sealed blob: round trip per policy and AEAD, the header naming what opens it")
{
    for (Policy policy : ALL_POLICIES) {
        for (Aead aead : {Aead::Aes256Gcm, Aead::ChaCha20Poly1305}) {
            CAPTURE(policy_name(policy));
            CAPTURE(aead_name(aead));
            Bytes blob = sealed(policy, "ctx", "secret", aead);
            auto parsed = parse_blob(blob);
            REQUIRE(parsed.ok());
            CHECK(parsed->policy == policy);
            CHECK(parsed->aead == aead);
            CHECK(parsed->request == request_for(policy, TCB));
            CHECK(parsed->context == "ctx");
            CHECK(parsed->aad.size() == HEADER_FIXED_SIZE + 3 + NONCE_SIZE);
            CHECK(parsed->ciphertext.size() == 6 + TAG_SIZE);
            auto opened = unseal(key_of(0xd0), parsed.value(), "ctx");
            REQUIRE(opened.ok());
            CHECK(text_of(opened.value()) == "secret");
        }
    }
    // Two seals of the same input differ (fresh nonce) and both open.
    Bytes a = sealed(), b = sealed();
    CHECK(a != b);
    // Empty and largest plaintexts.
    for (size_t size : {size_t{0}, MAX_PLAINTEXT}) {
        Bytes plaintext(size, 0x5a);
        auto blob = seal(key_of(0xd0), Policy::ChipOnly, TCB, "c", plaintext);
        REQUIRE(blob.ok());
        CHECK(blob->size() == HEADER_FIXED_SIZE + 1 + NONCE_SIZE + size + TAG_SIZE);
        auto parsed = parse_blob(blob.value());
        REQUIRE(parsed.ok());
        auto opened = unseal(key_of(0xd0), parsed.value(), "c");
        REQUIRE(opened.ok());
        CHECK(Bytes(opened->expose().begin(), opened->expose().end()) == plaintext);
    }
}

TEST_CASE("sealed blob: another derived key or another context does not open it")
{
    Bytes blob = sealed();
    auto parsed = parse_blob(blob);
    REQUIRE(parsed.ok());
    const std::string failed =
        "unseal failed: the key derived now does not open this blob (another measurement, chip or context?)";
    auto other_key = unseal(key_of(0xd1), parsed.value(), "app/db");
    REQUIRE_FALSE(other_key.ok());
    CHECK(other_key.error().code() == Errc::Crypto);
    CHECK(message_of(other_key.error()) == failed);
    for (const char* context : {"app/dc", "app/db ", "App/db", "app"}) {
        auto other_context = unseal(key_of(0xd0), parsed.value(), context);
        REQUIRE_FALSE(other_context.ok());
        CHECK(message_of(other_context.error()) == failed);
    }
    auto bad_context = unseal(key_of(0xd0), parsed.value(), "");
    REQUIRE_FALSE(bad_context.ok());
    CHECK(message_of(bad_context.error()) == "context: 0 bytes, expected 1 to 256");
}

TEST_CASE("sealed blob: the measurement policies bind a launch's HOST_DATA; chip-only and a zero HOST_DATA none")
{
    std::array<uint8_t, 32> ours{}, theirs{}, none{};
    ours.fill(0x11);
    theirs.fill(0x22);
    CHECK(launch_binding(Policy::MeasurementAndChip, ours).size() == 32);
    CHECK(launch_binding(Policy::MeasurementOnly, ours).data() == ours.data());
    CHECK(launch_binding(Policy::ChipOnly, ours).empty());
    CHECK(launch_binding(Policy::MeasurementAndChip, none).empty());

    auto blob = seal(key_of(0xd0), Policy::MeasurementAndChip, TCB, "app/db", as_bytes("for this deployment"),
                     Aead::Aes256Gcm, launch_binding(Policy::MeasurementAndChip, ours));
    REQUIRE(blob.ok());
    auto parsed = parse_blob(blob.value());
    REQUIRE(parsed.ok());
    auto same = unseal(key_of(0xd0), parsed.value(), "app/db", launch_binding(parsed->policy, ours));
    REQUIRE(same.ok());
    CHECK(text_of(same.value()) == "for this deployment");
    // The same image launched with another init-data document, or with none.
    for (const auto* host_data : {&theirs, &none}) {
        auto other = unseal(key_of(0xd0), parsed.value(), "app/db", launch_binding(parsed->policy, *host_data));
        REQUIRE_FALSE(other.ok());
        CHECK(other.error().code() == Errc::Crypto);
    }
    // A blob sealed without one does not open under a launch that has one.
    const Bytes plain_blob = sealed();  // the parsed blob's views point into it
    auto plain = parse_blob(plain_blob);
    REQUIRE(plain.ok());
    CHECK_FALSE(unseal(key_of(0xd0), plain.value(), "app/db", launch_binding(plain->policy, ours)).ok());
}

TEST_CASE("sealed blob: every ciphertext, tag and AAD byte is authenticated")
{
    Bytes blob = sealed(Policy::MeasurementAndChip, "x", "abc");
    size_t parsed_but_refused = 0;
    for (size_t i = 0; i < blob.size(); ++i) {
        Bytes tampered = blob;
        tampered[i] ^= 0x01;
        auto parsed = parse_blob(tampered);
        if (!parsed.ok())
            continue;  // a header field refused by name: the cases below
        ++parsed_but_refused;
        auto opened = unseal(key_of(0xd0), parsed.value(), parsed->context);
        CAPTURE(i);
        CHECK_FALSE(opened.ok());
    }
    // Bytes that still parse: TCB_VERSION (8), CONTEXT (1 byte, 'x' ^ 1 is printable), NONCE (12),
    // ciphertext and tag (3 + 16).
    CHECK(parsed_but_refused == 8 + 1 + NONCE_SIZE + 3 + TAG_SIZE);
}

TEST_CASE("sealed blob: each header field refused by name")
{
    const Bytes good = sealed(Policy::MeasurementAndChip, "ctx", "plain");
    auto refused = [&](size_t offset, uint8_t value, const std::string& expected) {
        Bytes b = good;
        b[offset] = value;
        auto parsed = parse_blob(b);
        CAPTURE(offset);
        REQUIRE_FALSE(parsed.ok());
        CHECK(message_of(parsed.error()) == expected);
    };
    refused(0, 'X', "sealed blob MAGIC: not \"CVMSEAL1\"");
    refused(7, '2', "sealed blob MAGIC: not \"CVMSEAL1\"");
    refused(8, 2, "sealed blob VERSION: 2, expected 1");
    refused(9, 1, "sealed blob VERSION: 257, expected 1");
    refused(10, 0, "sealed blob AEAD: 0, expected 1 (AES-256-GCM) or 2 (ChaCha20-Poly1305)");
    refused(10, 3, "sealed blob AEAD: 3, expected 1 (AES-256-GCM) or 2 (ChaCha20-Poly1305)");
    refused(11, 3, "sealed blob POLICY: 3, expected 0 (measurement-and-chip), 1 (measurement-only) or 2 (chip-only)");
    // Another valid policy with this blob's root key and fields: the recorded request is not that
    // policy's, so the header is refused before any key is asked for.
    refused(11, 1, "sealed blob ROOT_KEY: 1, expected 2 (VLEK) for measurement-only");
    refused(11, 2, "sealed blob FIELD_SELECT: 0x29, expected 0x20 for chip-only");
    refused(12, 2, "sealed blob ROOT_KEY: 2, expected 1 (VCEK) for measurement-and-chip");
    refused(12, 0, "sealed blob ROOT_KEY: 0, expected 1 (VCEK) for measurement-and-chip");
    for (size_t at : {13, 14, 15}) {
        Bytes b = good;
        b[at] = 0x80;
        auto parsed = parse_blob(b);
        REQUIRE_FALSE(parsed.ok());
        CHECK(message_of(parsed.error()).find("RESERVED") != std::string::npos);
    }
    refused(16, 0x2b, "sealed blob FIELD_SELECT: 0x2b, expected 0x29 for measurement-and-chip");
    refused(23, 0x80, "sealed blob FIELD_SELECT: 0x8000000000000029, expected 0x29 for measurement-and-chip");
    refused(24, 1, "sealed blob VMPL: 1, expected 0");
    refused(27, 1, "sealed blob VMPL: 16777216, expected 0");
    refused(28, 1, "sealed blob GUEST_SVN: 1, expected 0");
    refused(40, 0, "sealed blob CONTEXT_LEN: 0, expected 1 to 256");
    refused(41, 1, "sealed blob CONTEXT_LEN: 259, expected 1 to 256");
    refused(42, 0x1f, "sealed blob CONTEXT: context: byte 0 is 0x1f, expected printable ASCII (0x20 to 0x7e)");
    refused(44, 0x7f, "sealed blob CONTEXT: context: byte 2 is 0x7f, expected printable ASCII (0x20 to 0x7e)");
    // A longer CONTEXT_LEN moves NONCE and CIPHERTEXT; the blob is still refused by the tag (or
    // earlier), never read past its end.
    Bytes longer = good;
    longer[40] = 20;
    auto parsed = parse_blob(longer);
    if (parsed.ok())
        CHECK_FALSE(unseal(key_of(0xd0), parsed.value(), parsed->context).ok());
}

TEST_CASE("sealed blob: truncations, trailing bytes and limits")
{
    const Bytes good = sealed(Policy::ChipOnly, "ctx", "plain");
    for (size_t n = 0; n < good.size(); ++n) {
        auto parsed = parse_blob(ByteView(good.data(), n));
        CAPTURE(n);
        if (parsed.ok()) {
            // Only a cut into the ciphertext or tag parses; the tag then refuses it.
            CHECK(n >= HEADER_FIXED_SIZE + 3 + NONCE_SIZE + TAG_SIZE);
            CHECK_FALSE(unseal(key_of(0xd0), parsed.value(), "ctx").ok());
        }
    }
    auto tiny = parse_blob(ByteView(good.data(), MIN_BLOB_SIZE - 1));
    REQUIRE_FALSE(tiny.ok());
    CHECK(message_of(tiny.error()) == "sealed blob: 70 bytes, expected 71 to 65862");
    auto short_tag = parse_blob(ByteView(good.data(), HEADER_FIXED_SIZE + 3 + NONCE_SIZE + TAG_SIZE - 1));
    REQUIRE_FALSE(short_tag.ok());
    CHECK(message_of(short_tag.error()) ==
          "sealed blob CIPHERTEXT: 15 bytes, expected 16 to 65552 (ciphertext and tag)");
    Bytes trailing = good;
    trailing.push_back(0);
    auto with_trailing = parse_blob(trailing);
    REQUIRE(with_trailing.ok());  // one more ciphertext byte as far as the layout goes ...
    CHECK_FALSE(unseal(key_of(0xd0), with_trailing.value(), "ctx").ok());  // ... which the tag refuses
    Bytes huge(MAX_BLOB_SIZE + 1, 0);
    auto too_big = parse_blob(huge);
    REQUIRE_FALSE(too_big.ok());
    CHECK(message_of(too_big.error()) == "sealed blob: 65863 bytes, expected 71 to 65862");
    // A short context with the largest ciphertext: within MAX_BLOB_SIZE, yet over the plaintext
    // limit.
    auto big = seal(key_of(0xd0), Policy::ChipOnly, TCB, "c", Bytes(MAX_PLAINTEXT, 1));
    REQUIRE(big.ok());
    big->insert(big->end(), 1, 0);
    auto over = parse_blob(big.value());
    REQUIRE_FALSE(over.ok());
    CHECK(message_of(over.error()) == "sealed blob CIPHERTEXT: 65553 bytes, expected 16 to 65552 (ciphertext and tag)");
}

TEST_CASE("seal: the context and plaintext bounds")
{
    CHECK(check_context("a").ok());
    CHECK(check_context(std::string(MAX_CONTEXT, '~')).ok());
    CHECK(check_context(" spaces are printable ").ok());
    auto long_context = check_context(std::string(MAX_CONTEXT + 1, 'a'));
    REQUIRE_FALSE(long_context.ok());
    CHECK(message_of(long_context.error()) == "context: 257 bytes, expected 1 to 256");
    for (std::string_view bad : {std::string_view("a\nb"), std::string_view("a\0b", 3), std::string_view("\xc3\xa9"),
                                 std::string_view("\t")}) {
        auto refused = seal(key_of(0xd0), Policy::ChipOnly, TCB, bad, as_bytes("x"));
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().code() == Errc::Format);
        CHECK(message_of(refused.error()).find("context: byte ") == 0);
    }
    auto too_much = seal(key_of(0xd0), Policy::ChipOnly, TCB, "c", Bytes(MAX_PLAINTEXT + 1, 0));
    REQUIRE_FALSE(too_much.ok());
    CHECK(message_of(too_much.error()) == "plaintext: 65537 bytes, expected at most 65536");
}
