#include "verify/certificate.h"

#include <mbedtls/base64.h>
#include <mbedtls/oid.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

#include <cstdio>
#include <cstring>

#include "base/der.h"
#include "crypto/mbedtls_util.h"

namespace cvm::verify {

void Certificate::Free::operator()(mbedtls_x509_crt* crt) const
{
    mbedtls_x509_crt_free(crt);
    delete crt;
}

Certificate::Certificate(Certificate&&) noexcept = default;
Certificate& Certificate::operator=(Certificate&&) noexcept = default;
Certificate::~Certificate() = default;

Fingerprint sha256(ByteView data)
{
    Fingerprint out{};
    mbedtls_sha256(data.data(), data.size(), out.data(), 0);
    return out;
}

namespace {

// mbedTLS keeps `v3_ext` pointing at the Extensions SEQUENCE element (the content of the [3]
// EXPLICIT wrapper, see mbedtls_x509_get_ext); parse_amd_extensions wants the SEQUENCE content.
Result<ByteView> extensions_content(const mbedtls_x509_crt& crt)
{
    if (crt.v3_ext.p == nullptr || crt.v3_ext.len == 0)
        return ByteView{};
    Reader r(ByteView(crt.v3_ext.p, crt.v3_ext.len), "certificate extensions");
    ByteView content = TRY(der::read(r, der::SEQUENCE, "Extensions"));
    TRY(r.finish());
    return content;
}

std::string common_name(const mbedtls_x509_name* name)
{
    std::string cn;
    int count = 0;
    for (const mbedtls_x509_name* n = name; n != nullptr; n = n->next) {
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0) {
            cn.assign(reinterpret_cast<const char*>(n->val.p), n->val.len);
            ++count;
        }
    }
    return count == 1 ? cn : std::string();  // two CNs are as good as none for a name check
}

std::string format_time(const mbedtls_x509_time& t)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", t.year, t.mon, t.day, t.hour, t.min, t.sec);
    return buf;
}

}  // namespace

Result<Certificate> Certificate::parse_der(ByteView der)
{
    if (der.empty() || der.size() > CERT_MAX_DER_SIZE)
        return Error::make(Errc::Format, "certificate is %zu bytes, expected 1 to %zu", der.size(), CERT_MAX_DER_SIZE);
    Certificate cert;
    cert.m_crt.reset(new mbedtls_x509_crt);
    mbedtls_x509_crt_init(cert.m_crt.get());
    int rc = mbedtls_x509_crt_parse_der(cert.m_crt.get(), der.data(), der.size());
    if (rc != 0)
        return crypto::mbedtls_failure(Errc::Format, rc, "cannot parse X.509 certificate");
    // mbedTLS stops at the end of the outer SEQUENCE and ignores what follows; we do not.
    if (cert.m_crt->raw.len != der.size())
        return Error::make(Errc::Format, "certificate: %zu trailing bytes after the %zu-byte DER certificate",
                           der.size() - cert.m_crt->raw.len, cert.m_crt->raw.len);
    cert.m_extensions = TRY(extensions_content(*cert.m_crt));
    cert.m_fingerprint = sha256(cert.der());
    return cert;
}

ByteView Certificate::der() const
{
    return {m_crt->raw.p, m_crt->raw.len};
}

std::string Certificate::fingerprint_hex() const
{
    return to_hex(m_fingerprint);
}

std::string Certificate::subject_cn() const
{
    return common_name(&m_crt->subject);
}

std::string Certificate::issuer_cn() const
{
    return common_name(&m_crt->issuer);
}

ByteView Certificate::subject_raw() const
{
    return {m_crt->subject_raw.p, m_crt->subject_raw.len};
}

ByteView Certificate::issuer_raw() const
{
    return {m_crt->issuer_raw.p, m_crt->issuer_raw.len};
}

bool Certificate::self_issued() const
{
    ByteView s = subject_raw(), i = issuer_raw();
    return s.size() == i.size() && memcmp(s.data(), i.data(), s.size()) == 0;
}

int Certificate::x509_version() const
{
    return m_crt->version;
}

bool Certificate::is_ca() const
{
    return mbedtls_x509_crt_get_ca_istrue(m_crt.get()) == 1;
}

bool Certificate::may_sign_certificates() const
{
    return mbedtls_x509_crt_check_key_usage(m_crt.get(), MBEDTLS_X509_KU_KEY_CERT_SIGN) == 0;
}

bool Certificate::valid_at(std::time_t now) const
{
    mbedtls_x509_time t{};
    if (mbedtls_x509_time_gmtime(static_cast<mbedtls_time_t>(now), &t) != 0)
        return false;
    return mbedtls_x509_time_cmp(&m_crt->valid_from, &t) <= 0 && mbedtls_x509_time_cmp(&t, &m_crt->valid_to) <= 0;
}

std::string Certificate::not_before() const
{
    return format_time(m_crt->valid_from);
}

std::string Certificate::not_after() const
{
    return format_time(m_crt->valid_to);
}

}  // namespace cvm::verify
