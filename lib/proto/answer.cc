#include "proto/answer.h"

namespace cvm::proto {
namespace {

ByteView text(std::string_view s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

Result<AttestAnswer> seal_answer(const Ed25519KeyPair& broker, const X25519PublicKey& agent,
                                 const ReportData& report_data, ByteView plaintext)
{
    HpkeSealed sealed = TRY(hpke_seal(agent, text(RESPONSE_INFO), report_data, plaintext));
    AttestAnswer answer;
    answer.enc = sealed.enc;
    answer.ct = std::move(sealed.ct);
    answer.sig = broker.sign(transcript(report_data, answer.enc, answer.ct));
    return answer;
}

Result<SecretBytes> open_answer(const Ed25519PublicKey& broker, const X25519KeyPair& agent,
                                const ReportData& report_data, const AttestAnswer& answer)
{
    if (!ed25519_verify(broker, transcript(report_data, answer.enc, answer.ct), answer.sig))
        return Error::make(Errc::Crypto, "answer signature does not verify with the pinned broker key "
                                         "(unsigned, signed by another broker, or altered in transit)");
    return hpke_open(agent, answer.enc, text(RESPONSE_INFO), report_data, answer.ct);
}

}  // namespace cvm::proto
