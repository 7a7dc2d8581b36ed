// The demo workload's `--agent-probe DIR` mode: it asks the agent's API (agent_client.h) for
// GET /v1/info, POST /v1/evidence with USER_DATA, and POST /v1/tls-certificate for a P-256 key it
// makes and keeps, checks that an oversized user_data is refused, and writes what it got into DIR
// for the host to verify (`cvm verify --user-data`, `cvm verify --ratls`):
//
//   info.json  evidence.json  report.bin  user_data.hex  certs/{vcek|vlek}.der certs/ask.pem
//   certs/ark.pem  leaf.pem  issuer.pem
//
// It prints one summary line ("demo-workload: agent probe: ...") and returns 0 when every answer
// was as expected, 1 otherwise (the line then says which step failed).
#pragma once

#include <string_view>

namespace cvm::workload {

inline constexpr std::string_view PROBE_USER_DATA = "cvminit demo workload user data!";  // 32 bytes
inline constexpr const char* PROBE_DNS_NAME = "workload.cvminit.internal";

int agent_probe(const char* dir, const char* socket_path);

}  // namespace cvm::workload
