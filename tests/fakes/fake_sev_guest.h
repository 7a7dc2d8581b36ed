// A fake of the sev-guest driver of the pinned Linux 6.12 (drivers/virt/coco/sev-guest/
// sev-guest.c, with snp_issue_guest_request() of arch/x86/coco/sev/core.c), the host behind it
// and the simulated PSP, at the provider's SevGuestDevice seam. Each function of the .cc is named
// after the kernel function it models and keeps its order of checks:
//
//   ioctl()               snp_guest_ioctl: EFAULT for an unreadable argument; exitinfo2 = 0xff;
//                         msg_version 0 -> EINVAL and a wiped VMPCK -> ENOTTY, both returned
//                         before the copy-back; an unknown request -> ENOTTY; the whole struct
//                         copied back only when exitinfo2 != 0 (a success leaves the caller's)
//   get_report()          snp_report_req in, the 4000-byte response out only on success
//   get_derived_key()     the 32 bytes of snp_derived_key_req in (whatever msg_version says), a
//                         64-byte MSG_KEY_RSP out only on success, the kernel's copies wiped
//   get_ext_report()      certs_len not whole pages or above SEV_FW_BLOB_MAX_SIZE -> EINVAL
//                         before the firmware; certs_len rewritten as pages * 4096 whenever the
//                         VMM error is INVALID_LEN; certificates and response only on success
//   send_guest_request()  a sequence number at UINT_MAX - 1 -> EIO before anything is sent (the
//                         key kept, exitinfo2 still 0xff); the one-shot key: any failure of the
//                         exchange but EIO with exitinfo2 == 1 << 32, and a response that does
//                         not decrypt (EBADMSG), wipes the VMPCK
//   handle_guest_request() INVALID_LEN re-sent as a plain request (the key survives; EIO and
//                         exitinfo2 = 1 << 32 to the caller); BUSY retried every 2 s, ETIMEDOUT
//                         after 60 s (a simulated clock: the test does not wait)
//   issue_guest_request() the host: exitinfo2 = SEV_RET_NO_FW_CALL, then its sw_exit_info_2;
//                         a guest message the firmware cannot take fails SNP_GUEST_REQUEST itself,
//                         and KVM hands that status on as fw_error (snp_handle_guest_req(): "Firmware
//                         failures are propagated on to guest"), so the driver wipes the VMPCK
//   psp_respond()         the firmware: MSG_REPORT_RSP from the simulated PSP; MSG_KEY_RSP from its
//                         derive_key(), whose field checks answer in STATUS (the key survives)
//   report_new()          sev_report_new, the configfs-tsm path: 64-byte inblob, a 16 KiB
//                         certificate buffer, STATUS INVALID_PARAM/INVALID_KEY -> EINVAL, other
//                         STATUS -> ENXIO, auxblob cut at the end of the last table entry
//
// Mainline differs only where the provider must not depend on it: the VMPCK check moved into
// snp_send_guest_request (6.13, so ENOTTY then copies back exitinfo2 0xff), and later the
// driver copies req.exitinfo2 (0 when nothing was sent) instead of writing the caller's struct.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/bytes.h"
#include "base/secret.h"
#include "providers/report_provider_ioctl.h"
#include "providers/sev_guest_abi.h"
#include "sim/psp.h"

namespace cvm::test {

class FakeSevGuest final : public agent::SevGuestDevice {
public:
    explicit FakeSevGuest(const sim::SimulatedPsp& psp) : m_psp(psp) { certs = psp.cert_table(); }

    // The host and the firmware.
    Bytes certs;                          // the host's certificate table; empty: none configured
    std::vector<uint32_t> claimed_pages;  // pages the host says it needs, one per EXT exit, else the real count
    int busy_exits = 0;                   // the next exits the host answers BUSY
    uint64_t fail_next_exit = 0;          // sw_exit_info_2 of the next forwarded exit (6: fw INVALID_CERTIFICATE)
    bool corrupt_next_response = false;   // the next response does not decrypt (a host tampering)
    uint32_t status = 0;                  // MSG_REPORT_RSP STATUS the firmware writes
    uint32_t key_status = 0;              // non-zero: the MSG_KEY_RSP STATUS written instead of the PSP's
    bool zero_key = false;                // MSG_KEY_RSP STATUS 0 with an all-zero key
    bool key_reserved_set = false;        // MSG_KEY_RSP with a reserved byte (0x1F) non-zero
    uint32_t msg_seqno = 0;               // the secrets page's msg_seqno_0, +2 per exchange

