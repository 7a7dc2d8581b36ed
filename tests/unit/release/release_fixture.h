// Shared by the release library's tests: a small statement, keys made once per kind, and a bundle
// assembled by hand around any payload, so that tests can sign what make_bundle would refuse.
#pragma once

#include <string>
#include <string_view>

#include <doctest.h>

#include "release/bundle.h"

namespace cvm::test {

// Two shapes, four subjects, host_data, not_after = source_date_epoch + 1000.
release::Statement sample_statement();
inline constexpr int64_t SAMPLE_EPOCH = 1700000000;
inline constexpr int64_t SAMPLE_NOT_AFTER = SAMPLE_EPOCH + 1000;

// One key of each kind for the whole test run (key generation is the slow part).
const release::SigningKey& p256_key();
const release::SigningKey& ed25519_key();

// {"mediaType", "verificationMaterial": {"publicKey": {"hint"}, "tlogEntries": []},
//  "dsseEnvelope": {"payload", "payloadType", "signatures": [{"sig", "keyid"}]}} with `payload`
// signed by `key` over PAE(payload_type, payload): what make_bundle writes, for any bytes.
std::string hand_bundle(std::string_view payload, const release::SigningKey& key,
                        std::string_view payload_type = release::PAYLOAD_TYPE);

// Options that accept a sample bundle by `key` at SAMPLE_EPOCH.
release::VerifyOptions options_for(const release::SigningKey& key);

// The value of `result`, or a failed REQUIRE naming its error (for move-only values).
template <typename T>
T take(Result<T> result)
{
    REQUIRE_MESSAGE(result.ok(), std::string(result.ok() ? "" : result.error().message()));
    return result.release_value();
}

// `text` with the first occurrence of `from` replaced by `to` (REQUIREd to occur).
std::string replace_once(std::string text, std::string_view from, std::string_view to);

}  // namespace cvm::test
