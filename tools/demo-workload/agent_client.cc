#include "agent_client.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/file.h"
#include "net/http_parser.h"
#include "proto/json.h"

namespace cvm::workload {
namespace {

using Clock = std::chrono::steady_clock;

int64_t left_ms(Clock::time_point deadline)
{
    return std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
}

// Waits for `events` on `fd` until the deadline; Errc::Unavailable on timeout.
Result<void> wait_for(int fd, short events, Clock::time_point deadline, const std::string& where)
{
    for (;;) {
        pollfd p{fd, events, 0};
        int n = poll(&p, 1, static_cast<int>(left_ms(deadline)));
        if (n > 0)
            return {};
        if (n == 0)
            return Error::make(Errc::Unavailable, "%s: no answer in time", where.c_str());
        if (errno != EINTR)
            return Error::from_errno(Errc::Io, errno, "poll on %s: %s", where.c_str(), strerror(errno));
    }
}

Result<UniqueFd> connect_unix(const std::string& path)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        return Error::make(Errc::Config, "socket path %s: %zu bytes, expected under %zu", path.c_str(), path.size(),
                           sizeof addr.sun_path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid() || connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot connect to the agent at %s: %s", path.c_str(),
                                 strerror(errno));
    return fd;
}

}  // namespace

Result<AgentAnswer> agent_request(const std::string& socket_path, std::string_view method, std::string_view target,
                                  std::string_view body, int64_t timeout_ms)
{
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    UniqueFd fd = TRY(connect_unix(socket_path));
    std::string request = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: cvminit\r\n";
    if (!body.empty())
        request += "Content-Type: application/json\r\n";
    request += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    request += body;
    for (size_t sent = 0; sent < request.size();) {
        TRY(wait_for(fd.get(), POLLOUT, deadline, socket_path));
        ssize_t n = send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
            break;  // the server answered early (503 at accept, 413) and closed: read its answer
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return Error::from_errno(Errc::Io, errno, "send to %s: %s", socket_path.c_str(), strerror(errno));
        if (n > 0)
            sent += static_cast<size_t>(n);
    }
    net::HttpLimits limits;
    limits.max_body_bytes = MAX_ANSWER_BYTES;
    net::MessageParser parser(net::MessageKind::Response, limits, socket_path);
    std::array<uint8_t, 16384> buffer;
    for (;;) {
        TRY(wait_for(fd.get(), POLLIN, deadline, socket_path));
        ssize_t n = recv(fd.get(), buffer.data(), buffer.size(), 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n < 0 && errno != ECONNRESET)
            return Error::from_errno(Errc::Io, errno, "recv from %s: %s", socket_path.c_str(), strerror(errno));
        if (n <= 0) {  // end of stream, or a reset after the server's early answer
            TRY(parser.finish());
            break;
        }
        if (TRY(parser.feed(ByteView(buffer.data(), static_cast<size_t>(n)))))
            break;
    }
    net::HttpResponse response = parser.take_response();
    return AgentAnswer{response.status, std::string(response.body_text())};
}

std::string describe_error(const AgentAnswer& answer)
{
    std::string out = std::to_string(answer.status);
    auto doc = proto::JsonDoc::parse(answer.body, "agent error");
    yyjson_val* error = doc ? yyjson_obj_get(doc->root(), "error") : nullptr;
    yyjson_val* code = error ? yyjson_obj_get(error, "code") : nullptr;
    yyjson_val* message = error ? yyjson_obj_get(error, "message") : nullptr;
    if (yyjson_is_str(code) && yyjson_is_str(message))
        return out + " " + yyjson_get_str(code) + ": " + yyjson_get_str(message);
    return out + " " + answer.body.substr(0, 200);
}

Result<WorkloadKey> generate_p256_key()
{
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_pk_context pk;
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_pk_init(&pk);
    static const char personal[] = "cvminit workload key";
    int rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                                   reinterpret_cast<const unsigned char*>(personal), sizeof personal - 1);
    if (rc == 0)
        rc = mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (rc == 0)
        rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk), mbedtls_ctr_drbg_random, &drbg);
    WorkloadKey key;
    std::array<unsigned char, 512> pub{};
    SecretBytes priv(2048);
    if (rc == 0)
        rc = mbedtls_pk_write_pubkey_pem(&pk, pub.data(), pub.size());
    if (rc == 0)
        rc = mbedtls_pk_write_key_pem(&pk, priv.expose().data(), priv.size());
    mbedtls_pk_free(&pk);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    if (rc != 0)
        return Error::make(Errc::Crypto, "generating the workload's P-256 key failed (mbedTLS -0x%04x)",
                           static_cast<unsigned>(-rc));
    key.public_key_pem = reinterpret_cast<const char*>(pub.data());
    size_t length = strnlen(reinterpret_cast<const char*>(priv.expose().data()), priv.size());
    key.private_key_pem = SecretBytes::copy_of(priv.expose().first(length));
    return key;
}

Result<TlsCertificate> request_tls_certificate(const std::string& socket_path, std::string_view public_key_pem,
                                               const std::vector<std::string>& dns_names, ByteView nonce)
{
    yyjson_mut_doc* doc = yyjson_mut_doc_new(nullptr);
    yyjson_mut_val* root = yyjson_mut_obj(doc);
    yyjson_mut_doc_set_root(doc, root);
    yyjson_mut_obj_add_val(doc, root, "public_key",
                           yyjson_mut_strncpy(doc, public_key_pem.data(), public_key_pem.size()));
    yyjson_mut_val* names = yyjson_mut_arr(doc);
    for (const std::string& name : dns_names)
        yyjson_mut_arr_append(names, yyjson_mut_strncpy(doc, name.data(), name.size()));
    yyjson_mut_obj_add_val(doc, root, "dns_names", names);
    if (!nonce.empty()) {
        std::string hex = to_hex(nonce);
        yyjson_mut_obj_add_val(doc, root, "nonce", yyjson_mut_strncpy(doc, hex.data(), hex.size()));
    }
    std::string body = proto::write_json(doc);
    yyjson_mut_doc_free(doc);
    AgentAnswer answer = TRY(agent_request(socket_path, "POST", "/v1/tls-certificate", body));
    if (answer.status != 200)
        return Error::make(answer.status == 429 || answer.status == 503 ? Errc::Unavailable : Errc::Io,
                           "the agent refused the certificate: %s", describe_error(answer).c_str());
    auto parsed = TRY(proto::JsonDoc::parse(answer.body, "tls-certificate answer"));
    TlsCertificate out;
    out.certificate_pem =
        std::string(TRY(proto::string_member(parsed.root(), "certificate", "tls-certificate answer")));
    out.issuer_pem = std::string(TRY(proto::string_member(parsed.root(), "issuer", "tls-certificate answer")));
    return out;
}

std::function<Result<Bytes>(ByteView nonce)>
agent_certificate_source(std::string socket_path, std::string public_key_pem, std::vector<std::string> dns_names)
{
    return [socket_path = std::move(socket_path), public_key_pem = std::move(public_key_pem),
            dns_names = std::move(dns_names)](ByteView nonce) -> Result<Bytes> {
        TlsCertificate got = TRY(request_tls_certificate(socket_path, public_key_pem, dns_names, nonce));
        return Bytes(got.certificate_pem.begin(), got.certificate_pem.end());
    };
}

}  // namespace cvm::workload
