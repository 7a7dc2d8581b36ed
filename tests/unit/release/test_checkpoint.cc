// Signed-note checkpoints (lib/release/checkpoint.h): Rekor v1's form, a real one from the
// public-good log, and each malformation refused.
#include <doctest.h>

#include <string>

#include "base/base64.h"
#include "base/file.h"
#include "proto/json.h"
#include "release/checkpoint.h"
#include "release_fixture.h"
#include "tlog_fixture.h"
#include "vectors.h"

using namespace cvm;
using namespace cvm::release;

namespace {

const test::TestLog& test_log()
{
    static test::TestLog log;
    return log;
}

crypto::Sha256Digest sample_root()
{
    return crypto::Sha256::of(as_bytes("root"));
}

// A note (its body lines, each ending in "\n") signed by the test log under its name and hint.
std::string signed_note(const std::string& body, const SigningKey* key = nullptr,
                        std::string_view name = test::TestLog::HOST)
{
    auto id = test_log().log_id();
    return body + "\n" + test::signature_line(body, key ? *key : test_log().key(), name, std::span(id).first(4));
}

std::string body(std::string_view size_line = "42")
{
    return std::string("rekor.example.dev - 7\n") + std::string(size_line) + "\n" + base64_encode(sample_root()) + "\n";
}

void refused(const std::string& note, const char* expected, Errc code)
{
    auto result = verify_checkpoint(note, test_log().tlog());
    REQUIRE_FALSE(result.ok());
    CAPTURE(result.error().message());
    CHECK(result.error().code() == code);
    CHECK(std::string(result.error().message()).find(expected) != std::string::npos);
}

}  // namespace

TEST_CASE("a checkpoint as Rekor v1 writes it: origin, size and root hash, signed by the log")
{
    std::string note = test_log().checkpoint(42, sample_root());
    auto checkpoint = verify_checkpoint(note, test_log().tlog());
    REQUIRE_MESSAGE(checkpoint.ok(), std::string(checkpoint.ok() ? "" : checkpoint.error().message()));
    CHECK(checkpoint->origin == "rekor.example.dev - 1193050959916656506");
    CHECK(checkpoint->tree_size == 42);
    CHECK(checkpoint->root_hash == sample_root());

    // Without the "Timestamp:" extension line, as public-good Rekor writes them today.
    CHECK(verify_checkpoint(signed_note(body()), test_log().tlog()).ok());
}

TEST_CASE("a real checkpoint of the public-good Rekor log verifies with the key its trusted root names")
{
    // tests/vectors/sigstore: the Sigstore TUF repository's trusted root and a bundle whose entry
    // was logged by rekor.sigstore.dev (PROVENANCE.md).
    auto root = test::take(load_trusted_root(test::vector_path("sigstore/trusted_root_public_good.json")));
    auto bundle =
        test::take(read_text_file(test::vector_path("sigstore/tflint-ruleset-aws_v0.34.0.sigstore.json"), 1 << 20));
    auto doc = test::take(proto::JsonDoc::parse(bundle, "bundle"));
    yyjson_val* entry =
        yyjson_arr_get_first(yyjson_obj_get(yyjson_obj_get(doc.root(), "verificationMaterial"), "tlogEntries"));
    yyjson_val* envelope =
        yyjson_obj_get(yyjson_obj_get(yyjson_obj_get(entry, "inclusionProof"), "checkpoint"), "envelope");
    std::string note(yyjson_get_str(envelope), yyjson_get_len(envelope));
    REQUIRE(root.tlogs.size() == 2);
    auto checkpoint = verify_checkpoint(note, root.tlogs[0]);
    REQUIRE_MESSAGE(checkpoint.ok(), std::string(checkpoint.ok() ? "" : checkpoint.error().message()));
    CHECK(checkpoint->origin == "rekor.sigstore.dev - 1193050959916656506");
    CHECK(checkpoint->tree_size == 18089576);
    CHECK(base64_encode(checkpoint->root_hash) == "AHulDP6i5WnSAT+1P+OcUm/6H5mtBfRbnDIwYhBmXyI=");

    // One bit of the size or the root, and the log's signature no longer covers it.
    std::string other_size = test::replace_once(note, "\n18089576\n", "\n18089577\n");
    CHECK_FALSE(verify_checkpoint(other_size, root.tlogs[0]).ok());
    // The other log of the same root (Rekor v2, Ed25519) did not sign it.
    auto other_log = verify_checkpoint(note, root.tlogs[1]);
    REQUIRE_FALSE(other_log.ok());
    CHECK(std::string(other_log.error().message()).find("no signature by log log2025-1.rekor.sigstore.dev") !=
          std::string::npos);
}

