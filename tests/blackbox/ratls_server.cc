// An RA-TLS HTTPS server for the black-box tests of `cvm attest` and `cvm verify --ratls`, built on
// the workload's server library (ratls/https_server.h) with evidence from a simulated platform
// (`cvm sim init DIR`) in place of the agent: the same certificates the agent issues (an agent
// key with its own report, a workload key whose report binds it and the client's nonce).
//
//   ratls_server SIMDIR serve MODE PORT_FILE    serve until killed; the port goes to PORT_FILE
//   ratls_server SIMDIR issue MODE OUT.pem [NONCE_HEX]   write one certificate
//
// MODE: good       the evidence binds the certificate's key and the client's nonce
//       stale      the evidence binds a nonce of its own, whatever the client asked (a replay)
//       other-key  the evidence binds another key than the certificate's
//       plain      an ordinary certificate from a test CA, no evidence (serve only)
// The launch's MEASUREMENT is 48 bytes of 0x5a.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

#include "base/base64.h"
#include "base/file.h"
#include "proto/tags.h"
#include "ratls/https_server.h"
#include "ratls/ratls.h"
#include "sim/platform_dir.h"
#include "sim/psp.h"
#include "test_pki.h"

using namespace cvm;

namespace {

enum class Mode { Good, Stale, OtherKey, Plain };

[[noreturn]] void die(const std::string& what, const Error& e)
{
    fprintf(stderr, "ratls_server: %s: %.*s\n", what.c_str(), static_cast<int>(e.message().size()), e.message().data());
    exit(2);
}

template <typename T>
T must(Result<T> r, const std::string& what)
{
    if (!r.ok())
        die(what, r.error());
    return r.release_value();
}

class Issuer {
public:
    Issuer(sim::Platform platform, Mode mode)
            : m_platform(std::move(platform)), m_mode(mode),
              m_psp(must(sim::SimulatedPsp::create(m_platform, launch()), "simulated PSP")),
              m_agent(must(ratls::KeyPair::generate(), "agent key")),
              m_workload(must(ratls::KeyPair::generate(), "workload key")),
              m_other(must(ratls::KeyPair::generate(), "other key"))
    {
        m_agent_evidence = evidence(proto::AGENT_KEY_TAG, proto::agent_key(m_agent->spki_der()), {});
        m_agent_evidence.spki.assign(m_agent->spki_der().begin(), m_agent->spki_der().end());
    }

    SecretBytes workload_key() const { return must(m_workload->private_key_pem(), "workload key PEM"); }

    Result<Bytes> certificate(ByteView asked)
    {
        static const uint8_t STALE[16] = {'a', 'n', ' ', 'o', 'l', 'd', ' ', 'n', 'o', 'n', 'c', 'e'};
        Bytes nonce(asked.begin(), asked.end());
        if (m_mode == Mode::Stale)
            nonce.assign(STALE, STALE + sizeof STALE);
        ByteView bound_key = m_mode == Mode::OtherKey ? m_other->spki_der() : m_workload->spki_der();
        ratls::EvidenceSet set;
        set.subject = evidence(proto::WORKLOAD_RATLS_TAG, proto::workload_ratls(bound_key, nonce), nonce);
        set.issuer = m_agent_evidence;
        std::time_t now = time(nullptr);
        return m_agent->issue(m_workload->spki_der(), "cvminit workload", {"localhost"}, set, now - 3600, now + 86400);
    }

private:
    static sim::LaunchState launch()
    {
        sim::LaunchState s;
        s.measurement.fill(0x5a);
        return s;
    }

    ratls::CertEvidence evidence(std::string_view tag, const proto::ReportData& report_data, ByteView nonce) const
    {
        ratls::CertEvidence e;
        e.report = must(m_psp.get_report(report_data, 0), "report");
        // No ARK: it is the trust anchor the verifier brings (--sim-dir), and a TLS Certificate
        // message must fit 16 KiB (mbedTLS cannot fragment one), which two ARKs would break.
        e.certs = {m_platform.vcek_der, m_platform.ask_der};
        e.binding = std::string(tag);
        e.nonce.assign(nonce.begin(), nonce.end());
        e.provider = "simulated";
        return e;
    }

