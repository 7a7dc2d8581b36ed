#!/usr/bin/env bash
# Black-box tests of `cvm verify --policy`: each rule of the policy file (docs/verify.md, "The
# policy file") passing and failing on real AMD-signed vectors, and on simulated evidence where
# the field is one `cvm sim report` sets. Every FAIL line is checked for the value found and the
# value expected. Revocation is the chain's business (cvm_verify.sh), so --no-revocation here.
# Needs openssl and python3 (re-signing patched simulated reports).
# Usage: cvm_verify_policy.sh CVM VECTORS_DIR
set -uo pipefail
cvm=$1
vectors=$2/snp-reports
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"

field() { # FILE OFFSET LENGTH: the bytes as lowercase hex
  head -c $(($2 + $3)) "$1" | tail -c "$3" | od -An -tx1 -v | tr -d ' \n'
}

# policy NAME KEY-LINES...: a policy file accepting the measurement of $report, plus the lines.
policy() {
  local name=$1
  shift
  { printf 'measurements = ["%s"]\nmax_vmpl = %s\n' "$(field "$report" $((0x90)) 48)" "${vmpl:-0}"
    printf '%s\n' "$@"; } >"$tmp/$name.toml"
  echo "$tmp/$name.toml"
}

turin() { # NAME STATUS PATTERN POLICY-LINES...
  local name=$1 status=$2 pattern=$3
  shift 3
  report=$vectors/oak_turin_v5/report.bin
  local file
  file=$(policy "$name" "$@")
  expect "turin: $name" "$status" "$pattern" -- verify --report "$report" \
    --cert-table "$vectors/oak_turin_v5/certs_table_SYNTH.bin" --no-revocation --policy "$file"
}

# oak_turin_v5: VERSION 5, PLATFORM_INFO 0x67, POLICY 0x30000, TCB fmc 0 bl 1 tee 0 snp 2 ucode 71
# everywhere, firmware 1.55.61, mitigation vectors 0.
turin "own values pass" 0 '^verdict: PASS' \
  'min_report_version = 5' 'min_build = 61' 'min_version = "1.55"' 'require_platform_info = ["smt", "alias_check_complete"]' \
  'report_id_ma = "'"$(printf 'f%.0s' $(seq 64))"'"' \
  "chip_ids = [\"$(field "$vectors/oak_turin_v5/report.bin" $((0x1A0)) 64)\"]" \
  '[min_tcb.Turin]' 'fmc = 0' 'bootloader = 1' 'tee = 0' 'snp = 2' 'microcode = 71' \
  '[min_committed_tcb.Turin]' 'microcode = 71' '[min_launch_tcb.Turin]' 'snp = 2'
turin "unset rules say any" 0 '^PASS +policy\.min_build +61$' 'revocation = true'
turin "forbidden PLATFORM_INFO bit" 1 \
  '^FAIL +policy\.platform_info_forbidden +found 0x67 \(smt tsme ecc alias_check_complete, undefined bit 6\), expected 0x1 \(smt\) clear' \
  'forbid_platform_info = ["smt"]'
turin "required PLATFORM_INFO bit" 1 '^FAIL +policy\.platform_info +found 0x67 .*, expected 0x80 \(tio\) set' \
  'require_platform_info = ["tio"]'
turin "minimum build" 1 '^FAIL +policy\.min_build +found 61, expected >= 62' 'min_build = 62'
turin "minimum version" 1 '^FAIL +policy\.min_version +found 1\.55, expected >= 1\.56' 'min_version = "1.56"'
turin "minimum reported TCB" 1 \
  '^FAIL +policy\.min_tcb +found fmc=0 bl=1 tee=0 snp=2 ucode=71, expected >= fmc=1 bl=0 tee=0 snp=0 ucode=0' \
  '[min_tcb.Turin]' 'fmc = 1'
