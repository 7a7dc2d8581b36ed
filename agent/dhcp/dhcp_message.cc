#include "dhcp/dhcp_message.h"

#include <cstring>

#include "base/reader.h"

namespace cvm::agent::dhcp {

namespace {

// RFC 2132 option codes.
constexpr uint8_t OPT_PAD = 0;
constexpr uint8_t OPT_SUBNET_MASK = 1;
constexpr uint8_t OPT_ROUTER = 3;
constexpr uint8_t OPT_DNS = 6;
constexpr uint8_t OPT_REQUESTED_ADDRESS = 50;
constexpr uint8_t OPT_LEASE_TIME = 51;
constexpr uint8_t OPT_OVERLOAD = 52;
constexpr uint8_t OPT_MESSAGE_TYPE = 53;
constexpr uint8_t OPT_SERVER_ID = 54;
constexpr uint8_t OPT_PARAMETER_LIST = 55;
constexpr uint8_t OPT_MESSAGE = 56;
constexpr uint8_t OPT_CLIENT_ID = 61;
constexpr uint8_t OPT_END = 255;

constexpr uint8_t BOOTREQUEST = 1, BOOTREPLY = 2;
constexpr uint8_t HTYPE_ETHERNET = 1, HLEN_ETHERNET = 6;
constexpr size_t XID_OFFSET = 4, FLAGS_OFFSET = 10, CHADDR_OFFSET = 28;
constexpr size_t MAX_MESSAGE_TEXT = 64;

void append(Bytes& out, std::initializer_list<uint8_t> bytes)
{
    out.insert(out.end(), bytes);
}

void append_address(Bytes& out, uint8_t code, Ipv4 address)
{
    append(out, {code, 4});
    out.insert(out.end(), address.octets.begin(), address.octets.end());
}

Bytes build(MessageType type, const Mac& mac, uint32_t xid, const Ipv4* requested, const Ipv4* server_id)
{
    Bytes m(FIXED_SIZE, 0);
    m[0] = BOOTREQUEST;
    m[1] = HTYPE_ETHERNET;
    m[2] = HLEN_ETHERNET;
    for (size_t i = 0; i < 4; ++i)
        m[XID_OFFSET + i] = static_cast<uint8_t>(xid >> (24 - 8 * i));
    m[FLAGS_OFFSET] = 0x80;  // BROADCAST (RFC 2131 §2, Figure 2)
    memcpy(m.data() + CHADDR_OFFSET, mac.data(), mac.size());
    m.insert(m.end(), MAGIC_COOKIE.begin(), MAGIC_COOKIE.end());
    append(m, {OPT_MESSAGE_TYPE, 1, static_cast<uint8_t>(type)});
    append(m, {OPT_CLIENT_ID, 7, HTYPE_ETHERNET});
    m.insert(m.end(), mac.begin(), mac.end());
    if (requested)
        append_address(m, OPT_REQUESTED_ADDRESS, *requested);
    if (server_id)
        append_address(m, OPT_SERVER_ID, *server_id);
    append(m, {OPT_PARAMETER_LIST, 4, OPT_SUBNET_MASK, OPT_ROUTER, OPT_DNS, OPT_LEASE_TIME});
    m.push_back(OPT_END);
    if (m.size() < MIN_REQUEST_SIZE)
        m.resize(MIN_REQUEST_SIZE, OPT_PAD);
    return m;
}

Ipv4 address_at(ByteView value, size_t index)
{
    Ipv4 a;
    memcpy(a.octets.data(), value.data() + 4 * index, 4);
    return a;
}

// What the options say, before the per-type rules are applied.
struct Options {
    std::optional<uint8_t> type;
    std::optional<Ipv4> server_id;
    Reply reply;
};

Result<void> take_option(Options& o, uint8_t code, ByteView value)
{
    auto need = [&](bool ok, const char* shape) -> Result<void> {
        if (!ok)
            return Error::make(Errc::Format, "DHCP option %u has length %zu, expected %s", code, value.size(), shape);
        return {};
    };
    switch (code) {
    case OPT_MESSAGE_TYPE:
        TRY(need(value.size() == 1, "1"));
        o.type = value[0];
        break;
    case OPT_OVERLOAD:
        return Error::make(Errc::Unsupported, "DHCP option 52 (overload) moves options into sname/file: not supported");
    case OPT_SUBNET_MASK:
        TRY(need(value.size() == 4, "4"));
        o.reply.subnet_mask = address_at(value, 0);
        break;
    case OPT_SERVER_ID:
        TRY(need(value.size() == 4, "4"));
        o.server_id = address_at(value, 0);
        break;
    case OPT_LEASE_TIME:
        TRY(need(value.size() == 4, "4"));
        o.reply.lease_seconds = address_at(value, 0).to_u32();
        break;
    case OPT_ROUTER:
        TRY(need(!value.empty() && value.size() % 4 == 0, "a non-zero multiple of 4"));
        o.reply.router = address_at(value, 0);
        break;
    case OPT_DNS:
        TRY(need(!value.empty() && value.size() % 4 == 0, "a non-zero multiple of 4"));
        for (size_t i = 0; i < value.size() / 4 && i < MAX_DNS_SERVERS; ++i)
            o.reply.dns.push_back(address_at(value, i));
        break;
    case OPT_MESSAGE:
        for (size_t i = 0; i < value.size() && i < MAX_MESSAGE_TEXT; ++i)
            o.reply.message += (value[i] >= 0x20 && value[i] < 0x7f) ? static_cast<char>(value[i]) : '?';
        break;
    default: break;  // RFC 2131 §4.1 allows any option; those not asked for are ignored
    }
    return {};
}

// RFC 2131 §4.1: options are {code, length, value} after the cookie, ended by option 255; pad
// (0) has no length. After the end option only padding may follow.
Result<Options> read_options(Reader& r)
{
    Options o;
    std::array<bool, 256> seen{};
    for (;;) {
        uint8_t code = TRY_PREFIX(r.u8("option code"), "DHCP options have no end option (255)");
        if (code == OPT_PAD)
            continue;
        if (code == OPT_END)
            break;
        uint8_t length = TRY_PREFIX(r.u8("option length"), "DHCP option %u", code);
        ByteView value = TRY_PREFIX(r.bytes(length, "option value"), "DHCP option %u", code);
        if (seen[code])
            return Error::make(Errc::Format, "DHCP option %u appears twice", code);
        seen[code] = true;
        TRY(take_option(o, code, value));
    }
    TRY_PREFIX(r.zeros(r.remaining(), "padding after the end option"), "DHCP options");
    return o;
}

Result<void> check_unicast(Ipv4 address, const char* field)
{
    if (!is_unicast(address))
        return Error::make(Errc::Format, "DHCP %s %s is not a usable unicast address", field,
                           address.to_string().c_str());
    return {};
}

// RFC 2131 Table 3: what a server's OFFER and ACK MUST carry, plus the subnet mask this client
// needs to configure the interface.
Result<void> check_lease(const Reply& reply)
{
    const char* type = message_type_name(reply.type);
    TRY(check_unicast(reply.your_address, "yiaddr"));
    if (!reply.lease_seconds)
        return Error::make(Errc::Format, "%s has no lease time (option 51)", type);
    if (!reply.subnet_mask)
        return Error::make(Errc::Format, "%s has no subnet mask (option 1)", type);
    if (!prefix_length(*reply.subnet_mask))
        return Error::make(Errc::Format, "%s subnet mask (option 1) %s is not a contiguous netmask", type,
                           reply.subnet_mask->to_string().c_str());
    if (reply.router)
        TRY(check_unicast(*reply.router, "router (option 3)"));
    for (Ipv4 server : reply.dns)
        TRY(check_unicast(server, "DNS server (option 6)"));
    return {};
}

}  // namespace

const char* message_type_name(MessageType type)
{
    switch (type) {
    case MessageType::Discover: return "DHCPDISCOVER";
    case MessageType::Offer: return "DHCPOFFER";
    case MessageType::Request: return "DHCPREQUEST";
    case MessageType::Decline: return "DHCPDECLINE";
    case MessageType::Ack: return "DHCPACK";
    case MessageType::Nak: return "DHCPNAK";
    case MessageType::Release: return "DHCPRELEASE";
    case MessageType::Inform: return "DHCPINFORM";
    }
    return "DHCP message";
}

Bytes build_discover(const Mac& mac, uint32_t xid)
{
    return build(MessageType::Discover, mac, xid, nullptr, nullptr);
}

Bytes build_request(const Mac& mac, uint32_t xid, Ipv4 requested, Ipv4 server_id)
{
    return build(MessageType::Request, mac, xid, &requested, &server_id);
}

Result<Reply> parse_reply(ByteView packet, uint32_t xid, const Mac& mac)
{
    if (packet.size() > MAX_REPLY_SIZE)
        return Error::make(Errc::Format, "DHCP reply is %zu bytes, more than the %zu allowed", packet.size(),
                           MAX_REPLY_SIZE);
    Reader r(packet, "DHCP reply");
    uint8_t op = TRY(r.u8("op"));
    if (op != BOOTREPLY)
        return Error::make(Errc::Format, "DHCP op is %u, expected 2 (BOOTREPLY)", op);
    uint8_t htype = TRY(r.u8("htype"));
    uint8_t hlen = TRY(r.u8("hlen"));
    if (htype != HTYPE_ETHERNET || hlen != HLEN_ETHERNET)
        return Error::make(Errc::Format, "DHCP htype/hlen are %u/%u, expected 1/6 (Ethernet)", htype, hlen);
    TRY(r.skip(1, "hops"));
    uint32_t got_xid = TRY(r.u32be("xid"));
    if (got_xid != xid)
        return Error::make(Errc::Format, "DHCP xid is 0x%08x, expected 0x%08x", got_xid, xid);
    TRY(r.skip(2 + 2 + 4, "secs, flags, ciaddr"));
    Ipv4 yiaddr{TRY(r.array<4>("yiaddr"))};
    TRY(r.skip(4 + 4, "siaddr, giaddr"));
    auto chaddr = TRY(r.array<16>("chaddr"));
    if (memcmp(chaddr.data(), mac.data(), mac.size()) != 0)
        return Error::make(Errc::Format, "DHCP chaddr starts %s, expected %s (not for this client)",
                           mac_to_string(Mac{chaddr[0], chaddr[1], chaddr[2], chaddr[3], chaddr[4], chaddr[5]}).c_str(),
                           mac_to_string(mac).c_str());
    TRY(r.skip(64 + 128, "sname, file"));
    auto cookie = TRY(r.array<4>("magic cookie"));
    if (cookie != MAGIC_COOKIE)
        return Error::make(Errc::Format, "DHCP magic cookie is %u.%u.%u.%u, expected 99.130.83.99", cookie[0],
                           cookie[1], cookie[2], cookie[3]);

    Options o = TRY(read_options(r));
    if (!o.type)
        return Error::make(Errc::Format, "DHCP reply has no message type (option 53)");
    if (*o.type != static_cast<uint8_t>(MessageType::Offer) && *o.type != static_cast<uint8_t>(MessageType::Ack) &&
        *o.type != static_cast<uint8_t>(MessageType::Nak))
        return Error::make(Errc::Format, "DHCP message type (option 53) is %u, expected 2, 5 or 6 (OFFER, ACK, NAK)",
                           *o.type);
    Reply reply = std::move(o.reply);
    reply.type = static_cast<MessageType>(*o.type);
    reply.your_address = yiaddr;
    // RFC 2131 Table 3 requires option 54 in every reply, but QEMU's slirp sends its NAKs without
    // it; such a NAK is matched by xid alone, which anyone on path could forge with either.
    if (o.server_id) {
        TRY(check_unicast(*o.server_id, "server identifier (option 54)"));
        reply.server_id = *o.server_id;
    } else if (reply.type != MessageType::Nak) {
        return Error::make(Errc::Format, "%s has no server identifier (option 54)", message_type_name(reply.type));
    }
    if (reply.type != MessageType::Nak)
        TRY(check_lease(reply));
    return reply;
}

}  // namespace cvm::agent::dhcp
