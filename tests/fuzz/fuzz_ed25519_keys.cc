// libFuzzer harness: the broker key's text forms — PKCS#8 and SPKI PEM (strict PEM, then DER)
// and the base64 form of the command line. Invariant: a private key that parses writes back to
// PEM that parses to the same public key.
#include <cstdlib>
#include <string_view>

#include "proto/keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto key = cvm::proto::parse_ed25519_private_pem(text); key.ok()) {
        cvm::SecretBytes pem = cvm::proto::ed25519_private_pem(key.value());
        auto again =
            cvm::proto::parse_ed25519_private_pem({reinterpret_cast<const char*>(pem.expose().data()), pem.size()});
        if (!again.ok() || again->public_key() != key->public_key())
            abort();
    }
    (void)cvm::proto::parse_ed25519_public_pem(text);
    (void)cvm::proto::parse_ed25519_public_b64(text);
    return 0;
}
