#!/usr/bin/env bash
# `cvm verify --json` (cvm.verify/2): every vector's output — passing and failing, a report that
# does not parse, simulated evidence — validated against docs/schema/cvm.verify-2.json by
# Debian's python3-jsonschema (validate_verify_json.py); the example policy's rules
# (docs/verify-policy.jq, the jq twin of docs/verify-policy.rego) run on those outputs with a
# case each rule denies; `cvm verify --print-policy strict` read back by `--policy`.
# Usage: cvm_verify_json.sh CVM VECTORS_DIR SOURCE_ROOT
# Needs /usr/bin/python3 with python3-jsonschema and jq (scripts/setup installs both): without
# them exits 77 (skipped), or 1 under CI=true.
set -uo pipefail
cvm=$(realpath "$1")
vectors=$(realpath "$2")/snp-reports
src=$(realpath "$3")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"
check() {  # check NAME CONDITION-STATUS [DETAIL]
  if [[ $2 -eq 0 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED $1 ${3:-}"; fi
}

# Debian's python3 explicitly: the validator must be the packaged one, not whatever is on PATH.
if ! /usr/bin/python3 -c 'from jsonschema import Draft202012Validator' 2>/dev/null || ! command -v jq >/dev/null; then
  echo "needs /usr/bin/python3 with python3-jsonschema and jq (apt-get install python3-jsonschema jq)"
  [[ ${CI:-} == true ]] && exit 1
  exit 77
fi

# run NAME ARGS...: one `cvm verify --json` run, kept as cases/NAME.json and its exit status.
mkdir "$tmp/cases"
run() {
  local name=$1; shift
  "$cvm" verify --json "$@" >"$tmp/cases/$name.json" 2>"$tmp/cases/$name.err"
  echo $? >"$tmp/cases/$name.status"
}
m_of() { head -c $((0x90 + 48)) "$1" | tail -c 48 | od -An -tx1 -v | tr -d ' \n'; }

# Revocation: the real AMD CRLs of tests/vectors/amd_crls, judged at a time inside their
# validity (--at); the VLEK vectors have no published VLEK CRL, so their runs turn revocation
# off. Every AMD-rooted run names its CRL or --offline, so that no run asks the real KDS.
crls=$vectors/amd_crls
norev=(--no-revocation)
milan_crl=(--crl "$crls/milan_vcek_reprobuild-n12.crl" --at 2026-10-01T00:00:00Z)
genoa_crl=(--crl "$crls/genoa_vcek_reprobuild-n11.crl" --at 2026-10-01T00:00:00Z)
turin_crl=(--crl "$crls/turin_vcek_reprobuild-n8.crl" --at 2026-10-01T00:00:00Z)

run milan_v2 --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/virtee_milan_v2" "${milan_crl[@]}"
run milan_v2_dates --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/virtee_milan_v2" "${milan_crl[@]}" \
  --check-dates
run milan_v2_norev --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/virtee_milan_v2" "${norev[@]}"
# No CRL at hand: KDS not asked (--offline), nothing cached.
run milan_v2_nocrl --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/virtee_milan_v2" --offline \
  --cache-dir "$tmp/empty-cache"
run milan_debug --report "$vectors/gosevguest_milan_v2/report.bin" --certs "$vectors/gosevguest_milan_v2" \
  "${milan_crl[@]}"
run milan_wrong_certs --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/gosevguest_milan_v2" \
  "${milan_crl[@]}"
run vlek_sigfail --report "$vectors/constellation_vlek_v2_SIGFAIL/report.bin" \
  --certs "$vectors/constellation_vlek_v2_SIGFAIL" "${norev[@]}"
run vlek_v3 --report "$vectors/trustee_milan_vlek_v3/report.bin" --certs "$vectors/trustee_milan_vlek_v3" "${norev[@]}"
run vlek_v3_table --report "$vectors/trustee_milan_vlek_v3/report.bin" \
  --cert-table "$vectors/trustee_milan_vlek_v3/certs_table_SYNTH.bin" "${norev[@]}"
run genoa_v3 --report "$vectors/trustee_azure_genoa_v3/report.bin" --certs "$vectors/trustee_azure_genoa_v3" \
  "${genoa_crl[@]}"
run turin_v5 --report "$vectors/oak_turin_v5/report.bin" --certs "$vectors/oak_turin_v5" "${turin_crl[@]}"
run turin_v5_table --report "$vectors/oak_turin_v5/report.bin" --cert-table "$vectors/oak_turin_v5/certs_table_SYNTH.bin" \
  "${turin_crl[@]}"
# Reports that do not parse: the 2600-byte Azure HCL wrapper, a truncated report, one byte off.
run hcl_wrapper --report "$vectors/trustee_azure_genoa_v3/hcl_report.bin" --certs "$vectors/trustee_azure_genoa_v3" \
  "${genoa_crl[@]}"
head -c 1000 "$vectors/virtee_milan_v2/report.bin" >"$tmp/short.bin"
run truncated --report "$tmp/short.bin" --certs "$vectors/virtee_milan_v2" "${milan_crl[@]}"
{ head -c 1183 "$vectors/virtee_milan_v2/report.bin"; printf '\001'; } >"$tmp/tail.bin"
run reserved_tail --report "$tmp/tail.bin" --certs "$vectors/virtee_milan_v2" "${milan_crl[@]}"
m=$(m_of "$vectors/virtee_milan_v2/report.bin")
printf 'measurements = ["%s"]\nmax_vmpl = 0\n' "$m" >"$tmp/good.toml"
printf 'measurements = ["%s"]\n' "$(printf '%096d' 0)" >"$tmp/other.toml"
run milan_policy --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/virtee_milan_v2" "${milan_crl[@]}" \
  --policy "$tmp/good.toml"
run milan_other_measurement --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/virtee_milan_v2" \
  "${milan_crl[@]}" --policy "$tmp/other.toml"

# Simulated evidence (cvm sim): with its root trusted, and without.
plat=$tmp/plat
sim_m=$(printf 'ab%.0s' $(seq 48))
"$cvm" sim init "$plat" >/dev/null
"$cvm" sim report "$plat" --report-data "$(printf '5a%.0s' $(seq 64))" --measurement "$sim_m" -o "$tmp/sim.bin" >/dev/null
run sim --report "$tmp/sim.bin" --certs "$plat" --trusted-root "$plat/ark.pem" --crl "$plat/crl.der"
run sim_untrusted --report "$tmp/sim.bin" --certs "$plat" --crl "$plat/crl.der"

/usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/validate_verify_json.py" "$src/docs/schema/cvm.verify-2.json" \
  "$tmp/cases"
check "the schema validation" $?

# Every claim the schema promises is explained in docs/verify.md.
undocumented=$(for c in $(jq -r '.properties.claims.required[]' "$src/docs/schema/cvm.verify-2.json"); do
  grep -qF "\`$c\`" "$src/docs/verify.md" || echo "$c"; done)
[[ -z $undocumented ]]
check "every claim is in docs/verify.md" $? "$undocumented"

# Facts of particular cases, read as a policy engine would.
fact() {  # fact CASE JQ-EXPRESSION: the expression is true on that case's output
  jq -e "$2" "$tmp/cases/$1.json" >/dev/null
  check "$1: $2" $? "$(head -c 300 "$tmp/cases/$1.err")"
}
fact milan_v2 '.verdict == "pass" and .product == "Milan" and .signer == "VCEK" and .simulated == false'
fact milan_v2 '.report.measurement == "'"$m"'" and .report.version == 2 and .report.cpuid_fam_id == null'
fact milan_v2 '.claims["chain.validity"] | .pass and (.found | startswith("not required"))'
fact milan_v2_dates '.claims["chain.validity"].found | startswith("not required") | not'
fact milan_v2_norev '.verdict == "pass" and (.claims["chain.revocation"] | .pass and (.found | startswith("disabled")))'
fact milan_v2_nocrl '.verdict == "fail" and (.claims["chain.revocation"].pass | not)'
fact milan_debug '.verdict == "fail" and .report.guest_policy.debug and (.claims["policy.debug"].pass | not)'
fact milan_debug '[.claims[] | select(.pass | not)] | length == 1'
fact milan_wrong_certs '.verdict == "fail" and (.claims["report.signature"].pass | not)'
fact vlek_sigfail '.signer == "VLEK" and (.claims["report.signature"].pass | not) and .claims["chain.vek"].pass'
fact vlek_v3 '.verdict == "pass" and .signer == "VLEK" and .report.vmpl == 1 and .report.signer_info.signing_key == "VLEK"'
fact genoa_v3 '.verdict == "pass" and .product == "Genoa" and .report.cpuid_fam_id == 25 and .report.launch_mit_vector == null'
fact turin_v5 '.verdict == "pass" and .report.platform_info.raw == "0x0000000000000067" and .report.reported_tcb.fmc != null'
fact turin_v5 '.report.platform_info | .smt_enabled and .alias_check_complete and (.tio_enabled | not)'
fact turin_v5 '.report.current_mit_vector | test("^0x[0-9a-f]{16}$")'
for c in hcl_wrapper truncated reserved_tail; do
  fact $c '.verdict == "fail" and .report == null and (.claims["report.format"].pass | not)'
  fact $c '[.claims | to_entries[] | select(.key | startswith("policy.")) | .value.found == "not checked" and (.value.pass | not)] | all'
done
fact milan_policy '.verdict == "pass" and .claims["policy.measurement"].pass'
fact milan_other_measurement '.verdict == "fail" and (.claims["policy.measurement"].pass | not)'
fact sim '.verdict == "pass" and .simulated and .claims["policy.simulated"].pass'
fact sim_untrusted '.verdict == "fail" and (.claims["chain.ark"].pass | not) and .simulated == false'

# The example policy: the jq rules are the Rego rules, in the same order with the same reasons.
rego_rules=$(sed -nE 's/^deny contains "([^"]*)" if .*/\1/p' "$src/docs/verify-policy.rego")
jq_rules=$(sed -nE 's/.*\| "([^"]*)"\),?$/\1/p' "$src/docs/verify-policy.jq")
[[ -n $rego_rules && $rego_rules == "$jq_rules" ]]
check "verify-policy.jq has the rules of verify-policy.rego" $? "$(diff <(echo "$rego_rules") <(echo "$jq_rules"))"

# Each case's denials: one rule per line of verify-policy.jq, on real outputs.
genoa_m=$(m_of "$vectors/trustee_azure_genoa_v3/report.bin")
turin_m=$(m_of "$vectors/oak_turin_v5/report.bin")
data='{"measurements": ["'$m'", "'$genoa_m'", "'$turin_m'", "'$sim_m'"],
       "min_tcb": {"Milan": {"snp": 8}, "Genoa": {"snp": 22}, "Turin": {"snp": 1}}}'
denies() {  # denies CASE [REASON-PREFIX...]: exactly these rules deny the case
  local got want
  got=$(jq -r --argjson data "$data" -f "$src/docs/verify-policy.jq" "$tmp/cases/$1.json" | jq -r '.[] | sub(":.*"; "")')
  want=$(printf '%s\n' "${@:2}")
  [[ $got == "$want" ]]
  check "policy rules on $1" $? "denied [$(echo $got)], expected [$(echo $want)]"
}
jq '.schema = "cvm.verify/1"' "$tmp/cases/turin_v5.json" >"$tmp/cases/old_schema.json"
denies turin_v5
denies genoa_v3
denies old_schema schema
denies milan_debug verdict policy.debug measurement reported_tcb platform_info
denies sim simulated platform_info
denies vlek_sigfail verdict report.signature chain.revocation measurement platform_info
denies vlek_v3 chain.revocation measurement vmpl
denies milan_v2 platform_info
denies hcl_wrapper verdict report.signature policy.debug measurement vmpl reported_tcb platform_info

# --print-policy strict: a policy file that --policy refuses until measurements are filled in,
# then accepts, applying the strict rules.
expect "print-policy strict" 0 'revocation = true' -- verify --print-policy strict
"$cvm" verify --print-policy strict >"$tmp/strict.toml"
"$cvm" verify --print-policy strict --allow-smt >"$tmp/strict-smt.toml"
! cmp -s "$tmp/strict.toml" "$tmp/strict-smt.toml"
check "--allow-smt changes the printed policy" $?
expect "print-policy with evidence refused" 2 '--print-policy does not take --report' -- \
  verify --print-policy strict --report "$vectors/virtee_milan_v2/report.bin"
expect "print-policy unknown profile" 2 '--print-policy lax: expected strict' -- verify --print-policy lax
expect "allow-smt alone refused" 2 '--allow-smt goes with --print-policy' -- \
  verify --allow-smt --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/virtee_milan_v2"
expect "strict policy unfilled is refused" 2 'measurements' -- \
  verify --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/virtee_milan_v2" --policy "$tmp/strict.toml"
fill() {  # fill IN OUT MEASUREMENT: the printed placeholder replaced by one measurement
  sed -E 's/^#? *measurements = .*/measurements = ["'"$3"'"]/' "$1" >"$2"
  grep -q "^measurements = \[\"$3\"\]" "$2"
}
fill "$tmp/strict.toml" "$tmp/strict-turin.toml" "$turin_m"
check "strict policy filled in" $?
# Turin v5: PLATFORM_INFO 0x67 has SMT and ALIAS_CHECK_COMPLETE: strict forbids SMT unless --allow-smt.
run strict_turin --report "$vectors/oak_turin_v5/report.bin" --certs "$vectors/oak_turin_v5" "${turin_crl[@]}" \
  --policy "$tmp/strict-turin.toml"
fact strict_turin '.claims["policy.measurement"].pass and .claims["policy.platform_info"].pass'
fact strict_turin '.claims["policy.platform_info_forbidden"].pass | not'
fill "$tmp/strict-smt.toml" "$tmp/strict-smt-turin.toml" "$turin_m"
run strict_smt_turin --report "$vectors/oak_turin_v5/report.bin" --certs "$vectors/oak_turin_v5" "${turin_crl[@]}" \
  --policy "$tmp/strict-smt-turin.toml"
fact strict_smt_turin '.claims["policy.platform_info_forbidden"].pass'
fact strict_smt_turin '.claims["policy.measurement"].pass and .claims["policy.committed_tcb"].found != "not checked"'
# Milan v2 (virtee): no ALIAS_CHECK_COMPLETE, which strict requires.
fill "$tmp/strict-smt.toml" "$tmp/strict-milan.toml" "$m"
run strict_milan --report "$vectors/virtee_milan_v2/report.bin" --certs "$vectors/virtee_milan_v2" "${milan_crl[@]}" \
  --policy "$tmp/strict-milan.toml"
fact strict_milan '.verdict == "fail" and (.claims["policy.platform_info"].pass | not)'

echo "$passed passed, $failed failed"
((failed == 0))