turin "minimum launch TCB" 1 '^FAIL +policy\.min_launch_tcb +found fmc=0 bl=1 tee=0 snp=2 ucode=71, expected >= .*ucode=72' \
  '[min_launch_tcb.Turin]' 'microcode = 72'
turin "minimum committed TCB" 1 '^FAIL +policy\.min_committed_tcb +found .*snp=2.*, expected >= .*snp=3' \
  '[min_committed_tcb.Turin]' 'snp = 3'
turin "TCB minimum for another product only" 1 '^FAIL +policy\.min_tcb +found Turin, expected a product the policy lists' \
  '[min_tcb.Genoa]' 'snp = 1'
turin "launch mitigation vector" 1 '^FAIL +policy\.launch_mit_vector +found 0x0, expected bits 0x1 set' \
  'min_launch_mit_vector = 0x1'
turin "current mitigation vector" 1 '^FAIL +policy\.current_mit_vector +found 0x0, expected bits 0x6 set' \
  'min_current_mit_vector = 6'
turin "chip_ids without this chip" 1 "^FAIL +policy\.chip_id +found $(field "$vectors/oak_turin_v5/report.bin" $((0x1A0)) 64), expected 0{126}01" \
  "chip_ids = [\"$(printf '0%.0s' $(seq 126))01\"]"
turin "REPORT_ID_MA" 1 "^FAIL +policy\.report_id_ma +found f{64}, expected 0{63}1" \
  "report_id_ma = \"$(printf '0%.0s' $(seq 63))1\""
turin "required GUEST_POLICY bit" 1 '^FAIL +policy\.single_socket +found 0, expected 1' \
  'require_guest_policy = ["single_socket"]'
turin "require_single_socket still works" 1 '^FAIL +policy\.single_socket +found 0, expected 1' \
  'require_single_socket = true'
turin "forbidden GUEST_POLICY bit" 1 '^FAIL +policy\.smt +found 1, expected 0' 'forbid_guest_policy = ["smt"]'
turin "allow_smt = false still works" 1 '^FAIL +policy\.smt +found 1, expected 0' 'allow_smt = false'
turin "CXL may be forbidden" 0 '^PASS +policy\.cxl_allow +0' 'forbid_guest_policy = ["cxl_allow", "mem_aes_256_xts"]'

# trustee_milan_vlek_v3: real provisional firmware (COMMITTED ucode 219 < CURRENT 220), VMPL 1,
# CHIP_ID masked.
vlek() {
  local name=$1 status=$2 pattern=$3
  shift 3
  report=$vectors/trustee_milan_vlek_v3/report.bin
  local file
  file=$(vmpl=1 policy "$name" "$@")
  expect "vlek: $name" "$status" "$pattern" -- verify --report "$report" --certs "$vectors/trustee_milan_vlek_v3" \
    --no-revocation --policy "$file"
}
vlek "uncommitted firmware fails" 1 \
  '^FAIL +policy\.committed_tcb +found bl=4 tee=0 snp=24 ucode=219, expected = CURRENT_TCB bl=4 tee=0 snp=24 ucode=220'
vlek "uncommitted firmware fails once" 1 '^verdict: FAIL \(1 of [0-9]+ claims failed\)'
vlek "permit_provisional_firmware accepts it" 0 '^PASS +policy\.committed_tcb +bl=4 tee=0 snp=24 ucode=219' \
  'permit_provisional_firmware = true'
vlek "a masked CHIP_ID fails chip_ids" 1 '^FAIL +policy\.chip_id +found 0{128} \(masked\), expected one of 1 listed chips' \
  'permit_provisional_firmware = true' "chip_ids = [\"$(printf '1%.0s' $(seq 128))\"]"
vlek "committed minimum per product" 1 '^FAIL +policy\.min_committed_tcb +found bl=4 tee=0 snp=24 ucode=219, expected >= .*ucode=220' \
  'permit_provisional_firmware = true' '[min_committed_tcb.Milan]' 'microcode = 220'

