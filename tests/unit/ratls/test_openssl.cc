// The certificate profile against an independent X.509 implementation: Debian's `openssl` CLI
// reads the agent's certificates, shows id-pe-cmw, and verifies a leaf with the agent's
// self-signed certificate as the only trust anchor — for a P-256 key and for an Ed25519 key
// that openssl itself generated. Skipped (passing) only when openssl is not installed.
#include <doctest.h>

#include <cstdio>
#include <cstdlib>

#include "proto/pem.h"
#include "ratls_fixture.h"

using namespace cvm;
using namespace cvm::ratls;

namespace {

bool have_openssl()
{
    return std::system("command -v openssl >/dev/null 2>&1") == 0;
}

std::string pem(ByteView der)
{
    SecretBytes text = proto::pem_encode(der, "CERTIFICATE");
    return std::string(text.expose().begin(), text.expose().end());
}

// Runs `cmd` in `dir`; its exit status and what it printed on stdout and stderr.
std::pair<int, std::string> run(const test::TempDir& dir, const std::string& cmd)
{
    std::string full = "cd '" + dir.path() + "' && " + cmd + " 2>&1";
    FILE* p = popen(full.c_str(), "r");
    REQUIRE(p);
    std::string out;
    char buf[4096];
    size_t n = 0;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        out.append(buf, n);
    int status = pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// A time inside the certificates' validity, so the test does not depend on today's date.
std::string at_time()
{
    return " -attime " + std::to_string(test::NOT_BEFORE + 86400);
}

}  // namespace

TEST_CASE("openssl reads a leaf and its id-pe-cmw extension, and verifies it under the agent's certificate")
{
    if (!have_openssl())
        return;
    test::TempDir dir;
    const test::RatlsLaunch& l = test::launch();
    test::write_bytes(dir / "agent.pem", as_bytes(pem(test::self_signed(l))));
    Bytes leaf = test::issue_leaf(l, test::p256_spki(), Bytes(16, 3), {"app.example", "b.app.example"});
    test::write_bytes(dir / "leaf.pem", as_bytes(pem(leaf)));

    auto [text_rc, text] = run(dir, "openssl x509 -in leaf.pem -text -noout");
    CAPTURE(text);
    CHECK(text_rc == 0);
    CHECK(text.find("1.3.6.1.5.5.7.1.35") != std::string::npos);
    CHECK(text.find("ecdsa-with-SHA256") != std::string::npos);
    CHECK(text.find("DNS:app.example, DNS:b.app.example") != std::string::npos);
    CHECK(text.find("CA:FALSE") != std::string::npos);
    CHECK(text.find("Issuer: CN = cvminit agent") != std::string::npos);
    CHECK(text.find("Subject: CN = workload") != std::string::npos);

    auto [ca_rc, ca_text] = run(dir, "openssl x509 -in agent.pem -text -noout");
    CHECK(ca_rc == 0);
    CHECK(ca_text.find("CA:TRUE, pathlen:0") != std::string::npos);
    CHECK(ca_text.find("Certificate Sign") != std::string::npos);

    auto [ok_rc, ok_text] = run(dir, "openssl verify" + at_time() + " -CAfile agent.pem leaf.pem");
    CHECK_MESSAGE(ok_rc == 0, ok_text);
    CHECK(ok_text.find("leaf.pem: OK") != std::string::npos);

    // The self-signed certificate verifies under itself, and the agent's PEM key is its key.
    auto [self_rc, self_text] = run(dir, "openssl verify" + at_time() + " -CAfile agent.pem agent.pem");
    CHECK_MESSAGE(self_rc == 0, self_text);
    auto key = l.agent->private_key_pem();
    REQUIRE(key.ok());
    test::write_bytes(dir / "agent.key", key->expose());
    auto [k_rc, k_text] = run(dir, "openssl x509 -in agent.pem -pubkey -noout > agent.pub && openssl pkey -in "
                                   "agent.key -pubout | cmp - agent.pub && echo same");
    (void)k_rc;
    CHECK(k_text.find("same") != std::string::npos);
}

TEST_CASE("openssl refuses a tampered leaf and a leaf of another agent")
{
    if (!have_openssl())
        return;
    test::TempDir dir;
    test::write_bytes(dir / "agent.pem", as_bytes(pem(test::self_signed(test::launch()))));
    Bytes leaf = test::issue_leaf(test::launch(), test::p256_spki(), {});
    Certificate parsed = test::parse(leaf);
    // Flip the last byte of the signature's s INTEGER: still DER, no longer the signature.
    Bytes tampered = leaf;
    tampered[tampered.size() - 1] ^= 1;
    test::write_bytes(dir / "tampered.pem", as_bytes(pem(tampered)));
    auto [t_rc, t_text] = run(dir, "openssl verify" + at_time() + " -CAfile agent.pem tampered.pem");
    CHECK(t_rc != 0);
    CHECK(t_text.find("signature failure") != std::string::npos);

    test::write_bytes(dir / "other.pem", as_bytes(pem(test::issue_leaf(test::other_launch(), test::p256_spki(), {}))));
    auto [o_rc, o_text] = run(dir, "openssl verify" + at_time() + " -CAfile agent.pem other.pem");
    CHECK(o_rc != 0);
    CHECK(parsed.signature.size() > 0);
}

TEST_CASE("openssl: an Ed25519 key from openssl genpkey, certified by the agent")
{
    if (!have_openssl())
        return;
    test::TempDir dir;
    auto [g_rc, g_text] = run(dir, "openssl genpkey -algorithm ed25519 -out ed.key && openssl pkey -in ed.key -pubout "
                                   "-out ed.pub");
    REQUIRE_MESSAGE(g_rc == 0, g_text);
    Bytes pub = test::read_bytes(dir / "ed.pub");
    auto spki = subject_spki_from_pem(std::string_view(reinterpret_cast<const char*>(pub.data()), pub.size()));
    REQUIRE_MESSAGE(spki.ok(), spki.error().message());

    test::write_bytes(dir / "agent.pem", as_bytes(pem(test::self_signed(test::launch()))));
    Bytes leaf = test::issue_leaf(test::launch(), spki.value(), Bytes(64, 5));
    test::write_bytes(dir / "leaf.pem", as_bytes(pem(leaf)));
    auto [v_rc, v_text] = run(dir, "openssl verify" + at_time() + " -CAfile agent.pem leaf.pem");
    CHECK_MESSAGE(v_rc == 0, v_text);
    auto [t_rc, t_text] = run(dir, "openssl x509 -in leaf.pem -text -noout");
    CHECK(t_rc == 0);
    CHECK(t_text.find("ED25519") != std::string::npos);
    CHECK(t_text.find("1.3.6.1.5.5.7.1.35") != std::string::npos);
    // The certificate's key is openssl's key.
    auto [c_rc, c_text] = run(dir, "openssl x509 -in leaf.pem -pubkey -noout | cmp - ed.pub && echo same");
    (void)c_rc;
    CHECK(c_text.find("same") != std::string::npos);

    // And our verifier accepts what openssl accepts.
    RatlsVerification v =
        test::check(test::parse(leaf), Expectation{std::string(proto::WORKLOAD_RATLS_TAG), Bytes(64, 5)});
    CHECK_MESSAGE(v.pass(), test::dump(v));
}
