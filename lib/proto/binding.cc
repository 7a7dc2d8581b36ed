#include "proto/binding.h"

#include "crypto/digest.h"

namespace cvm::proto {
namespace {

ByteView text(std::string_view s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void length_prefixed(crypto::Sha512& h, ByteView field)
{
    const uint8_t length[2] = {static_cast<uint8_t>(field.size() >> 8), static_cast<uint8_t>(field.size())};
    h.update(length);
    h.update(field);
}

}  // namespace

RequestHash request_hash(std::string_view canonical_request)
{
    return crypto::Sha256::of(text(canonical_request));
}

ReportData report_data(const Nonce& nonce, const std::array<uint8_t, 32>& x25519_public, const RequestHash& request)
{
    crypto::Sha512 h;
    h.update(text(REPORT_DATA_TAG));
    const uint8_t separator = 0;
    h.update({&separator, 1});
    length_prefixed(h, nonce);
    length_prefixed(h, x25519_public);
    length_prefixed(h, request);
    return h.finish();
}

Transcript transcript(const ReportData& report_data, ByteView enc, ByteView ct)
{
    crypto::Sha512 h;
    h.update(text(TRANSCRIPT_TAG));
    h.update(report_data);
    h.update(enc);
    h.update(ct);
    return h.finish();
}

}  // namespace cvm::proto