# trustee_azure_genoa_v3: VERSION 3 (CPUID fields, no mitigation vectors).
genoa() {
  local name=$1 status=$2 pattern=$3
  shift 3
  report=$vectors/trustee_azure_genoa_v3/report.bin
  local file
  file=$(policy "$name" "$@")
  expect "genoa: $name" "$status" "$pattern" -- verify --report "$report" --certs "$vectors/trustee_azure_genoa_v3" \
    --no-revocation --policy "$file"
}
genoa "CPUID names the product" 0 '^PASS +policy\.cpuid +family 19h model 11h stepping 1 \(Genoa\)'
genoa "minimum report VERSION" 1 '^FAIL +policy\.report_version +found 3, expected >= 4' 'min_report_version = 4'
genoa "mitigation vector on a v3 report" 1 \
  '^FAIL +policy\.launch_mit_vector +found VERSION 3 has no LAUNCH_MIT_VECTOR, expected bits 0x1 set \(VERSION 5 or later\)' \
  'min_launch_mit_vector = 1'

# Venice (Zen 6): the Turin vector with CPUID model 50h (the signature breaks, but the product is
# decided first) is refused by name, not parsed with Turin's TCB layout, even with --product.
cp "$vectors/oak_turin_v5/report.bin" "$tmp/venice.bin"
printf '\x50' | dd of="$tmp/venice.bin" bs=1 seek=$((0x189)) conv=notrunc status=none
for product in "" "--product Turin"; do
  # shellcheck disable=SC2086
  expect "Venice refused $product" 1 \
    '^FAIL +chain\.ark .*Venice \(CPUID family 1Ah model 50h, Zen 6\) is not supported until AMD publishes its KDS format' -- \
    verify --report "$tmp/venice.bin" --cert-table "$vectors/oak_turin_v5/certs_table_SYNTH.bin" --no-revocation $product
done

# Policy files refused by name (exit status 2, nothing judged).
report=$vectors/oak_turin_v5/report.bin
bad() { # NAME PATTERN POLICY-LINES...
  local name=$1 pattern=$2
  shift 2
  local file
  file=$(policy "bad-$name" "$@")
  expect "refused: $name" 2 "$pattern" -- verify --report "$report" \
    --cert-table "$vectors/oak_turin_v5/certs_table_SYNTH.bin" --no-revocation --policy "$file"
}
bad "unknown bit" "policy key 'forbid_platform_info': unknown bit" 'forbid_platform_info = ["bit6"]'
bad "required and forbidden" "policy key 'forbid_platform_info': also in require_platform_info: 0x4 \(ecc\)" \
  'require_platform_info = ["ecc"]' 'forbid_platform_info = ["ecc"]'
bad "masked chip id" "policy key 'chip_ids': an all-zero CHIP_ID" "chip_ids = [\"$(printf '0%.0s' $(seq 128))\"]"
bad "wrong type" "policy key 'revocation': expected true or false" 'revocation = "no"'
bad "version format" "policy key 'min_version': expected \"MAJOR.MINOR\"" 'min_version = "1.55.61"'
bad "Venice table" "policy key 'min_launch_tcb.Venice': unknown product" '[min_launch_tcb.Venice]' 'snp = 1'

# Simulated evidence: GUEST_POLICY, PLATFORM_INFO, HOST_DATA, GUEST_SVN as `cvm sim report` sets them.
"$cvm" sim init "$tmp/sim" --product Genoa >/dev/null || { echo "FAILED sim init"; failed=$((failed + 1)); }
m=$(printf 'ab%.0s' $(seq 48))
hd=$(printf '5a%.0s' $(seq 32))
"$cvm" sim report "$tmp/sim" --report-data "$(printf '00%.0s' $(seq 64))" --measurement "$m" \
  --policy 0x530000 --platform-info 0x25 --host-data "$hd" --guest-svn 3 -o "$tmp/sim.bin" --cert-table "$tmp/sim.certs" \
  >/dev/null || { echo "FAILED sim report"; failed=$((failed + 1)); }
