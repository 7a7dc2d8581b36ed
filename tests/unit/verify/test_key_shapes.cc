// Issuer keys must have AMD's shape before any signature is computed with them (signatures.h),
// and a failed ASK/ASVK ends the chain (verifier.h): the cost of a hostile chain is bounded.
#include <doctest.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha512.h>
#include <mbedtls/x509_crt.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "hostile_certs.h"
#include "sim_chain.h"
#include "verify/chain.h"
#include "verify/signatures.h"
#include "verify/verifier.h"
#include "verify_vectors.h"

using namespace cvm;
using namespace cvm::verify;

namespace {

using Clock = std::chrono::steady_clock;

const Bytes E_65537 = {0x01, 0x00, 0x01};

std::string message(const Result<void>& r)
{
    return r.ok() ? "" : std::string(r.error().message());
}

// sim_ask.pem (DER) with another key: issuer, names and extensions stay SIM-ASK's.
Certificate ask_with_key(ByteView spki)
{
    Certificate ask = test::testdata_cert("sim_ask.pem");
    return Certificate::parse_der(test::with_public_key(ask.der(), spki)).release_value();
}

Bytes der_of(const Certificate& cert)
{
    return Bytes(cert.der().begin(), cert.der().end());
}

double ms_since(Clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Hostile evidence: the simulated report and VCEK, the VCEK's signature resized to the hostile
// ASK's modulus so that a verifier without the shape rule would do the full exponentiation
// (`modulus_bytes` 0: the VCEK as it is).
Evidence hostile_evidence(const Certificate& ask, size_t modulus_bytes)
{
    Evidence ev;
    ev.report = test::sign_report(test::sim_report());
    ev.vek = test::read_testdata("sim_vcek.der");
    if (modulus_bytes != 0)
        ev.vek = test::with_signature_size(ev.vek, modulus_bytes);
    ev.ask = der_of(ask);
    ev.ark = test::read_testdata("sim_ark.pem");
    return ev;
}

VerifierOptions trusting_sim()
{
    VerifierOptions o;
    o.trusted_roots.push_back(test::testdata_cert("sim_ark.pem"));
    return o;
}

}  // namespace

TEST_CASE("RSA keys of other shapes are named with their size and exponent, and refused")
{
    struct Case {
        size_t bits;
        Bytes exponent;
        const char* found;
    };
    const std::vector<Case> cases = {
        {8192, E_65537, "RSA-8192"},
        {4096, test::odd_exponent(4000), "RSA-4096 e of 4000 bits"},
        {8192, test::odd_exponent(8190), "RSA-8192 e of 8190 bits"},
        {2048, E_65537, "RSA-2048"},
        {4096, {0x03}, "RSA-4096 e=3"},
        {4096, {0x01, 0x00, 0x03}, "RSA-4096 e=65539"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.found);
        Certificate ask = ask_with_key(test::rsa_spki(c.bits, c.exponent));
        CHECK(public_key_name(ask) == c.found);
        auto r = check_rsa4096_key(ask);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code() == Errc::Chain);
        CHECK(message(r) ==
              "certificate SIM-ASK: public key is " + std::string(c.found) + ", expected RSA-4096 e=65537");
    }
    // The same splice with AMD's shape passes the shape rule: the rule, not the splice, refuses.
    Certificate good_shape = ask_with_key(test::rsa_spki(4096, E_65537));
    CHECK(public_key_name(good_shape) == "RSA-4096");
    CHECK(check_rsa4096_key(good_shape).ok());
}

TEST_CASE("no signature is computed under an issuer key of the wrong shape")
{
    Certificate vcek = test::testdata_cert("sim_vcek.der");
    for (size_t bits : {8192, 2048}) {
        Certificate ask = ask_with_key(test::rsa_spki(bits, test::odd_exponent(bits - 2)));
        auto r = check_amd_signature(vcek, ask);
        CHECK(message(r) == "certificate SEV-VCEK: issuer key is RSA-" + std::to_string(bits) + " e of " +
                                std::to_string(bits - 2) + " bits, expected RSA-4096 e=65537");
    }
    // An EC issuer (a P-256 "VCEK" posing as a CA) is refused by shape as well.
    auto ec = check_amd_signature(vcek, test::testdata_cert("sim_vcek_p256.der"));
    CHECK(message(ec) == "certificate SEV-VCEK: issuer key is EC secp256r1, expected RSA-4096 e=65537");
}

