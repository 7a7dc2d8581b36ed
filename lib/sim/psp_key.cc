// MSG_KEY_REQ of the simulated PSP (psp.h): the firmware's field checks, then a SIMULATED
// derivation from the chip secret and exactly the selected fields.
#include <mbedtls/md.h>

#include <algorithm>
#include <string_view>

#include "base/bytes.h"
#include "sim/mbedtls_util.h"
#include "sim/psp.h"

namespace cvm::sim {

namespace {

// 56860 "MSG_KEY_REQ": ROOT_KEY_SELECT bit 0 (VMRK) and KEY_SEL (bits 2:1); GUEST_FIELD_SELECT
// bits 0..5 with message version 1.
constexpr uint32_t ROOT_KEY_SELECT_VMRK = 1u << 0;
constexpr uint32_t ROOT_KEY_SELECT_KNOWN = 0x7;
constexpr uint32_t KEY_SEL_VLEK_IF_INSTALLED = 0, KEY_SEL_VCEK = 1, KEY_SEL_VLEK = 2;
constexpr uint64_t FIELD_POLICY = 1u << 0, FIELD_IMAGE_ID = 1u << 1, FIELD_FAMILY_ID = 1u << 2,
                   FIELD_MEASUREMENT = 1u << 3, FIELD_GUEST_SVN = 1u << 4, FIELD_TCB_VERSION = 1u << 5;
constexpr uint64_t FIELD_KNOWN = 0x3f;

// The firmware's verdict on a request, before any key is made.
uint32_t key_request_status(const KeyRequest& req, uint32_t caller_vmpl, const LaunchState& launch,
                            uint64_t committed_tcb)
{
    const uint32_t key_sel = req.root_key_select >> 1 & 0x3;
    if (req.reserved != 0 || (req.root_key_select & ~ROOT_KEY_SELECT_KNOWN) != 0 ||
        (req.guest_field_select & ~FIELD_KNOWN) != 0 || key_sel > KEY_SEL_VLEK)
        return KEY_STATUS_INVALID_PARAM;
    // The VMRK exists only for a guest launched with a migration agent; a VLEK only where the
    // host loaded one (SNP_VLEK_LOAD), which a simulated platform never does.
    if ((req.root_key_select & ROOT_KEY_SELECT_VMRK) != 0 || key_sel == KEY_SEL_VLEK)
        return KEY_STATUS_INVALID_KEY;
    if (req.vmpl < caller_vmpl || req.vmpl > MAX_VMPL || req.guest_svn > launch.guest_svn ||
        req.tcb_version > committed_tcb)
        return KEY_STATUS_INVALID_PARAM;
    static_assert(KEY_SEL_VLEK_IF_INSTALLED == 0 && KEY_SEL_VCEK == 1);  // both mean the VCEK here
    return KEY_STATUS_SUCCESS;
}

// The message the key is a MAC of: everything that selects it, the fields only when selected.
Bytes derivation_input(const KeyRequest& req, const LaunchState& launch)
{
    static constexpr std::string_view tag = "cvm sim MSG_KEY_REQ/1";
    Bytes m(tag.begin(), tag.end());
    m.push_back(0);
    m.push_back(static_cast<uint8_t>(KEY_SEL_VCEK));  // the only root key this chip has
    auto le = [&m](uint64_t value, size_t bytes) {
        for (size_t i = 0; i < bytes; ++i)
            m.push_back(static_cast<uint8_t>(value >> (8 * i)));
    };
    auto raw = [&m](ByteView bytes) { m.insert(m.end(), bytes.begin(), bytes.end()); };
    le(req.vmpl, 4);
    le(req.guest_field_select, 8);
    const uint64_t sel = req.guest_field_select;
    if (sel & FIELD_POLICY)
        le(launch.policy, 8);
    if (sel & FIELD_IMAGE_ID)
        raw(launch.image_id);
    if (sel & FIELD_FAMILY_ID)
        raw(launch.family_id);
    if (sel & FIELD_MEASUREMENT)
        raw(launch.measurement);
    if (sel & FIELD_GUEST_SVN)
        le(req.guest_svn, 4);
    if (sel & FIELD_TCB_VERSION)
        le(req.tcb_version, 8);
    return m;
}

}  // namespace

Result<KeyResponse> SimulatedPsp::derive_key(const KeyRequest& request, uint32_t caller_vmpl) const
{
    KeyResponse response;
    response.status = key_request_status(request, caller_vmpl, m_launch, m_tcb.encode(m_product));
    if (response.status != KEY_STATUS_SUCCESS)
        return response;
    Bytes input = derivation_input(request, m_launch);
    Secret<48> mac;
    int rc = mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA384), m_chip_secret.expose().data(),
                             m_chip_secret.size(), input.data(), input.size(), mac.expose().data());
    if (rc != 0)
        return mbedtls_failure(Errc::Crypto, rc, "simulated MSG_KEY_REQ: HMAC-SHA384 failed");
    std::copy_n(mac.expose().begin(), response.key.size(), response.key.expose().begin());
    return response;
}

}  // namespace cvm::sim
