// libFuzzer harness: the release parsers an untrusted publisher reaches — a release statement
// (release/release.h) and a whole Sigstore bundle (release/bundle.h, with its tlog entries going
// to verify_tlog_entry against an empty trusted root).
// Invariants: a statement that parses writes back to JSON that parses to the same statement, and
// that JSON is a fixed point; a bundle that verifies with the fixed key carries a statement that
// the same key re-signs into a bundle that verifies to the same statement.
#include <cstdlib>
#include <string_view>

#include "proto/keys.h"
#include "release/bundle.h"

namespace {

// The seed corpus's bundles are signed by the Ed25519 key of this seed (corpus/release_bundle,
// made with pyca/cryptography; tests/unit/release/test_bundle.cc checks signed.json here).
const cvm::release::SigningKey& release_key()
{
    static const cvm::release::SigningKey key = [] {
        cvm::Secret<cvm::proto::ED25519_SEED_SIZE> seed;
        for (uint8_t& b : seed.expose())
            b = 0x42;
        cvm::SecretBytes pem = cvm::proto::ed25519_private_pem(cvm::proto::Ed25519KeyPair::from_seed(seed));
        auto parsed = cvm::release::SigningKey::parse_pem(
            {reinterpret_cast<const char*>(pem.expose().data()), pem.expose().size()});
        if (!parsed.ok())
            abort();
        return parsed.release_value();
    }();
    return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto s = cvm::release::parse_statement(text); s.ok()) {
        std::string json = cvm::release::to_json(s.value());
        auto again = cvm::release::parse_statement(json);
        if (json.empty() || !again.ok() || !(again.value() == s.value()) ||
            cvm::release::to_json(again.value()) != json)
            abort();
    }
    cvm::release::TrustedRoot root;
    cvm::release::VerifyOptions options;
    options.key = &release_key().public_key();
    options.trusted_root = &root;
    options.now = 1;
    if (auto v = cvm::release::verify_bundle(text, options); v.ok()) {
        auto bundle = cvm::release::make_bundle(v->statement, release_key());
        if (!bundle.ok())
            abort();
        auto reverified = cvm::release::verify_bundle(bundle.value(), options);
        if (!reverified.ok() || !(reverified->statement == v->statement))
            abort();
    }
    return 0;
}
