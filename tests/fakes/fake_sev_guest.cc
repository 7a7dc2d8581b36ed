#include "fake_sev_guest.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/bytes.h"
#include "providers/sev_guest_abi.h"

namespace cvm::test {

using namespace agent::sev_guest;

int FakeSevGuest::respond(const uint8_t* user_data, uint32_t vmpl, uint64_t resp_data)
{
    std::array<uint8_t, 64> report_data;
    memcpy(report_data.data(), user_data, report_data.size());
    auto report = m_psp.get_report(report_data, vmpl);
    auto* response = reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(resp_data));
    memset(response, 0, sizeof(ReportResp));
    if (!report.ok()) {  // the PSP refuses a VMPL above 3 with INVALID_PARAM
        put_le32(response + MSG_REPORT_RSP_STATUS_OFFSET, SEV_RET_INVALID_PARAM);
        return 0;
    }
    put_le32(response + MSG_REPORT_RSP_STATUS_OFFSET, status);
    put_le32(response + MSG_REPORT_RSP_REPORT_SIZE_OFFSET, static_cast<uint32_t>(report->size()));
    memcpy(response + MSG_REPORT_RSP_REPORT_OFFSET, report->data(), report->size());
    if (tamper)
        tamper(response);
    return 0;
}

int FakeSevGuest::ioctl(unsigned long request, void* arg)
{
    auto* io = static_cast<GuestRequestIoctl*>(arg);
    calls.push_back({request, 0});
    io->exitinfo2 = 0xff;  // snp_guest_ioctl's initial value, copied back on every path
    if (fail_errno != 0)
        return fail_errno;
    if (io->msg_version == 0 || io->req_data == 0 || io->resp_data == 0)
        return EINVAL;
    if (request == SNP_GET_REPORT) {
        const auto* req = reinterpret_cast<const ReportReq*>(static_cast<uintptr_t>(io->req_data));
        io->exitinfo2 = 0;
        return respond(req->user_data, req->vmpl, io->resp_data);
    }
    if (request != SNP_GET_EXT_REPORT)
        return ENOTTY;

    auto* req = reinterpret_cast<ExtReportReq*>(static_cast<uintptr_t>(io->req_data));
    calls.back().certs_len = req->certs_len;
    const bool wants_certs = req->certs_len != 0 && req->certs_address != 0;
    if (wants_certs && (req->certs_len > CERTS_MAX || req->certs_len % CERTS_PAGE != 0))
        return EINVAL;
    const size_t call = m_ext_calls++;
    if (ext_fw_error != 0) {
        io->exitinfo2 = ext_fw_error;
        return EIO;
    }
    const size_t real_need = (certs.size() + CERTS_PAGE - 1) / CERTS_PAGE * CERTS_PAGE;
    const size_t needed = call < needed_claims.size() ? needed_claims[call] : real_need;
    if (wants_certs) {
        if (needed > req->certs_len) {
            req->certs_len = static_cast<uint32_t>(needed);
            io->exitinfo2 = uint64_t{VMM_ERR_INVALID_LEN} << 32;
            return EIO;
        }
        auto* buffer = reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(req->certs_address));
        memset(buffer, 0, req->certs_len);
        memcpy(buffer, certs.data(), std::min<size_t>(certs.size(), req->certs_len));
    }
    io->exitinfo2 = 0;
    return respond(req->data.user_data, req->data.vmpl, io->resp_data);
}

}  // namespace cvm::test