sim() {
  local name=$1 status=$2 pattern=$3
  shift 3
  printf 'measurements = ["%s"]\nallow_simulated = true\n' "$m" >"$tmp/sim-$name.toml"
  printf '%s\n' "$@" >>"$tmp/sim-$name.toml"
  expect "sim: $name" "$status" "$pattern" -- verify --report "$tmp/sim.bin" --cert-table "$tmp/sim.certs" \
    --trusted-root "$tmp/sim/ark.pem" --no-revocation --policy "$tmp/sim-$name.toml"
}
# POLICY 0x530000: SMT, SINGLE_SOCKET (20), MEM_AES_256_XTS (22); PLATFORM_INFO 0x25: smt ecc alias.
sim "own values pass" 0 '^verdict: PASS' 'require_guest_policy = ["single_socket", "mem_aes_256_xts"]' \
  'forbid_guest_policy = ["cxl_allow", "rapl_dis", "ciphertext_hiding", "page_swap_disable"]' \
  'require_platform_info = ["alias_check_complete", "ecc"]' 'forbid_platform_info = ["tsme", "tio"]' \
  "host_data = \"$hd\"" 'min_guest_svn = 3'
sim "forbidden AES-256-XTS" 1 '^FAIL +policy\.mem_aes_256_xts +found 1, expected 0' 'forbid_guest_policy = ["mem_aes_256_xts"]'
sim "required page swap disable" 1 '^FAIL +policy\.page_swap_disable +found 0, expected 1' \
  'require_guest_policy = ["page_swap_disable"]'
sim "required ciphertext hiding" 1 '^FAIL +policy\.platform_info +found 0x25 \(smt ecc alias_check_complete\), expected 0x10 \(ciphertext_hiding\) set' \
  'require_platform_info = ["ciphertext_hiding"]'
sim "HOST_DATA" 1 "^FAIL +policy\.host_data +found $hd, expected 0{64}" "host_data = \"$(printf '0%.0s' $(seq 64))\""
sim "GUEST_SVN" 1 '^FAIL +policy\.guest_svn +found 3, expected >= 4' 'min_guest_svn = 4'
sim "simulated firmware is committed" 0 '^PASS +policy\.committed_version' 'permit_provisional_firmware = false'

# Fields `cvm sim report` does not choose (uncommitted firmware, mitigation vectors, a Siena CPUID):
# a simulated report with the field patched as firmware would write it, then signed again with the
# platform's VCEK key (openssl: ECDSA P-384 over SHA-384 of bytes [0, 0x2A0), R and S stored
# little-endian in 72-byte fields, 56860 "ECDSA Signature Format").
patch() { # FILE OFFSET SIZE VALUE: a little-endian integer at OFFSET
  python3 -c 'import sys; f, o, n, v = sys.argv[1], int(sys.argv[2], 0), int(sys.argv[3]), int(sys.argv[4], 0)
b = bytearray(open(f, "rb").read()); b[o:o + n] = v.to_bytes(n, "little"); open(f, "wb").write(b)' "$@"
}
resign() { # FILE KEY
  head -c $((0x2A0)) "$1" >"$tmp/signed.bin"
  openssl dgst -sha384 -sign "$2" -out "$tmp/sig.der" "$tmp/signed.bin" || return 1
  python3 -c 'import sys
rep, der = bytearray(open(sys.argv[1], "rb").read()), open(sys.argv[2], "rb").read()
def integer(i):
    assert der[i] == 2
    n = der[i + 1]
    return int.from_bytes(der[i + 2:i + 2 + n], "big"), i + 2 + n
r, i = integer(2 if der[1] < 0x80 else 3)
s, _ = integer(i)
rep[0x2A0:0x2A0 + 72] = r.to_bytes(72, "little")
rep[0x2E8:0x2E8 + 72] = s.to_bytes(72, "little")
open(sys.argv[1], "wb").write(rep)' "$1" "$tmp/sig.der"
}
"$cvm" sim init "$tmp/turin" --product Turin >/dev/null || { echo "FAILED sim init Turin"; failed=$((failed + 1)); }
"$cvm" sim report "$tmp/turin" --report-data "$(printf '00%.0s' $(seq 64))" --measurement "$m" \
  -o "$tmp/turin.bin" --cert-table "$tmp/turin.certs" >/dev/null || { echo "FAILED sim report Turin"; failed=$((failed + 1)); }
