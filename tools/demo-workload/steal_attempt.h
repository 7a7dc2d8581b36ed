// The demo workload's `--steal BROKER_URL RESOURCE` mode: what a compromised workload would try
// in order to obtain the agent's own secrets (the data volume's key). It reads the broker's pinned
// key from /proc/cmdline, opens a cvmkb/1 session for RESOURCE (a fresh challenge and its own
// X25519 key), and asks the agent's API for evidence whose user data is exactly the session's
// report_data. The agent binds it under its workload tag (proto/tags.h), so the broker must
// refuse it; the report device itself is out of the workload's reach (isolation_probe.h).
//
// Prints one line, "steal: ...": "refused <CODE> ..." when the broker refused (exit 0), "RELEASED"
// when it released anything (exit 1: the isolation failed), or what went wrong before (exit 1).
#pragma once

namespace cvm::workload {

int steal_attempt(const char* broker_url, const char* resource, const char* socket_path);

}  // namespace cvm::workload
