// The checks every report provider applies before it hands out evidence (report_provider.h).
// Structure only: the signature and the certificate chain are the broker's to verify.
#pragma once

#include <cstdint>

#include "base/bytes.h"
#include "base/result.h"
#include "providers/report_provider.h"

namespace cvm::agent {

// `report` must be exactly snp::REPORT_SIZE bytes, pass snp::parse_report, carry REPORT_DATA
// equal to `asked` and VMPL equal to `vmpl`. Errc::Format (Errc::Unsupported for a version
// parse_report does not know) with a message that starts with `source` ("outblob", "
// SNP_GET_REPORT response") and names the field.
Result<void> check_report(ByteView report, const ReportData& asked, uint32_t vmpl, const char* source);

// A certificate table as the host handed it (SNP_GET_EXT_REPORT's buffer or configfs auxblob):
// empty when it is empty or starts with the all-zero terminator (the host supplied no
// certificates), otherwise strictly parsed (snp::parse_cert_table) and cut after the end of its
// last blob, which drops the zero padding of page-sized buffers. Errc::Format naming `source`.
Result<Bytes> normalize_cert_table(ByteView table, const char* source);

}  // namespace cvm::agent
