#!/usr/bin/env bash
# Black-box tests of RA-TLS on the host: `cvm attest https://...` against a test RA-TLS server on
# loopback (ratls_server: the workload's server library with evidence from a `cvm sim init`
# platform) — a good certificate with and without a nonce, a replayed one for another nonce, one
# whose evidence binds another key, a plain TLS server — and `cvm verify --ratls` on certificates,
# `cvm verify --user-data` on reports whose REPORT_DATA this script computes on its own (the
# binding of proto/tags.h: SHA-512 of the tag, 0x00, u16be length, user data), good and bad. Every
# --json output is checked against the published schema.
# Usage: cvm_attest.sh CVM RATLS_SERVER SOURCE_ROOT
set -uo pipefail
cvm=$1
server=$2
src=$3
tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"

plat=$tmp/plat
"$cvm" sim init "$plat" >/dev/null || { echo "cvm sim init failed"; exit 1; }
measurement=$(printf '5a%.0s' $(seq 48))
printf 'allow_simulated = true\nmeasurements = ["%s"]\n' "$measurement" >"$tmp/policy.toml"
printf 'allow_simulated = true\nmeasurements = ["%s"]\n' "$(printf '11%.0s' $(seq 48))" >"$tmp/other.toml"
cp "$tmp/policy.toml" "$tmp/sim.toml"
nonce=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff

start() { # MODE: starts a server, sets $port
  local file=$tmp/$1.port
  "$server" "$plat" serve "$1" "$file" 2>"$tmp/$1.log" &
  pids+=($!)
  for _ in $(seq 100); do [[ -s $file ]] && break; sleep 0.1; done
  port=$(cat "$file")
}

# json NAME JQ -- ARGS...: cvm ARGS --json; the output is valid cvm.verify/2 and JQ holds on it.
json() {
  local name=$1 filter=$2
  shift 3
  local out="$tmp/json-$passed-$failed.json"
  "$cvm" "$@" --json >"$out" 2>"$tmp/json.err"
  if /usr/bin/python3 - "$src/docs/schema/cvm.verify-2.json" "$out" <<'PY' && jq -e "$filter" "$out" >/dev/null; then
import json, sys
from jsonschema import Draft202012Validator
errors = list(Draft202012Validator(json.load(open(sys.argv[1]))).iter_errors(json.load(open(sys.argv[2]))))
for e in errors[:5]:
    print(f"{list(e.absolute_path)}: {e.message}")
sys.exit(1 if errors else 0)
PY
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    printf 'FAILED %s: %s\n' "$name" "$filter"
    head -c 2000 "$out"
    cat "$tmp/json.err"
  fi
}

trust=(--sim-dir "$plat")
sim=(--policy "$tmp/sim.toml")

start good
good=https://127.0.0.1:$port
expect "attest: good certificate, fresh for our nonce" 0 '^verdict: PASS' -- attest "$good" --nonce "$nonce" "${trust[@]}" --policy "$tmp/policy.toml"
expect "attest: the nonce claim shows it" 0 "^PASS +ratls\.nonce +.*$nonce" -- attest "$good" --nonce "$nonce" "${trust[@]}" "${sim[@]}"
expect "attest: the handshake proved possession" 0 '^PASS +tls\.key_possession' -- attest "$good" --nonce "$nonce" "${trust[@]}" "${sim[@]}"
expect "attest: the issuer report is verified too" 0 '^PASS +issuer\.report\.signature' -- attest "$good" --nonce "$nonce" "${trust[@]}" "${sim[@]}"
expect "attest: without a nonce, freshness is not checked" 0 '^PASS +ratls\.nonce +not requested' -- attest "$good" "${trust[@]}" "${sim[@]}"
expect "attest: by host name (sent as SNI), without a nonce" 0 '^PASS +ratls\.nonce +not requested' -- attest "https://localhost:$port" "${trust[@]}" "${sim[@]}"
expect "attest: the policy still decides" 1 '^FAIL +policy\.measurement ' -- attest "$good" --nonce "$nonce" "${trust[@]}" --policy "$tmp/other.toml"
expect "attest: simulated evidence is refused without its root" 1 '^FAIL +chain\.(ark|ask) ' -- attest "$good" --nonce "$nonce" --crl "$plat/crl.der" "${sim[@]}"
expect "attest: a nonce over 32 bytes does not fit SNI" 2 'expected 1 to 32 bytes' -- attest "$good" --nonce "$nonce$nonce" "${trust[@]}" "${sim[@]}"
expect "attest: http:// is refused" 2 'expected an https:// URL' -- attest "http://127.0.0.1:$port" "${trust[@]}" "${sim[@]}"
json "attest --json: fresh and valid" '.verdict == "pass" and .simulated and (.claims["ratls.nonce"].pass) and (.claims["tls.key_possession"].pass) and (.report.measurement == "'"$measurement"'")' -- attest "$good" --nonce "$nonce" "${trust[@]}" --policy "$tmp/policy.toml"

