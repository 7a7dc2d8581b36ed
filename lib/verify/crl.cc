// Crl (crl.h): parsing and lookups. The signature check and the claim are in revocation.cc.
#include "verify/crl.h"

#include <mbedtls/x509_crl.h>

#include <cstdio>
#include <cstring>

#include "crypto/mbedtls_util.h"
#include "verify/pem_text.h"

namespace cvm::verify {

namespace {

constexpr std::string_view BEGIN = "-----BEGIN X509 CRL-----";
constexpr std::string_view END = "-----END X509 CRL-----";

bool only_whitespace(std::string_view s)
{
    for (char c : s) {
        if (!pem_space(c))
            return false;
    }
    return true;
}

std::string format_time(const mbedtls_x509_time& t)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", t.year, t.mon, t.day, t.hour, t.min, t.sec);
    return buf;
}

ByteView without_leading_zeros(ByteView v)
{
    while (v.size() > 1 && v[0] == 0)
        v = v.subspan(1);
    return v;
}

// One "X509 CRL" block (RFC 7468 §5) and nothing but whitespace around it.
Result<Bytes> pem_body(std::string_view text)
{
    size_t begin = text.find(BEGIN);
    if (begin == std::string_view::npos)
        return Error::make(Errc::Format, "CRL PEM: no \"%s\" line", std::string(BEGIN).c_str());
    size_t body = begin + BEGIN.size();
    size_t end = text.find(END, body);
    if (end == std::string_view::npos)
        return Error::make(Errc::Format, "CRL PEM: the block has no END line");
    std::string_view after = text.substr(end + END.size());
    if (!only_whitespace(text.substr(0, begin)) || !only_whitespace(after)) {
        bool second = after.find("-----BEGIN") != std::string_view::npos;
        return Error::make(Errc::Format, "CRL PEM: %s, expected exactly one X509 CRL block",
                           second ? "a second PEM block follows" : "text outside the block");
    }
    return decode_pem_body(text.substr(body, end - body), CRL_MAX_DER_SIZE, "X509 CRL block");
}

}  // namespace

void Crl::Free::operator()(mbedtls_x509_crl* crl) const
{
    mbedtls_x509_crl_free(crl);
    delete crl;
}

Crl::Crl(Crl&&) noexcept = default;
Crl& Crl::operator=(Crl&&) noexcept = default;
Crl::~Crl() = default;

Result<Crl> Crl::parse_der(ByteView der)
{
    if (der.empty() || der.size() > CRL_MAX_DER_SIZE)
        return Error::make(Errc::Format, "CRL is %zu bytes, expected 1 to %zu", der.size(), CRL_MAX_DER_SIZE);
    Crl out;
    out.m_crl.reset(new mbedtls_x509_crl);
    mbedtls_x509_crl_init(out.m_crl.get());
    // x509_crl.c: mbedtls_x509_crl_parse_der() requires the outer SEQUENCE to span the whole
    // input, so trailing bytes fail there; its checks of the version field allow v1.
    int rc = mbedtls_x509_crl_parse_der(out.m_crl.get(), der.data(), der.size());
    if (rc != 0)
        return crypto::mbedtls_failure(Errc::Format, rc, "cannot parse X.509 CRL");
    const mbedtls_x509_crl& c = *out.m_crl;
    if (c.raw.len != der.size())
        return Error::make(Errc::Format, "CRL: %zu trailing bytes", der.size() - c.raw.len);
    if (c.version != 2)
        return Error::make(Errc::Format, "CRL version is v%d, expected v2 (RFC 5280 §5.1.2.1)", c.version);
    // mbedTLS leaves next_update zeroed when the optional field is absent.
    if (c.next_update.year == 0)
        return Error::make(Errc::Format, "CRL has no nextUpdate, expected one (RFC 5280 §5.1.2.5: conforming CRL "
                                         "issuers MUST include nextUpdate)");
    for (const mbedtls_x509_crl_entry* e = &c.entry; e != nullptr && e->raw.p != nullptr; e = e->next)
        ++out.m_entries;
    out.m_fingerprint = sha256(der);
    return out;
}

Result<Crl> Crl::parse(ByteView der_or_pem)
{
    if (!looks_like_pem(der_or_pem))
        return parse_der(der_or_pem);
    std::string_view text(reinterpret_cast<const char*>(der_or_pem.data()), der_or_pem.size());
    if (text.size() > CRL_MAX_PEM_SIZE)
        return Error::make(Errc::Format, "CRL PEM is %zu bytes, more than the %zu allowed", text.size(),
                           CRL_MAX_PEM_SIZE);
    Bytes der = TRY(pem_body(text));
    return parse_der(der);
}

ByteView Crl::der() const
{
    return {m_crl->raw.p, m_crl->raw.len};
}

ByteView Crl::issuer_raw() const
{
    return {m_crl->issuer_raw.p, m_crl->issuer_raw.len};
}

std::string Crl::this_update() const
{
    return format_time(m_crl->this_update);
}

std::string Crl::next_update() const
{
    return format_time(m_crl->next_update);
}

bool Crl::started_by(std::time_t now) const
{
    mbedtls_x509_time t{};
    return mbedtls_x509_time_gmtime(static_cast<mbedtls_time_t>(now), &t) == 0 &&
           mbedtls_x509_time_cmp(&m_crl->this_update, &t) <= 0;
}

bool Crl::current_at(std::time_t now) const
{
    mbedtls_x509_time t{};
    return mbedtls_x509_time_gmtime(static_cast<mbedtls_time_t>(now), &t) == 0 &&
           mbedtls_x509_time_cmp(&t, &m_crl->next_update) <= 0;
}

std::optional<std::time_t> Crl::next_update_time() const
{
    const mbedtls_x509_time& n = m_crl->next_update;
    struct tm tm {};
    tm.tm_year = n.year - 1900;
    tm.tm_mon = n.mon - 1;
    tm.tm_mday = n.day;
    tm.tm_hour = n.hour;
    tm.tm_min = n.min;
    tm.tm_sec = n.sec;
    std::time_t t = timegm(&tm);
    if (t == static_cast<std::time_t>(-1))
        return std::nullopt;
    return t;
}

std::optional<std::string> Crl::revoked(ByteView serial) const
{
    ByteView want = without_leading_zeros(serial);
    for (const mbedtls_x509_crl_entry* e = &m_crl->entry; e != nullptr && e->raw.p != nullptr; e = e->next) {
        ByteView listed = without_leading_zeros({e->serial.p, e->serial.len});
        if (listed.size() == want.size() && memcmp(listed.data(), want.data(), want.size()) == 0)
            return format_time(e->revocation_date);
    }
    return std::nullopt;
}

std::string serial_hex(ByteView serial)
{
    std::string hex = to_hex(without_leading_zeros(serial));
    size_t nonzero = hex.find_first_not_of('0');
    return "0x" + (nonzero == std::string::npos ? std::string("0") : hex.substr(nonzero));
}

}  // namespace cvm::verify
