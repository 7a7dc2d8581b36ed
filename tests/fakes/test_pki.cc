#include "test_pki.h"

#include <arpa/inet.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>

#include <array>
#include <cstdio>
#include <cstdlib>

namespace cvm::fakes {

namespace {

constexpr const char* CA_NAME = "CN=cvminit test CA";

void check(int rc, const char* what)
{
    if (rc < 0) {
        fprintf(stderr, "TestPki: %s failed: -0x%04x\n", what, static_cast<unsigned>(-rc));
        abort();
    }
}

}  // namespace

struct TestPki::State {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_pk_context ca_key;

    State()
    {
        mbedtls_entropy_init(&entropy);
        mbedtls_ctr_drbg_init(&drbg);
        mbedtls_pk_init(&ca_key);
        check(mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, nullptr, 0), "drbg seed");
    }
    ~State()
    {
        mbedtls_pk_free(&ca_key);
        mbedtls_ctr_drbg_free(&drbg);
        mbedtls_entropy_free(&entropy);
    }

    void generate(mbedtls_pk_context& key, KeyKind kind)
    {
        if (kind == KeyKind::Rsa2048) {
            check(mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)), "pk setup");
            check(mbedtls_rsa_gen_key(mbedtls_pk_rsa(key), mbedtls_ctr_drbg_random, &drbg, 2048, 65537),
                  "RSA key generation");
            return;
        }
        check(mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), "pk setup");
        check(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key), mbedtls_ctr_drbg_random, &drbg),
              "EC key generation");
    }

    std::string key_pem(mbedtls_pk_context& key)
    {
        std::array<unsigned char, 16000> pem{};
        check(mbedtls_pk_write_key_pem(&key, pem.data(), pem.size()), "key PEM");
        return reinterpret_cast<const char*>(pem.data());
    }

    std::string certificate(const std::string& subject, mbedtls_pk_context& key, bool is_ca, uint8_t serial,
                            const mbedtls_x509_san_list* san)
    {
        mbedtls_x509write_cert crt;
        mbedtls_x509write_crt_init(&crt);
        mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
        mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
        check(mbedtls_x509write_crt_set_serial_raw(&crt, &serial, 1), "serial");
        check(mbedtls_x509write_crt_set_validity(&crt, "20200101000000", "20991231235959"), "validity");
        check(mbedtls_x509write_crt_set_subject_name(&crt, subject.c_str()), "subject");
        check(mbedtls_x509write_crt_set_issuer_name(&crt, CA_NAME), "issuer");
        mbedtls_x509write_crt_set_subject_key(&crt, &key);
        mbedtls_x509write_crt_set_issuer_key(&crt, &ca_key);
        check(mbedtls_x509write_crt_set_basic_constraints(&crt, is_ca ? 1 : 0, -1), "basic constraints");
        if (san)
            check(mbedtls_x509write_crt_set_subject_alternative_name(&crt, san), "subjectAltName");
        std::array<unsigned char, 8192> pem{};
        check(mbedtls_x509write_crt_pem(&crt, pem.data(), pem.size(), mbedtls_ctr_drbg_random, &drbg), "certificate");
        mbedtls_x509write_crt_free(&crt);
        return reinterpret_cast<const char*>(pem.data());
    }
};

TestPki::TestPki() : m_state(std::make_unique<State>())
{
    m_state->generate(m_state->ca_key, KeyKind::EcP256);
    m_ca_pem = m_state->certificate(CA_NAME, m_state->ca_key, true, m_next_serial++, nullptr);
}

TestPki::~TestPki() = default;

PemIdentity TestPki::issue(const std::string& common_name, const std::optional<std::string>& ip_address, KeyKind kind)
{
    mbedtls_pk_context key;
    mbedtls_pk_init(&key);
    m_state->generate(key, kind);

    std::array<unsigned char, 16> ip{};
    mbedtls_x509_san_list san{};
    if (ip_address) {
        san.node.type = MBEDTLS_X509_SAN_IP_ADDRESS;
        san.node.san.unstructured_name.p = ip.data();
        if (inet_pton(AF_INET, ip_address->c_str(), ip.data()) == 1)
            san.node.san.unstructured_name.len = 4;
        else if (inet_pton(AF_INET6, ip_address->c_str(), ip.data()) == 1)
            san.node.san.unstructured_name.len = 16;
        else
            check(-1, "parsing the subjectAltName IP address");
    }
    PemIdentity id{m_state->certificate("CN=" + common_name, key, false, m_next_serial++, ip_address ? &san : nullptr),
                   m_state->key_pem(key)};
    mbedtls_pk_free(&key);
    return id;
}

std::string TestPki::stray_key(KeyKind kind)
{
    mbedtls_pk_context key;
    mbedtls_pk_init(&key);
    m_state->generate(key, kind);
    std::string pem = m_state->key_pem(key);
    mbedtls_pk_free(&key);
    return pem;
}

}  // namespace cvm::fakes
