// The DHCP client's state machine against a scripted network with its own clock: the exchange
// with QEMU's slirp, retransmission and its schedule, NAK and silence restarting INIT, noise
// ignored, and the deadline.
#include <doctest.h>

#include <deque>

#include "dhcp/dhcp_client.h"
#include "dhcp/dhcp_message.h"
#include "dhcp_packets.h"

using namespace cvm;
using namespace cvm::agent;
using namespace cvm::agent::dhcp;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

// A network whose clock moves only when the client waits; `server` answers what the client sends.
struct FakeNetwork final : Transport {
    struct Sent {
        milliseconds at;
        MessageType type;
        uint32_t xid;
        Bytes bytes;
    };
    TimePoint now{};
    std::vector<Sent> sent;
    std::deque<std::pair<TimePoint, Bytes>> pending;  // in delivery order
    std::function<void(FakeNetwork&, const Sent&)> server;
    std::optional<Error> send_error;

    milliseconds elapsed() const { return std::chrono::duration_cast<milliseconds>(now.time_since_epoch()); }
    void reply(Bytes packet, milliseconds delay = 5ms) { pending.emplace_back(now + delay, std::move(packet)); }

    Result<void> send(ByteView message) override
    {
        if (send_error)
            return *send_error;
        // The client's own messages: xid at 4, option 53 first after the cookie (dhcp_message.cc).
        REQUIRE(message.size() >= 243);
        uint32_t xid = uint32_t{message[4]} << 24 | uint32_t{message[5]} << 16 | uint32_t{message[6]} << 8 | message[7];
        REQUIRE(message[240] == 53);
        sent.push_back({elapsed(), static_cast<MessageType>(message[242]), xid, Bytes(message.begin(), message.end())});
        if (server)
            server(*this, sent.back());
        return {};
    }

    Result<std::optional<Bytes>> receive(milliseconds timeout) override
    {
        REQUIRE(timeout > 0ms);
        const TimePoint limit = now + timeout;
        if (!pending.empty() && pending.front().first <= limit) {
            now = std::max(now, pending.front().first);
            Bytes packet = std::move(pending.front().second);
            pending.pop_front();
            return std::optional<Bytes>(std::move(packet));
        }
        now = limit;
        return std::optional<Bytes>{};
    }

    std::vector<MessageType> types() const
    {
        std::vector<MessageType> out;
        for (const Sent& s : sent)
            out.push_back(s.type);
        return out;
    }
    std::vector<milliseconds> times() const
    {
        std::vector<milliseconds> out;
        for (const Sent& s : sent)
            out.push_back(s.at);
        return out;
    }
};

// QEMU's slirp: an OFFER for every DISCOVER, an ACK for every REQUEST.
void slirp(FakeNetwork& net, const FakeNetwork::Sent& s)
{
    net.reply(test::slirp_reply(s.type == MessageType::Discover ? "02" : "05", s.xid));
}

ClientOptions options_for(FakeNetwork& net, std::chrono::seconds budget = 30s)
{
    ClientOptions o;
    o.mac = test::CLIENT_MAC;
    o.deadline = TimePoint{} + budget;
    o.now = [&net] { return net.now; };
    o.new_xid = [n = uint32_t{0x1000}]() mutable { return n++; };
    return o;
}

constexpr MessageType D = MessageType::Discover, R = MessageType::Request;

Ipv4 ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    return Ipv4{{a, b, c, d}};
}

}  // namespace

TEST_CASE("DHCP client: DISCOVER, OFFER, REQUEST, ACK with QEMU's slirp")
{
    FakeNetwork net;
    net.server = slirp;
    auto lease = acquire_lease(net, options_for(net));
    REQUIRE_MESSAGE(lease.ok(), lease.error().message());
    CHECK(lease->address == ip(10, 0, 2, 15));
    CHECK(lease->prefix == 24);
    CHECK(lease->router == ip(10, 0, 2, 2));
    CHECK(lease->dns == std::vector<Ipv4>{ip(10, 0, 2, 3)});
    CHECK(lease->server == ip(10, 0, 2, 2));
    CHECK(lease->lease_seconds == 86400u);
    CHECK(net.types() == std::vector<MessageType>{D, R});
    CHECK(net.sent[0].xid == 0x1000);
    CHECK(net.sent[1].xid == 0x1000);  // the REQUEST keeps the offer's xid (RFC 2131 §4.4.1)
    CHECK(net.sent[0].bytes == build_discover(test::CLIENT_MAC, 0x1000));
    CHECK(net.sent[1].bytes == build_request(test::CLIENT_MAC, 0x1000, ip(10, 0, 2, 15), ip(10, 0, 2, 2)));
}

TEST_CASE("DHCP client: a lost OFFER is recovered by retransmitting after 1 s")
{
    FakeNetwork net;
    net.server = [](FakeNetwork& n, const FakeNetwork::Sent& s) {
        if (n.sent.size() > 1)
            slirp(n, s);
    };
    auto lease = acquire_lease(net, options_for(net));
    REQUIRE_MESSAGE(lease.ok(), lease.error().message());
    CHECK(net.types() == std::vector<MessageType>{D, D, R});
    CHECK(net.times() == std::vector<milliseconds>{0ms, 1000ms, 1005ms});
    CHECK(net.sent[0].xid == net.sent[1].xid);
}

