#!/usr/bin/env bash
# Black-box tests of `cvm verify`: runs the built binary on the real vectors and checks exit
# status and output. Usage: cvm_verify.sh CVM VECTORS_DIR
set -uo pipefail
cvm=$1
vectors=$2/snp-reports
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"

# Revocation is on by default and would ask AMD's KDS for the CRL: these tests give the real AMD
# CRLs (tests/vectors/snp-reports/amd_crls) checked at a time inside their validity, or say
# --no-revocation where no CRL exists (the VLEK vectors: no VLEK CRL is in the vectors).
crls=$vectors/amd_crls
milan_crl=(--crl "$crls/milan_vcek_reprobuild-n12.crl" --at 2026-10-01)
genoa_crl=(--crl "$crls/genoa_vcek_reprobuild-n11.crl" --at 2026-10-01)
turin_crl=(--crl "$crls/turin_vcek_reprobuild-n8.crl" --at 2026-10-01)

expect "help" 0 '^usage: cvm verify' -- verify --help
expect "top-level help" 0 '^  verify ' -- --help
expect "no command" 2 '^usage: cvm' --
expect "unknown command" 2 "unknown command 'frobnicate'" -- frobnicate
expect "missing report" 2 'needs --report' -- verify --certs "$vectors/virtee_milan_v2"
expect "unknown option" 2 "unknown option '--frob'" -- verify --frob
expect "unreadable report" 2 'cannot open' -- verify --report "$tmp/none.bin" --certs "$vectors/virtee_milan_v2"

expect "Milan v2 passes" 0 '^verdict: PASS' -- verify --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/virtee_milan_v2" "${milan_crl[@]}"
expect "Milan v2 prints its measurement" 0 '^measurement: 7a1e5c266c0108db' -- \
  verify --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/virtee_milan_v2" "${milan_crl[@]}"
expect "Genoa v3 passes" 0 '^verdict: PASS' -- verify --report "$vectors/trustee_azure_genoa_v3/report.bin" --certs "$vectors/trustee_azure_genoa_v3" "${genoa_crl[@]}"
expect "Turin v5 passes from its cert table" 0 '^verdict: PASS' -- \
  verify --report "$vectors/oak_turin_v5/report.bin" --cert-table "$vectors/oak_turin_v5/certs_table_SYNTH.bin" "${turin_crl[@]}"
expect "VLEK passes" 0 '^verdict: PASS' -- verify --report "$vectors/trustee_milan_vlek_v3/report.bin" --certs "$vectors/trustee_milan_vlek_v3" --no-revocation
expect "DEBUG vector fails on debug" 1 '^FAIL +policy\.debug' -- \
  verify --report "$vectors/gosevguest_milan_v2/report.bin" --certs "$vectors/gosevguest_milan_v2" "${milan_crl[@]}"
expect "DEBUG vector fails once" 1 '^verdict: FAIL \(1 of [0-9]+ claims failed\)' -- \
  verify --report "$vectors/gosevguest_milan_v2/report.bin" --certs "$vectors/gosevguest_milan_v2" "${milan_crl[@]}"
expect "SIGFAIL fails on the signature" 1 '^FAIL +report\.signature' -- \
  verify --report "$vectors/constellation_vlek_v2_SIGFAIL/report.bin" --certs "$vectors/constellation_vlek_v2_SIGFAIL" --no-revocation
expect "wrong certificates fail the chain binding" 1 '^verdict: FAIL' -- \
  verify --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/gosevguest_milan_v2" "${milan_crl[@]}"