start stale
expect "attest: a certificate made for another nonce is refused" 1 '^FAIL +ratls\.nonce +found nonce [0-9a-f]+, expected nonce '"$nonce" -- attest "https://127.0.0.1:$port" --nonce "$nonce" "${trust[@]}" "${sim[@]}"
expect "attest: and the handshake was aborted" 1 '^FAIL +tls\.key_possession +found not checked' -- attest "https://127.0.0.1:$port" --nonce "$nonce" "${trust[@]}" "${sim[@]}"
json "attest --json: stale nonce" '.verdict == "fail" and (.claims["ratls.nonce"].pass | not) and .claims["ratls.subject_binding"].pass' -- attest "https://127.0.0.1:$port" --nonce "$nonce" "${trust[@]}" "${sim[@]}"

start other-key
expect "attest: evidence for another key is refused" 1 '^FAIL +ratls\.subject_binding ' -- attest "https://127.0.0.1:$port" --nonce "$nonce" "${trust[@]}" "${sim[@]}"

start plain
expect "attest: a plain TLS server is not RA-TLS" 1 'did not present an RA-TLS certificate' -- attest "https://127.0.0.1:$port" --nonce "$nonce" "${trust[@]}" "${sim[@]}"

expect "attest: nothing listening is a connection error" 2 '' -- attest "https://127.0.0.1:1" "${trust[@]}" "${sim[@]}"

# cvm verify --ratls on certificates.
"$server" "$plat" issue good "$tmp/good.pem" "$nonce" || failed=$((failed + 1))
"$server" "$plat" issue other-key "$tmp/other-key.pem" "$nonce" || failed=$((failed + 1))
"$server" "$plat" issue good "$tmp/unbound.pem" || failed=$((failed + 1))
expect "verify --ratls: good" 0 '^verdict: PASS' -- verify --ratls "$tmp/good.pem" --nonce "$nonce" "${trust[@]}" --policy "$tmp/policy.toml"
expect "verify --ratls: without --nonce, not requested" 0 '^PASS +ratls\.nonce +not requested' -- verify --ratls "$tmp/good.pem" "${trust[@]}" "${sim[@]}"
expect "verify --ratls: the wrong nonce" 1 '^FAIL +ratls\.nonce ' -- verify --ratls "$tmp/good.pem" --nonce "${nonce/00/ff}" "${trust[@]}" "${sim[@]}"
expect "verify --ratls: a certificate without nonce asked for one" 1 '^FAIL +ratls\.nonce ' -- verify --ratls "$tmp/unbound.pem" --nonce "$nonce" "${trust[@]}" "${sim[@]}"
expect "verify --ratls: evidence for another key" 1 '^FAIL +ratls\.subject_binding ' -- verify --ratls "$tmp/other-key.pem" --nonce "$nonce" "${trust[@]}" "${sim[@]}"
expect "verify --ratls: the wrong binding" 1 '^FAIL +ratls\.subject_binding ' -- verify --ratls "$tmp/good.pem" --binding agent-key "${trust[@]}" "${sim[@]}"
expect "verify --ratls: a broker binding's nonce is a 64-byte report_data" 2 'expected the 64-byte cvmkb/1 report_data' -- verify --ratls "$tmp/good.pem" --binding broker --nonce "$nonce" "${trust[@]}" "${sim[@]}"
expect "verify --ratls: an unknown binding" 2 'expected workload, agent-key or broker' -- verify --ratls "$tmp/good.pem" --binding root "${trust[@]}" "${sim[@]}"
expect "verify --ratls: a report's flags do not mix in" 2 'does not take --report' -- verify --ratls "$tmp/good.pem" --report "$tmp/good.pem" "${trust[@]}" "${sim[@]}"
expect "verify --ratls: a file that is not a certificate" 1 'cvm verify: ' -- verify --ratls "$plat/platform.toml" "${trust[@]}" "${sim[@]}"
json "verify --ratls --json" '.verdict == "pass" and .claims["ratls.same_launch"].pass and .claims["issuer.chain.vek"].pass and (.claims | has("tls.key_possession") | not)' -- verify --ratls "$tmp/good.pem" --nonce "$nonce" "${trust[@]}" "${sim[@]}"
json "verify --ratls --json, other key" '.verdict == "fail" and (.claims["ratls.subject_binding"].pass | not)' -- verify --ratls "$tmp/other-key.pem" "${trust[@]}" "${sim[@]}"

