// libFuzzer harness: the sealed-blob parser (agent/sealing/blob.h) and the seal/unseal pair.
//
// Properties beyond "no crash":
//   - an accepted blob names exactly the request of its policy at its TCB_VERSION, a valid
//     context, and splits into AAD and ciphertext with nothing left over; no key opens it but by
//     forging a 128-bit tag, so unseal under a fixed key fails;
//   - the input read as (policy byte, AEAD byte, context length byte, context, plaintext) seals
//     into a blob that parses back to the same header and unseals to the same plaintext, and the
//     same blob with any one byte flipped never unseals.
#include <cstdlib>
#include <cstring>

#include "sealing/blob.h"

using namespace cvm;
using namespace cvm::agent;
using namespace cvm::agent::sealing;

namespace {

DerivedKey fixed_key()
{
    DerivedKey key;
    for (size_t i = 0; i < key.size(); ++i)
        key.expose()[i] = static_cast<uint8_t>(0xd0 + i);
    return key;
}

void check_parsed(ByteView data)
{
    auto blob = parse_blob(data);
    if (!blob.ok())
        return;
    if (!(blob->request == request_for(blob->policy, blob->request.tcb_version)) ||
        !check_context(blob->context).ok() || blob->aad.size() + blob->ciphertext.size() != data.size() ||
        blob->ciphertext.size() < TAG_SIZE)
        abort();
    if (unseal(fixed_key(), blob.value(), blob->context).ok())
        abort();
}

void check_round_trip(ByteView data)
{
    if (data.size() < 3)
        return;
    const auto policy = static_cast<Policy>(data[0] % 3);
    const Aead aead = data[1] & 1 ? Aead::ChaCha20Poly1305 : Aead::Aes256Gcm;
    const size_t context_len = 1 + data[2] % 32;
    if (data.size() < 3 + context_len)
        return;
    std::string context(reinterpret_cast<const char*>(data.data() + 3), context_len);
    for (char& c : context)
        c = static_cast<char>(0x20 + static_cast<uint8_t>(c) % 0x5f);  // printable
    ByteView plaintext = data.subspan(3 + context_len);
    if (plaintext.size() > MAX_PLAINTEXT)
        plaintext = plaintext.first(MAX_PLAINTEXT);
    const uint64_t tcb = data.size() * 0x0101010101ull;
    auto sealed = seal(fixed_key(), policy, tcb, context, plaintext, aead);
    if (!sealed.ok())
        abort();
    auto parsed = parse_blob(sealed.value());
    if (!parsed.ok() || parsed->policy != policy || parsed->aead != aead || parsed->context != context ||
        parsed->request.tcb_version != tcb)
        abort();
    auto opened = unseal(fixed_key(), parsed.value(), context);
    if (!opened.ok() || opened->size() != plaintext.size() ||
        (!plaintext.empty() && memcmp(opened->expose().data(), plaintext.data(), plaintext.size()) != 0))
        abort();
    Bytes flipped = sealed.release_value();
    flipped[data[0] % flipped.size()] ^= static_cast<uint8_t>(1u << (data[1] % 8));
    auto tampered = parse_blob(flipped);
    if (tampered.ok() && unseal(fixed_key(), tampered.value(), context).ok())
        abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    ByteView input(data, size);
    check_parsed(input);
    check_round_trip(input);
    return 0;
}
