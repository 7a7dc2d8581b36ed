#!/usr/bin/env bash
# Black-box tests of `cvm verify`: runs the built binary on the real vectors and checks exit
# status and output. Usage: cvm_verify.sh CVM VECTORS_DIR
set -uo pipefail
cvm=$1
vectors=$2/snp-reports
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

# expect NAME STATUS PATTERN -- ARGS...: runs cvm, requires the exit status and a line matching
# the extended regex PATTERN in stdout+stderr.
expect() {
  local name=$1 want=$2 pattern=$3
  shift 4
  local out status
  out=$("$cvm" "$@" 2>&1)
  status=$?
  if [[ $status -eq $want ]] && grep -Eq -- "$pattern" <<<"$out"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    printf 'FAILED %s: status %s (expected %s), pattern /%s/\n%s\n' "$name" "$status" "$want" "$pattern" "$out"
  fi
}

expect "help" 0 '^usage: cvm verify' -- verify --help
expect "top-level help" 0 '^  verify ' -- --help
expect "no command" 2 '^usage: cvm' --
expect "unknown command" 2 "unknown command 'frobnicate'" -- frobnicate
expect "missing report" 2 'needs --report' -- verify --certs "$vectors/virtee_milan_v2"
expect "unknown option" 2 "unknown option '--frob'" -- verify --frob
expect "unreadable report" 2 'cannot open' -- verify --report "$tmp/none.bin" --certs "$vectors/virtee_milan_v2"

expect "Milan v2 passes" 0 '^verdict: PASS' -- verify --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/virtee_milan_v2"
expect "Milan v2 prints its measurement" 0 '^measurement: 7a1e5c266c0108db' -- \
  verify --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/virtee_milan_v2"
expect "Genoa v3 passes" 0 '^verdict: PASS' -- verify --report "$vectors/trustee_azure_genoa_v3/report.bin" --certs "$vectors/trustee_azure_genoa_v3"
expect "Turin v5 passes from its cert table" 0 '^verdict: PASS' -- \
  verify --report "$vectors/oak_turin_v5/report.bin" --cert-table "$vectors/oak_turin_v5/certs_table_SYNTH.bin"
expect "VLEK passes" 0 '^verdict: PASS' -- verify --report "$vectors/trustee_milan_vlek_v3/report.bin" --certs "$vectors/trustee_milan_vlek_v3"
expect "DEBUG vector fails on debug" 1 '^FAIL +policy\.debug' -- \
  verify --report "$vectors/gosevguest_milan_v2/report.bin" --certs "$vectors/gosevguest_milan_v2"
expect "DEBUG vector fails once" 1 '^verdict: FAIL \(1 of [0-9]+ claims failed\)' -- \
  verify --report "$vectors/gosevguest_milan_v2/report.bin" --certs "$vectors/gosevguest_milan_v2"
expect "SIGFAIL fails on the signature" 1 '^FAIL +report\.signature' -- \
  verify --report "$vectors/constellation_vlek_v2_SIGFAIL/report.bin" --certs "$vectors/constellation_vlek_v2_SIGFAIL"
expect "wrong certificates fail the chain binding" 1 '^verdict: FAIL' -- \
  verify --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/gosevguest_milan_v2"

# Policy files.
m=$(head -c $((0x90 + 48)) "$vectors/virtee_milan_v2/report.bin" | tail -c 48 | od -An -tx1 -v | tr -d ' \n')
printf 'measurements = ["%s"]\nmax_vmpl = 0\n' "$m" >"$tmp/good.toml"
printf 'measurements = ["%s"]\n' "$(printf '%096d' 0)" >"$tmp/other.toml"
printf 'measurements = ["%s"]\nmax_vmpl = 0\nallow_debugg = true\n' "$m" >"$tmp/typo.toml"
expect "policy with the measurement passes" 0 '^PASS +policy\.measurement' -- \
  verify --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/virtee_milan_v2" --policy "$tmp/good.toml"
expect "policy with another measurement fails" 1 '^FAIL +policy\.measurement' -- \
  verify --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/virtee_milan_v2" --policy "$tmp/other.toml"
expect "policy typo is a usage error" 2 "allow_debugg" -- \
  verify --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/virtee_milan_v2" --policy "$tmp/typo.toml"

# JSON: flat, parseable, verdict included.
json_check() {
  "$cvm" verify --json "$@" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert all(not isinstance(v, dict) for v in d.values()), "nested object"
print(d["verdict"], d["measurement"][:16], d["policy.debug"])'
}
out=$(json_check --report "$vectors/gosevguest_milan_v2/report.bin" --certs "$vectors/gosevguest_milan_v2")
if [[ $out == "fail b07af9620f3b839b False" ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED json: $out"; fi

echo "$passed passed, $failed failed"
((failed == 0))
