#include "sim_chain.h"

#include <doctest.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha512.h>

#include "base/file.h"

namespace cvm::test {

Bytes read_testdata(const std::string& name)
{
    auto data = read_file(std::string(CVM_VERIFY_TESTDATA) + "/" + name, 1 << 20);
    REQUIRE_MESSAGE(data.ok(), "cannot read fixture ", name, ": ", std::string(data.error().message()));
    return data.release_value();
}

verify::Certificate testdata_cert(const std::string& name)
{
    auto cert = verify::Certificate::parse(read_testdata(name));
    REQUIRE_MESSAGE(cert.ok(), "fixture ", name, ": ", std::string(cert.error().message()));
    return cert.release_value();
}

snp::AttestationReport sim_report()
{
    snp::AttestationReport r;
    r.version = 2;
    r.policy.raw = 0x30000;
    r.signature_algo = snp::SIGNATURE_ALGO_ECDSA_P384_SHA384;
    r.signing_key = snp::SigningKey::Vcek;
    snp::TcbVersion tcb{0, 3, 0, 8, 115};
    r.reported_tcb = r.current_tcb = r.committed_tcb = r.launch_tcb = tcb.encode(snp::Product::Milan);
    r.chip_id.fill(0x11);
    r.report_data.fill(0xA5);
    r.measurement.fill(0x42);
    return r;
}

Bytes sign_report(snp::AttestationReport report)
{
    auto unsigned_bytes = snp::serialize_report(report);
    uint8_t digest[48];
    mbedtls_sha512(unsigned_bytes.data(), snp::SIGNED_SIZE, digest, 1);

    Bytes key = read_testdata("sim_vek_key.pem");
    key.push_back(0);  // mbedTLS wants PEM NUL-terminated
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_pk_context pk;
    mbedtls_ecp_group grp;
    mbedtls_mpi d, r, s;
    mbedtls_ecp_point q;
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_pk_init(&pk);
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&d);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    REQUIRE(mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, nullptr, 0) == 0);
    REQUIRE(mbedtls_pk_parse_key(&pk, key.data(), key.size(), nullptr, 0, mbedtls_ctr_drbg_random, &drbg) == 0);
    REQUIRE(mbedtls_ecp_export(mbedtls_pk_ec(pk), &grp, &d, &q) == 0);
    REQUIRE(mbedtls_ecdsa_sign(&grp, &r, &s, &d, digest, sizeof digest, mbedtls_ctr_drbg_random, &drbg) == 0);
    REQUIRE(mbedtls_mpi_write_binary(&r, report.signature_r.data(), report.signature_r.size()) == 0);
    REQUIRE(mbedtls_mpi_write_binary(&s, report.signature_s.data(), report.signature_s.size()) == 0);
    mbedtls_mpi_free(&d);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
    mbedtls_pk_free(&pk);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    auto out = snp::serialize_report(report);
    return Bytes(out.begin(), out.end());
}

}  // namespace cvm::test
