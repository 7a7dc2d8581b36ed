// assemble_platform (chain.h): a Platform from certificates and a key that arrived from outside
// (a platform directory, fw_cfg blobs), checked before anything is built on them.
#include <mbedtls/x509_crt.h>

#include "base/der.h"
#include "sim/chain.h"
#include "sim/mbedtls_util.h"
#include "sim/product.h"
#include "snp/amd_extensions.h"

namespace cvm::sim {

namespace {

// An owned mbedtls_x509_crt.
struct Crt {
    Crt() { mbedtls_x509_crt_init(&crt); }
    ~Crt() { mbedtls_x509_crt_free(&crt); }
    Crt(const Crt&) = delete;
    Crt& operator=(const Crt&) = delete;
    mbedtls_x509_crt crt;
};

Result<std::unique_ptr<Crt>> parse(ByteView der, const char* what)
{
    auto c = std::make_unique<Crt>();
    int rc = mbedtls_x509_crt_parse_der(&c->crt, der.data(), der.size());
    if (rc != 0) {
        Error e = mbedtls_failure(Errc::Format, rc, "not an X.509 certificate");
        return e.prefix("%s", what);
    }
    if (c->crt.raw.len != der.size())
        return Error::make(Errc::Format, "%s: %zu bytes after the certificate", what, der.size() - c->crt.raw.len);
    return c;
}

Result<snp::AmdExtensions> amd_extensions(const mbedtls_x509_crt& crt)
{
    // v3_ext is the Extensions SEQUENCE element; parse_amd_extensions takes its content.
    Reader r(ByteView(crt.v3_ext.p, crt.v3_ext.len), "VCEK extensions");
    ByteView content = TRY(der::read(r, der::SEQUENCE, "Extensions"));
    TRY(r.finish());
    return snp::parse_amd_extensions(content);
}

}  // namespace

Result<Platform> assemble_platform(Bytes ark_der, Bytes ask_der, Bytes vcek_der, ByteView vcek_key)
{
    TRY(parse(ark_der, "ARK certificate"));
    TRY(parse(ask_der, "ASK certificate"));
    auto vcek = TRY(parse(vcek_der, "VCEK certificate"));
    snp::AmdExtensions ext = TRY_PREFIX(amd_extensions(vcek->crt), "VCEK certificate");

    Platform p;
    auto product = ext.product_name ? snp::product_from_name(*ext.product_name) : std::nullopt;
    if (!product)
        return Error::make(Errc::Format, "VCEK certificate: productName %s is not Milan, Genoa or Turin",
                           ext.product_name ? ext.product_name->c_str() : "missing");
    p.product = *product;
    const ProductTraits& t = traits(p.product);
    if (ext.struct_version != t.struct_version)
        return Error::make(Errc::Format, "VCEK certificate: structVersion is not %u, the %s TCB layout",
                           t.struct_version, std::string(snp::product_name(p.product)).c_str());
    p.tcb = TRY_PREFIX(ext.tcb(p.product), "VCEK certificate");
    if (!ext.hwid || ext.hwid->size() != t.hwid_size)
        return Error::make(Errc::Format, "VCEK certificate: hwID is not %zu bytes", t.hwid_size);
    std::copy(ext.hwid->begin(), ext.hwid->end(), p.chip_id.begin());

    auto drbg = TRY(Drbg::create("cvm sim key check"));
    auto key = TRY(parse_p384_private_key(vcek_key, *drbg, "VCEK private key"));
    // The key must be the one the certificate certifies, or every report would fail to verify.
    int rc = mbedtls_pk_check_pair(&vcek->crt.pk, &key->pk, Drbg::random, drbg->context());
    if (rc != 0)
        return Error::make(Errc::Format, "VCEK private key does not match the VCEK certificate's public key");
    p.vcek_key_der = TRY(private_key_der(*key));
    p.ark_der = std::move(ark_der);
    p.ask_der = std::move(ask_der);
    p.vcek_der = std::move(vcek_der);
    return p;
}

}  // namespace cvm::sim
