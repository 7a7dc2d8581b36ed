#!/usr/bin/env bash
# Black-box tests of `cvm measure` and `cvm id-block`: runs the built binary on the firmware
# fixtures and checks digests (rows of tests/vectors/README.md), output formats, launch.toml
# and errors. Usage: cvm_measure.sh CVM VECTORS_DIR KEYS_DIR
set -uo pipefail
cvm=$(realpath "$1")
fw=$(realpath "$2")/measure
keys=$(realpath "$3")
amdsev=$fw/ovmf_AmdSev_suffix.bin
x64=$fw/ovmf_OvmfX64_suffix.bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"

expect "help" 0 '^usage: cvm measure' -- measure --help
expect "listed" 0 '^  measure ' -- --help
expect "version" 0 'sev-snp-measure 0.0.13 compatible' -- measure --version

# Vector rows, through the command line exactly as sev-snp-measure takes them.
expect "ovmf hash" 0 '^086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74$' -- \
  measure --mode snp:ovmf-hash --ovmf "$amdsev"
expect "snp default" 0 '^803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977$' -- \
  measure --mode snp --vcpus 1 --vcpu-type EPYC-v4 --ovmf "$amdsev" --kernel /dev/null --initrd /dev/null \
  --append "console=ttyS0 loglevel=7" --guest-features 0x21
expect "snp, 4 vCPUs, from the ovmf hash" 0 '^5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5$' -- \
  measure --mode snp --vcpus 4 --vcpu-sig 0x800f12 --ovmf "$amdsev" --kernel /dev/null --initrd /dev/null \
  --snp-ovmf-hash 086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74
expect "snp gce, no vCPU type" 0 '^5c5debf100fc339f90276e761ee1f1658d08922c3b20e2a2e6c7a6c3370b2452a15a00eae11886a93d6fd1e7ab81e29d$' -- \
  measure --mode snp --vcpus 4 --vmm-type gce --ovmf "$amdsev" --kernel /dev/null --initrd /dev/null
expect "snp OvmfX64 without kernel, family/model/stepping" 0 '^da0296de8193586a5512078dcd719eccecbd87e2b825ad4148c44f665dc87df21e5b49e21523a9ad993afdb6a30b4005$' -- \
  measure --mode snp --vcpus 1 --vcpu-family 23 --vcpu-model 1 --vcpu-stepping 2 --ovmf "$x64"
expect "snp Turin" 0 '^4450c0703e809d10bad0ff1429817e9e95d0fbf9da316278d4f9acbbab8da5a695a098a90f9cfaaee831e91b6ed4d54c$' -- \
  measure --mode snp --vcpus 1 --vcpu-type EPYC-Turin --ovmf "$amdsev"
expect "seves, 4 vCPUs" 0 '^0dccbcaba8e90b261bd0d2e1863a2f9da714768b7b2a19363cd6ae35aa90de91$' -- \
  measure --mode seves --vcpus 4 --vcpu-type EPYC-v4 --ovmf "$amdsev" --kernel /dev/null --initrd /dev/null
expect "sev" 0 '^77f613d7bbcdf12a73782ea9e88b0172aeda50d1a54201cb903594ff52846898$' -- \
  measure --mode sev --ovmf "$amdsev" --kernel /dev/null
expect "snp:svsm, 2 vCPUs" 0 '^9b94745036aafddf4f7f8b00c7513abb5b7703178cb95aaa57928bd963d68d3bfcb715d6019b9167ee2517b11b0d9be7$' -- \
  measure --mode snp:svsm --vcpus 2 --vcpu-type EPYC-v4 --ovmf "$fw/svsm_ovmf.fd" --svsm "$fw/svsm.bin" --vars-size 540672
expect "the error row" 2 '^cvm measure: .*ovmf_OvmfX64_suffix.bin: the firmware has no kernel-hashes section' -- \
  measure --mode snp --vcpus 1 --vcpu-type EPYC-v4 --ovmf "$x64" --kernel /dev/null --initrd /dev/null --guest-features 0x21

# Output formats.
# The row "snp, 1 vCPU, no kernel, 0x1" (19358ba9...) in base64.
expect "base64" 0 '^GTWLqadhVTSpoeLw38KThNzU3LcGL/nGATsmhppfxuyr4DPEjdb2211tdufF32Mt$' -- \
  measure --mode snp --vcpus 1 --vcpu-type EPYC-v4 --ovmf "$amdsev" --output-format base64
expect "verbose" 0 '^Calculated SEV_ES guest measurement: 13810ae661ea11e2bb205621f582fee268f0367c8f97bc297b7fadef3e12002c$' -- \
  measure -v --mode seves --vcpus 1 --vcpu-type EPYC-v4 --ovmf "$amdsev" --kernel /dev/null --initrd /dev/null