# cvm verify --user-data: REPORT_DATA computed here, independently of the C++ code.
user_data_binding() { # HEX: SHA-512("cvminit workload/1 user-data" || 0x00 || u16be(len) || bytes)
  local hex=$1 len=$((${#1} / 2))
  { printf 'cvminit workload/1 user-data\0'
    printf "\\x$(printf '%02x' $((len >> 8)))\\x$(printf '%02x' $((len & 255)))"
    printf '%s' "$hex" | xxd -r -p; } | sha512sum | cut -d' ' -f1
}
user=$(printf 'c0ffee%.0s' $(seq 10))
for data in "$user" ""; do
  "$cvm" sim report "$plat" --report-data "$(user_data_binding "$data")" --measurement "$measurement" \
    -o "$tmp/user${#data}.bin" >/dev/null || failed=$((failed + 1))
done
expect "verify --user-data: good" 0 '^PASS +binding\.user_data ' -- verify --report "$tmp/user60.bin" --certs "$plat" --user-data "$user" "${trust[@]}" "${sim[@]}"
expect "verify --user-data: empty user data" 0 '^verdict: PASS' -- verify --report "$tmp/user0.bin" --certs "$plat" --user-data "" "${trust[@]}" "${sim[@]}"
expect "verify --user-data: other user data" 1 '^FAIL +binding\.user_data +found [0-9a-f]{128}, expected [0-9a-f]{128}: .*cvminit workload/1 user-data' -- verify --report "$tmp/user60.bin" --certs "$plat" --user-data "${user/c0/c1}" "${trust[@]}" "${sim[@]}"
expect "verify --user-data: a report made for nothing of the kind" 1 '^FAIL +binding\.user_data ' -- verify --report "$tmp/user0.bin" --certs "$plat" --user-data "$user" "${trust[@]}" "${sim[@]}"
expect "verify --user-data: over 64 bytes" 2 'expected 0 to 64 bytes' -- verify --report "$tmp/user0.bin" --certs "$plat" --user-data "$(printf '00%.0s' $(seq 65))" "${trust[@]}" "${sim[@]}"
expect "verify --user-data: not hex" 2 'expected 0 to 64 bytes' -- verify --report "$tmp/user0.bin" --certs "$plat" --user-data "xyz" "${trust[@]}" "${sim[@]}"
json "verify --user-data --json" '.verdict == "pass" and .claims["binding.user_data"].pass' -- verify --report "$tmp/user60.bin" --certs "$plat" --user-data "$user" "${trust[@]}" "${sim[@]}"
json "verify --user-data --json, bad" '.verdict == "fail" and (.claims["binding.user_data"].pass | not)' -- verify --report "$tmp/user60.bin" --certs "$plat" --user-data "" "${trust[@]}" "${sim[@]}"

echo "cvm_attest: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