# Revocation with --crl: AMD's real CRLs, and the ways a CRL fails.
milan=(verify --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/virtee_milan_v2")
expect "crl: AMD's CRL, not revoked" 0 '^PASS +chain\.revocation +not revoked \(CRL sha256:' -- "${milan[@]}" "${milan_crl[@]}"
expect "crl: says where it came from" 0 "CRL from $crls/milan_vcek_reprobuild-n12.crl" -- "${milan[@]}" "${milan_crl[@]}"
expect "crl: PEM works as DER" 0 '^verdict: PASS' -- "${milan[@]}" --crl <(openssl crl -inform DER -in "$crls/milan_vcek_reprobuild-n12.crl") --at 2026-10-01
expect "crl: expired by the host clock" 1 '^FAIL +chain\.revocation +found nextUpdate 2026-11-09T01:00:00Z, expected now <= nextUpdate' -- \
  "${milan[@]}" --crl "$crls/milan_vcek_reprobuild-n12.crl"
expect "crl: not yet valid" 1 '^FAIL +chain\.revocation +found thisUpdate 2026-09-22' -- \
  "${milan[@]}" --crl "$crls/milan_vcek_reprobuild-n12.crl" --at 2026-09-01
expect "crl: another product's ARK issued it" 1 '^FAIL +chain\.revocation .*issued by another Name' -- \
  "${milan[@]}" --crl "$crls/genoa_vcek_reprobuild-n11.crl" --at 2026-10-01
"$cvm" sim init "$tmp/sim" >/dev/null
"$cvm" sim crl "$tmp/sim" --out "$tmp/sim-crl.der" >/dev/null
"$cvm" sim report "$tmp/sim" --report-data "$(printf '%0128d' 0)" --measurement "$(printf '%096d' 0)" \
  -o "$tmp/sim-report.bin" --cert-table "$tmp/sim-table.bin" >/dev/null
expect "crl: signed by another key (a simulated ARK)" 1 '^FAIL +chain\.revocation .*issued by another Name' -- \
  "${milan[@]}" --crl "$tmp/sim-crl.der"
expect "crl: garbage" 1 '^FAIL +chain\.revocation +found a CRL that does not parse' -- "${milan[@]}" --crl "$vectors/virtee_milan_v2/vcek.der"
expect "crl: --no-revocation shows" 0 '^PASS +chain\.revocation +disabled by --no-revocation' -- "${milan[@]}" --no-revocation
expect "crl: --no-revocation said on stderr" 0 'revocation not checked: turned off by --no-revocation' -- "${milan[@]}" --no-revocation
printf 'measurements = ["%s"]\nrevocation = false\n' "$(head -c $((0x90 + 48)) "$vectors/virtee_milan_v2/report.bin" | tail -c 48 | od -An -tx1 -v | tr -d ' \n')" >"$tmp/norev.toml"
expect "crl: policy revocation = false shows" 0 '^PASS +chain\.revocation +disabled by policy revocation = false' -- \
  "${milan[@]}" --policy "$tmp/norev.toml"
expect "crl: --crl with --no-revocation" 2 'contradict' -- "${milan[@]}" --no-revocation "${milan_crl[@]}"
expect "crl: bad --at" 2 'expected seconds since the epoch or YYYY-MM-DD' -- "${milan[@]}" --crl "$crls/milan_vcek_reprobuild-n12.crl" --at yesterday

# Policy files.
m=$(head -c $((0x90 + 48)) "$vectors/virtee_milan_v2/report.bin" | tail -c 48 | od -An -tx1 -v | tr -d ' \n')
printf 'measurements = ["%s"]\nmax_vmpl = 0\n' "$m" >"$tmp/good.toml"
printf 'measurements = ["%s"]\n' "$(printf '%096d' 0)" >"$tmp/other.toml"
printf 'measurements = ["%s"]\nmax_vmpl = 0\nallow_debugg = true\n' "$m" >"$tmp/typo.toml"
expect "policy with the measurement passes" 0 '^PASS +policy\.measurement' -- \
  verify --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/virtee_milan_v2" --policy "$tmp/good.toml" "${milan_crl[@]}"
expect "policy with another measurement fails" 1 '^FAIL +policy\.measurement' -- \
  verify --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/virtee_milan_v2" --policy "$tmp/other.toml" "${milan_crl[@]}"
expect "policy typo is a usage error" 2 "allow_debugg" -- \
  verify --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/virtee_milan_v2" --policy "$tmp/typo.toml"

# JSON: the cvm.verify/2 document (its schema and the policy rules: cvm_verify_json.sh).
json_check() {
  "$cvm" verify --json "$@" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["schema"], d["verdict"], d["report"]["measurement"][:16], d["report"]["guest_policy"]["debug"],
      d["claims"]["policy.debug"]["pass"])'
}
out=$(json_check --report "$vectors/gosevguest_milan_v2/report.bin" --certs "$vectors/gosevguest_milan_v2" "${milan_crl[@]}")
if [[ $out == "cvm.verify/2 fail b07af9620f3b839b True False" ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED json: $out"; fi

# --kds against a stand-in KDS on loopback that serves the vector files in KDS's URL layout.
report=$vectors/virtee_milan_v2/report.bin
hwid=$(head -c $((0x1A0 + 64)) "$report" | tail -c 64 | od -An -tx1 -v | tr -d ' \n')
mkdir -p "$tmp/kds/vcek/v1/Milan" "$tmp/cache"
cp "$vectors/virtee_milan_v2/vcek.der" "$tmp/kds/vcek/v1/Milan/$hwid"
cp "$vectors/amd_roots/cert_chain_vcek_milan.pem" "$tmp/kds/vcek/v1/Milan/cert_chain"
cp "$crls/milan_vcek_reprobuild-n12.crl" "$tmp/kds/vcek/v1/Milan/crl"
python3 -c '
import http.server, os, sys
os.chdir(sys.argv[1])
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
print(server.server_address[1], flush=True)
server.serve_forever()' "$tmp/kds" >"$tmp/port" &
kds_pid=$!
# It prints its port once it listens: wait for that (or its death), not for a fixed time.
for _ in $(seq 600); do [[ -s $tmp/port ]] && break; kill -0 "$kds_pid" 2>/dev/null || break; sleep 0.1; done
[[ -s $tmp/port ]] || { echo "FAILED: the KDS stand-in (python3 http.server) did not start"; kill "$kds_pid"; exit 1; }
kds_url=(--kds-url "http://127.0.0.1:$(cat "$tmp/port")")
kds=(verify --report "$report" --kds --product Milan "${kds_url[@]}" --cache-dir "$tmp/cache" --at 2026-10-01)
expect "kds: fetched from the network" 0 'VCEK from network' -- "${kds[@]}"
expect "kds: verdict" 0 '^verdict: PASS' -- "${kds[@]}"
# The CRL: fetched for the product and key family the evidence established, cached like the
# certificates, and a stale copy good only until its nextUpdate.
rm -rf "$tmp/cache"
expect "kds crl: from the network" 0 "CRL from network \(http://127.0.0.1:[0-9]+/vcek/v1/Milan/crl\)" -- "${kds[@]}"
crl_certs=(verify --report "$report" --certs "$vectors/virtee_milan_v2" "${kds_url[@]}" --cache-dir "$tmp/cache2")
expect "kds crl: also without --kds" 0 '^PASS +chain\.revocation +not revoked' -- "${crl_certs[@]}" --at 2026-10-01
expect "kds crl: the real clock is past its nextUpdate" 1 '^FAIL +chain\.revocation .*nextUpdate 2026-11-09' -- "${crl_certs[@]}"
expect "kds crl: a simulated root gets no KDS CRL" 1 '^FAIL +chain\.revocation +found no CRL.*crl\.der' -- \
  verify --report "$tmp/sim-report.bin" --cert-table "$tmp/sim-table.bin" --trusted-root "$tmp/sim/ark.pem" "${kds_url[@]}" --cache-dir "$tmp/cache3"
# A cached CRL fresh by the TTL but past its own nextUpdate is asked for again: its successor.
cp "$crls/milan_vcek_reprobuild-n11.crl" "$tmp/kds/vcek/v1/Milan/crl"
successor=(verify --report "$report" --certs "$vectors/virtee_milan_v2" "${kds_url[@]}" --cache-dir "$tmp/cache4")
expect "kds crl: n11 cached" 0 'CRL from network' -- "${successor[@]}" --at 2026-09-25
cp "$crls/milan_vcek_reprobuild-n12.crl" "$tmp/kds/vcek/v1/Milan/crl"
expect "kds crl: past its nextUpdate, asked again" 0 'cached CRL is past its nextUpdate 2026-10-04T00:00:00Z: asking KDS' -- \
  "${successor[@]}" --at 2026-10-10
expect "kds crl: the successor passes" 0 '^verdict: PASS' -- "${successor[@]}" --at 2026-10-10
kill "$kds_pid"; wait "$kds_pid" 2>/dev/null
expect "kds crl: fresh cache" 0 'CRL from cache-fresh' -- "${kds[@]}"
expect "kds crl: KDS down, stale copy inside nextUpdate passes" 0 'CRL from cache-stale .*KDS not used.*stale copy, nextUpdate 2026-11-09T01:00:00Z' -- "${kds[@]}" --cache-ttl 0
expect "kds crl: KDS down, stale copy inside nextUpdate: verdict" 0 '^verdict: PASS' -- "${kds[@]}" --cache-ttl 0
expect "kds crl: KDS down, stale copy past nextUpdate fails" 1 '^FAIL +chain\.revocation .*expected now <= nextUpdate' -- \
  "${kds[@]/2026-10-01/2026-11-10}" --cache-ttl 0
expect "kds crl: KDS down, no copy: no CRL" 1 '^FAIL +chain\.revocation +found no CRL' -- \
  verify --report "$report" --certs "$vectors/virtee_milan_v2" "${kds_url[@]}" --cache-dir "$tmp/empty-crl-cache"
expect "kds crl: KDS down, no copy: says why" 1 'no CRL from KDS: .*KDS_UNAVAILABLE' -- \
  verify --report "$report" --certs "$vectors/virtee_milan_v2" "${kds_url[@]}" --cache-dir "$tmp/empty-crl-cache"
expect "kds: fresh cache, no network" 0 'VCEK from cache-fresh' -- "${kds[@]}"
expect "kds: KDS down, stale cache serves" 0 'VCEK from cache-stale .*KDS not used' -- "${kds[@]}" --cache-ttl 0
expect "kds: offline uses the cache" 0 'VCEK from cache-' -- "${kds[@]}" --offline --cache-ttl 0
expect "kds: KDS down, empty cache" 2 'KDS_UNAVAILABLE' -- \
  verify --report "$report" --kds --product Milan "${kds_url[@]}" --cache-dir "$tmp/empty-cache"
expect "kds: v2 report needs --product" 2 'product' -- verify --report "$report" --kds --cache-dir "$tmp/cache" --offline
expect "kds: VLEK cannot come from KDS" 2 'VLEK' -- \
  verify --report "$vectors/trustee_milan_vlek_v3/report.bin" --kds --cache-dir "$tmp/cache" --offline

echo "$passed passed, $failed failed"
((failed == 0))