json=$("$cvm" measure --mode snp --vcpus 1 --vcpu-type EPYC-v4 --ovmf "$amdsev" --kernel /dev/null --initrd /dev/null \
  --append "console=ttyS0 loglevel=7" --guest-features 0x21 --output-format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert all(not isinstance(v, (dict, list)) for v in d.values()), "nested"
print(d["measurement"][:16], d["vcpu_sig"], d["guest_features"], d["ovmf_sha256"][:16], d["kernel_sha256"][:16],
      d["initrd_sha256"][:16], d["cmdline_sha256"][:16], d["append"])')
if [[ $json == "803f691094946e42 0x800f12 0x21 8f765dfabc127fc0 e3b0c44298fc1c14 e3b0c44298fc1c14 321c8eec6a77bad1 console=ttyS0 loglevel=7" ]]; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
  echo "FAILED json: $json"
fi

# launch.toml gives the same digest as the flags; relative paths are relative to the file.
mkdir -p "$tmp/vm"
cp "$amdsev" "$tmp/vm/OVMF.fd"
cat >"$tmp/vm/launch.toml" <<TOML
mode = "snp"
vcpus = 4
vcpu_type = "EPYC-v4"
guest_features = 0x21
[firmware]
ovmf = "OVMF.fd"
[kernel]
path = "/dev/null"
initrd = "/dev/null"
TOML
expect "launch.toml" 0 '^4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942$' -- \
  measure --launch "$tmp/vm/launch.toml"
expect "launch.toml plus a launch flag" 2 '--vcpus cannot be combined with --launch' -- \
  measure --launch "$tmp/vm/launch.toml" --vcpus 2
printf 'vcpus = 4\nvcpu = 1\n' >"$tmp/bad.toml"
expect "launch.toml typo" 2 "launch.toml key 'vcpu': unknown key" -- measure --launch "$tmp/bad.toml"

# --dump-vmsa writes one page per vCPU.
(cd "$tmp" && "$cvm" measure --mode snp --vcpus 3 --vcpu-type EPYC-v4 --ovmf "$amdsev" --dump-vmsa >/dev/null)
"$cvm" measure --mode snp --vcpus 2 --vcpu-type EPYC-v4 --ovmf "$amdsev" --dump-vmsa="$tmp/vm" >/dev/null
if [[ -f $tmp/vmsa2.bin && ! -e $tmp/vmsa3.bin && $(sha384sum <"$tmp/vm/vmsa1.bin") == 8413b852790765a3* ]]; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
  echo "FAILED dump-vmsa"
fi

# Errors: exit status 2 and a message naming the problem.
printf 'not a kernel' >"$tmp/vmlinux"
expect "not a bzImage" 2 'vmlinux: not a bzImage' -- \
  measure --mode snp --vcpus 1 --vcpu-type EPYC-v4 --ovmf "$amdsev" --kernel "$tmp/vmlinux"
expect "unknown vCPU type" 2 "unknown vCPU type 'EPYC-v9' \\(known: EPYC, " -- \
  measure --mode snp --vcpus 1 --vcpu-type EPYC-v9 --ovmf "$amdsev"
expect "no vCPU signature" 2 "missing --vcpu-type or --vcpu-sig or --vcpu-family in guest mode 'snp'" -- \
  measure --mode snp --vcpus 1 --ovmf "$amdsev"
expect "missing firmware" 2 'cannot open .*none.fd' -- measure --mode sev --ovmf "$tmp/none.fd"
tail -c 1280 "$amdsev" >"$tmp/short.fd"  # the footer stays, the metadata it points to is cut off
expect "truncated footer" 2 'short.fd: SEV metadata offset 0x554 \(from the end\) is outside' -- \
  measure --mode sev --ovmf "$tmp/short.fd"
expect "bad output format" 2 'expected hex, base64 or json' -- measure --mode sev --ovmf "$amdsev" --output-format yaml

# id-block with the committed test-only keys.
ld=B28FLQi9p6cAqipgjFyqawDrrSl7bWioWkWx5mmlWLZ+G5HShKMB/mPE+gdQRn7t
expect "id-block" 0 "^id-block=${ld//+/\\+}AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAAwAAAAAA,id-auth=" -- \
  id-block --measurement "$ld" --idkey "$keys/id_key_TEST_ONLY.pem" --authorkey "$keys/author_key_TEST_ONLY.pem"
expect "id-block policy line" 0 '^author_key_digests = \["fc87e49be851aaba' -- \
  id-block --measurement "$ld" --id-key "$keys/id_key_TEST_ONLY.pem" --author-key "$keys/author_key_TEST_ONLY.pem"
expect "id-block wrong curve" 2 'not on P-384' -- \
  id-block --measurement "$ld" --id-key "$keys/p256_key_TEST_ONLY.pem"

echo "$passed passed, $failed failed"
((failed == 0))
