#include "dhcp/dhcp_client.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <sys/random.h>

#include "dhcp/dhcp_message.h"

namespace cvm::agent::dhcp {

namespace {

using std::chrono::milliseconds;

uint32_t random_xid()
{
    uint32_t xid = 0;
    while (getrandom(&xid, sizeof xid, 0) != static_cast<ssize_t>(sizeof xid)) {
        if (errno != EINTR) {
            // The xid only matches replies to requests (RFC 2131 §2); it is no secret.
            xid = static_cast<uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count());
            break;
        }
    }
    return xid;
}

struct Tally {
    int discovers{0}, requests{0}, naks{0};
    std::string last_ignored;
};

// Why a parsed reply is not the one awaited; empty when it is.
using Judge = std::function<std::string(const Reply&)>;

// Sends `message`, then waits for a reply `judge` accepts, sending again after 1, 2, 4, 4 ... s,
// at most `max_sends` times and never past the deadline. nullopt when none came.
Result<std::optional<Reply>> exchange(Transport& transport, const ClientOptions& options, ByteView message,
                                      uint32_t xid, int max_sends, int& sent, Tally& tally, const Judge& judge)
{
    milliseconds interval{1000};
    for (int attempt = 0; attempt < max_sends; ++attempt) {
        TimePoint now = options.now();
        if (now >= options.deadline)
            return std::optional<Reply>{};
        TRY(transport.send(message));
        ++sent;
        const TimePoint until = std::min(now + interval, options.deadline);
        interval = std::min<milliseconds>(interval * 2, MAX_RETRANSMIT_INTERVAL);
        for (now = options.now(); now < until; now = options.now()) {
            auto left = std::chrono::ceil<milliseconds>(until - now);
            std::optional<Bytes> packet = TRY(transport.receive(left));
            if (!packet)
                continue;
            Result<Reply> reply = parse_reply(*packet, xid, options.mac);
            if (!reply) {
                tally.last_ignored = reply.error().message();
                continue;
            }
            std::string why = judge(reply.value());
            if (why.empty())
                return std::optional<Reply>(reply.release_value());
            tally.last_ignored = why;
        }
    }
    return std::optional<Reply>{};
}

Error timed_out(const Tally& tally)
{
    return Error::make(Errc::Network, "no DHCP lease before the deadline (%d DISCOVER, %d REQUEST sent, %d NAK)%s%s",
                       tally.discovers, tally.requests, tally.naks,
                       tally.last_ignored.empty() ? "" : "; last reply: ", tally.last_ignored.c_str());
}

// SELECTING (RFC 2131 §4.4.1): the first OFFER wins.
std::string judge_offer(const Reply& r)
{
    if (r.type != MessageType::Offer)
        return std::string("ignored ") + message_type_name(r.type) + " while selecting";
    return {};
}

// REQUESTING: only the chosen server's ACK for the offered address, or its NAK, counts.
Judge judge_answer(const Reply& offer)
{
    return [offer](const Reply& r) -> std::string {
        if (r.type == MessageType::Nak && r.server_id.is_zero())
            return {};  // slirp's NAK names no server (dhcp_message.h)
        if (r.server_id != offer.server_id)
            return std::string("ignored ") + message_type_name(r.type) + " from " + r.server_id.to_string() +
                   ", not the chosen server " + offer.server_id.to_string();
        if (r.type == MessageType::Offer)
            return "ignored DHCPOFFER while requesting";
        if (r.type == MessageType::Ack && r.your_address != offer.your_address)
            return "ignored DHCPACK for " + r.your_address.to_string() + ", requested " +
                   offer.your_address.to_string();
        return {};
    };
}

Lease lease_from(const Reply& ack)
{
    Lease lease;
    lease.address = ack.your_address;
    lease.prefix = prefix_length(*ack.subnet_mask).value_or(32);  // parse_reply checked the mask
    lease.router = ack.router;
    lease.dns = ack.dns;
    lease.server = ack.server_id;
    lease.lease_seconds = *ack.lease_seconds;
    return lease;
}

}  // namespace

Result<Lease> acquire_lease(Transport& transport, const ClientOptions& options)
{
    auto new_xid = options.new_xid ? options.new_xid : random_xid;
    Tally tally;
    for (;;) {
        const uint32_t xid = new_xid();
        Bytes discover = build_discover(options.mac, xid);
        auto offer = TRY(exchange(transport, options, discover, xid, INT_MAX, tally.discovers, tally, judge_offer));
        if (!offer)
            return timed_out(tally);

        Bytes request = build_request(options.mac, xid, offer->your_address, offer->server_id);
        auto answer = TRY(
            exchange(transport, options, request, xid, REQUEST_ATTEMPTS, tally.requests, tally, judge_answer(*offer)));
        if (!answer) {
            if (options.now() >= options.deadline)
                return timed_out(tally);
            continue;  // §4.4.1: neither ACK nor NAK after the retransmissions: back to INIT
        }
        if (answer->type == MessageType::Nak) {  // §3.1 step 5: restart in INIT
            ++tally.naks;
            tally.last_ignored = "DHCPNAK from " +
                                 (answer->server_id.is_zero() ? "a server" : answer->server_id.to_string()) +
                                 (answer->message.empty() ? "" : " (" + answer->message + ")");
            continue;
        }
        return lease_from(*answer);
    }
}

}  // namespace cvm::agent::dhcp
