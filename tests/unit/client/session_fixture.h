// Shared by the KbsSession tests: options with short timeouts, a real report (tests/vectors,
// Trustee's Milan VLEK v3 sample) carrying a given REPORT_DATA, its certificate table, and JSON
// accessors for checking what the scripted KBS received.
#pragma once

#include <yyjson.h>

#include <array>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "client/kbs_session.h"
#include "snp/cert_table.h"

namespace cvm::test {

client::KbsOptions kbs_options(const std::string& url);

// The vector report with REPORT_DATA replaced (its signature no longer verifies: the client only
// encodes it, the scripted KBS does not verify).
Bytes vector_report(const std::array<uint8_t, 64>& report_data);
std::vector<snp::CertEntry> vector_certs();

// "a,b,c": an object's member names in order; "<not an object>" otherwise.
std::string member_names(yyjson_val* object);
// A string member's value; "<not a string>" otherwise.
std::string string_at(yyjson_val* object, const char* key);

}  // namespace cvm::test
