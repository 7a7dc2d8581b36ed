// netif.h on the real kernel, and the UDP transport end to end: in a child process with its own
// network namespace, a veth pair stands for the guest NIC (no address, like a fresh boot) and
// QEMU's slirp (10.0.2.2, answering with slirp's exact replies). Where the test may not create
// namespaces (no CAP_SYS_ADMIN) or `ip` is missing, that case says so and checks nothing more.
#include <doctest.h>

#include <algorithm>
#include <arpa/inet.h>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file.h"
#include "dhcp/dhcp_client.h"
#include "dhcp/netif.h"
#include "dhcp_packets.h"

using namespace cvm;
using namespace cvm::agent;

namespace {

constexpr int SKIP = 77;

struct TempDir {
    std::string path;
    TempDir()
    {
        std::string tmpl = (std::filesystem::temp_directory_path() / "cvm-netif-test.XXXXXX").string();
        REQUIRE(mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

Ipv4 ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    return Ipv4{{a, b, c, d}};
}

// A sysfs class/net entry whose device is bound to `driver` (empty: a virtual device).
void fake_nic(const std::string& sys, const std::string& name, const std::string& driver, int ifindex)
{
    std::string dir = sys + "/class/net/" + name;
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/ifindex") << ifindex << "\n";
    if (!driver.empty()) {
        std::filesystem::create_directories(sys + "/bus/drivers/" + driver);
        std::filesystem::create_directories(dir + "/device");
        std::filesystem::create_directory_symlink("../../../../bus/drivers/" + driver, dir + "/device/driver");
    }
}

// Runs `body` in a forked child inside a new network namespace; its exit status.
template <typename Body>
int in_private_netns(Body body)
{
    fflush(nullptr);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (unshare(CLONE_NEWNET) != 0)
            _exit(SKIP);
        _exit(body());
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    return WEXITSTATUS(status);
}

#define CHILD_CHECK(cond)                                                                                              \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond);                                         \
            return 1;                                                                                                  \
        }                                                                                                              \
    } while (0)
#define CHILD_OK(expr)                                                                                                 \
    do {                                                                                                               \
        const auto& r_ = (expr);                                                                                       \
        if (!r_.ok()) {                                                                                                \
            fprintf(stderr, "%s:%d: %s: %.*s\n", __FILE__, __LINE__, #expr,                                            \
                    static_cast<int>(r_.error().message().size()), r_.error().message().data());                       \
            return 1;                                                                                                  \
        }                                                                                                              \
    } while (0)

// One slirp-like server on `ifname`: an OFFER per DISCOVER, an ACK per REQUEST, each broadcast
// from 10.0.2.2:67 to 255.255.255.255:68 as libslirp does. Calls `ready` once bound; returns how
// many replies it sent once it has sent an ACK, or 0 when no REQUEST came within 10 s. A client
// under load may retransmit its DISCOVER before the OFFER arrives, so OFFERs may be several.
template <typename Ready>
int serve(const std::string& ifname, Ready ready)
{
    UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    int on = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
    setsockopt(fd.get(), SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(), static_cast<socklen_t>(ifname.size()));
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_port = htons(67);
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
        return 0;
    ready();
    int answered = 0;
    for (int polls = 0; polls < 100; ++polls) {
        pollfd p{fd.get(), POLLIN, 0};
        if (poll(&p, 1, 100) != 1)
            continue;
        uint8_t buf[1500];
        ssize_t n = recv(fd.get(), buf, sizeof buf, 0);
        if (n < 243 || buf[240] != 53)
            continue;
        uint32_t xid = uint32_t{buf[4]} << 24 | uint32_t{buf[5]} << 16 | uint32_t{buf[6]} << 8 | buf[7];
        Mac mac;
        memcpy(mac.data(), buf + 28, 6);
        Bytes reply = test::slirp_reply(buf[242] == 1 ? "02" : "05", xid, mac);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(68);
        to.sin_addr.s_addr = htonl(INADDR_BROADCAST);
        sendto(fd.get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
        ++answered;
        if (buf[242] == 3)
            return answered;
    }
    return 0;
}

// Whether /proc/net/route (this namespace's) has a route out of `iface` to `destination`/`mask`
// via `gateway` (all as the kernel prints them: network-order words in hex).
bool has_route(const std::string& iface, Ipv4 destination, Ipv4 gateway, Ipv4 mask)
{
    std::ifstream routes("/proc/net/route");
    std::string line;
    auto word = [](Ipv4 a) {
        uint32_t w;
        memcpy(&w, a.octets.data(), 4);
        return w;
    };
    while (std::getline(routes, line)) {
        char name[IFNAMSIZ + 1] = {};
        unsigned dst = 0, gw = 0, flags = 0, refcnt = 0, use = 0, metric = 0, msk = 0;
        if (sscanf(line.c_str(), "%16s %x %x %x %u %u %u %x", name, &dst, &gw, &flags, &refcnt, &use, &metric, &msk) ==
                8 &&
            iface == name && dst == word(destination) && gw == word(gateway) && msk == word(mask))
            return true;
    }
    return false;
}

Ipv4 address_of(const std::string& ifname)
{
    UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq ifr{};
    memcpy(ifr.ifr_name, ifname.data(), ifname.size());
    if (ioctl(fd.get(), SIOCGIFADDR, &ifr) != 0)
        return Ipv4{};
    Ipv4 out;
    memcpy(out.octets.data(), &reinterpret_cast<sockaddr_in*>(&ifr.ifr_addr)->sin_addr, 4);
    return out;
}

char wait_for(int fd)
{
    char c = 0;
    return read(fd, &c, 1) == 1 ? c : 0;
}

// The host side: its own namespace (as slirp is outside the guest: were both ends of the veth in
// one namespace, the guest's broadcasts would leave with the peer's address as source and come
// back as martians), the veth peer with 10.0.2.2/24, and the server. Exits 0 after OFFER + ACK;
// its namespace outlives it only while the guest holds a reference (see dhcp_over_veth).
[[noreturn]] void host_side(const std::string& ifname, int to_guest, int from_guest)
{
    if (unshare(CLONE_NEWNET) != 0)
        _exit(SKIP);
    auto say = [&](char c) { (void)!write(to_guest, &c, 1); };
    say('N');  // namespace ready: the guest may create the veth pair into it
    if (wait_for(from_guest) != 'L' || !link_up(ifname).ok() || !set_ipv4(ifname, ip(10, 0, 2, 2), 24).ok())
        _exit(1);
    _exit(serve(ifname, [&] { say('S'); }) >= 2 ? 0 : 1);  // at least an OFFER, then the ACK
}

int dhcp_over_veth()
{
    const std::string guest = "cvmdhcp0", host = "cvmdhcp1";
    int to_guest[2], to_host[2];
    CHILD_CHECK(pipe(to_guest) == 0 && pipe(to_host) == 0);
    pid_t server = fork();
    CHILD_CHECK(server >= 0);
    if (server == 0) {
        close(to_guest[0]);
        close(to_host[1]);
        host_side(host, to_guest[1], to_host[0]);
    }
    close(to_guest[1]);  // a host side that dies is seen as end of file, not waited for forever
    close(to_host[0]);
    auto finish_server = [&] {
        int status = 0;
        waitpid(server, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    };
    if (wait_for(to_guest[0]) != 'N')
        return finish_server() == SKIP ? SKIP : 1;
    // The host's namespace must outlive the server. When its last reference goes (the server's
    // exit), net/core/net_namespace.c: __put_net() queues cleanup_net(), whose
    // default_device_exit_batch() calls drivers/net/veth.c: veth_dellink(), which unregisters the
    // peer AND this end, with its address and routes, some milliseconds later at a moment this
    // test does not control. An open ns/net file is a reference (namespaces(7)): held until this
    // function returns, the pair lives as long as the test, as slirp lives as long as the VM.
    UniqueFd host_netns(open(("/proc/" + std::to_string(server) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC));
    CHILD_CHECK(host_netns.valid());
    std::string add = "ip link add " + guest + " type veth peer name " + host + " netns " + std::to_string(server);
    if (system((add + " >/dev/null 2>&1").c_str()) != 0) {
        kill(server, SIGKILL);
        finish_server();
        return SKIP;
    }
    CHILD_CHECK(write(to_host[1], "L", 1) == 1);
    CHILD_CHECK(wait_for(to_guest[0]) == 'S');
    CHILD_OK(link_up(guest));  // up, but no address: as in the agent's network stage
    auto mac = hardware_address(guest);
    CHILD_OK(mac);
    auto transport = dhcp::open_udp_transport(guest);
    CHILD_OK(transport);
    dhcp::ClientOptions options;
    options.mac = mac.value();
    options.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    auto lease = dhcp::acquire_lease(*transport.value(), options);
    CHILD_OK(lease);
    CHILD_CHECK(finish_server() == 0);
    CHILD_CHECK(lease->address == ip(10, 0, 2, 15));
    CHILD_CHECK(lease->prefix == 24);
    CHILD_CHECK(lease->router == ip(10, 0, 2, 2));

    CHILD_OK(set_ipv4(guest, lease->address, lease->prefix));
    CHILD_CHECK(address_of(guest) == ip(10, 0, 2, 15));
    CHILD_CHECK(has_route(guest, ip(10, 0, 2, 0), Ipv4{}, ip(255, 255, 255, 0)));
    CHILD_OK(add_default_route(guest, *lease->router));
    CHILD_CHECK(has_route(guest, Ipv4{}, ip(10, 0, 2, 2), Ipv4{}));
    auto again = add_default_route(guest, *lease->router);
    CHILD_CHECK(!again.ok() && again.error().errno_value() == EEXIST);

    // A /32 lease (as clouds hand out): the gateway is off-link and gets a host route first.
    CHILD_CHECK(system("ip route del default >/dev/null 2>&1") == 0);
    CHILD_OK(set_ipv4(guest, lease->address, 32));
    CHILD_CHECK(!has_route(guest, ip(10, 0, 2, 0), Ipv4{}, ip(255, 255, 255, 0)));
    CHILD_OK(add_default_route(guest, *lease->router));
    CHILD_CHECK(has_route(guest, ip(10, 0, 2, 2), Ipv4{}, ip(255, 255, 255, 255)));
    CHILD_CHECK(has_route(guest, Ipv4{}, ip(10, 0, 2, 2), Ipv4{}));
    return 0;
}

}  // namespace

TEST_CASE("first_virtio_nic: the virtio_net device with the lowest ifindex")
{
    TempDir sys;
    fake_nic(sys.path, "lo", "", 1);
    fake_nic(sys.path, "eth1", "virtio_net", 4);
    fake_nic(sys.path, "eth0", "virtio_net", 3);
    fake_nic(sys.path, "enp0s2", "e1000", 2);
    auto nic = first_virtio_nic(sys.path);
    REQUIRE_MESSAGE(nic.ok(), nic.error().message());
    CHECK(nic.value() == "eth0");

    TempDir none;
    fake_nic(none.path, "lo", "", 1);
    fake_nic(none.path, "enp0s2", "e1000", 2);
    auto missing = first_virtio_nic(none.path);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code() == Errc::Unavailable);
    CHECK(std::string(missing.error().message()) ==
          "no virtio_net interface in " + none.path + "/class/net (is the virtio_net module loaded?)");

    TempDir broken;
    fake_nic(broken.path, "eth0", "virtio_net", 3);
    std::ofstream(broken.path + "/class/net/eth0/ifindex") << "three\n";
    CHECK_FALSE(first_virtio_nic(broken.path).ok());
    CHECK(first_virtio_nic(broken.path + "/nowhere").error().code() == Errc::Unavailable);
}

TEST_CASE("first_virtio_nic on this machine's /sys: real attributes, whatever NICs there are")
{
    std::vector<std::string> virtio;
    for (const auto& e : std::filesystem::directory_iterator("/sys/class/net")) {
        std::error_code ec;
        auto driver = std::filesystem::read_symlink(e.path() / "device/driver", ec);
        if (!ec && driver.filename() == "virtio_net")
            virtio.push_back(e.path().filename());
    }
    auto nic = first_virtio_nic();
    if (virtio.empty()) {
        REQUIRE_FALSE(nic.ok());
        CHECK(nic.error().code() == Errc::Unavailable);
    } else {
        REQUIRE_MESSAGE(nic.ok(), nic.error().message());
        CHECK(std::find(virtio.begin(), virtio.end(), nic.value()) != virtio.end());
    }
}

TEST_CASE("write_resolv_conf: at most three servers, replaced atomically")
{
    TempDir dir;
    std::string path = dir.path + "/resolv.conf";
    REQUIRE(write_resolv_conf(path, {ip(10, 0, 2, 3), ip(8, 8, 8, 8), ip(1, 1, 1, 1), ip(9, 9, 9, 9)}).ok());
    CHECK(read_text_file(path, 1024).value() == "nameserver 10.0.2.3\nnameserver 8.8.8.8\nnameserver 1.1.1.1\n");
    CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::all) ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
           std::filesystem::perms::group_read | std::filesystem::perms::others_read));
    REQUIRE(write_resolv_conf(path, {}).ok());
    CHECK(read_text_file(path, 1024).value().empty());
    CHECK_FALSE(write_resolv_conf(dir.path + "/no/such/dir/resolv.conf", {}).ok());
}

TEST_CASE("netif: bad names and values are refused before any ioctl")
{
    CHECK(link_up("").error().code() == Errc::Config);
    CHECK(link_up("a-name-that-is-too-long").error().code() == Errc::Config);
    CHECK(set_ipv4("eth0", ip(10, 0, 2, 15), 0).error().code() == Errc::Config);
    CHECK(set_ipv4("eth0", ip(10, 0, 2, 15), 33).error().code() == Errc::Config);
    CHECK(set_ipv4("eth0", ip(255, 255, 255, 255), 24).error().code() == Errc::Config);
    CHECK(add_default_route("eth0", Ipv4{}).error().code() == Errc::Config);
    CHECK(dhcp::open_udp_transport("").error().code() == Errc::Config);
    auto missing = link_up("cvmnosuchif0");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().errno_value() == ENODEV);
}

TEST_CASE("DHCP over a veth pair in a private network namespace, then the lease applied")
{
    int status = in_private_netns(dhcp_over_veth);
    if (status == SKIP) {
        MESSAGE("skipped: no network namespace or no `ip` here; the kernel path is untested in this run");
        return;
    }
    CHECK(status == 0);
}