TEST_CASE("DHCP client: silence: 1, 2, 4, 4 ... s between DISCOVERs, and an error at the deadline")
{
    FakeNetwork net;
    auto lease = acquire_lease(net, options_for(net, 20s));
    REQUIRE_FALSE(lease.ok());
    CHECK(lease.error().code() == Errc::Network);
    CHECK(std::string(lease.error().message()) ==
          "no DHCP lease before the deadline (7 DISCOVER, 0 REQUEST sent, 0 NAK)");
    CHECK(net.times() == std::vector<milliseconds>{0ms, 1000ms, 3000ms, 7000ms, 11000ms, 15000ms, 19000ms});
    CHECK(net.elapsed() == 20000ms);  // not a moment past the deadline
}

TEST_CASE("DHCP client: a NAK restarts from INIT with a fresh xid")
{
    for (bool slirp_style : {true, false}) {
        FakeNetwork net;
        net.server = [slirp_style](FakeNetwork& n, const FakeNetwork::Sent& s) {
            if (s.type == R && s.xid == 0x1000) {
                n.reply(slirp_style
                            ? test::slirp_nak(s.xid)
                            : test::dhcp_packet(test::reply_head(s.xid, test::CLIENT_MAC, "00000000", "00000000"),
                                                "350106"
                                                "36040a000202"
                                                "ff",
                                                0));
                return;
            }
            slirp(n, s);
        };
        auto lease = acquire_lease(net, options_for(net));
        REQUIRE_MESSAGE(lease.ok(), lease.error().message());
        CHECK(net.types() == std::vector<MessageType>{D, R, D, R});
        CHECK(net.sent[2].xid == 0x1001);
        CHECK(net.sent[3].xid == 0x1001);
    }
}

TEST_CASE("DHCP client: unanswered REQUESTs go back to INIT after four tries")
{
    FakeNetwork net;
    net.server = [](FakeNetwork& n, const FakeNetwork::Sent& s) {
        if (s.type == D || s.xid != 0x1000)
            slirp(n, s);
    };
    auto lease = acquire_lease(net, options_for(net));
    REQUIRE_MESSAGE(lease.ok(), lease.error().message());
    CHECK(net.types() == std::vector<MessageType>{D, R, R, R, R, D, R});
    CHECK(net.times() == std::vector<milliseconds>{0ms, 5ms, 1005ms, 3005ms, 7005ms, 11005ms, 11010ms});
}

TEST_CASE("DHCP client: noise on the wire is ignored, and the last reason is reported")
{
    FakeNetwork net;
    net.server = [](FakeNetwork& n, const FakeNetwork::Sent& s) {
        if (s.type == D) {
            Bytes not_a_reply = test::slirp_reply("02", s.xid);
            not_a_reply[0] = 1;
            n.reply(not_a_reply);                         // another client's broadcast
            n.reply(test::slirp_reply("02", s.xid + 1));  // someone else's transaction
            n.reply(test::slirp_reply("05", s.xid));      // an ACK while selecting
            n.reply(test::slirp_reply("02", s.xid), 10ms);
            return;
        }
        Bytes other = test::dhcp_packet(test::reply_head(s.xid, test::CLIENT_MAC, "0a00020f", "0a000209"),
                                        "350105"
                                        "36040a000209"
                                        "0104ffffff00"
                                        "330400015180"
                                        "ff",
                                        0);
        n.reply(other);  // an ACK from a server not chosen
        n.reply(test::dhcp_packet(test::reply_head(s.xid, test::CLIENT_MAC, "0a000210", "0a000202"),
                                  "350105"
                                  "36040a000202"
                                  "0104ffffff00"
                                  "330400015180"
                                  "ff",
                                  0));  // wrong address
        n.reply(test::slirp_reply("05", s.xid), 10ms);
    };
    auto lease = acquire_lease(net, options_for(net));
    REQUIRE_MESSAGE(lease.ok(), lease.error().message());
    CHECK(net.types() == std::vector<MessageType>{D, R});
    CHECK(lease->address == ip(10, 0, 2, 15));

    FakeNetwork wrong;
    wrong.server = [](FakeNetwork& n, const FakeNetwork::Sent& s) { n.reply(test::slirp_reply("02", s.xid + 1)); };
    auto failed = acquire_lease(wrong, options_for(wrong, 5s));
    REQUIRE_FALSE(failed.ok());
    CHECK(std::string(failed.error().message()) ==
          "no DHCP lease before the deadline (3 DISCOVER, 0 REQUEST sent, 0 NAK); last reply: DHCP xid is 0x00001001, "
          "expected 0x00001000");

    FakeNetwork refusing;  // every REQUEST NAKed: the count and the server's words are reported
    refusing.server = [](FakeNetwork& n, const FakeNetwork::Sent& s) {
        n.reply(s.type == D ? test::slirp_reply("02", s.xid) : test::slirp_nak(s.xid));
    };
    failed = acquire_lease(refusing, options_for(refusing, 1s));
    REQUIRE_FALSE(failed.ok());
    std::string e(failed.error().message());
    CHECK_MESSAGE(
        e.find(" NAK); last reply: DHCPNAK from a server (requested address not available)") != std::string::npos, e);
}

TEST_CASE("DHCP client: a transport error ends the exchange at once")
{
    FakeNetwork net;
    net.send_error = Error::from_errno(Errc::Io, ENETDOWN, "sendto: Network is down");
    auto lease = acquire_lease(net, options_for(net));
    REQUIRE_FALSE(lease.ok());
    CHECK(lease.error().errno_value() == ENETDOWN);
    CHECK(net.elapsed() == 0ms);
}
