// Our signatures and key files against an independent implementation: Debian's `openssl` CLI
// verifies the signature of a bundle over the PAE bytes (the DSSE rule sigstore-js applies too),
// reads our private keys, and writes keys that we read. Skipped (passing) only when openssl is
// not installed.
#include <doctest.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "base/base64.h"
#include "release_fixture.h"

using namespace cvm;
using namespace cvm::release;

namespace {

bool have_openssl()
{
    return std::system("command -v openssl >/dev/null 2>&1") == 0;
}

class TempDir {
public:
    TempDir()
    {
        char pattern[] = "/tmp/cvm-release-XXXXXX";
        REQUIRE(mkdtemp(pattern));
        m_path = pattern;
    }
    ~TempDir() { std::system(("rm -rf '" + m_path + "'").c_str()); }
    std::string operator/(const std::string& name) const { return m_path + "/" + name; }
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
};

void write(const std::string& path, ByteView bytes)
{
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

struct Run {
    int rc;
    std::string out;
};

Run run(const TempDir& dir, const std::string& cmd)
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

// The command that checks sig.bin over pae.bin with pub.pem for a key of `kind`.
std::string verify_command(KeyKind kind)
{
    if (kind == KeyKind::EcdsaP256)
        return "openssl dgst -sha256 -verify pub.pem -signature sig.bin pae.bin";
    return "openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in pae.bin -sigfile sig.bin";
}

std::string field(const std::string& json, const std::string& name)
{
    size_t at = json.find("\"" + name + "\":\"");
    REQUIRE(at != std::string::npos);
    at += name.size() + 4;
    return json.substr(at, json.find('"', at) - at);
}

}  // namespace

TEST_CASE("openssl verifies a bundle's signature over the PAE bytes, and refuses a flipped payload byte")
{
    if (!have_openssl())
        return;
    for (const SigningKey* key : {&test::p256_key(), &test::ed25519_key()}) {
        TempDir dir;
        std::string bundle = make_bundle(test::sample_statement(), *key).value();
        Bytes payload = *base64_decode(field(bundle, "payload"));
        Bytes sig = *base64_decode(field(bundle, "sig"));
        write(dir / "pub.pem", as_bytes(key->public_key().pem()));
        write(dir / "sig.bin", sig);
        write(dir / "pae.bin", pae(PAYLOAD_TYPE, payload));
        Run good = run(dir, verify_command(key->public_key().kind()));
        CAPTURE(good.out);
        CHECK(good.rc == 0);
        // dgst says "Verified OK", pkeyutl "Signature Verified Successfully".
        CHECK((good.out.find("Verified OK") != std::string::npos ||
               good.out.find("Signature Verified Successfully") != std::string::npos));
        payload[payload.size() / 2] ^= 0x01;
        write(dir / "pae.bin", pae(PAYLOAD_TYPE, payload));
        Run bad = run(dir, verify_command(key->public_key().kind()));
        CHECK(bad.rc != 0);
        // The same bytes under another payload type are another message.
        write(dir / "pae.bin", pae("application/json", *base64_decode(field(bundle, "payload"))));
        CHECK(run(dir, verify_command(key->public_key().kind())).rc != 0);
    }
}

TEST_CASE("openssl reads our private key files and derives our public keys; we read its keys")
{
    if (!have_openssl())
        return;
    TempDir dir;
    for (const SigningKey* key : {&test::p256_key(), &test::ed25519_key()}) {
        SecretBytes pem = key->private_pem();
        write(dir / "ours.key", pem.expose());
        Run pub = run(dir, "openssl pkey -in ours.key -pubout");
        CAPTURE(pub.out);
        CHECK(pub.rc == 0);
        CHECK(pub.out == key->public_key().pem());
        // openssl rewrites a PKCS#8 file in its own form: ours is already that form, byte for byte.
        Run again = run(dir, "openssl pkey -in ours.key");
        CHECK(again.out == std::string(pem.expose().begin(), pem.expose().end()));
    }
    struct Case {
        const char* command;
        KeyKind kind;
    };
    for (Case c :
         {Case{"openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out theirs.key", KeyKind::EcdsaP256},
          Case{"openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 | openssl ec -out theirs.key",
               KeyKind::EcdsaP256},
          Case{"openssl genpkey -algorithm ed25519 -out theirs.key", KeyKind::Ed25519}}) {
        CAPTURE(c.command);
        REQUIRE(run(dir, c.command).rc == 0);
        REQUIRE(run(dir, "openssl pkey -in theirs.key -pubout -out theirs.pub").rc == 0);
        SigningKey key = test::take(SigningKey::load(dir / "theirs.key"));
        PublicKey pub = PublicKey::load(dir / "theirs.pub").value();
        CHECK(key.public_key().kind() == c.kind);
        CHECK(key.public_key().spki_der() == pub.spki_der());
        // And openssl checks what we signed with its key.
        std::string bundle = make_bundle(test::sample_statement(), key).value();
        write(dir / "pub.pem", as_bytes(pub.pem()));
        write(dir / "sig.bin", *base64_decode(field(bundle, "sig")));
        write(dir / "pae.bin", pae(PAYLOAD_TYPE, *base64_decode(field(bundle, "payload"))));
        CHECK(run(dir, verify_command(c.kind)).rc == 0);
    }
}