TEST_CASE("a witness's cosignature beside the log's is allowed and not checked")
{
    auto witness = SigningKey::generate(KeyKind::Ed25519).release_value();
    uint8_t hint[4] = {1, 2, 3, 4};
    std::string note = signed_note(body()) + test::signature_line(body(), witness, "witness.example", hint);
    CHECK(verify_checkpoint(note, test_log().tlog()).ok());
    // ... but a cosignature alone is not the log's.
    std::string only_witness = body() + "\n" + test::signature_line(body(), witness, "witness.example", hint);
    refused(only_witness, "no signature by log rekor.example.dev", Errc::Crypto);
}

TEST_CASE("an Ed25519 log key signs checkpoints too")
{
    auto key = SigningKey::generate(KeyKind::Ed25519).release_value();
    TransparencyLog log = test_log().tlog();
    log.key = key.public_key();
    CHECK(verify_checkpoint(signed_note(body(), &key), log).ok());
    CHECK_FALSE(verify_checkpoint(signed_note(body()), log).ok());
}

TEST_CASE("signatures not by the log's key, under another name or another key hint are refused")
{
    auto other = SigningKey::generate(KeyKind::EcdsaP256).release_value();
    refused(signed_note(body(), &other), "line 5: not the signature of log rekor.example.dev", Errc::Crypto);
    refused(signed_note(body(), nullptr, "rekor.example.org"), "no signature by log rekor.example.dev", Errc::Crypto);
    uint8_t other_hint[4] = {0xde, 0xad, 0xbe, 0xef};
    refused(body() + "\n" + test::signature_line(body(), test_log().key(), test::TestLog::HOST, other_hint),
            "no signature by log", Errc::Crypto);
    // A good signature line followed by a bad one by the same log: every line of the log counts.
    std::string two = signed_note(body()) + signed_note(body(), &other).substr(body().size() + 1);
    refused(two, "line 6: not the signature of log", Errc::Crypto);
    // The body changed after signing.
    std::string signed_42 = signed_note(body());
    refused(test::replace_once(signed_42, "\n42\n", "\n43\n"), "not the signature of log", Errc::Crypto);
}

TEST_CASE("malformed notes are refused, naming the line")
{
    std::string good = signed_note(body());
    refused(test::replace_once(good, "\n\n", "\n"), "no blank line", Errc::Format);
    refused(good.substr(0, good.size() - 1), "ends in a newline", Errc::Format);
    refused(signed_note(body("042")), "line 2 (tree size): \"042\"", Errc::Format);
    refused(signed_note(body("4a")), "line 2 (tree size)", Errc::Format);
    refused(signed_note(body("")), "1 lines before the signatures", Errc::Format);  // an empty line ends the note
    refused(signed_note(body("-1")), "line 2 (tree size)", Errc::Format);
    refused(signed_note(body("99999999999999999999")), "line 2 (tree size)", Errc::Format);
    refused(signed_note("origin\n1\n" + base64_encode(Bytes(31, 1)) + "\n"), "line 3 (root hash)", Errc::Format);
    refused(signed_note("origin\n1\nAAAA\n"), "line 3 (root hash)", Errc::Format);
    refused(signed_note("\n1\n" + base64_encode(sample_root()) + "\n"), "line 1 (origin) is empty", Errc::Format);
    refused(signed_note("origin\n1\n"), "2 lines before the signatures", Errc::Format);
    refused(test::replace_once(good, "\u2014 ", "- "), "a signature line starts with", Errc::Format);
    refused(test::replace_once(good, "\u2014 rekor.example.dev ", "\u2014 rekor.example.dev  "),
            "expected \"\u2014 <key name> <base64>\"", Errc::Format);
    refused(body() + "\n\u2014 rekor.example.dev AAECAw==\n", "not the base64 of a key hint and a signature",
            Errc::Format);
    refused(body() + "\n\u2014 rekor.example.dev not-base64!\n", "not the base64", Errc::Format);
    refused(good + "\n", "a signature line starts with", Errc::Format);
    refused(good + "trailing text", "ends in a newline", Errc::Format);
}

TEST_CASE("extension lines are signed with the note; an empty line ends the note")
{
    CHECK(verify_checkpoint(signed_note(body() + "Timestamp: 1\nother: x\n"), test_log().tlog()).ok());
    refused(test::replace_once(signed_note(body() + "Timestamp: 1\n"), "Timestamp: 1", "Timestamp: 2"),
            "not the signature of log", Errc::Crypto);
    // An empty line among the extensions ends the note there: what follows must be signatures.
    refused(signed_note(body() + "Timestamp: 1\n\nother: x\n"), "line 6: a signature line starts with", Errc::Format);
}

TEST_CASE("log_host: the key name is the base URL's host")
{
    CHECK(log_host("https://rekor.sigstore.dev") == "rekor.sigstore.dev");
    CHECK(log_host("https://log2025-1.rekor.sigstore.dev/api") == "log2025-1.rekor.sigstore.dev");
    CHECK(log_host("rekor.example") == "rekor.example");
    CHECK(log_host("https://").empty());
}
