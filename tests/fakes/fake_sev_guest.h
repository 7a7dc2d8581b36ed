// A fake of the /dev/sev-guest driver (drivers/virt/coco/sev-guest/sev-guest.c) at the
// provider's SevGuestDevice seam: it reads the request structures the provider passes, answers
// with the simulated PSP's reports in a MSG_REPORT_RSP, and behaves like the driver where the
// provider's logic depends on it:
//   - msg_version 0 or a null req_data/resp_data: EINVAL; an unknown request: ENOTTY;
//   - SNP_GET_EXT_REPORT with certs_len not a page multiple or above 16 KiB: EINVAL; a buffer
//     smaller than the host's table: EIO, exitinfo2 = 1 << 32, certs_len = the pages needed;
//   - a host with no certificates leaves the buffer zero-filled.
// The knobs make the host or firmware misbehave; every call is recorded.
#pragma once

#include <functional>
#include <vector>

#include "base/bytes.h"
#include "providers/report_provider_ioctl.h"
#include "sim/psp.h"

namespace cvm::test {

class FakeSevGuest final : public agent::SevGuestDevice {
public:
    explicit FakeSevGuest(const sim::SimulatedPsp& psp) : m_psp(psp) { certs = psp.cert_table(); }

    Bytes certs;                                    // the host's certificate table; empty: none configured
    std::vector<uint32_t> needed_claims;            // certs_len the host claims to need, one per EXT call
    uint32_t ext_fw_error = 0;                      // exitinfo2 firmware error failing EXT with EIO (6: #102)
    uint32_t status = 0;                            // MSG_REPORT_RSP STATUS
    int fail_errno = 0;                             // every ioctl fails so (ENOTTY: VMPCK disabled)
    std::function<void(uint8_t* response)> tamper;  // edits the 4000-byte response

    struct Call {
        unsigned long request;
        uint32_t certs_len;  // EXT only
    };
    std::vector<Call> calls;

    int ioctl(unsigned long request, void* arg) override;

private:
    int respond(const uint8_t* user_data, uint32_t vmpl, uint64_t resp_data);

    const sim::SimulatedPsp& m_psp;
    size_t m_ext_calls{0};
};

}  // namespace cvm::test
