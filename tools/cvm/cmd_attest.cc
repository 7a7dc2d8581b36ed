// cvm attest: connect to an HTTPS server that proves itself with RA-TLS and verify it during the
// handshake (docs/ratls.md "Freshness: the nonce in SNI").
#include <cstdio>
#include <optional>

#include "args.h"
#include "commands.h"
#include "net/io.h"
#include "net/tls.h"
#include "net/url.h"
#include "ratls/ratls.h"
#include "ratls/sni_nonce.h"
#include "verify_bindings.h"
#include "verify_setup.h"

namespace cvm::cli {

namespace {

constexpr const char* USAGE = R"(usage: cvm attest https://HOST:PORT [--nonce HEX] [options]

Connects to an HTTPS server that presents an RA-TLS certificate (a cvminit workload's, made by
the agent) and verifies it during the TLS handshake: the SEV-SNP evidence in the certificate,
its binding to the certificate's key (and the nonce), the agent key that signed it, and the
policy on the report. No CA is consulted: the evidence is the certificate's only trust. The
handshake itself proves that the server holds the certificate's private key; the handshake is
aborted (access_denied) as soon as the evidence fails. Prints the claims as cvm verify does.

freshness:
  --nonce HEX          1 to 32 bytes, sent as the TLS server name
                       <base32(nonce)>.nonce.ra-tls.invalid: the server must present a
                       certificate whose evidence was made for this nonce, so it cannot be a
                       replay. Without --nonce the server's reusable certificate is accepted and
                       the claim ratls.nonce says freshness was not checked (the URL's host is
                       then sent as SNI unless it is an IP address)
  --binding NAME       workload (default), agent-key or broker: see cvm verify --help
  --timeout SECONDS    connect and handshake within this time (default 30)

trust, revocation and policy (as cvm verify):
  --policy FILE, --product NAME, --trusted-root FILE, --sim-dir DIR, --check-dates,
  --crl FILE, --no-revocation, --at TIME, --kds-url URL, --cache-dir DIR, --cache-ttl SECONDS,
  --offline

output:
  --json               the document cvm.verify/2, with the ratls.*, issuer.* and
                       tls.key_possession claims (docs/verify.md)

exit status: 0 every claim passed, 1 the server's certificate was rejected (or is not RA-TLS),
2 usage, input or connection error
)";

std::vector<FlagSpec> flags()
{
    std::vector<FlagSpec> f = {{"nonce", Takes::Value}, {"binding", Takes::Value}, {"timeout", Takes::Value}};
    f.insert(f.end(), verify_setup_flags().begin(), verify_setup_flags().end());
    return f;
}

int usage_error(const Error& e)
{
    return usage_failure("attest", e);
}

bool is_ip_literal(const std::string& host)
{
    return host.find(':') != std::string::npos || host.find_first_not_of("0123456789.") == std::string::npos;
}

Result<int64_t> timeout_ms(const Args& args)
{
    auto text = args.get("timeout");
    if (!text)
        return int64_t{30000};
    char* end = nullptr;
    long long v = strtoll(text->c_str(), &end, 10);
    if (text->empty() || *end != '\0' || v <= 0 || v > 3600)
        return Error::make(Errc::Config, "--timeout %s: expected 1 to 3600 seconds", text->c_str());
    return static_cast<int64_t>(v) * 1000;
}

// What the certificate check saw during the handshake.
struct Seen {
    std::optional<Error> not_ratls;        // the certificate is not an RA-TLS certificate
    std::optional<VerifyOutcome> outcome;  // its verification
};

Claim key_possession(const Result<std::unique_ptr<net::Stream>>& connected, const VerifyOutcome& outcome,
                     const std::string& peer)
{
    if (!outcome.pass())
        return {"tls.key_possession", false, "not checked", "a completed handshake",
                "the handshake was aborted when the evidence was rejected"};
    if (connected.ok())
        return {"tls.key_possession", true, "the TLS handshake with " + peer + " completed", "a completed handshake",
                "the server signed the handshake with the certificate's private key"};
    std::string why(connected.error().message());
    return {"tls.key_possession", false, "no completed handshake: " + why, "a completed handshake",
            "the server did not prove that it holds the certificate's private key"};
}

}  // namespace

int cmd_attest(const std::vector<std::string>& argv)
{
    auto parsed = parse_command("attest", argv, flags(), USAGE, Positional::Allowed);
    if (const int* status = std::get_if<int>(&parsed))
        return *status;
    const Args& args = std::get<Args>(parsed);
    if (args.positional().size() != 1)
        return usage_error(Error::make(Errc::Config, "expected exactly one https:// URL (see cvm attest --help)"));
    auto url = net::parse_url(args.positional()[0]);
    if (url.ok() && url.value().scheme != net::Scheme::Https)
        url = Error::make(Errc::Config, "%s: expected an https:// URL", args.positional()[0].c_str());
    auto expect = url.ok() ? ratls_expectation(args, ratls::MAX_SNI_NONCE) : Result<ratls::Expectation>(url.error());
    auto sni = expect.ok() && expect.value().nonce ? ratls::sni_for_nonce(*expect.value().nonce)
                                                   : Result<std::string>(std::string());
    auto timeout = timeout_ms(args);
    auto setup = verify_setup(args);
    for (const Error* e :
         {url.ok() ? nullptr : &url.error(), expect.ok() ? nullptr : &expect.error(), sni.ok() ? nullptr : &sni.error(),
          timeout.ok() ? nullptr : &timeout.error(), setup.ok() ? nullptr : &setup.error()}) {
        if (e)
            return usage_error(*e);
    }
    const net::Url& u = url.value();
    std::string server_name = sni.value();
    if (server_name.empty() && !is_ip_literal(u.host))
        server_name = u.host;

    const std::string peer = net::peer_name(u.host, u.port);
    net::IoTimeouts timeouts{timeout.value(), net::Deadline::after_ms(timeout.value())};
    auto fd = net::tcp_connect(u.host, u.port, timeout.value(), timeouts.deadline);
    if (!fd.ok())
        return usage_error(fd.error());
    Seen seen;
    auto check = [&](ByteView der) -> Result<void> {
        auto cert = ratls::parse_certificate(der);
        if (!cert.ok()) {
            seen.not_ratls = cert.error();
            return cert.release_error();
        }
        seen.outcome = TRY(verify_ratls(cert.value(), expect.value(), setup.value()));
        if (!seen.outcome->pass())
            return Error::make(Errc::Chain, "the RA-TLS evidence of %s is rejected", peer.c_str());
        return {};
    };
    auto connected = net::tls_connect_checked(fd.release_value(), server_name, peer, check, timeouts);
    if (seen.not_ratls) {
        fprintf(stderr, "cvm attest: %s did not present an RA-TLS certificate: %.*s\n", peer.c_str(),
                static_cast<int>(seen.not_ratls->message().size()), seen.not_ratls->message().data());
        return EXIT_REJECTED;
    }
    if (!seen.outcome)
        return usage_error(connected.error());
    VerifyOutcome outcome = std::move(*seen.outcome);
    outcome.claims.push_back(key_possession(connected, outcome, peer));
    if (args.has("json"))
        print_json(stdout, outcome);
    else
        print_text(stdout, outcome);
    return outcome.pass() ? EXIT_OK : EXIT_REJECTED;
}

}  // namespace cvm::cli
