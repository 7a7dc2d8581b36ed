#!/usr/bin/env bash
# End-to-end boots of the Trustee KBS profile (issue 18, cvminit.broker_protocol=kbs) of the real
# Debian kernel in QEMU (TCG) on the simulated platform, against tests/fakes/fake_kbs: a Python
# fake of Trustee KBS v0.21 that shares no code with ours (it rebuilds the report from our JSON,
# checks the simulated AMD chain, the signature and REPORT_DATA itself, and writes its own JWEs).
#   first      secrets and the data volume's key through RCAR: formatted, the workload writes
#   second     the same disk opens with the key from the KBS; the file reads back
#   initdata   the KBS named by an init-data document, which the fake checks against HOST_DATA
#   wrong-nonce  the KBS remembers another nonce than it sent
#   swap-key     the attest request's TEE key swapped in transit: the report is bound to another key
#   expired, denied  a session past its time; a resource the KBS's policy denies
#   other-key    resources encrypted to a key this boot does not hold
# Each refusal ends in the FATAL line with the disk unchanged, and the workload never runs.
# Usage: kbs.sh RELEASE_BUILD_DIR. Prints "N passed, N failed"; exit 77 (skip) without QEMU.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
rel=$(realpath "$1")
cvm=$rel/tools/cvm/cvm
skip() { printf 'SKIP: %s\n' "$*"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (scripts/setup)"
source "$here/inputs.sh"
prepare_inputs
work=$(mktemp -d)
source "$here/lib.sh"
port=$(broker_port) || { echo "FAILED: no free loopback port for the KBS"; exit 1; }
kbs_pid=
trap '[[ -n $kbs_pid ]] && kill "$kbs_pid" 2>/dev/null; rm -rf "$work"' EXIT

# start_kbs NAME [fake_kbs flags...]: the fake KBS on $port until the next start_kbs, logging
# to NAME.kbs.log, with the simulated platform's chain and this script's two resources.
start_kbs() {
  local name=$1
  shift
  [[ -n $kbs_pid ]] && { kill "$kbs_pid"; wait "$kbs_pid" 2>/dev/null; }
  rm -f "$work/kbs.ready"
  python3 "$root/tests/fakes/fake_kbs" --port "$port" --ark "$work/sim/ark.pem" --ask "$work/sim/ask.pem" \
    --vcek "$work/sim/vcek.der" --resource "prod/db/password=$work/db.secret" \
    --resource "default/cvminit/data=$work/data.key" --log "$work/$name.kbs.log" --ready-file "$work/kbs.ready" \
    "$@" 2>"$work/$name.kbs.err" &
  kbs_pid=$!
  for _ in $(seq 300); do
    [[ -s $work/kbs.ready ]] && return 0
    kill -0 "$kbs_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAILED: the fake KBS is not listening on 127.0.0.1:$port:"; cat "$work/$name.kbs.err"; exit 1
}

# --- the image: the agent asks for db (mapped to a KBS path) and the data volume's key ---------
"$cvm" sim init "$work/sim" >/dev/null
printf 'kbs-db-password' >"$work/db.secret"
head -c 64 /dev/urandom >"$work/data.key"
cat >"$work/cvminit.toml" <<'TOML'
[workload]
command = ["/usr/bin/demo-workload", "0", "/data"]
[secrets]
resources = ["db"]
kbs_paths = { db = "prod/db/password" }
TOML
mkdir -p "$work/tree/usr/bin"
cp "$rel/tools/demo-workload/cvminit-demo-workload" "$work/tree/usr/bin/demo-workload"
"$cvm" initramfs --agent "$rel/agent/cvminit" --config "$work/cvminit.toml" --kernel-modules "$KMODULES" \
  --module virtio_net --module qemu_fw_cfg --module configfs --module virtio_blk --module dm_crypt --module xts \
  --module crc32c_generic --module ext4 --root "$work/tree" -o "$work/initrd" >/dev/null ||
  { echo "FAILED: cvm initramfs"; exit 1; }
launch kbs "$work/initrd" "http://10.0.2.2:$port" "" --broker-protocol kbs --simulate --data /dev/vda
check_that "the measured line names the protocol and no broker key" \
  bash -c "grep -q 'cvminit.broker_protocol=kbs' '$work/kbs.toml' && ! grep -q 'cvminit.broker_key' '$work/kbs.toml'"
truncate -s 64M "$work/data.img"
LAUNCH=kbs

# --- first and second boot ----------------------------------------------------------------------
start_kbs first
boot first --disk "$work/data.img"
log=$work/first.log
check "first: powered off" "$log" '^qemu exit status 0$'
check "first: the report binds the KBS's nonce and a TEE key" "$log" \
  '^cvminit: attest: .*bound to the KBS.s nonce and a fresh P-256 TEE key \(RCAR\)'
check "first: retrieved through RCAR" "$log" '^cvminit: retrieve: 1 secrets and 1 volume keys from the KBS at http://10\.0\.2\.2'
check "first: the secret, from its mapped path" "$log" '^demo-workload: secret db mode 0400: kbs-db-password$'
check "first: formatted with the KBS's key" "$log" '^cvminit: storage: /dev/vda: formatted LUKS2, made ext4'
check "first: wrote" "$log" '^demo-workload: wrote /data/hello.txt$'
kbs_log=$work/first.kbs.log
check "first: the fake verified the evidence" "$kbs_log" '^POST /kbs/v0/attest 200'
check "first: both resources released" "$kbs_log" '^GET /kbs/v0/resource/prod/db/password 200'
check "first: ... and the volume key" "$kbs_log" '^GET /kbs/v0/resource/default/cvminit/data 200'
check_that "first: the volume opens with the KBS's key (cryptsetup)" \
  cryptsetup open --test-passphrase --key-file "$work/data.key" "$work/data.img"

start_kbs second
boot second --disk "$work/data.img"
check "second: opened, not formatted" "$work/second.log" '^cvminit: storage: /dev/vda: opened LUKS2'
check "second: read back" "$work/second.log" '^demo-workload: read back /data/hello.txt: written by the first boot$'

# --- init-data: the document names the KBS; the fake compares its digest with HOST_DATA --------
printf 'broker = "http://10.0.2.2:%s"\nbroker_protocol = "kbs"\n' "$port" >"$work/deploy.toml"
"$cvm" initdata compose --algorithm sha384 --entry "cvminit.toml=$work/deploy.toml" --out "$work/kbs.initdata" ||
  { echo "FAILED: cvm initdata compose"; exit 1; }
cmdline=$("$cvm" cmdline compose --initdata fw_cfg --simulate --data /dev/vda --extra "console=ttyS0")
sed -e "s|^cmdline = .*|cmdline = [\"$cmdline\"]|" -e '1i initdata = "'"$work/kbs.initdata"'"' "$work/kbs.toml" \
  >"$work/kbs-initdata.toml"
start_kbs initdata
LAUNCH=kbs-initdata boot initdata --disk "$work/data.img"
check "initdata: the document is the launch's HOST_DATA" "$work/initdata.log" '^cvminit: initdata: document'
check "initdata: read back through the KBS it names" "$work/initdata.log" \
  '^demo-workload: read back /data/hello.txt: written by the first boot$'
check "initdata: the agent sent the document, the fake matched it to HOST_DATA" "$work/initdata.kbs.log" \
  '^POST /kbs/v0/attest 200 init-data matches HOST_DATA$'
check "first: no document without init-data" "$work/first.kbs.log" '^POST /kbs/v0/attest 200 no init-data$' 

# --- refusals: each ends in the FATAL line, and the workload never runs --------------------------
refused() {  # refused NAME PATTERN [fake_kbs flags...]
  local name=$1 pattern=$2
  shift 2
  start_kbs "$name" "$@"
  cp --sparse=always "$work/data.img" "$work/$name.img"
  boot "$name" --disk "$work/$name.img"
  check "$name: FATAL" "$work/$name.log" "^cvminit: FATAL retrieve: $pattern"
  check "$name: no workload" "$work/$name.log" '^demo-workload:' absent
  check "$name: powered off" "$work/$name.log" '^qemu exit status 0$'
  check_that "$name: the disk is unchanged" cmp "$work/data.img" "$work/$name.img"
}
refused wrong-nonce 'KBS attest: HTTP 401' --fault wrong-nonce
check "wrong-nonce: one new handshake, then final" "$work/wrong-nonce.log" 'a new handshake'
check "wrong-nonce: the fake names the nonce" "$work/wrong-nonce.kbs.log" '^POST /kbs/v0/attest 401 .*nonce'
refused swap-key 'KBS attest: HTTP 401' --fault swap-key
check "swap-key: the fake finds the report bound to another key" "$work/swap-key.kbs.log" \
  '^POST /kbs/v0/attest 401 .*Report Data Mismatch'
refused expired 'KBS (attest|resource [a-z]+ \([a-z/]+\)): HTTP 401' --session-seconds 0
refused denied 'KBS resource db \(prod/db/password\): HTTP 401 PolicyDeny' --deny prod/db/password
refused other-key 'KBS resource db \(prod/db/password\): .*' --fault other-key
check "other-key: the JWE does not open with this handshake's key" "$work/other-key.log" \
  '^cvminit: FATAL retrieve: .*jwe\.encrypted_key: AES key unwrap integrity check failed.* not encrypted to this handshake.s TEE key'

[[ -n ${CVM_E2E_KEEP:-} ]] && cp "$work"/*.log "$CVM_E2E_KEEP/"
echo "e2e kbs boots: $passed passed, $failed failed"
((failed == 0))
