#include "providers/evidence_check.h"

#include <algorithm>

#include "base/reader.h"
#include "snp/cert_table.h"
#include "snp/report.h"

namespace cvm::agent {

Result<void> check_report(ByteView report, const ReportData& asked, uint32_t vmpl, const char* source)
{
    if (report.size() != snp::REPORT_SIZE)
        return Error::make(Errc::Format, "%s: report is %zu bytes, expected exactly %zu", source, report.size(),
                           snp::REPORT_SIZE);
    snp::AttestationReport parsed = TRY_PREFIX(snp::parse_report(report), "%s", source);
    // The binding of DESIGN.md §4 rests on this field: a report for other bytes (a replay, or a
    // host answering someone else's request) must never leave the guest as ours.
    if (parsed.report_data != asked)
        return Error::make(Errc::Format, "%s: REPORT_DATA is %s..., expected %s... (not the report asked for)", source,
                           to_hex(ByteView(parsed.report_data).first(8)).c_str(),
                           to_hex(ByteView(asked).first(8)).c_str());
    if (parsed.vmpl != vmpl)
        return Error::make(Errc::Format, "%s: VMPL is %u, expected %u", source, parsed.vmpl, vmpl);
    return {};
}

Result<Bytes> normalize_cert_table(ByteView table, const char* source)
{
    // The kernel zero-fills the certificate pages before the host writes them, so a host without
    // certificates leaves the terminator as the first entry.
    if (table.size() < snp::CERT_TABLE_ENTRY_SIZE || all_zero(table.first(snp::CERT_TABLE_ENTRY_SIZE))) {
        if (!all_zero(table))
            return Error::make(Errc::Format, "%s: certificate table has no entries but %zu non-zero bytes", source,
                               table.size());
        return Bytes{};
    }
    TRY_PREFIX(snp::parse_cert_table(table), "%s", source);
    // parse_cert_table checked every entry; here only the end of the last blob is wanted.
    Reader r(table, source);
    size_t end = 0;
    for (;;) {
        auto guid = TRY(r.array<16>("entry GUID"));
        uint32_t offset = TRY(r.u32le("entry offset"));
        uint32_t length = TRY(r.u32le("entry length"));
        if (all_zero(guid) && offset == 0 && length == 0)
            break;
        end = std::max<size_t>(end, size_t{offset} + length);
    }
    return Bytes(table.begin(), table.begin() + static_cast<std::ptrdiff_t>(end));
}

}  // namespace cvm::agent
