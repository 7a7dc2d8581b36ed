// PEM (RFC 7468) CERTIFICATE blocks for Certificate::parse and parse_pem_bundle.
//
// We split the blocks ourselves instead of calling mbedtls_x509_crt_parse on the whole text:
// mbedTLS skips undecodable blocks and text between blocks ("parses permissively"), which would
// let a bundle silently lose a certificate.
#include "verify/certificate.h"
#include "verify/pem_text.h"

namespace cvm::verify {

namespace {

constexpr std::string_view BEGIN = "-----BEGIN CERTIFICATE-----";
constexpr std::string_view END = "-----END CERTIFICATE-----";

// Fails naming the offset of the first byte that is neither whitespace nor a block.
Result<void> only_whitespace(std::string_view text, size_t base)
{
    for (size_t i = 0; i < text.size(); ++i) {
        if (!pem_space(text[i]))
            return Error::make(Errc::Format, "PEM: unexpected byte 0x%02x at offset %zu outside a CERTIFICATE block",
                               static_cast<uint8_t>(text[i]), base + i);
    }
    return {};
}

Result<Certificate> decode_block(std::string_view body, size_t index)
{
    Bytes der = TRY(decode_pem_body(body, CERT_MAX_DER_SIZE, "CERTIFICATE block " + std::to_string(index)));
    auto cert = Certificate::parse_der(der);
    if (!cert.ok())
        return cert.release_error().prefix("PEM block %zu", index);
    return cert;
}

}  // namespace

Result<std::vector<Certificate>> Certificate::parse_pem_bundle(std::string_view pem)
{
    if (pem.size() > PEM_BUNDLE_MAX_SIZE)
        return Error::make(Errc::Format, "PEM bundle is %zu bytes, more than the %zu allowed", pem.size(),
                           PEM_BUNDLE_MAX_SIZE);
    std::vector<Certificate> out;
    size_t pos = 0;
    for (;;) {
        size_t begin = pem.find(BEGIN, pos);
        TRY(only_whitespace(pem.substr(pos, begin == std::string_view::npos ? std::string_view::npos : begin - pos),
                            pos));
        if (begin == std::string_view::npos)
            break;
        size_t body = begin + BEGIN.size();
        size_t end = pem.find(END, body);
        if (end == std::string_view::npos)
            return Error::make(Errc::Format, "PEM: CERTIFICATE block %zu at offset %zu has no END line", out.size(),
                               begin);
        if (out.size() == PEM_BUNDLE_MAX_CERTS)
            return Error::make(Errc::Format, "PEM bundle holds more than %zu certificates", PEM_BUNDLE_MAX_CERTS);
        out.push_back(TRY(decode_block(pem.substr(body, end - body), out.size())));
        pos = end + END.size();
    }
    if (out.empty())
        return Error::make(Errc::Format, "PEM: no CERTIFICATE block found");
    return out;
}

Result<Certificate> Certificate::parse(ByteView der_or_pem)
{
    if (!looks_like_pem(der_or_pem))
        return parse_der(der_or_pem);
    std::string_view text(reinterpret_cast<const char*>(der_or_pem.data()), der_or_pem.size());
    std::vector<Certificate> certs = TRY(parse_pem_bundle(text));
    if (certs.size() != 1)
        return Error::make(Errc::Format, "PEM holds %zu certificates, expected exactly one", certs.size());
    return std::move(certs[0]);
}

}  // namespace cvm::verify
