// A ReportProvider for the workload API's tests: unsigned but well-formed reports (snp::
// serialize_report) carrying the REPORT_DATA asked for and a fixed launch (MEASUREMENT 0x4D...,
// HOST_DATA 0x48..., REPORT_ID 0x49..., CHIP_ID 0x43...), with a certificate table listing ARK,
// ASK and VCEK in that order (placeholder DER blobs) so that ordering can be checked.
//
// Failures model the hardware providers' (drivers/virt/coco/sev-guest/sev-guest.c:
// snp_send_guest_request(): on a host or firmware error other than INVALID_LEN the driver calls
// snp_disable_vmpck(), and from then on every request is refused with ENOTTY before anything is
// sent; tests/fakes/fake_sev_guest.h models the ioctl itself). `fail_from` makes the call of that
// index fail with EIO and every later one with ENOTTY, as a wiped VMPCK does, so a test can see
// whether a caller asked again. `delay_ms` and `max_in_flight` let a test see concurrency.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "providers/report_provider.h"
#include "snp/cert_table.h"
#include "snp/report.h"

namespace cvm::test {

class FakeProvider : public agent::ReportProvider {
public:
    explicit FakeProvider(const char* name = agent::PROVIDER_SEV_GUEST) : m_name(name) {}

    const char* name() const override { return m_name; }

    Result<agent::Evidence> get_report(const agent::ReportData& report_data) override
    {
        size_t index = calls.fetch_add(1);
        int now = in_flight.fetch_add(1) + 1;
        for (int seen = max_in_flight.load(); now > seen && !max_in_flight.compare_exchange_weak(seen, now);) {
        }
        if (delay_ms > 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        in_flight.fetch_sub(1);
        if (index >= fail_from)
            return index == fail_from ? Error::from_errno(Errc::Io, 5, "SNP_GET_EXT_REPORT: firmware error 0x16 (EIO)")
                                      : Error::from_errno(Errc::Io, 25, "SNP_GET_EXT_REPORT: ENOTTY (VMPCK wiped)");
        last_report_data = report_data;
        return agent::Evidence{report(report_data), with_certificates ? cert_table() : Bytes{}, m_name};
    }

    static Bytes report(const agent::ReportData& report_data)
    {
        snp::AttestationReport r;
        r.version = 3;
        r.policy.raw = snp::GuestPolicy::RESERVED_MUST_BE_ONE | 0x30000;
        r.signature_algo = 1;
        r.report_data = report_data;
        r.measurement.fill(0x4D);
        r.host_data.fill(0x48);
        r.report_id.fill(0x49);
        r.chip_id.fill(0x43);
        auto bytes = snp::serialize_report(r);
        return Bytes(bytes.begin(), bytes.end());
    }

    static Bytes cert_table()
    {
        return snp::build_cert_table({{snp::GUID_ARK, snp::CertKind::Ark, Bytes{0x30, 0x01, 0xA0}},
                                      {snp::GUID_ASK, snp::CertKind::Ask, Bytes{0x30, 0x01, 0xA5}},
                                      {snp::GUID_VCEK, snp::CertKind::Vcek, Bytes{0x30, 0x01, 0xEC}}});
    }

    std::atomic<size_t> calls{0};
    std::atomic<int> in_flight{0};
    std::atomic<int> max_in_flight{0};
    size_t fail_from = SIZE_MAX;
    int delay_ms = 0;
    bool with_certificates = true;  // placeholder DER: off where a certificate parser reads them
    agent::ReportData last_report_data{};

private:
    const char* m_name;
};

}  // namespace cvm::test
