#include "proto/tags.h"

#include "crypto/digest.h"

namespace cvm::proto {

ReportData tagged_report_data(std::string_view tag, std::initializer_list<ByteView> fields)
{
    crypto::Sha512 h;
    h.update({reinterpret_cast<const uint8_t*>(tag.data()), tag.size()});
    const uint8_t separator = 0;
    h.update({&separator, 1});
    for (ByteView field : fields) {
        const uint8_t length[2] = {static_cast<uint8_t>(field.size() >> 8), static_cast<uint8_t>(field.size())};
        h.update(length);
        h.update(field);
    }
    return h.finish();
}

ReportData workload_user_data(ByteView user_data)
{
    return tagged_report_data(WORKLOAD_USER_DATA_TAG, {user_data});
}

ReportData workload_ratls(ByteView spki_der, ByteView nonce)
{
    return tagged_report_data(WORKLOAD_RATLS_TAG, {spki_der, nonce});
}

ReportData initdata_check(std::string_view algorithm, ByteView digest)
{
    return tagged_report_data(INITDATA_TAG,
                              {{reinterpret_cast<const uint8_t*>(algorithm.data()), algorithm.size()}, digest});
}

ReportData agent_key(ByteView spki_der)
{
    return tagged_report_data(AGENT_KEY_TAG, {spki_der});
}

ReportData ratls_broker(ByteView spki_der, const ReportData& cvmkb_report_data)
{
    return tagged_report_data(RATLS_BROKER_TAG, {spki_der, cvmkb_report_data});
}

}  // namespace cvm::proto
