#include "sim/psp.h"

#include <mbedtls/ecdsa.h>
#include <mbedtls/md.h>
#include <mbedtls/sha512.h>

#include <mutex>

#include "sim/mbedtls_util.h"
#include "sim/product.h"
#include "snp/cert_table.h"
#include "snp/report.h"

namespace cvm::sim {

// The VCEK private key, exported once from its mbedTLS context, and the DRBG for the ECDSA
// nonces. mbedtls_ecdsa_sign takes the group non-const (it caches precomputed points there), so
// signing is serialized.
struct SimulatedPsp::State {
    State()
    {
        mbedtls_ecp_group_init(&grp);
        mbedtls_mpi_init(&d);
        mbedtls_ecp_point_init(&q);
    }
    ~State()
    {
        mbedtls_ecp_point_free(&q);
        mbedtls_mpi_free(&d);  // zeroises the private scalar
        mbedtls_ecp_group_free(&grp);
    }
    State(const State&) = delete;
    State& operator=(const State&) = delete;

    std::mutex mutex;
    mbedtls_ecp_group grp;
    mbedtls_mpi d;
    mbedtls_ecp_point q;
    std::unique_ptr<Drbg> drbg;
    std::array<uint8_t, 32> report_id{};
};

namespace {

// derive_key's per-chip root: HMAC-SHA384 keyed with the VCEK's private scalar (48 bytes,
// big-endian) over a label, so the chip's keys follow the platform directory and never expose
// the signing key itself.
Result<Secret<48>> chip_secret(const mbedtls_mpi& vcek_scalar)
{
    Secret<48> scalar;
    int rc = mbedtls_mpi_write_binary(&vcek_scalar, scalar.expose().data(), scalar.size());
    if (rc != 0)
        return mbedtls_failure(Errc::Crypto, rc, "cannot export the VCEK private scalar");
    static constexpr std::string_view label = "cvm sim chip secret/1";
    Secret<48> secret;
    rc = mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA384), scalar.expose().data(), scalar.size(),
                         reinterpret_cast<const uint8_t*>(label.data()), label.size(), secret.expose().data());
    if (rc != 0)
        return mbedtls_failure(Errc::Crypto, rc, "HMAC-SHA384 of the chip secret failed");
    return secret;
}

}  // namespace

SimulatedPsp::SimulatedPsp(SimulatedPsp&&) noexcept = default;
SimulatedPsp& SimulatedPsp::operator=(SimulatedPsp&&) noexcept = default;
SimulatedPsp::~SimulatedPsp() = default;

Result<SimulatedPsp> SimulatedPsp::create(const Platform& platform, LaunchState launch)
{
    // SNP_LAUNCH_START refuses a policy with the reserved bit 17 clear or bits 63:26 set.
    if (!(launch.policy & snp::GuestPolicy::RESERVED_MUST_BE_ONE) || (launch.policy & snp::GuestPolicy::MBZ_MASK))
        return Error::make(Errc::Config,
                           "launch policy 0x%llx: bit 17 must be set and bits 63:26 clear (56860 Table 9)",
                           static_cast<unsigned long long>(launch.policy));
    // Re-derives product, TCB and chip id from the certificate and checks the key matches it, so
    // a PSP never signs with a key its certificate does not vouch for.
    Platform checked =
        TRY(assemble_platform(platform.ark_der, platform.ask_der, platform.vcek_der, platform.vcek_key_der.expose()));
    if (checked.product != platform.product || !(checked.tcb == platform.tcb) || checked.chip_id != platform.chip_id)
        return Error::make(Errc::Config, "platform: product, TCB or chip id differ from the VCEK certificate's");

    SimulatedPsp psp;
    psp.m_state = std::make_unique<State>();
    State& s = *psp.m_state;
    s.drbg = TRY(Drbg::create("cvm sim psp"));
    auto key = TRY(parse_p384_private_key(platform.vcek_key_der.expose(), *s.drbg, "VCEK private key"));
    int rc = mbedtls_ecp_export(mbedtls_pk_ec(key->pk), &s.grp, &s.d, &s.q);
    if (rc != 0)
        return mbedtls_failure(Errc::Crypto, rc, "cannot load the VCEK private key");
    // REPORT_ID identifies the guest: fixed at launch, the same in every report of this guest.
    TRY(s.drbg->fill(s.report_id));
    psp.m_chip_secret = TRY(chip_secret(s.d));

    psp.m_product = platform.product;
    psp.m_tcb = platform.tcb;
    psp.m_chip_id = platform.chip_id;
    psp.m_launch = launch;
    psp.m_cert_table = snp::build_cert_table({{snp::GUID_VCEK, snp::CertKind::Vcek, platform.vcek_der},
                                              {snp::GUID_ASK, snp::CertKind::Ask, platform.ask_der},
                                              {snp::GUID_ARK, snp::CertKind::Ark, platform.ark_der}});
    return psp;
}