TEST_CASE("a hostile ASK ends the chain: chain.ask names the key, chain.vek is not checked")
{
    auto verifier = test::make_verifier(trusting_sim());
    for (size_t bits : {8192, 2048}) {
        CAPTURE(bits);
        Certificate ask = ask_with_key(test::rsa_spki(bits, bits == 8192 ? test::odd_exponent(8190) : E_65537));
        Verification v = verifier->verify(hostile_evidence(ask, bits / 8), test::NO_REVOCATION);
        CHECK_FALSE(v.pass());
        const Claim& c = test::claim(v, "chain.ask");
        CHECK_FALSE(c.pass);
        CHECK(c.found == public_key_name(ask));
        CHECK(c.expected == "RSA-4096 e=65537");
        const Claim& vek = test::claim(v, "chain.vek");
        CHECK_FALSE(vek.pass);
        CHECK(vek.found == "not checked");
        CHECK(vek.detail == "the ASK/ASVK or its root failed its checks");
        CHECK(v.status().error().code() == Errc::Chain);
    }
    // The same evidence with the real SIM-ASK verifies: the hostile key alone made the difference.
    Evidence good = hostile_evidence(test::testdata_cert("sim_ask.pem"), 0);
    Verification ok = verifier->verify(good, test::NO_REVOCATION);
    CHECK_MESSAGE(ok.pass(), test::dump(ok));
}

TEST_CASE("a P-256 VCEK is refused by shape, in the chain and for the report signature")
{
    auto verifier = test::make_verifier(trusting_sim());
    Evidence ev = hostile_evidence(test::testdata_cert("sim_ask.pem"), 0);
    ev.vek = test::read_testdata("sim_vcek_p256.der");
    Verification v = verifier->verify(ev, test::NO_REVOCATION);
    const Claim& vek = test::claim(v, "chain.vek");
    CHECK_FALSE(vek.pass);
    CHECK(vek.found == "EC secp256r1");
    CHECK(vek.expected == "EC secp384r1");
    const Claim& sig = test::claim(v, "report.signature");
    CHECK_FALSE(sig.pass);
    CHECK(sig.detail.find("public key is EC secp256r1, expected EC secp384r1") != std::string::npos);
}

TEST_CASE("the cost of one hostile chain, now and without the shape rule (printed)")
{
    auto verifier = test::make_verifier(trusting_sim());
    Certificate ask = ask_with_key(test::rsa_spki(8192, test::odd_exponent(8190)));
    Evidence ev = hostile_evidence(ask, 1024);
    auto start = Clock::now();
    constexpr int RUNS = 5;
    for (int i = 0; i < RUNS; ++i)
        CHECK_FALSE(verifier->verify(ev, test::NO_REVOCATION).pass());
    double now_ms = ms_since(start) / RUNS;

    // What the check of the VCEK under that key would have cost: the RSASSA-PSS verification
    // itself, done here directly with mbedTLS (it fails, after the whole exponentiation).
    Certificate vcek = Certificate::parse_der(ev.vek).release_value();
    mbedtls_pk_context key;
    mbedtls_pk_init(&key);
    REQUIRE(mbedtls_pk_parse_public_key(&key, ask.crt().pk_raw.p, ask.crt().pk_raw.len) == 0);
    uint8_t digest[48];
    mbedtls_sha512(vcek.crt().tbs.p, vcek.crt().tbs.len, digest, 1);
    const mbedtls_pk_rsassa_pss_options opts{MBEDTLS_MD_SHA384, AMD_PSS_SALT_LENGTH};
    start = Clock::now();
    int rc = mbedtls_pk_verify_ext(MBEDTLS_PK_RSASSA_PSS, &opts, &key, MBEDTLS_MD_SHA384, digest, sizeof digest,
                                   vcek.crt().MBEDTLS_PRIVATE(sig).p, vcek.crt().MBEDTLS_PRIVATE(sig).len);
    double before_ms = ms_since(start);
    mbedtls_pk_free(&key);
    CHECK(rc != 0);
    MESSAGE("hostile chain (ASK RSA-8192, e of 8190 bits): " << now_ms
                                                             << " ms per verify(); one RSASSA-PSS "
                                                                "verification under that key: "
                                                             << before_ms << " ms");
}

TEST_CASE("concurrent verify() calls on one Verifier agree with a single-threaded run")
{
    auto verifier = test::make_verifier(trusting_sim());
    Evidence good = hostile_evidence(test::testdata_cert("sim_ask.pem"), 0);
    Evidence amd = test::vector_evidence("virtee_milan_v2", false);
    Evidence bad = hostile_evidence(ask_with_key(test::rsa_spki(4096, test::odd_exponent(4000))), 512);
    constexpr int THREADS = 4, ROUNDS = 12;
    std::vector<int> wrong(THREADS, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < THREADS; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < ROUNDS; ++i) {
                if (i % 4 == t % 4)
                    verifier->clear_cache();  // cold RSA work races with cached lookups
                wrong[t] += !verifier->verify(good, test::NO_REVOCATION).pass();
                wrong[t] += !verifier->verify(amd, test::NO_REVOCATION).pass();
                wrong[t] += verifier->verify(bad, test::NO_REVOCATION).pass();
            }
        });
    }
    for (auto& t : threads)
        t.join();
    for (int t = 0; t < THREADS; ++t)
        CHECK(wrong[t] == 0);
    CacheStats s = verifier->cache_stats();
    CHECK(s.vek_hits + s.vek_misses > 0);
}
