#!/usr/bin/env bash
# Black-box tests of `cvm initdata` (compose, digest, check) against digests computed here with
# Python's hashlib, launch.toml's `initdata` through `cvm launch --print` (host-data and the fw_cfg
# file, hardware and simulated, the MEASUREMENT unchanged) and through `cvm sim report`, whose
# report `cvm initdata check --report` then checks.
# Usage: cvm_initdata.sh CVM VECTORS_DIR
set -uo pipefail
cvm=$(realpath "$1")
ovmf=$(realpath "$2/measure/ovmf_AmdSev_suffix.bin")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"
check() { if [[ $2 -eq 0 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED $1"; fi; }
# hashlib over a file: ALGORITHM FILE [CHARS]
py_digest() { python3 -c "import hashlib,sys; print(hashlib.new(sys.argv[1], open(sys.argv[2],'rb').read()).hexdigest()[:int(sys.argv[3])])" "$1" "$2" "${3:-999}"; }

cd "$tmp" || exit 1
# The broker key: RFC 8032 section 7.1 TEST 1's public key.
printf 'broker = "https://kb-eu.example:8443"\nbroker_key = "%s"\n' '11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=' >eu.toml
printf 'broker = "https://kb-us.example:8443"\n' >us.toml
printf 'other = 1\n' >aa.toml

expect "help" 0 '^usage: cvm initdata compose' -- initdata --help
expect "listed" 0 '^  initdata ' -- --help
expect "no subcommand" 2 '^usage: cvm initdata' -- initdata
expect "unknown subcommand" 2 "unknown subcommand 'frob'" -- initdata frob

# compose: the canonical document, its HOST_DATA on stderr
expect "compose" 0 '^cvm initdata: eu-doc.toml written \(sha384, 2 entries\); HOST_DATA [0-9a-f]{64}$' \
  -- initdata compose --entry cvminit.toml=eu.toml --entry aa.toml=aa.toml --out eu-doc.toml
python3 - <<'EOF'
import sys, tomllib
text = open("eu-doc.toml", "rb").read()
want = (b'algorithm = "sha384"\nversion = "0.1.0"\n\n[data]\n"aa.toml" = \'\'\'\nother = 1\n\'\'\'\n'
        b'"cvminit.toml" = \'\'\'\n' + open("eu.toml", "rb").read() + b"'''\n")
doc = tomllib.loads(text.decode())
sys.exit(0 if text == want and doc["data"]["cvminit.toml"] == open("eu.toml").read() else 1)
EOF
check "compose: the canonical bytes, read back by Python's tomllib" $?
"$cvm" initdata compose --entry aa.toml=aa.toml --entry cvminit.toml=eu.toml >stdout-doc.toml 2>/dev/null
cmp -s eu-doc.toml stdout-doc.toml; check "compose: stdout, entries in any order, the same bytes" $?
hd=$(py_digest sha384 eu-doc.toml 64)
expect "compose: the HOST_DATA printed is hashlib's" 0 "HOST_DATA $hd\$" \
  -- initdata compose --entry cvminit.toml=eu.toml --entry aa.toml=aa.toml --out eu-doc2.toml

# digest: HOST_DATA, then the algorithm and the full digest, for each algorithm
for alg in sha256 sha384 sha512; do
  "$cvm" initdata compose --algorithm $alg --entry cvminit.toml=eu.toml --out $alg.toml 2>/dev/null
  out=$("$cvm" initdata digest $alg.toml 2>err.txt)
  [[ $out == "$(py_digest $alg $alg.toml 64)" &&
     $(cat err.txt) == "cvm initdata: $alg $(py_digest $alg $alg.toml) (HOST_DATA is its first 32 bytes)" ]]
  check "digest $alg: HOST_DATA on stdout, the full digest on stderr" $?
done
"$cvm" initdata digest eu-doc.toml --json >digest.json
python3 - "$hd" "$(py_digest sha384 eu-doc.toml)" "$(stat -c %s eu-doc.toml)" <<'EOF'
import json, sys
d = json.load(open("digest.json"))
sys.exit(0 if d == {"host_data": sys.argv[1], "algorithm": "sha384", "digest": sys.argv[2], "version": "0.1.0",
                    "entries": ["aa.toml", "cvminit.toml"], "size": int(sys.argv[3])} else 1)
EOF
check "digest --json" $?
# The digest is over the bytes: the same data with CRLF line ends is another HOST_DATA.
sed 's/$/\r/' eu-doc.toml >crlf.toml
[[ $("$cvm" initdata digest crlf.toml 2>/dev/null) == "$(py_digest sha384 crlf.toml 64)" && $(py_digest sha384 crlf.toml 64) != "$hd" ]]
check "digest: CRLF is another HOST_DATA" $?

# the document is checked as the agent checks it
printf 'algorithm = "md5"\nversion = "0.1.0"\n[data]\n' >md5.toml
expect "digest: bad algorithm" 2 "md5.toml: initdata key 'algorithm': \"md5\" is not sha256, sha384 or sha512" -- initdata digest md5.toml
printf 'algorithm = "sha384"\nversion = "0.2.0"\n[data]\n' >v2.toml
expect "digest: bad version" 2 "initdata key 'version': \"0.2.0\", expected \"0.1.0\"" -- initdata digest v2.toml
printf 'algorithm = "sha384"\nversion = "0.1.0"\ndigest = "00"\n[data]\n' >extra.toml
expect "digest: extra key" 2 "initdata key 'digest': unknown key" -- initdata digest extra.toml
printf 'algorithm = "sha384"\nversion = "0.1.0"\n[data]\nn = 1\n' >int.toml
expect "digest: a non-string value" 2 "initdata key 'data.\"n\"': expected a string" -- initdata digest int.toml
printf 'algorithm = "sha384"\nversion = "0.1.0"\n[data]\nk = "a"\nk = "b"\n' >dup.toml
expect "digest: duplicate key" 2 'TOML syntax error at line 5' -- initdata digest dup.toml
head -c 70000 /dev/zero | tr '\0' '#' >big.toml
expect "digest: oversize" 2 'big.toml' -- initdata digest big.toml
expect "digest: missing file" 2 'nope.toml' -- initdata digest nope.toml
expect "digest: two files" 2 'digest needs exactly one init-data FILE' -- initdata digest eu-doc.toml us.toml
expect "digest: flags of compose refused" 2 'digest does not take --out' -- initdata digest eu-doc.toml --out x

# compose refusals
printf "a'''b\n" >quotes.txt
expect "compose: ''' in a value" 2 "initdata entry \"k\": the value contains '''" -- initdata compose --entry k=quotes.txt
printf 'a\r\nb\n' >cr.txt
expect "compose: CR in a value" 2 'no CR' -- initdata compose --entry k=cr.txt
expect "compose: twice the same name" 2 '--entry k: the name is given twice' -- initdata compose --entry k=eu.toml --entry k=us.toml
expect "compose: no entry" 2 'compose needs at least one --entry' -- initdata compose
expect "compose: not NAME=FILE" 2 '--entry eu.toml: expected NAME=FILE' -- initdata compose --entry eu.toml
expect "compose: bad algorithm" 2 '--algorithm sha1: expected sha256, sha384 or sha512' -- initdata compose --algorithm sha1 --entry k=eu.toml
printf 'broker = "https://kb"\nsimulate = true\n' >weak.toml
expect "compose: a measured-only setting in cvminit.toml" 2 \
  "\\[data\\] \"cvminit.toml\": init-data cvminit.toml key 'simulate': measured-only" -- initdata compose --entry cvminit.toml=weak.toml
"$cvm" initdata compose --entry other.toml=weak.toml --out other.toml 2>/dev/null
check "compose: other entries are not the agent's to check" $?
expect "compose: missing entry file" 2 '--entry k: .*missing.txt' -- initdata compose --entry k=missing.txt

# check: against a HOST_DATA
expect "check: match" 0 "^HOST_DATA $hd is that of eu-doc.toml\$" -- initdata check eu-doc.toml --host-data "$hd"
zero=$(printf '0%.0s' $(seq 64))
expect "check: mismatch names both" 1 "^cvm initdata: --host-data $zero is not the HOST_DATA of eu-doc.toml, $hd \(sha384 of the document\), refusing\$" \
  -- initdata check eu-doc.toml --host-data "$zero"
expect "check: short HOST_DATA" 2 '--host-data: expected 64 hex digits' -- initdata check eu-doc.toml --host-data abcd
expect "check: needs one source" 2 'exactly one of --host-data HEX and --report' -- initdata check eu-doc.toml
sed 's/kb-eu/kb-xx/' eu-doc.toml >tampered.toml
expect "check: a tampered document" 1 "is not the HOST_DATA of tampered.toml" -- initdata check tampered.toml --host-data "$hd"

# launch.toml: initdata sets host_data; cvm launch passes the document by fw_cfg
python3 -c 'import sys; b = bytearray(range(256)) * 64; b[0x1FE:0x200] = b"\x55\xAA"; b[0x202:0x208] = b"HdrS\x0f\x02"; sys.stdout.buffer.write(b)' >vmlinuz
write_launch() {  # write_launch [LINES...]: launch.toml with the given top-level lines
  { printf '%s\n' "$@"
    printf 'vcpus = 2\nvcpu_type = "EPYC-Milan"\n[firmware]\novmf = "%s"\n[kernel]\npath = "vmlinuz"\n' "$ovmf"
    printf 'cmdline = ["console=ttyS0", "cvminit.simulate=1", "cvminit.initdata=fw_cfg"]\n'; } >launch.toml
}
write_launch
measurement=$("$cvm" measure --launch launch.toml)
mkdir sub && cp eu-doc.toml "sub/eu, doc.toml"
write_launch 'initdata = "sub/eu, doc.toml"'
hd64=$(python3 -c "import base64; print(base64.b64encode(bytes.fromhex('$hd')).decode())")
expect "launch: host-data is the document's" 0 "policy=0x30000,host-data=${hd64//+/\\+} -bios" -- launch --launch launch.toml --print
expect "launch: the document as fw_cfg, by absolute path" 0 \
  "-fw_cfg 'name=opt/cvminit/initdata,file=$tmp/sub/eu,, doc.toml' -kernel" -- launch --launch launch.toml --print
out=$("$cvm" launch --launch launch.toml --print 2>&1)
[[ $out != *"cvm launch: note:"* ]]; check "launch: no note with cvminit.initdata=fw_cfg" $?
expect "launch: the MEASUREMENT does not change" 0 "^cvm launch: MEASUREMENT $measurement " -- launch --launch launch.toml --print
[[ $("$cvm" measure --launch launch.toml) == "$measurement" ]]; check "measure: the MEASUREMENT does not change" $?
expect "launch: from another directory, the same file" 0 "file=$tmp/sub/eu,, doc.toml" \
  -- launch --launch "$tmp/launch.toml" --print
expect "sim init" 0 'SIMULATED' -- sim init sim
expect "launch --simulate: the document as fw_cfg too" 0 \
  "-fw_cfg name=opt/cvminit/sim/launch,file=fw/launch -fw_cfg 'name=opt/cvminit/initdata,file=$tmp/sub/eu,, doc.toml'" \
  -- launch --launch launch.toml --simulate sim --fw-cfg-dir fw --print

# A simulated report of this launch carries the document's HOST_DATA.
rd=$(printf '5a%.0s' $(seq 64))
expect "sim report --launch" 0 '^SIMULATED report' -- sim report sim --report-data "$rd" --launch launch.toml -o report.bin
expect "check --report: match" 0 "^HOST_DATA $hd is that of eu-doc.toml\$" -- initdata check eu-doc.toml --report report.bin
"$cvm" initdata compose --entry cvminit.toml=us.toml --out us-doc.toml 2>/dev/null
expect "check --report: another deployment's document" 1 \
  "^cvm initdata: the report's HOST_DATA $hd is not the HOST_DATA of us-doc.toml, $(py_digest sha384 us-doc.toml 64) " \
  -- initdata check us-doc.toml --report report.bin
expect "check --report: not a report" 2 '--report' -- initdata check eu-doc.toml --report eu.toml
expect "sim report: --host-data refused, launch.toml sets it" 2 'host_data' \
  -- sim report sim --report-data "$rd" --launch launch.toml --host-data "$zero" -o x.bin

sed -i 's/, "cvminit.initdata=fw_cfg"//' launch.toml
expect "launch: a note when the measured line does not ask for init-data" 0 \
  '^cvm launch: note: launch.toml has initdata but its kernel.cmdline no cvminit.initdata=fw_cfg' -- launch --launch launch.toml --print

# launch.toml refusals
write_launch 'initdata = "sub/eu, doc.toml"' "host_data = \"$hd\""
expect "launch.toml: initdata with host_data" 2 "key 'initdata': given with host_data, which it sets" -- launch --launch launch.toml --print
write_launch 'initdata = "md5.toml"'
expect "launch.toml: a bad document" 2 "key 'initdata': ./md5.toml: initdata key 'algorithm'" -- measure --launch launch.toml
printf 'algorithm = "sha384"\nversion = "0.1.0"\n[data]\n"cvminit.toml" = "deadline = 5"\n' >deadline.toml
expect "digest: a measured-only setting" 2 "deadline.toml: \\[data\\] \"cvminit.toml\": init-data cvminit.toml key 'deadline': measured-only" \
  -- initdata digest deadline.toml
write_launch 'initdata = "deadline.toml"'
expect "launch: a document the agent would refuse" 2 "launch.toml key 'initdata': ./deadline.toml: \\[data\\] \"cvminit.toml\".*'deadline'" \
  -- launch --launch launch.toml --print
write_launch 'initdata = "absent.toml"'
expect "launch.toml: a missing document" 2 "key 'initdata'.*absent.toml" -- launch --launch launch.toml --print

echo "cvm initdata: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
