// The demo workload's --seal-probe mode, for the QEMU sealing boots (tests/e2e/sealing.sh):
// for each sealing policy, unseal DIR/sealed-<policy>.blob when a previous boot left one, else
// seal a known text and leave the blob there (POST /v1/seal and /v1/unseal, docs/agent-api.md).
// One console line per policy:
//   demo-workload: sealed <policy> (<N> bytes)
//   demo-workload: unsealed <policy>: <text>
//   demo-workload: seal <policy> refused: <status> <code>: <message>
//   demo-workload: unseal <policy> refused: <status> <code>: <message>
// A refusal is an outcome the tests look for, not a failure: the exit status is 0 unless the
// agent could not be reached or a file could not be read or written.
#pragma once

namespace cvm::workload {

int seal_probe(const char* dir, const char* const* policies, int count, const char* socket_path);

}  // namespace cvm::workload
