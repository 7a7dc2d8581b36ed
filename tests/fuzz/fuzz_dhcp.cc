// libFuzzer harness: the DHCP reply parser (agent/dhcp/dhcp_message.h). The xid and chaddr are
// taken from the input itself so that mutations reach the options; whatever is accepted must
// keep the parser's promises.
#include <cstdlib>
#include <cstring>

#include "dhcp/dhcp_message.h"

using namespace cvm::agent;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    uint32_t xid = 0;
    Mac mac{};
    if (size >= 8)
        xid = uint32_t{data[4]} << 24 | uint32_t{data[5]} << 16 | uint32_t{data[6]} << 8 | data[7];
    if (size >= 34)
        memcpy(mac.data(), data + 28, mac.size());
    auto reply = dhcp::parse_reply({data, size}, xid, mac);
    if (!reply.ok())
        return 0;
    const dhcp::Reply& r = reply.value();
    if (size > dhcp::MAX_REPLY_SIZE || r.dns.size() > dhcp::MAX_DNS_SERVERS || r.message.size() > 64)
        abort();
    for (char c : r.message) {
        if (c < 0x20 || c > 0x7e)
            abort();
    }
    if (r.type != dhcp::MessageType::Offer && r.type != dhcp::MessageType::Ack && r.type != dhcp::MessageType::Nak)
        abort();
    if (r.type != dhcp::MessageType::Nak && (!is_unicast(r.your_address) || !is_unicast(r.server_id) ||
                                             !r.lease_seconds || !r.subnet_mask || !prefix_length(*r.subnet_mask)))
        abort();
    return 0;
}
