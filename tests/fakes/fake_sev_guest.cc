#include "fake_sev_guest.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/bytes.h"
#include "providers/sev_guest_abi.h"
#include "snp/cert_table.h"

namespace cvm::test {

using namespace agent::sev_guest;

namespace {

constexpr size_t PAGE = CERTS_PAGE;
constexpr size_t SEV_FW_BLOB_MAX_SIZE = CERTS_MAX;  // include/linux/psp-sev.h: 16 KiB
constexpr unsigned SNP_REQ_MAX_RETRY_DURATION_S = 60;
constexpr unsigned SNP_REQ_RETRY_DELAY_S = 2;

template <typename T>
T* user_ptr(uint64_t address)
{
    return reinterpret_cast<T*>(static_cast<uintptr_t>(address));
}

}  // namespace

// snp_guest_ioctl() (6.12).
int FakeSevGuest::ioctl(unsigned long request, void* arg)
{
    calls.push_back({request, 0, 0});
    auto finish = [&](int result) { return calls.back().result = result; };
    if (arg == nullptr)  // copy_from_user(&input, argp, ...)
        return finish(EFAULT);
    GuestRequestIoctl input;
    memcpy(&input, arg, sizeof(input));
    input.exitinfo2 = EXITINFO2_IOCTL_INITIAL;
    if (input.msg_version == 0)
        return finish(EINVAL);
    if (m_vmpck_wiped)  // is_vmpck_empty() under snp_cmd_mutex, before the switch
        return finish(ENOTTY);
    int ret = ENOTTY;
    if (request == SNP_GET_REPORT) {
        ret = get_report(input);
    } else if (request == SNP_GET_DERIVED_KEY) {
        ret = get_derived_key(input);
    } else if (request == SNP_GET_EXT_REPORT) {
        if (input.req_data != 0)
            calls.back().certs_len = user_ptr<ExtReportReq>(input.req_data)->certs_len;
        ret = get_ext_report(input);
    }
    if (input.exitinfo2 != 0)  // "if (input.exitinfo2 && copy_to_user(argp, &input, ...))"
        memcpy(arg, &input, sizeof(input));
    return finish(ret);
}

// get_report(): the response reaches user space only when the request succeeded.
int FakeSevGuest::get_report(GuestRequestIoctl& input)
{
    if (input.req_data == 0 || input.resp_data == 0)
        return EINVAL;
    ReportReq req;
    memcpy(&req, user_ptr<ReportReq>(input.req_data), sizeof(req));
    std::vector<uint8_t> resp(sizeof(ReportResp));
    int rc = send_guest_request(false, {SNP_MSG_REPORT_REQ, input.msg_version, &req, resp.size()}, resp.data(),
                                input.exitinfo2);
    if (rc != 0)
        return rc;
    memcpy(user_ptr<uint8_t>(input.resp_data), resp.data(), resp.size());
    return 0;
}

// get_derived_key() (6.12): exactly sizeof(struct snp_derived_key_req) copied in, whatever
// msg_version says; the 64-byte snp_derived_key_resp copied out only after the exchange
// succeeded; "The response buffer contains the sensitive data, explicitly clear it"
// (memzero_explicit of buf and derived_key_resp, on the success path: on failure buf never
// received the decrypted answer).
int FakeSevGuest::get_derived_key(GuestRequestIoctl& input)
{
    if (input.req_data == 0 || input.resp_data == 0)
        return EINVAL;
    DerivedKeyReq req;
    memcpy(&req, user_ptr<DerivedKeyReq>(input.req_data), sizeof(req));
    key_requests.push_back(req);
    uint8_t buf[sizeof(DerivedKeyResp) + 16] = {};  // "Response data is 64 bytes and max authsize for GCM is 16"
    int rc = send_guest_request(false, {SNP_MSG_KEY_REQ, input.msg_version, &req, sizeof(DerivedKeyResp)}, buf,
                                input.exitinfo2);
    if (rc != 0)
        return rc;
    DerivedKeyResp resp;
    memcpy(resp.data, buf, sizeof(resp.data));
    memcpy(user_ptr<uint8_t>(input.resp_data), &resp, sizeof(resp));
    secure_wipe(buf);
    secure_wipe(resp.data);
    return 0;
}

// get_ext_report(), for user pointers (the ioctl) and kernel pointers (sev_report_new) alike.
int FakeSevGuest::get_ext_report(GuestRequestIoctl& input)
{
    if (input.req_data == 0 || input.resp_data == 0)
        return EINVAL;
    ExtReportReq req;
    memcpy(&req, user_ptr<ExtReportReq>(input.req_data), sizeof(req));
    uint32_t npages = 0;
    if (req.certs_len != 0 && req.certs_address != 0) {  // else: "caller does not want certificate data"
        if (req.certs_len > SEV_FW_BLOB_MAX_SIZE || req.certs_len % PAGE != 0)
            return EINVAL;
        memset(m_certs_data.data(), 0, req.certs_len);
        npages = req.certs_len / PAGE;
    }
    m_data_npages = npages;
    std::vector<uint8_t> resp(sizeof(ReportResp));
    int ret = send_guest_request(true, {SNP_MSG_REPORT_REQ, input.msg_version, &req.data, resp.size()}, resp.data(),
                                 input.exitinfo2);
    // "If certs length is invalid then copy the returned length"
    if (static_cast<uint32_t>(input.exitinfo2 >> VMM_ERR_SHIFT) == VMM_ERR_INVALID_LEN) {
        req.certs_len = m_data_npages << 12;  // u32 arithmetic, as data_npages << PAGE_SHIFT
        memcpy(user_ptr<ExtReportReq>(input.req_data), &req, sizeof(req));
    }
    if (ret != 0)
        return ret;
    if (npages != 0)
        memcpy(user_ptr<uint8_t>(req.certs_address), m_certs_data.data(), req.certs_len);
    memcpy(user_ptr<uint8_t>(input.resp_data), resp.data(), resp.size());
    return 0;
}

// snp_send_guest_request(): where the key is lost.
int FakeSevGuest::send_guest_request(bool extended, const GuestMessage& msg, uint8_t* response, uint64_t& exitinfo2)
{
    // snp_get_msg_seqno(): the secrets page's counter + 1, or 0 ("request message sequence counter
    // overflow") from UINT_MAX on, which snp_send_guest_request() answers with EIO before sending
    // anything: exitinfo2 keeps snp_guest_ioctl's 0xff and the key is kept.
    if (uint64_t{msg_seqno} + 1 >= UINT32_MAX)
        return EIO;
    psp_respond(msg);  // what the firmware will answer if the request reaches it
    int rc = handle_guest_request(extended, exitinfo2);
    msg_seqno += 2;  // __handle_guest_request(): snp_inc_msg_seqno() after every exchange
    if (rc != 0) {
        if (rc == EIO && exitinfo2 == EXITINFO2_INVALID_LEN)
            return rc;
        m_vmpck_wiped = true;  // "Detected error from ASP request" -> snp_disable_vmpck()
        return rc;
    }
    if (corrupt_next_response) {  // verify_and_dec_payload() fails
        corrupt_next_response = false;
        m_vmpck_wiped = true;
        return EBADMSG;
    }
    memcpy(response, m_response.data(), msg.response_size);
    secure_wipe(m_response);  // the decrypted answer may be a key
    return 0;
}

// __handle_guest_request().
int FakeSevGuest::handle_guest_request(bool extended, uint64_t& exitinfo2)
{
    const unsigned start = m_clock_s;
    uint32_t override_npages = 0;
    uint64_t override_err = 0;
    int rc;
    for (;;) {
        rc = issue_guest_request(extended, exitinfo2);
        if (rc == ENOSPC) {  // re-sent without certificate pages "in order to ... avoid IV reuse"
            override_npages = m_data_npages;
            extended = false;
            override_err = EXITINFO2_INVALID_LEN;
            continue;
        }
        if (rc == EAGAIN) {
            if (m_clock_s - start > SNP_REQ_MAX_RETRY_DURATION_S) {
                rc = ETIMEDOUT;
                break;
            }
            m_clock_s += SNP_REQ_RETRY_DELAY_S;  // schedule_timeout_killable(SNP_REQ_RETRY_DELAY)
            continue;
        }
        break;
    }
    if (override_err != 0) {
        exitinfo2 = override_err;
        if (rc == 0)
            rc = EIO;
    }
    if (override_npages != 0)
        m_data_npages = override_npages;
    return rc;
}

// snp_issue_guest_request(): one exit to the host, which answers in sw_exit_info_2.
int FakeSevGuest::issue_guest_request(bool extended, uint64_t& exitinfo2)
{
    exitinfo2 = EXITINFO2_NO_FW_CALL;
    const uint32_t offered = extended ? m_data_npages : 0;
    uint64_t answer = 0;
    if (busy_exits > 0) {
        --busy_exits;
        answer = uint64_t{VMM_ERR_BUSY} << VMM_ERR_SHIFT;
    } else if (fail_next_exit != 0) {
        answer = fail_next_exit;
        fail_next_exit = 0;
    } else if (m_command_error != 0) {
        answer = m_command_error;  // the firmware failed SNP_GUEST_REQUEST; KVM passes fw_err on
    } else if (extended) {
        size_t exit = m_ext_exits++;
        uint32_t needed =
            exit < claimed_pages.size() ? claimed_pages[exit] : static_cast<uint32_t>((certs.size() + PAGE - 1) / PAGE);
        // No pages offered: the host only forwards the request (KVM's snp_handle_ext_guest_req:
        // "if (!data_npages) goto request").
        if (m_data_npages != 0 && needed > m_data_npages) {
            answer = EXITINFO2_INVALID_LEN;
            m_data_npages = needed;  // "Number of expected pages are returned in RBX"
        } else if (m_data_npages != 0) {
            std::copy_n(certs.begin(), std::min(certs.size(), m_certs_data.size()), m_certs_data.begin());
        }
    }
    exits.push_back({extended, offered, answer});
    exitinfo2 = answer;
    if (answer == 0)
        return 0;
    if (answer == uint64_t{VMM_ERR_BUSY} << VMM_ERR_SHIFT)
        return EAGAIN;
    if (answer == EXITINFO2_INVALID_LEN && extended)
        return ENOSPC;
    return EIO;
}

// The firmware's answer to the message in flight.
void FakeSevGuest::psp_respond(const GuestMessage& msg)
{
    m_command_error = 0;
    std::fill(m_response.begin(), m_response.end(), 0);
    if (msg.type == SNP_MSG_KEY_REQ)
        psp_key(*static_cast<const DerivedKeyReq*>(msg.payload), msg.version);
    else
        psp_report(*static_cast<const ReportReq*>(msg.payload));
}

// MSG_KEY_RSP (56860 "MSG_KEY_RSP"): the simulated PSP's verdict on the fields in STATUS, the key
// only with STATUS 0. A message of another version is not the 32-byte MSG_KEY_REQ the firmware
// expects for it (version 2 adds LAUNCH_MIT_VECTOR, which the 32 bytes Linux copies cannot carry):
// the SNP_GUEST_REQUEST command fails and the host passes the firmware's error on, as for any
// malformed guest message. Which status real firmware gives there is not confirmed from a primary
// source: INVALID_PARAM is modelled.
void FakeSevGuest::psp_key(const DerivedKeyReq& req, uint8_t version)
{
    if (version != MSG_KEY_REQ_VERSION) {
        m_command_error = SEV_RET_INVALID_PARAM;
        return;
    }
    sim::KeyRequest key_req{req.root_key_select, req.rsvd,       req.guest_field_select, req.vmpl,
                            req.guest_svn,       req.tcb_version};
    auto answer = m_psp.derive_key(key_req, /*caller_vmpl=*/0);
    uint32_t fw_status = answer.ok() ? answer->status : SEV_RET_INVALID_PARAM;
    if (key_status != 0)
        fw_status = key_status;
    put_le32(m_response.data() + MSG_KEY_RSP_STATUS_OFFSET, fw_status);
    if (key_reserved_set)
        m_response[MSG_KEY_RSP_KEY_OFFSET - 1] = 0x01;
    if (fw_status != 0 || !answer.ok())
        return;
    if (!zero_key)
        std::copy(answer->key.expose().begin(), answer->key.expose().end(),
                  m_response.begin() + MSG_KEY_RSP_KEY_OFFSET);
    std::copy_n(m_response.begin() + MSG_KEY_RSP_KEY_OFFSET, last_key.size(), last_key.expose().begin());
}

// The PSP's MSG_REPORT_RSP for a report request.
void FakeSevGuest::psp_report(const ReportReq& req)
{
    std::array<uint8_t, 64> report_data;
    memcpy(report_data.data(), req.user_data, report_data.size());
    last_report_data = report_data;
    auto report = m_psp.get_report(report_data, req.vmpl);
    if (!report.ok()) {  // the PSP refuses a VMPL above 3 with INVALID_PARAM
        put_le32(m_response.data() + MSG_REPORT_RSP_STATUS_OFFSET, SEV_RET_INVALID_PARAM);
        return;
    }
    put_le32(m_response.data() + MSG_REPORT_RSP_STATUS_OFFSET, status);
    put_le32(m_response.data() + MSG_REPORT_RSP_REPORT_SIZE_OFFSET, static_cast<uint32_t>(report->size()));
    std::copy(report->begin(), report->end(), m_response.begin() + MSG_REPORT_RSP_REPORT_OFFSET);
}

// sev_report_new() (6.12): the configfs-tsm provider's report, through get_ext_report() with
// kernel buffers: 4 KiB for the response and SEV_FW_BLOB_MAX_SIZE for the certificates.
int FakeSevGuest::report_new(ByteView inblob, unsigned privlevel, Bytes& outblob, Bytes& auxblob)
{
    if (inblob.size() != USER_DATA_SIZE)
        return EINVAL;
    if (m_vmpck_wiped)
        return ENOTTY;
    constexpr size_t report_size = 4096, ext_size = SEV_FW_BLOB_MAX_SIZE;
    std::vector<uint8_t> buf(report_size + ext_size);
    ExtReportReq ext_req{};
    ext_req.data.vmpl = privlevel;
    memcpy(ext_req.data.user_data, inblob.data(), USER_DATA_SIZE);
    ext_req.certs_address = reinterpret_cast<uintptr_t>(buf.data() + report_size);
    ext_req.certs_len = ext_size;
    GuestRequestIoctl input{};
    input.msg_version = 1;
    input.req_data = reinterpret_cast<uintptr_t>(&ext_req);
    input.resp_data = reinterpret_cast<uintptr_t>(buf.data());
    input.exitinfo2 = EXITINFO2_IOCTL_INITIAL;
    calls.push_back({SNP_GET_EXT_REPORT, ext_size, 0});
    int ret = calls.back().result = get_ext_report(input);
    if (ret != 0)
        return ret;

    uint32_t hdr_status = get_le32(buf.data() + MSG_REPORT_RSP_STATUS_OFFSET);
    uint32_t hdr_report_size = get_le32(buf.data() + MSG_REPORT_RSP_REPORT_SIZE_OFFSET);
    if (hdr_status == SEV_RET_INVALID_PARAM || hdr_status == SEV_RET_INVALID_KEY)
        return EINVAL;
    if (hdr_status != 0)
        return ENXIO;
    if (hdr_report_size + MSG_REPORT_RSP_REPORT_OFFSET > report_size)
        return ENOMEM;
    outblob.assign(buf.begin() + MSG_REPORT_RSP_REPORT_OFFSET,
                   buf.begin() + MSG_REPORT_RSP_REPORT_OFFSET + hdr_report_size);

    // The table's size: the furthest end of an entry before the all-zero terminator.
    const uint8_t* table = buf.data() + report_size;
    uint32_t certs_size = 0;
    for (size_t i = 0; i < ext_size / 24; ++i) {
        const uint8_t* entry = table + i * 24;
        uint32_t offset = get_le32(entry + 16), length = get_le32(entry + 20);
        if (std::all_of(entry, entry + 16, [](uint8_t b) { return b == 0; }) && offset == 0 && length == 0)
            break;
        certs_size = std::max(certs_size, offset + length);
    }
    certs_size = std::min<uint32_t>(certs_size, ext_size);  // "certificate data truncated"
    auxblob.assign(table, table + certs_size);
    return 0;
}

Bytes cert_table_of_pages(const Bytes& table, size_t pages)
{
    auto entries = snp::parse_cert_table(table).value();
    size_t size = table.size() + snp::CERT_TABLE_ENTRY_SIZE;
    snp::Guid other{};
    other.fill(0x77);
    entries.push_back({other, snp::CertKind::Other, Bytes(pages * PAGE - size - 100, 0x30)});
    return snp::build_cert_table(entries);
}

}  // namespace cvm::test