patched() { # NAME STATUS PATTERN BASE PLATFORM "OFFSET SIZE VALUE"... -- POLICY-LINES...
  local name=$1 status=$2 pattern=$3 base=$4 platform=$5
  shift 5
  cp "$tmp/$base.bin" "$tmp/p-$name.bin"
  while [[ $1 != -- ]]; do
    # shellcheck disable=SC2086
    patch "$tmp/p-$name.bin" $1
    shift
  done
  shift
  resign "$tmp/p-$name.bin" "$tmp/$platform/vcek-key.pem"
  printf 'measurements = ["%s"]\nallow_simulated = true\n' "$m" >"$tmp/p-$name.toml"
  printf '%s\n' "$@" >>"$tmp/p-$name.toml"
  expect "patched: $name" "$status" "$pattern" -- verify --report "$tmp/p-$name.bin" --cert-table "$tmp/$base.certs" \
    --trusted-root "$tmp/$platform/ark.pem" --no-revocation --policy "$tmp/p-$name.toml"
}
patched "re-signing alone changes nothing" 0 '^verdict: PASS' turin turin --
patched "mitigation vectors present pass" 0 '^PASS +policy\.launch_mit_vector +0x5$' turin turin \
  "0x1F8 8 0x5" "0x200 8 0x7" -- 'min_launch_mit_vector = 0x5' 'min_current_mit_vector = 0x3'
patched "mitigation vector missing a bit" 1 '^FAIL +policy\.current_mit_vector +found 0x7, expected bits 0xb set' turin turin \
  "0x1F8 8 0x5" "0x200 8 0x7" -- 'min_current_mit_vector = 0xb'
# COMMITTED one microcode step behind CURRENT (Turin TCB: microcode is byte 7), version one build behind.
patched "uncommitted firmware" 1 '^FAIL +policy\.committed_tcb +found fmc=1 bl=1 tee=0 snp=3 ucode=71, expected = CURRENT_TCB fmc=1 bl=1 tee=0 snp=3 ucode=72' \
  turin turin "0x1E7 1 71" -- 'revocation = true'
patched "uncommitted firmware version" 1 '^FAIL +policy\.committed_version +found 1\.55\.[0-9]+, expected = current 1\.55\.[0-9]+' \
  turin turin "0x1EC 1 1" --
patched "uncommitted firmware permitted" 0 '^PASS +policy\.committed_tcb +fmc=1 bl=1 tee=0 snp=3 ucode=71' \
  turin turin "0x1E7 1 71" -- 'permit_provisional_firmware = true'
patched "REPORTED above CURRENT" 1 '^FAIL +policy\.reported_tcb +found fmc=1 bl=1 tee=0 snp=3 ucode=72, expected <= CURRENT_TCB fmc=1 bl=1 tee=0 snp=2 ucode=72' \
  turin turin "0x3B 1 2" "0x1E3 1 2" -- 'permit_provisional_firmware = true'
patched "REPORTED_TCB is the VEK's" 1 '^FAIL +vek\.tcb' turin turin "0x187 1 73" --
# Siena (CPUID family 19h model A0h) is a Genoa part to KDS: a Genoa chain verifies it.
patched "Siena verifies as Genoa" 0 '^PASS +policy\.cpuid +family 19h model A0h stepping [0-9]+ \(Genoa\)' sim sim "0x189 1 0xA0" --

echo "cvm_verify_policy: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
