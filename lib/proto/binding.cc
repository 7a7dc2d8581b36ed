#include "proto/binding.h"

#include "crypto/digest.h"
#include "proto/tags.h"

namespace cvm::proto {
namespace {

ByteView text(std::string_view s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

RequestHash request_hash(std::string_view canonical_request)
{
    return crypto::Sha256::of(text(canonical_request));
}

ReportData report_data(const Nonce& nonce, const std::array<uint8_t, 32>& x25519_public, const RequestHash& request)
{
    return tagged_report_data(REPORT_DATA_TAG, {nonce, x25519_public, request});
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