    // What happened.
    struct Call {
        unsigned long request;
        uint32_t certs_len;  // SNP_GET_EXT_REPORT only, as passed in
        int result;          // the errno returned, 0 on success
    };
    std::vector<Call> calls;
    struct Exit {            // one VMGEXIT to the host
        bool extended;       // SVM_VMGEXIT_EXT_GUEST_REQUEST, else a plain guest request
        uint32_t npages;     // certificate pages offered (extended only)
        uint64_t exitinfo2;  // what the host answered
    };
    std::vector<Exit> exits;
    std::array<uint8_t, 64> last_report_data{};                 // REPORT_DATA of the last MSG_REPORT_REQ answered
    std::vector<agent::sev_guest::DerivedKeyReq> key_requests;  // as get_derived_key() copied them in
    Secret<32> last_key;  // the DERIVED_KEY of the last MSG_KEY_RSP the firmware answered
    bool vmpck_wiped() const { return m_vmpck_wiped; }
    unsigned seconds_waited() const { return m_clock_s; }  // BUSY retries, simulated

    int ioctl(unsigned long request, void* arg) override;

    // sev_report_new: the report and certificates configfs-tsm's outblob and auxblob read.
    // 0 or the errno tsm_report_read() returns.
    int report_new(ByteView inblob, unsigned privlevel, Bytes& outblob, Bytes& auxblob);

    // The firmware's MSG_KEY_REQ answer needs this message version (the 32 bytes Linux sends).
    static constexpr uint8_t MSG_KEY_REQ_VERSION = 1;

private:
    // snp_guest_req: what enc_payload() encrypts for the firmware (include/linux/psp-sev.h
    // SNP_MSG_KEY_REQ 3, SNP_MSG_REPORT_REQ 5).
    enum MsgType : uint8_t { SNP_MSG_KEY_REQ = 3, SNP_MSG_REPORT_REQ = 5 };
    struct GuestMessage {
        MsgType type;
        uint8_t version;
        const void* payload;  // ReportReq or DerivedKeyReq
        size_t response_size;
    };
    int get_report(agent::sev_guest::GuestRequestIoctl& input);
    int get_derived_key(agent::sev_guest::GuestRequestIoctl& input);
    int get_ext_report(agent::sev_guest::GuestRequestIoctl& input);
    int send_guest_request(bool extended, const GuestMessage& msg, uint8_t* response, uint64_t& exitinfo2);
    int handle_guest_request(bool extended, uint64_t& exitinfo2);
    int issue_guest_request(bool extended, uint64_t& exitinfo2);
    void psp_respond(const GuestMessage& msg);
    void psp_report(const agent::sev_guest::ReportReq& req);
    void psp_key(const agent::sev_guest::DerivedKeyReq& req, uint8_t version);

    const sim::SimulatedPsp& m_psp;
    bool m_vmpck_wiped{false};
    unsigned m_clock_s{0};
    uint32_t m_data_npages{0};                                         // snp_req_data.data_npages
    std::vector<uint8_t> m_certs_data = std::vector<uint8_t>(0x4000);  // the shared certificate pages
    std::vector<uint8_t> m_response = std::vector<uint8_t>(4000);      // the decrypted PSP answer
    size_t m_ext_exits{0};
    uint32_t m_command_error{0};  // SNP_GUEST_REQUEST's own failure for the message in flight
};

// `table` (a GUID certificate table) with one more blob, so that it needs exactly `pages` pages.
Bytes cert_table_of_pages(const Bytes& table, size_t pages);

}  // namespace cvm::test