Result<Bytes> SimulatedPsp::get_report(const std::array<uint8_t, 64>& report_data, uint32_t vmpl) const
{
    if (vmpl > MAX_VMPL)
        return Error::make(Errc::Config, "VMPL %u: a guest runs at VMPL 0 to %u", vmpl, MAX_VMPL);
    const ProductTraits& t = traits(m_product);
    const uint64_t tcb = m_tcb.encode(m_product);
    snp::AttestationReport r;
    r.version = t.report_version;
    r.guest_svn = m_launch.guest_svn;
    r.policy.raw = m_launch.policy;
    r.family_id = m_launch.family_id;
    r.image_id = m_launch.image_id;
    r.vmpl = vmpl;
    r.signature_algo = snp::SIGNATURE_ALGO_ECDSA_P384_SHA384;
    r.current_tcb = r.committed_tcb = r.launch_tcb = r.reported_tcb = tcb;
    r.platform_info.raw = m_launch.platform_info;
    r.author_key_en = !all_zero(m_launch.author_key_digest);
    r.signing_key = snp::SigningKey::Vcek;
    r.report_data = report_data;
    r.measurement = m_launch.measurement;
    r.host_data = m_launch.host_data;
    r.id_key_digest = m_launch.id_key_digest;
    r.author_key_digest = m_launch.author_key_digest;
    r.report_id_ma.fill(0xFF);  // no migration agent
    r.cpuid_fam_id = t.cpuid_fam;
    r.cpuid_mod_id = t.cpuid_mod;
    r.cpuid_step = t.cpuid_step;
    r.chip_id = m_chip_id;
    r.current_major = r.committed_major = t.fw_major;
    r.current_minor = r.committed_minor = t.fw_minor;
    r.current_build = r.committed_build = t.fw_build;

    State& s = *m_state;
    std::lock_guard lock(s.mutex);
    r.report_id = s.report_id;
    auto unsigned_bytes = snp::serialize_report(r);
    uint8_t digest[48];
    mbedtls_sha512(unsigned_bytes.data(), snp::SIGNED_SIZE, digest, /*is384=*/1);
    mbedtls_mpi sig_r, sig_s;
    mbedtls_mpi_init(&sig_r);
    mbedtls_mpi_init(&sig_s);
    int rc = mbedtls_ecdsa_sign(&s.grp, &sig_r, &sig_s, &s.d, digest, sizeof digest, Drbg::random, s.drbg->context());
    // 56860 "ECDSA Signature Format": R and S big-endian here, serialize_report stores them
    // little-endian, zero-extended to 72 bytes, exactly as verify_report_signature reads them.
    if (rc == 0)
        rc = mbedtls_mpi_write_binary(&sig_r, r.signature_r.data(), r.signature_r.size());
    if (rc == 0)
        rc = mbedtls_mpi_write_binary(&sig_s, r.signature_s.data(), r.signature_s.size());
    mbedtls_mpi_free(&sig_r);
    mbedtls_mpi_free(&sig_s);
    if (rc != 0)
        return mbedtls_failure(Errc::Crypto, rc, "ECDSA P-384 signing failed");
    auto report = snp::serialize_report(r);
    return Bytes(report.begin(), report.end());
}

}  // namespace cvm::sim
