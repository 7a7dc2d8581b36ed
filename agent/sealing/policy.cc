// The three sealing policies as derived-key requests, and the hybrid volume passphrase.
#include "sealing/policy.h"

#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>

namespace cvm::agent::sealing {
namespace {

constexpr uint64_t MEASUREMENT_FIELDS = FIELD_GUEST_POLICY | FIELD_MEASUREMENT | FIELD_TCB_VERSION;

struct PolicyRow {
    Policy policy;
    std::string_view name;
    RootKey root;
    uint64_t field_select;
};

constexpr PolicyRow POLICIES[] = {
    {Policy::MeasurementAndChip, "measurement-and-chip", RootKey::Vcek, MEASUREMENT_FIELDS},
    // VLEK: the cloud provider's key, the same on every chip it is loaded into.
    {Policy::MeasurementOnly, "measurement-only", RootKey::Vlek, MEASUREMENT_FIELDS},
    {Policy::ChipOnly, "chip-only", RootKey::Vcek, FIELD_TCB_VERSION},
};

const PolicyRow& row_of(Policy policy)
{
    for (const PolicyRow& row : POLICIES)
        if (row.policy == policy)
            return row;
    return POLICIES[0];  // unreachable for a valid enum value
}

}  // namespace

std::optional<Policy> parse_policy(std::string_view name)
{
    for (const PolicyRow& row : POLICIES)
        if (row.name == name)
            return row.policy;
    return std::nullopt;
}

std::string_view policy_name(Policy policy)
{
    return row_of(policy).name;
}

DerivedKeyRequest request_for(Policy policy, uint64_t tcb_version)
{
    const PolicyRow& row = row_of(policy);
    DerivedKeyRequest request;
    request.root = row.root;
    request.field_select = row.field_select;
    request.vmpl = 0;
    request.guest_svn = 0;
    request.tcb_version = tcb_version;
    return request;
}

std::optional<Policy> policy_of(RootKey root, uint64_t field_select)
{
    for (const PolicyRow& row : POLICIES)
        if (row.root == root && row.field_select == field_select)
            return row.policy;
    return std::nullopt;
}

Result<void> hkdf_sha256(ByteView ikm, ByteView info, std::span<uint8_t> out)
{
    // An empty salt: RFC 5869 §2.2 "if not provided, it is set to a string of HashLen zeros",
    // which mbedtls_hkdf_extract does for salt_len 0.
    int rc = mbedtls_hkdf(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), nullptr, 0, ikm.data(), ikm.size(), info.data(),
                          info.size(), out.data(), out.size());
    if (rc != 0)
        return Error::make(Errc::Crypto, "HKDF-SHA256 of %zu bytes: mbedTLS error -0x%04x", out.size(),
                           static_cast<unsigned>(-rc));
    return {};
}

Result<SecretBytes> hybrid_passphrase(ByteView broker_key, const DerivedKey& derived, std::string_view uuid)
{
    if (broker_key.empty() || broker_key.size() > MAX_BROKER_KEY)
        return Error::make(Errc::Format, "broker volume key: %zu bytes, expected 1 to %zu", broker_key.size(),
                           MAX_BROKER_KEY);
    if (!is_canonical_uuid(uuid)) {
        // The UUID comes from a header on the host's disk: shown only when it is printable.
        bool printable = uuid.size() <= 40;
        for (char c : uuid)
            printable = printable && c >= 0x20 && c <= 0x7e;
        return Error::make(Errc::Format,
                           "volume UUID: \"%s\" (%zu bytes), expected lower-case canonical text "
                           "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
                           printable ? std::string(uuid).c_str() : "(not printable)", uuid.size());
    }
    SecretBytes ikm(broker_key.size() + DERIVED_KEY_SIZE);  // wiped by its destructor on every path
    std::copy(broker_key.begin(), broker_key.end(), ikm.expose().begin());
    auto derived_bytes = derived.expose();
    std::copy(derived_bytes.begin(), derived_bytes.end(), ikm.expose().begin() + broker_key.size());
    Bytes info(HYBRID_INFO_TAG.begin(), HYBRID_INFO_TAG.end());
    info.push_back(0x00);
    info.insert(info.end(), uuid.begin(), uuid.end());
    SecretBytes passphrase(HYBRID_PASSPHRASE_SIZE);
    TRY(hkdf_sha256(ikm.expose(), info, passphrase.expose()));
    return passphrase;
}

}  // namespace cvm::agent::sealing
