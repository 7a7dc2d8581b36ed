#include <algorithm>

#include "stages.h"

namespace cvm::agent {

int64_t Context::remaining_ms() const
{
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return std::max<int64_t>(0, left.count());
}

void Context::wipe()
{
    release.reset();         // SecretBytes wipe themselves as they go
    session.reset();         // the X25519 private key
    kbs_session.reset();     // the P-256 TEE key and the KBS's attestation token
    ratls_identity.reset();  // the RA-TLS client key (its PEM buffer wipes itself)
}

Context::~Context()
{
    wipe();
}

}  // namespace cvm::agent
