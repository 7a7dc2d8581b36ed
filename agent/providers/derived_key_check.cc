#include "providers/derived_key_check.h"

#include <string_view>

#include "base/bytes.h"
#include "crypto/digest.h"
#include "providers/sev_guest_abi.h"

namespace cvm::agent {

namespace {

using namespace sev_guest;

const char* status_name(uint32_t status)
{
    switch (status) {
    case SEV_RET_INVALID_PARAM: return "INVALID_PARAM: a field the firmware refuses";
    case SEV_RET_INVALID_KEY: return "INVALID_KEY: the root key is not available";
    default: return "a firmware error";
    }
}

}  // namespace

Result<void> check_key_request(const DerivedKeyRequest& request)
{
    if (request.root != RootKey::Vcek && request.root != RootKey::Vlek)
        return Error::make(Errc::Config, "derived key: root key %u is neither VCEK nor VLEK",
                           static_cast<unsigned>(request.root));
    if ((request.field_select & ~FIELD_ALL) != 0)
        return Error::make(Errc::Config, "derived key: GUEST_FIELD_SELECT 0x%llx has bits outside 0x%llx",
                           static_cast<unsigned long long>(request.field_select),
                           static_cast<unsigned long long>(FIELD_ALL));
    if (request.vmpl > 3)
        return Error::make(Errc::Config, "derived key: VMPL %u, expected 0 to 3", request.vmpl);
    return {};
}

std::array<uint8_t, KEY_REQUEST_SIZE> key_request_bytes(const DerivedKeyRequest& request)
{
    const uint32_t key_sel = request.root == RootKey::Vlek ? KEY_SEL_VLEK : KEY_SEL_VCEK;
    std::array<uint8_t, KEY_REQUEST_SIZE> out{};
    put_le32(out.data() + offsetof(DerivedKeyReq, root_key_select), key_sel << KEY_SEL_SHIFT);
    put_le64(out.data() + offsetof(DerivedKeyReq, guest_field_select), request.field_select);
    put_le32(out.data() + offsetof(DerivedKeyReq, vmpl), request.vmpl);
    put_le32(out.data() + offsetof(DerivedKeyReq, guest_svn), request.guest_svn);
    put_le64(out.data() + offsetof(DerivedKeyReq, tcb_version), request.tcb_version);
    return out;
}

ReportData key_request_report_data(const DerivedKeyRequest& request)
{
    static constexpr std::string_view tag = "cvminit derived-key/1";
    crypto::Sha512 digest;
    digest.update({reinterpret_cast<const uint8_t*>(tag.data()), tag.size()});
    const uint8_t separator = 0;
    digest.update({&separator, 1});
    auto bytes = key_request_bytes(request);
    digest.update(bytes);
    return digest.finish();
}

Result<void> check_key_request_against(const DerivedKeyRequest& request, const snp::AttestationReport& report)
{
    TRY(check_key_request(request));
    if (request.vmpl < report.vmpl)
        return Error::make(Errc::Config, "derived key: VMPL %u is below this guest's VMPL %u (allowed %u to 3)",
                           request.vmpl, report.vmpl, report.vmpl);
    if (request.guest_svn > report.guest_svn)
        return Error::make(Errc::Config, "derived key: GUEST_SVN %u is above the launch's GUEST_SVN %u",
                           request.guest_svn, report.guest_svn);
    // Component by component, as the firmware judges TCBs (a lower microcode byte does not make
    // a higher SNP byte acceptable), in the layout of the report's product (a version 2 report,
    // without CPUID fields, is Milan's or Genoa's: Turin's are version 3 and later), and no bit
    // outside that layout.
    snp::Product product = report.cpuid_product().value_or(snp::Product::Genoa);
    snp::TcbVersion asked = snp::TcbVersion::decode(request.tcb_version, product);
    snp::TcbVersion committed = snp::TcbVersion::decode(report.committed_tcb, product);
    if (asked.encode(product) != request.tcb_version || !committed.at_least(asked))
        return Error::make(Errc::Config,
                           "derived key: TCB_VERSION 0x%016llx (%s) is above COMMITTED_TCB 0x%016llx (%s)",
                           static_cast<unsigned long long>(request.tcb_version), asked.to_string(product).c_str(),
                           static_cast<unsigned long long>(report.committed_tcb), committed.to_string(product).c_str());
    if (request.root == RootKey::Vlek && report.signing_key != snp::SigningKey::Vlek)
        return Error::make(Errc::Unsupported,
                           "derived key: measurement-only sealing needs a VLEK: this platform has none installed "
                           "(reports are signed by %s)",
                           std::string(snp::signing_key_name(report.signing_key)).c_str());
    return {};
}

Result<void> check_key_status(uint32_t status, const char* source)
{
    if (status == 0)
        return {};
    return Error::make(Errc::Policy,
                       "%s: MSG_KEY_RSP STATUS 0x%x (%s): the firmware refused the request (the VMPCK is intact)",
                       source, status, status_name(status));
}

Result<void> check_key_not_zero(std::span<const uint8_t, DERIVED_KEY_SIZE> key, const char* source)
{
    if (all_zero(key))
        return Error::make(Errc::Crypto, "%s: MSG_KEY_RSP DERIVED_KEY is all zero, refusing it as a key", source);
    return {};
}

}  // namespace cvm::agent
