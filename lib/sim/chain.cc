#include "sim/chain.h"

#include <mbedtls/ecp.h>
#include <mbedtls/rsa.h>

#include <algorithm>
#include <cstring>

#include "base/asn1.h"
#include "sim/mbedtls_util.h"
#include "sim/product.h"
#include "sim/x509_builder.h"

namespace cvm::sim {

namespace {

constexpr std::string_view OU = "SIMULATED";
constexpr std::string_view O = "cvminit simulated platform - NOT AMD";
constexpr uint64_t ARK_SERIAL = SIM_ARK_SERIAL, ASK_SERIAL = SIM_ASK_SERIAL, VCEK_SERIAL = SIM_VCEK_SERIAL;
constexpr int VALIDITY_YEARS = 25;
constexpr std::time_t CLOCK_SLACK = 24 * 60 * 60;
constexpr unsigned RSA_BITS = 4096;
constexpr int RSA_EXPONENT = 65537;

// The AMD arc 1.3.6.1.4.1.3704.1 (KDS spec 57230 Table 8).
Bytes amd_oid(uint32_t a)
{
    return asn1::oid({1, 3, 6, 1, 4, 1, 3704, 1, a});
}

Bytes amd_oid(uint32_t a, uint32_t b)
{
    return asn1::oid({1, 3, 6, 1, 4, 1, 3704, 1, a, b});
}

Bytes spl(uint32_t index, uint8_t value)
{
    return extension(amd_oid(3, index), Critical::No, asn1::integer(value));
}

// In AMD's order: the Milan/Genoa VCEKs list spl4..7 before snpSPL; Turin's lead with fmcSPL.
Bytes vcek_extensions(snp::Product product, const snp::TcbVersion& tcb, const ChipId& chip)
{
    const ProductTraits& t = traits(product);
    Bytes out = asn1::concat({extension(amd_oid(1), Critical::No, asn1::integer(t.struct_version)),
                              extension(amd_oid(2), Critical::No, asn1::ia5_string(t.product_name))});
    if (product == snp::Product::Turin) {
        out = asn1::concat({out, spl(9, tcb.fmc), spl(1, tcb.boot_loader), spl(2, tcb.tee), spl(3, tcb.snp), spl(5, 0),
                            spl(6, 0), spl(7, 0), spl(8, tcb.microcode)});
    } else {
        out = asn1::concat({out, spl(1, tcb.boot_loader), spl(2, tcb.tee), spl(4, 0), spl(5, 0), spl(6, 0), spl(7, 0),
                            spl(3, tcb.snp), spl(8, tcb.microcode)});
    }
    // hwID is the raw CHIP_ID bytes, without a DER tag, as AMD encodes it.
    return asn1::concat({out, extension(amd_oid(4), Critical::No, ByteView(chip).first(t.hwid_size))});
}

// basicConstraints (RFC 5280 §4.2.1.9), keyUsage (§4.2.1.3) and the key identifiers (§4.2.1.1-2).
Result<Bytes> ca_extensions(ByteView spki, const Bytes* issuer_spki)
{
    Bytes id = TRY(key_identifier(spki));
    Bytes ski = extension(asn1::oid({2, 5, 29, 14}), Critical::No, asn1::octet_string(id));
    if (!issuer_spki) {
        const uint8_t cert_and_crl_sign = 0x06;  // bits 5 and 6; the last unused bit trimmed
        return asn1::concat(
            {extension(asn1::oid({2, 5, 29, 19}), Critical::Yes, asn1::sequence({asn1::boolean(true)})),
             extension(asn1::oid({2, 5, 29, 15}), Critical::Yes, asn1::bit_string(ByteView(&cert_and_crl_sign, 1), 1)),
             ski});
    }
    const uint8_t cert_sign = 0x04;  // bit 5 alone; two unused bits
    Bytes aki_id = TRY(key_identifier(*issuer_spki));
    return asn1::concat(
        {extension(asn1::oid({2, 5, 29, 19}), Critical::Yes, asn1::sequence({asn1::boolean(true), asn1::integer(0)})),
         extension(asn1::oid({2, 5, 29, 15}), Critical::Yes, asn1::bit_string(ByteView(&cert_sign, 1), 2)), ski,
         extension(asn1::oid({2, 5, 29, 35}), Critical::No, asn1::sequence({asn1::element(0x80, aki_id)}))});
}

Result<std::time_t> plus_years(std::time_t t, int years)
{
    struct tm tm {};
    if (!gmtime_r(&t, &tm))
        return Error::make(Errc::Config, "not_before %lld is not a valid time", static_cast<long long>(t));
    tm.tm_year += years;
    if (tm.tm_mon == 1 && tm.tm_mday == 29)
        tm.tm_mday = 28;  // 29 February need not exist 25 years on
    return timegm(&tm);
}

Result<std::unique_ptr<PkKey>> rsa_key(Drbg& drbg)
{
    auto key = std::make_unique<PkKey>();
    int rc = mbedtls_pk_setup(&key->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
    if (rc == 0)
        rc = mbedtls_rsa_gen_key(mbedtls_pk_rsa(key->pk), Drbg::random, drbg.context(), RSA_BITS, RSA_EXPONENT);
    if (rc != 0)
        return mbedtls_failure(Errc::Crypto, rc, "cannot generate an RSA-4096 key");
    return key;
}

Result<std::unique_ptr<PkKey>> p384_key(Drbg& drbg)
{
    auto key = std::make_unique<PkKey>();
    int rc = mbedtls_pk_setup(&key->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (rc == 0)
        rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP384R1, mbedtls_pk_ec(key->pk), Drbg::random, drbg.context());
    if (rc != 0)
        return mbedtls_failure(Errc::Crypto, rc, "cannot generate a P-384 key");
    return key;
}

Result<ChipId> chip_id(const PlatformOptions& o, Drbg& drbg)
{
    const size_t n = traits(o.product).hwid_size;
    if (o.chip_id) {
        if (all_zero(*o.chip_id))
            return Error::make(Errc::Config, "chip id is all zero: that is a masked CHIP_ID, not a chip");
        if (!all_zero(ByteView(*o.chip_id).subspan(n)))
            return Error::make(Errc::Config, "chip id: a Turin CHIP_ID is 8 bytes; bytes 8..63 must be zero");
        return *o.chip_id;
    }
    ChipId id{};
    memcpy(id.data(), CHIP_ID_MARKER.data(), CHIP_ID_MARKER.size());
    TRY(drbg.fill(std::span(id).subspan(CHIP_ID_MARKER.size(), n - CHIP_ID_MARKER.size())));
    return id;
}

std::string cn(const char* role, snp::Product product)
{
    return std::string("SIMULATED-") + role + "-" + std::string(snp::product_name(product)) + " (cvm sim, not AMD)";
}

}  // namespace

snp::TcbVersion default_tcb(snp::Product product)
{
    return traits(product).default_tcb;
}

Result<Platform> create_platform(const PlatformOptions& o)
{
    Platform p;
    p.product = o.product;
    p.tcb = o.tcb.value_or(default_tcb(o.product));
    if (p.product != snp::Product::Turin && p.tcb.fmc != 0)
        return Error::make(Errc::Config, "TCB fmc is %u: only Turin has an FMC component", p.tcb.fmc);
    auto drbg = TRY(Drbg::create("cvm sim platform"));
    p.chip_id = TRY(chip_id(o, *drbg));
    std::time_t not_before = o.not_before.value_or(time(nullptr) - CLOCK_SLACK);
    std::time_t not_after = TRY(plus_years(not_before, VALIDITY_YEARS));

    auto ark_key = TRY(rsa_key(*drbg));
    auto ask_key = TRY(rsa_key(*drbg));
    auto vcek_key = TRY(p384_key(*drbg));
    Bytes ark_spki = TRY(public_key_info(*ark_key));
    Bytes ask_spki = TRY(public_key_info(*ask_key));
    Bytes ark_name = distinguished_name(OU, O, cn("ARK", p.product));
    Bytes ask_name = distinguished_name(OU, O, cn("ASK", p.product));
    // Every TRY before the aggregates: one leaving a braced initializer would skip the
    // destructors of the members already made.
    Bytes ark_extensions = TRY(ca_extensions(ark_spki, nullptr));
    Bytes ask_extensions = TRY(ca_extensions(ask_spki, &ark_spki));
    Bytes vcek_spki = TRY(public_key_info(*vcek_key));

    CertificateSpec ark{.serial = ARK_SERIAL,
                        .issuer = ark_name,
                        .subject = ark_name,
                        .not_before = not_before,
                        .not_after = not_after,
                        .subject_public_key_info = ark_spki,
                        .extensions = std::move(ark_extensions),
                        .trailer = TrailerField::Explicit};
    p.ark_der = TRY(sign_certificate(ark, *ark_key, *drbg));
    CertificateSpec ask{.serial = ASK_SERIAL,
                        .issuer = ark_name,
                        .subject = ask_name,
                        .not_before = not_before,
                        .not_after = not_after,
                        .subject_public_key_info = ask_spki,
                        .extensions = std::move(ask_extensions),
                        .trailer = TrailerField::Explicit};
    p.ask_der = TRY(sign_certificate(ask, *ark_key, *drbg));
    CertificateSpec vcek{.serial = VCEK_SERIAL,
                         .issuer = ask_name,
                         .subject = distinguished_name(OU, O, "SEV-VCEK"),
                         .not_before = not_before,
                         .not_after = not_after,
                         .subject_public_key_info = std::move(vcek_spki),
                         .extensions = vcek_extensions(p.product, p.tcb, p.chip_id),
                         .trailer = TrailerField::Omitted};
    p.vcek_der = TRY(sign_certificate(vcek, *ask_key, *drbg));
    p.vcek_key_der = TRY(private_key_der(*vcek_key));
    p.ark_key_der = TRY(private_key_der(*ark_key));
    return p;
}

}  // namespace cvm::sim
