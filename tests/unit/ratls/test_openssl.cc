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

// What a command exited with and printed (stdout and stderr).
struct Run {
    int rc;
    std::string out;
};

// Runs `cmd` in `dir` with /bin/sh.
Run run(const test::TempDir& dir, const std::string& cmd)
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

    Run shown = run(dir, "openssl x509 -in leaf.pem -text -noout");
    CAPTURE(shown.out);
    CHECK(shown.rc == 0);
    CHECK(shown.out.find("1.3.6.1.5.5.7.1.35") != std::string::npos);
    CHECK(shown.out.find("ecdsa-with-SHA256") != std::string::npos);
    CHECK(shown.out.find("DNS:app.example, DNS:b.app.example") != std::string::npos);
    CHECK(shown.out.find("CA:FALSE") != std::string::npos);
    CHECK(shown.out.find("Issuer: CN = cvminit agent") != std::string::npos);
    CHECK(shown.out.find("Subject: CN = workload") != std::string::npos);

    Run ca = run(dir, "openssl x509 -in agent.pem -text -noout");
    CHECK(ca.rc == 0);
    CHECK(ca.out.find("CA:TRUE, pathlen:0") != std::string::npos);
    CHECK(ca.out.find("Certificate Sign") != std::string::npos);

    Run ok = run(dir, "openssl verify" + at_time() + " -CAfile agent.pem leaf.pem");
    CHECK_MESSAGE(ok.rc == 0, ok.out);
    CHECK(ok.out.find("leaf.pem: OK") != std::string::npos);

    // The self-signed certificate verifies under itself, and the agent's PEM key is its key.
    Run self = run(dir, "openssl verify" + at_time() + " -CAfile agent.pem agent.pem");
    CHECK_MESSAGE(self.rc == 0, self.out);
    auto key = l.agent->private_key_pem();
    REQUIRE(key.ok());
    test::write_bytes(dir / "agent.key", key->expose());
    Run k = run(dir, "openssl x509 -in agent.pem -pubkey -noout > agent.pub && openssl pkey -in "
                     "agent.key -pubout | cmp - agent.pub && echo same");

    CHECK(k.out.find("same") != std::string::npos);
}

TEST_CASE("openssl refuses a tampered leaf and a leaf of another agent")
{
    if (!have_openssl())
        return;
    test::TempDir dir;
    test::write_bytes(dir / "agent.pem", as_bytes(pem(test::self_signed(test::launch()))));
    Bytes leaf = test::issue_leaf(test::launch(), test::p256_spki(), {});
    // Flip the last byte of the signature's s INTEGER: still DER, no longer the signature.
    Bytes tampered = leaf;
    tampered[tampered.size() - 1] ^= 1;
    test::write_bytes(dir / "tampered.pem", as_bytes(pem(tampered)));
    Run t = run(dir, "openssl verify" + at_time() + " -CAfile agent.pem tampered.pem");
    CHECK(t.rc != 0);
    CHECK(t.out.find("signature failure") != std::string::npos);

    test::write_bytes(dir / "other.pem", as_bytes(pem(test::issue_leaf(test::other_launch(), test::p256_spki(), {}))));
    Run o = run(dir, "openssl verify" + at_time() + " -CAfile agent.pem other.pem");
    CHECK(o.rc != 0);
    CHECK(o.out.find("other.pem: OK") == std::string::npos);
}

TEST_CASE("openssl: an Ed25519 key from openssl genpkey, certified by the agent")
{
    if (!have_openssl())
        return;
    test::TempDir dir;
    Run g = run(dir, "openssl genpkey -algorithm ed25519 -out ed.key && openssl pkey -in ed.key -pubout "
                     "-out ed.pub");
    REQUIRE_MESSAGE(g.rc == 0, g.out);
    Bytes pub = test::read_bytes(dir / "ed.pub");
    auto spki = subject_spki_from_pem(std::string_view(reinterpret_cast<const char*>(pub.data()), pub.size()));
    REQUIRE_MESSAGE(spki.ok(), spki.error().message());

    test::write_bytes(dir / "agent.pem", as_bytes(pem(test::self_signed(test::launch()))));
    Bytes leaf = test::issue_leaf(test::launch(), spki.value(), Bytes(64, 5));
    test::write_bytes(dir / "leaf.pem", as_bytes(pem(leaf)));
    Run verified = run(dir, "openssl verify" + at_time() + " -CAfile agent.pem leaf.pem");
    CHECK_MESSAGE(verified.rc == 0, verified.out);
    Run t = run(dir, "openssl x509 -in leaf.pem -text -noout");
    CHECK(t.rc == 0);
    CHECK(t.out.find("ED25519") != std::string::npos);
    CHECK(t.out.find("1.3.6.1.5.5.7.1.35") != std::string::npos);
    // The certificate's key is openssl's key.
    Run c = run(dir, "openssl x509 -in leaf.pem -pubkey -noout | cmp - ed.pub && echo same");

    CHECK(c.out.find("same") != std::string::npos);

    // And our verifier accepts what openssl accepts.
    RatlsVerification v =
        test::check(test::parse(leaf), Expectation{std::string(proto::WORKLOAD_RATLS_TAG), Bytes(64, 5)});
    CHECK_MESSAGE(v.pass(), test::dump(v));
}
