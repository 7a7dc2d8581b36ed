#include "snp/report.h"

#include <algorithm>
#include <cstring>

#include "base/reader.h"

namespace cvm::snp {

std::string_view signing_key_name(SigningKey key)
{
    switch (key) {
    case SigningKey::Vcek: return "VCEK";
    case SigningKey::Vlek: return "VLEK";
    case SigningKey::None: return "NONE";
    }
    return "?";
}

namespace {

// R and S are 72-byte little-endian fields of which P-384 uses the low 48 bytes.
Result<std::array<uint8_t, 48>> read_signature_component(Reader& r, const char* field, const char* pad_field)
{
    auto le = TRY(r.array<48>(field));
    TRY(r.zeros(SIGNATURE_COMPONENT_SIZE - 48, pad_field));
    std::reverse(le.begin(), le.end());
    return le;
}

Result<void> parse_signer_info(uint32_t info, AttestationReport& out)
{
    if (info >> 5 != 0)
        return Error::make(Errc::Format, "ATTESTATION_REPORT: signer info bits 31:5 must be zero, found 0x%08x", info);
    out.author_key_en = info & 1;
    out.mask_chip_key = info >> 1 & 1;
    uint32_t key = info >> 2 & 7;
    if (key != 0 && key != 1 && key != 7)
        return Error::make(
            Errc::Format, "ATTESTATION_REPORT: SIGNING_KEY is %u, a reserved value (expected 0 VCEK, 1 VLEK or 7 NONE)",
            key);
    out.signing_key = static_cast<SigningKey>(key);
    return {};
}

Result<void> check_policy(uint64_t policy)
{
    if (!(policy & GuestPolicy::RESERVED_MUST_BE_ONE))
        return Error::make(Errc::Format, "ATTESTATION_REPORT: POLICY bit 17 (reserved, must be one) is zero in 0x%llx",
                           static_cast<unsigned long long>(policy));
    if (policy & GuestPolicy::MBZ_MASK)
        return Error::make(Errc::Format, "ATTESTATION_REPORT: POLICY bits 63:26 must be zero, found 0x%llx",
                           static_cast<unsigned long long>(policy));
    return {};
}

}  // namespace

Result<AttestationReport> parse_report(ByteView raw)
{
    if (raw.size() != REPORT_SIZE)
        return Error::make(Errc::Format, "ATTESTATION_REPORT is %zu bytes, expected %zu", raw.size(), REPORT_SIZE);

    Reader r(raw, "ATTESTATION_REPORT");
    AttestationReport out;
    out.version = TRY(r.u32le("VERSION"));
    // Version 4 has the version-3 layout (report.h); the `>= 3` / `>= 5` branches below give it.
    if (out.version < 2 || out.version > 5)
        return Error::make(Errc::Unsupported, "ATTESTATION_REPORT: VERSION is %u, expected 2, 3, 4 or 5", out.version);
    out.guest_svn = TRY(r.u32le("GUEST_SVN"));
    out.policy.raw = TRY(r.u64le("POLICY"));
    TRY(check_policy(out.policy.raw));
    out.family_id = TRY(r.array<16>("FAMILY_ID"));
    out.image_id = TRY(r.array<16>("IMAGE_ID"));
    out.vmpl = TRY(r.u32le("VMPL"));
    out.signature_algo = TRY(r.u32le("SIGNATURE_ALGO"));
    if (out.signature_algo != SIGNATURE_ALGO_ECDSA_P384_SHA384)
        return Error::make(Errc::Unsupported,
                           "ATTESTATION_REPORT: SIGNATURE_ALGO is %u, expected 1 (ECDSA P-384 SHA-384)",
                           out.signature_algo);
    out.current_tcb = TRY(r.u64le("CURRENT_TCB"));
    out.platform_info.raw = TRY(r.u64le("PLATFORM_INFO"));
    TRY(parse_signer_info(TRY(r.u32le("signer info")), out));
    TRY(r.zeros(4, "reserved 0x04C"));
    out.report_data = TRY(r.array<64>("REPORT_DATA"));
    out.measurement = TRY(r.array<48>("MEASUREMENT"));
    out.host_data = TRY(r.array<32>("HOST_DATA"));
    out.id_key_digest = TRY(r.array<48>("ID_KEY_DIGEST"));
    out.author_key_digest = TRY(r.array<48>("AUTHOR_KEY_DIGEST"));
    out.report_id = TRY(r.array<32>("REPORT_ID"));
    out.report_id_ma = TRY(r.array<32>("REPORT_ID_MA"));
    out.reported_tcb = TRY(r.u64le("REPORTED_TCB"));
    if (out.version >= 3) {
        out.cpuid_fam_id = TRY(r.u8("CPUID_FAM_ID"));
        out.cpuid_mod_id = TRY(r.u8("CPUID_MOD_ID"));
        out.cpuid_step = TRY(r.u8("CPUID_STEP"));
        TRY(r.zeros(21, "reserved 0x18B"));
    } else {
        TRY(r.zeros(24, "reserved 0x188 (CPUID fields are reserved in version 2)"));
    }
    out.chip_id = TRY(r.array<64>("CHIP_ID"));
    out.committed_tcb = TRY(r.u64le("COMMITTED_TCB"));
    out.current_build = TRY(r.u8("CURRENT_BUILD"));
    out.current_minor = TRY(r.u8("CURRENT_MINOR"));
    out.current_major = TRY(r.u8("CURRENT_MAJOR"));
    TRY(r.zeros(1, "reserved 0x1EB"));
    out.committed_build = TRY(r.u8("COMMITTED_BUILD"));
    out.committed_minor = TRY(r.u8("COMMITTED_MINOR"));
    out.committed_major = TRY(r.u8("COMMITTED_MAJOR"));
    TRY(r.zeros(1, "reserved 0x1EF"));
    out.launch_tcb = TRY(r.u64le("LAUNCH_TCB"));
    if (out.version >= 5) {
        out.launch_mit_vector = TRY(r.u64le("LAUNCH_MIT_VECTOR"));
        out.current_mit_vector = TRY(r.u64le("CURRENT_MIT_VECTOR"));
    } else {
        TRY(r.zeros(16, "reserved 0x1F8 (mitigation vectors are reserved before version 5)"));
    }
    TRY(r.zeros(0x98, "reserved 0x208"));
    out.signature_r = TRY(read_signature_component(r, "SIGNATURE.R", "SIGNATURE.R high bytes"));
    out.signature_s = TRY(read_signature_component(r, "SIGNATURE.S", "SIGNATURE.S high bytes"));
    TRY(r.zeros(REPORT_SIZE - r.offset(), "reserved SIGNATURE tail 0x330"));
    TRY(r.finish());
    return out;
}

std::array<uint8_t, REPORT_SIZE> serialize_report(const AttestationReport& in)
{
    std::array<uint8_t, REPORT_SIZE> out{};
    uint8_t* p = out.data();
    auto copy = [&](size_t offset, const auto& field) { memcpy(p + offset, field.data(), field.size()); };
    put_le32(p + 0x000, in.version);
    put_le32(p + 0x004, in.guest_svn);
    put_le64(p + 0x008, in.policy.raw);
    copy(0x010, in.family_id);
    copy(0x020, in.image_id);
    put_le32(p + 0x030, in.vmpl);
    put_le32(p + 0x034, in.signature_algo);
    put_le64(p + 0x038, in.current_tcb);
    put_le64(p + 0x040, in.platform_info.raw);
    put_le32(p + 0x048, uint32_t(in.author_key_en) | uint32_t(in.mask_chip_key) << 1 |
                            uint32_t(static_cast<uint8_t>(in.signing_key)) << 2);
    copy(0x050, in.report_data);
    copy(0x090, in.measurement);
    copy(0x0C0, in.host_data);
    copy(0x0E0, in.id_key_digest);
    copy(0x110, in.author_key_digest);
    copy(0x140, in.report_id);
    copy(0x160, in.report_id_ma);
    put_le64(p + 0x180, in.reported_tcb);
    if (in.version >= 3) {
        p[0x188] = in.cpuid_fam_id;
        p[0x189] = in.cpuid_mod_id;
        p[0x18A] = in.cpuid_step;
    }
    copy(0x1A0, in.chip_id);
    put_le64(p + 0x1E0, in.committed_tcb);
    p[0x1E8] = in.current_build;
    p[0x1E9] = in.current_minor;
    p[0x1EA] = in.current_major;
    p[0x1EC] = in.committed_build;
    p[0x1ED] = in.committed_minor;
    p[0x1EE] = in.committed_major;
    put_le64(p + 0x1F0, in.launch_tcb);
    if (in.version >= 5) {
        put_le64(p + 0x1F8, in.launch_mit_vector);
        put_le64(p + 0x200, in.current_mit_vector);
    }
    std::reverse_copy(in.signature_r.begin(), in.signature_r.end(), p + SIGNATURE_OFFSET);
    std::reverse_copy(in.signature_s.begin(), in.signature_s.end(), p + SIGNATURE_OFFSET + SIGNATURE_COMPONENT_SIZE);
    return out;
}

}  // namespace cvm::snp
