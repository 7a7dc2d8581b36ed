// Certificate: an owning, immutable X.509 certificate (RAII over mbedtls_x509_crt).
//
// Parsing is strict where mbedTLS is lenient: a DER input must be exactly one certificate (no
// trailing bytes), a PEM input must consist of CERTIFICATE blocks and whitespace only, and inputs
// are bounded before anything is decoded. Parsing checks structure, never trust: which
// certificate signs which is decided in chain.h.
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

struct mbedtls_x509_crt;

namespace cvm::verify {

// SHA-256 of a certificate's DER encoding.
using Fingerprint = std::array<uint8_t, 32>;

inline constexpr size_t CERT_MAX_DER_SIZE = 16 * 1024;  // AMD certificates are 1.3-1.7 KiB
inline constexpr size_t PEM_BUNDLE_MAX_SIZE = 256 * 1024;
inline constexpr size_t PEM_BUNDLE_MAX_CERTS = 16;

class Certificate {
public:
    // Exactly one DER certificate. Errc::Format naming the mbedTLS error, the size bound or the
    // trailing bytes.
    static Result<Certificate> parse_der(ByteView der);

    // One certificate given as DER or as a single PEM CERTIFICATE block (detected by the leading
    // "-----BEGIN"); a PEM input holding several certificates is refused.
    static Result<Certificate> parse(ByteView der_or_pem);

    // Every CERTIFICATE block of a PEM bundle, in input order (KDS cert_chain: ASK, then ARK).
    // Fails on an empty bundle, text outside the blocks, an undecodable block, more than
    // PEM_BUNDLE_MAX_CERTS blocks or a bundle over PEM_BUNDLE_MAX_SIZE.
    static Result<std::vector<Certificate>> parse_pem_bundle(std::string_view pem);

    Certificate(Certificate&&) noexcept;
    Certificate& operator=(Certificate&&) noexcept;
    ~Certificate();

    // The exact DER bytes; valid as long as this object.
    ByteView der() const;
    const Fingerprint& fingerprint() const { return m_fingerprint; }
    std::string fingerprint_hex() const;

    // The CommonName attribute of the subject / issuer name; empty when absent.
    std::string subject_cn() const;
    std::string issuer_cn() const;
    // The DER Name encodings, for exact issuer/subject chaining.
    ByteView subject_raw() const;
    ByteView issuer_raw() const;
    bool self_issued() const;

    // The content of the X.509 v3 `Extensions` SEQUENCE (the concatenated Extension elements) —
    // what snp::parse_amd_extensions takes. Empty when the certificate has no extensions.
    ByteView extensions() const { return m_extensions; }

    int x509_version() const;  // 1, 2 or 3
    // basicConstraints cA is TRUE (false when the extension is absent).
    bool is_ca() const;
    // keyUsage permits keyCertSign (true when the extension is absent, per RFC 5280).
    bool may_sign_certificates() const;

    // notBefore <= now <= notAfter (UTC). Only called when a caller asks for date checks.
    bool valid_at(std::time_t now) const;
    // "2025-12-10T22:14:21Z"
    std::string not_before() const;
    std::string not_after() const;

    // The parsed certificate, for the signature code in this layer. Not for other layers.
    const mbedtls_x509_crt& crt() const { return *m_crt; }

private:
    struct Free {
        void operator()(mbedtls_x509_crt* crt) const;
    };
    Certificate() = default;

    std::unique_ptr<mbedtls_x509_crt, Free> m_crt;
    Fingerprint m_fingerprint{};
    ByteView m_extensions;  // points into m_crt's own copy of the DER
};

// SHA-256 of arbitrary bytes (certificate fingerprints, cache keys).
Fingerprint sha256(ByteView data);

}  // namespace cvm::verify