    sim::Platform m_platform;
    Mode m_mode;
    sim::SimulatedPsp m_psp;
    std::unique_ptr<ratls::KeyPair> m_agent, m_workload, m_other;
    ratls::CertEvidence m_agent_evidence;
};

Mode mode_of(const std::string& name)
{
    if (name == "good")
        return Mode::Good;
    if (name == "stale")
        return Mode::Stale;
    if (name == "other-key")
        return Mode::OtherKey;
    if (name == "plain")
        return Mode::Plain;
    fprintf(stderr, "ratls_server: unknown mode %s\n", name.c_str());
    exit(2);
}

std::string pem_of(ByteView der)
{
    std::string b64 = base64_encode(der);
    std::string out = "-----BEGIN CERTIFICATE-----\n";
    for (size_t i = 0; i < b64.size(); i += 64)
        out += b64.substr(i, 64) + "\n";
    return out + "-----END CERTIFICATE-----\n";
}

int serve(Issuer& issuer, Mode mode, const std::string& port_file)
{
    ratls::HttpsServerOptions options;
    options.http.address = "127.0.0.1";
    auto handler = [](const net::HttpRequest& r) {
        std::string body = "hello from the RA-TLS test server: " + r.target + "\n";
        return net::HttpResponse{200, {{"Content-Type", "text/plain"}}, Bytes(body.begin(), body.end())};
    };
    std::unique_ptr<net::HttpServer> server;
    fakes::TestPki pki;
    if (mode == Mode::Plain) {
        fakes::PemIdentity plain = pki.issue("plain TLS server");
        Bytes cert(plain.cert.begin(), plain.cert.end());
        server = must(ratls::start_https_server(
                          options, SecretBytes::copy_of(as_bytes(plain.key)),
                          [cert](ByteView) -> Result<Bytes> { return cert; }, handler),
                      "server");
    } else {
        server = must(ratls::start_https_server(
                          options, issuer.workload_key(),
                          [&issuer](ByteView nonce) { return issuer.certificate(nonce); }, handler),
                      "server");
    }
    std::string port = std::to_string(server->port()) + "\n";
    std::string tmp = port_file + ".tmp";
    FILE* f = fopen(tmp.c_str(), "w");
    if (!f || fputs(port.c_str(), f) < 0 || fclose(f) != 0 || rename(tmp.c_str(), port_file.c_str()) != 0) {
        perror("ratls_server: port file");
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    int sig = 0;
    sigwait(&set, &sig);
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: ratls_server SIMDIR serve MODE PORT_FILE | SIMDIR issue MODE OUT.pem [NONCE_HEX]\n");
        return 2;
    }
    std::string command = argv[2];
    Mode mode = mode_of(argv[3]);
    Issuer issuer(must(sim::read_platform(argv[1]), std::string("platform ") + argv[1]), mode);
    if (command == "serve")
        return serve(issuer, mode, argv[4]);
    if (command != "issue" || mode == Mode::Plain) {
        fprintf(stderr, "ratls_server: expected serve, or issue with good, stale or other-key\n");
        return 2;
    }
    Bytes nonce;
    if (argc > 5) {
        auto hex = from_hex(argv[5]);
        if (!hex) {
            fprintf(stderr, "ratls_server: nonce %s is not hex\n", argv[5]);
            return 2;
        }
        nonce = *hex;
    }
    Bytes der = must(issuer.certificate(nonce), "certificate");
    std::string pem = pem_of(der);
    auto written = write_file_atomic(argv[4], as_bytes(pem));
    if (!written.ok())
        die("writing the certificate", written.error());
    return 0;
}
