// SNP evidence in the form Trustee's KBS decodes (docs/kbs.md): the attestation report as the
// serde JSON of the virtee/sev crate's AttestationReport, which Trustee's SNP verifier
// (deps/verifier/src/snp/mod.rs) deserialises and turns back into the bytes the signature covers,
// and the certificate chain as kbs-types' `cert_chain`.
//
// Report: byte arrays as JSON arrays of numbers, integers for the scalar fields, TCB objects
// {"fmc","bootloader","tee","snp","microcode"} laid out per product (Turin, CPUID family 0x1A,
// has `fmc`; earlier products have it null), `cpuid_*` from version 3, the mitigation vectors
// from version 5 (null before), the signature as {"r":[72],"s":[72]}. Reserved bytes are not in
// the JSON, so report_to_json refuses a report whose reserved bytes are not zero: Trustee would
// rebuild different bytes and the signature would fail on its side, far from the cause.
//
// report_from_json is the exact inverse, and strict: every member the version defines, no
// other, each of its type and length and range; errors are Errc::Format naming the member,
// the value found and what was expected. For every report r that report_to_json accepts,
// report_from_json(report_to_json(r)) == r (the 1184 bytes). The product only sends evidence:
// report_from_json's users are the tests (tests/unit/kbs) and the fuzzer (fuzz_kbs_evidence),
// which check the round trip that Trustee's verifier makes on its side, from serde JSON back to
// the bytes the signature covers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "snp/cert_table.h"

struct yyjson_mut_doc;
struct yyjson_mut_val;
struct yyjson_val;

namespace cvm::kbs {

// The report (exactly snp::REPORT_SIZE bytes, versions 2 to 5) as a value of `doc`.
Result<yyjson_mut_val*> report_to_json(yyjson_mut_doc* doc, ByteView report);
// The same as compact JSON text.
Result<std::string> report_to_json_text(ByteView report);

// The inverse: the 1184 bytes, reserved bytes zero.
Result<Bytes> report_from_json(yyjson_val* value);
Result<Bytes> report_from_json_text(std::string_view text);

// kbs-types' cert_chain: null for an empty table (the KBS then fetches the chain itself),
// otherwise [{"cert_type": "VCEK"|"VLEK"|"ASK"|"ARK"|"CRL"|{"OTHER":"<guid>"}, "data": [DER bytes]}],
// "CRL" for the GUID sev's CertType::CRL has (CRL_GUID in evidence.cc).
yyjson_mut_val* cert_chain_to_json(yyjson_mut_doc* doc, const std::vector<snp::CertEntry>& certs);

}  // namespace cvm::kbs
