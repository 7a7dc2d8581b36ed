// libFuzzer harness: TeeKey's JWE decryption (kbs/jwe.h's decrypt_flattened under TEE_PROFILE,
// the path TeeKey::decrypt takes) with a fixed P-256 key, Bob's of RFC 7518 Appendix C, so that
// a seed encrypted to it reaches the key agreement, the unwrap and the tag check. Invariants:
// never a crash; a success only for at most MAX_JWE_SIZE bytes of a JSON object with exactly the
// five members of tee_key.h (protected, encrypted_key, iv, ciphertext, tag), and decrypting the
// same input again gives the same plaintext (no state carried between calls).
#include <cstdlib>
#include <string_view>

#include "base/base64.h"
#include "kbs/jwe.h"
#include "kbs/tee_key.h"
#include "proto/json.h"

namespace {

const cvm::kbs::jwe::EcKey& fixed_key()
{
    static const cvm::kbs::jwe::EcKey key = [] {
        auto d = cvm::base64url_decode("VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw");
        auto made = cvm::kbs::jwe::EcKey::from_private(cvm::kbs::jwe::Curve::P256, d.value());
        if (!made.ok())
            abort();
        return made.release_value();
    }();
    return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto plaintext = cvm::kbs::jwe::decrypt_flattened(text, fixed_key(), cvm::kbs::jwe::TEE_PROFILE);
    if (!plaintext.ok())
        return 0;
    if (size > cvm::kbs::MAX_JWE_SIZE)
        abort();
    auto doc = cvm::proto::JsonDoc::parse(text, "jwe");
    if (!doc.ok() ||
        !cvm::proto::check_members(doc.value().root(), "jwe", {"protected", "encrypted_key", "iv", "ciphertext", "tag"})
             .ok())
        abort();
    auto again = cvm::kbs::jwe::decrypt_flattened(text, fixed_key(), cvm::kbs::jwe::TEE_PROFILE);
    if (!again.ok() || !again.value().equals(plaintext.value()))
        abort();
    return 0;
}
