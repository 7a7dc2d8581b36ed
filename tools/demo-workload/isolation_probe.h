// The demo workload's --probe-isolation mode (isolation_probe.cc): tries each way a workload
// could reach the SEV-SNP report interface or remake it, prints one line per attempt with the
// errno that refused it and "isolation: N of M attempts refused". Returns the exit status: 0
// when every attempt was refused, 1 otherwise.
#pragma once

int probe_isolation();
