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
//
// derive_key follows ReportProvider::derive_key's contract as the real providers implement it
// (agent/providers/derived_key_check.h): Errc::Config for a TCB_VERSION above the report's
// COMMITTED_TCB, Errc::Unsupported for a VLEK root unless `has_vlek`, both before anything counts
// as sent; then the same `fail_from` failures as reports, or with `refuse_key_status` the
// firmware's STATUS refusal (Errc::Policy). The key is SHA-256 over the root and the
// selected fields only, where the "chip" is `chip` and the launch's MEASUREMENT byte is
// `measurement`: another chip or launch gives another key exactly when the request selects it.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "crypto/digest.h"
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

    Result<agent::DerivedKey> derive_key(const agent::DerivedKeyRequest& request) override
    {
        if (request.tcb_version > COMMITTED_TCB)
            return Error::make(Errc::Config, "derived key: TCB_VERSION 0x%016llx is above COMMITTED_TCB 0x%016llx",
                               static_cast<unsigned long long>(request.tcb_version),
                               static_cast<unsigned long long>(COMMITTED_TCB));
        if (request.root == agent::RootKey::Vlek && !has_vlek)
            return Error::make(Errc::Unsupported, "measurement-only sealing needs a VLEK: this platform has none");
        size_t index = calls.fetch_add(1);
        ++derive_calls;
        if (refuse_key_status)
            return Error::make(Errc::Policy, "SNP_GET_DERIVED_KEY: MSG_KEY_RSP STATUS 0x16 (INVALID_PARAM): the "
                                             "firmware refused the request (the VMPCK is intact)");
        if (index >= fail_from)
            return index == fail_from ? Error::from_errno(Errc::Io, 5, "SNP_GET_DERIVED_KEY: firmware error (EIO)")
                                      : Error::from_errno(Errc::Io, 25, "SNP_GET_DERIVED_KEY: ENOTTY (VMPCK wiped)");
        last_key_request = request;
        crypto::Sha256 h;
        uint8_t fields[] = {static_cast<uint8_t>(request.root), static_cast<uint8_t>(request.field_select),
                            request.root == agent::RootKey::Vcek ? chip : uint8_t{0},  // a VLEK is not one chip's
                            request.field_select & agent::FIELD_MEASUREMENT ? measurement : uint8_t{0}};
        h.update(fields);
        uint8_t tcb[8];
        put_le64(tcb, request.field_select & agent::FIELD_TCB_VERSION ? request.tcb_version : 0);
        h.update(tcb);
        auto digest = h.finish();
        agent::DerivedKey key;
        std::copy(digest.begin(), digest.end(), key.expose().begin());
        return key;
    }

    static constexpr uint64_t COMMITTED_TCB = 0x1b00000000000004;

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
        r.committed_tcb = COMMITTED_TCB;
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
    std::atomic<size_t> derive_calls{0};
    agent::DerivedKeyRequest last_key_request{};
    uint8_t chip = 0xC1;         // the VCEK's chip, for derived keys
    uint8_t measurement = 0x4D;  // the launch's MEASUREMENT, for derived keys
    bool has_vlek = false;
    bool refuse_key_status = false;  // the firmware answers MSG_KEY_REQ with STATUS 0x16

private:
    const char* m_name;
};

}  // namespace cvm::test
