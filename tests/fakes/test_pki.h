// A throw-away PKI for TLS tests, made with mbedTLS at run time: a test CA ("CN=cvminit test CA",
// ECDSA P-256) and server certificates it signs, all as PEM. Aborts the process on any failure:
// tests cannot run without it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace cvm::fakes {

enum class KeyKind : uint8_t {
    EcP256,
    Rsa2048,
};

struct PemIdentity {
    std::string cert;  // one certificate (the caller appends intermediates, if any)
    std::string key;   // its private key, unencrypted
};

class TestPki {
public:
    TestPki();
    TestPki(const TestPki&) = delete;
    TestPki& operator=(const TestPki&) = delete;
    ~TestPki();

    const std::string& ca_pem() const { return m_ca_pem; }

    // A certificate for CN=`common_name` with a fresh key of `kind`; with `ip_address` (numeric
    // IPv4 or IPv6) it also carries that address as an iPAddress subjectAltName, which is what
    // a client then matches instead of the CN.
    PemIdentity issue(const std::string& common_name, const std::optional<std::string>& ip_address = {},
                      KeyKind kind = KeyKind::EcP256);

    // A private key of `kind` that belongs to no certificate.
    std::string stray_key(KeyKind kind = KeyKind::EcP256);

private:
    struct State;
    std::unique_ptr<State> m_state;
    std::string m_ca_pem;
    uint8_t m_next_serial{1};
};

}  // namespace cvm::fakes
