#!/usr/bin/env bash
# Black-box tests of `cvm sim`: a simulated platform, reports from its PSP that `cvm verify`
# accepts only with the simulated root named explicitly, and the fw_cfg blobs.
# Usage: cvm_sim.sh CVM VECTORS_DIR
set -uo pipefail
cvm=$(realpath "$1")
fw=$(realpath "$2")/measure
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"

plat=$tmp/plat
rd=$(printf '5a%.0s' $(seq 64))
m=$(printf 'ab%.0s' $(seq 48))

expect "help" 0 '^usage: cvm sim init' -- sim --help
expect "listed" 0 '^  sim .*SIMULATED' -- --help
expect "no subcommand" 2 '^usage: cvm sim' -- sim
expect "unknown subcommand" 2 "unknown subcommand 'frob'" -- sim frob
expect "init" 0 '^The root is SIMULATED: trust it only explicitly' -- sim init "$plat"
expect "init again refuses" 2 'refusing to overwrite' -- sim init "$plat"
expect "bad product" 2 '--product Rome: expected Milan, Genoa or Turin' -- sim init "$tmp/rome" --product Rome
expect "short chip id" 2 '--chip-id: expected 128 hex digits' -- sim init "$tmp/chip" --chip-id abcd
[[ $(stat -c %a "$plat") == 700 && $(stat -c %a "$plat/vcek-key.pem") == 600 ]] && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAILED modes: $(stat -c '%a %n' "$plat" "$plat"/*)"; }

expect "report" 0 '^SIMULATED report \(Genoa, VMPL 0' -- \
  sim report "$plat" --report-data "$rd" --measurement "$m" -o "$tmp/report.bin" --cert-table "$tmp/table.bin"
expect "short report data" 2 '--report-data: expected 128 hex digits' -- \
  sim report "$plat" --report-data abcd --measurement "$m" -o "$tmp/x.bin"
expect "short measurement" 2 '--measurement: expected 96 hex digits' -- \
  sim report "$plat" --report-data "$rd" --measurement abcd -o "$tmp/x.bin"
expect "no measurement" 2 'exactly one of --measurement HEX and --launch' -- \
  sim report "$plat" --report-data "$rd" -o "$tmp/x.bin"
expect "vmpl 4" 2 '--vmpl' -- sim report "$plat" --report-data "$rd" --measurement "$m" --vmpl 4 -o "$tmp/x.bin"
expect "policy without bit 17" 2 'bit 17 must be set' -- \
  sim report "$plat" --report-data "$rd" --measurement "$m" --policy 0x10000 -o "$tmp/x.bin"
expect "not a platform" 2 'ark.pem' -- sim report "$tmp" --report-data "$rd" --measurement "$m" -o "$tmp/x.bin"

# cvm verify: accepted with the simulated root named, and only then.
expect "verify with the simulated root" 0 '^verdict: PASS' -- \
  verify --report "$tmp/report.bin" --certs "$plat" --trusted-root "$plat/ark.pem" --crl "$plat/crl.der"
expect "the claim says simulated" 0 '^PASS +policy\.simulated' -- \
  verify --report "$tmp/report.bin" --certs "$plat" --trusted-root "$plat/ark.pem" --crl "$plat/crl.der"
expect "the chain names the simulated root" 0 '^PASS +chain\.ark +SIMULATED-ARK-Genoa \(cvm sim, not AMD\)' -- \
  verify --report "$tmp/report.bin" --certs "$plat" --trusted-root "$plat/ark.pem" --crl "$plat/crl.der"
expect "the measurement is the one asked for" 0 "^measurement: $m\$" -- \
  verify --report "$tmp/report.bin" --certs "$plat" --trusted-root "$plat/ark.pem" --crl "$plat/crl.der"
expect "verify from the cert table" 0 '^verdict: PASS' -- \
  verify --report "$tmp/report.bin" --cert-table "$tmp/table.bin" --trusted-root "$plat/ark.pem" --crl "$plat/crl.der"
expect "verify without the root fails the chain" 1 '^FAIL +chain\.ark .*not a trusted root' -- \
  verify --report "$tmp/report.bin" --certs "$plat"
printf 'measurements = ["%s"]\n' "$m" >"$tmp/policy.toml"
expect "a policy must allow simulated evidence" 1 '^FAIL +policy\.simulated' -- \
  verify --report "$tmp/report.bin" --certs "$plat" --trusted-root "$plat/ark.pem" --crl "$plat/crl.der" --policy "$tmp/policy.toml"
printf 'measurements = ["%s"]\nallow_simulated = true\n' "$m" >"$tmp/allow.toml"
expect "allow_simulated = true accepts it" 0 '^verdict: PASS' -- \
  verify --report "$tmp/report.bin" --certs "$plat" --trusted-root "$plat/ark.pem" --crl "$plat/crl.der" --policy "$tmp/allow.toml"

expect "another platform" 0 'SIMULATED' -- sim init "$tmp/other"
cp "$tmp/other/crl.der" "$tmp/other-crl.der"
"$cvm" sim init "$tmp/keep" >/dev/null
# Revocation: the platform's CRL (crl.der from init), and the ones `cvm sim crl` makes.
[[ $(stat -c %a "$plat/ark-key.pem") == 600 ]] && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAILED ark-key.pem mode: $(stat -c '%a' "$plat/ark-key.pem")"; }
v=(verify --report "$tmp/report.bin" --certs "$plat" --trusted-root "$plat/ark.pem")
expect "crl: init's CRL passes" 0 '^PASS +chain\.revocation +not revoked' -- "${v[@]}" --crl "$plat/crl.der"
expect "crl: a simulated root needs its CRL" 1 '^FAIL +chain\.revocation +found no CRL.*cvm verify --crl DIR/crl\.der.*--no-revocation' -- "${v[@]}"
expect "crl: or --no-revocation" 0 '^PASS +chain\.revocation +disabled by --no-revocation' -- "${v[@]}" --no-revocation
expect "crl: revoke the ASK" 0 '^SIMULATED CRL \(Genoa ARK, 1 revoked\)' -- sim crl "$plat" --revoke ask --out "$tmp/ask-revoked.der"
expect "crl: revoked ASK fails" 1 '^FAIL +chain\.revocation +found serial 0x10001 \(ASK\) revoked' -- "${v[@]}" --crl "$tmp/ask-revoked.der"
expect "crl: revoked ASK fails only that" 1 '^verdict: FAIL \(1 of [0-9]+ claims failed\)' -- "${v[@]}" --crl "$tmp/ask-revoked.der"
"$cvm" sim crl "$plat" --revoke vcek --out "$tmp/vcek-revoked.der" >/dev/null
expect "crl: revoked VCEK fails" 1 '^FAIL +chain\.revocation +found serial 0x0 \(VCEK\) revoked' -- "${v[@]}" --crl "$tmp/vcek-revoked.der"
"$cvm" sim crl "$plat" --this-update -30d --next-update -1d --out "$tmp/expired.der" >/dev/null
expect "crl: expired" 1 '^FAIL +chain\.revocation +found nextUpdate .*expected now <= nextUpdate' -- "${v[@]}" --crl "$tmp/expired.der"
"$cvm" sim crl "$plat" --this-update +2d --next-update +30d --out "$tmp/future.der" >/dev/null
expect "crl: not yet valid" 1 '^FAIL +chain\.revocation +found thisUpdate' -- "${v[@]}" --crl "$tmp/future.der"
# Every simulated Genoa ARK has the same Name: another platform's CRL is caught by its signature.
expect "crl: another platform's CRL (same Name, another key)" 1 '^FAIL +chain\.revocation .*not signed by the ARK' -- "${v[@]}" --crl "$tmp/other-crl.der"
expect "crl: PEM" 0 '^verdict: PASS' -- "${v[@]}" --crl <(openssl crl -inform DER -in "$plat/crl.der")
expect "crl: dates" 0 'written to' -- sim crl "$plat" --this-update 2026-01-01 --next-update 2026-01-02T12:00:00Z --out "$tmp/dated.der"
[[ $(openssl crl -inform DER -in "$tmp/dated.der" -noout -nextupdate) == 'nextUpdate=Jan  2 12:00:00 2026 GMT' ]] &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAILED crl dates"; }
expect "crl: bad --revoke" 2 '--revoke ark: expected ask or vcek' -- sim crl "$plat" --revoke ark
expect "crl: nextUpdate before thisUpdate" 2 'precedes thisUpdate' -- sim crl "$plat" --this-update 2026-01-02 --next-update 2026-01-01
cp -r "$plat" "$tmp/keyless" && rm "$tmp/keyless/ark-key.pem"
expect "crl: a platform without its ARK key" 2 'no ARK private key' -- sim crl "$tmp/keyless"
expect "crl: the default replaces DIR/crl.der" 0 'written to .*/keep/crl\.der' -- sim crl "$tmp/keep"

# Adversarial launches: authentic, and refused by policy.
expect "debug report" 0 'SIMULATED report' -- \
  sim report "$plat" --report-data "$rd" --measurement "$m" --policy 0xb0000 -o "$tmp/debug.bin"
expect "debug report fails policy.debug" 1 '^FAIL +policy\.debug' -- \
  verify --report "$tmp/debug.bin" --certs "$plat" --trusted-root "$plat/ark.pem" --crl "$plat/crl.der"
expect "mixed chains fail" 1 '^FAIL +report\.signature' -- \
  verify --report "$tmp/report.bin" --certs "$tmp/other" --trusted-root "$tmp/other/ark.pem" --crl "$tmp/other/crl.der"

# --launch computes the MEASUREMENT as cvm measure --launch does.
mkdir -p "$tmp/vm"
cp "$fw/ovmf_AmdSev_suffix.bin" "$tmp/vm/OVMF.fd"
printf 'mode = "snp"\nvcpus = 4\nvcpu_type = "EPYC-v4"\nguest_features = 0x21\n[firmware]\novmf = "OVMF.fd"\n' \
  >"$tmp/vm/launch.toml"
launch_m=$("$cvm" measure --launch "$tmp/vm/launch.toml")
expect "report from launch.toml" 0 "measurement $launch_m\\)" -- \
  sim report "$plat" --report-data "$rd" --launch "$tmp/vm/launch.toml" -o "$tmp/launch.bin"
expect "launch.toml measurement verifies" 0 "^measurement: $launch_m\$" -- \
  verify --report "$tmp/launch.bin" --certs "$plat" --trusted-root "$plat/ark.pem" --crl "$plat/crl.der"

# fw_cfg: the blobs and one QEMU argument per line.
expect "fw-cfg" 0 "^name=opt/cvminit/sim/key,file=$tmp/fw/key\$" -- sim fw-cfg "$plat" --measurement "$m" --out "$tmp/fw"
out=$("$cvm" sim fw-cfg "$plat" --measurement "$m" --out "$tmp/fw" 2>/dev/null)
want=$(printf -- '-fw_cfg\nname=opt/cvminit/sim/key,file=%s/fw/key\n-fw_cfg\nname=opt/cvminit/sim/certs,file=%s/fw/certs\n-fw_cfg\nname=opt/cvminit/sim/launch,file=%s/fw/launch' "$tmp" "$tmp" "$tmp")
[[ $out == "$want" && $(stat -c %a "$tmp/fw/key") == 600 ]] && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); printf 'FAILED fw-cfg args:\n%s\n' "$out"; }
grep -q "^measurement = \"$m\"\$" "$tmp/fw/launch" && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAILED fw-cfg launch blob"; cat "$tmp/fw/launch"; }

# Other product lines.
expect "Turin init" 0 'platform \(Turin\)' -- sim init "$tmp/turin" --product Turin
expect "Turin report" 0 'SIMULATED report \(Turin' -- \
  sim report "$tmp/turin" --report-data "$rd" --measurement "$m" -o "$tmp/turin.bin"
expect "Turin verifies as version 5" 0 'report version: 5' -- \
  verify --report "$tmp/turin.bin" --certs "$tmp/turin" --trusted-root "$tmp/turin/ark.pem" --crl "$tmp/turin/crl.der"

echo "$passed passed, $failed failed"
((failed == 0))
