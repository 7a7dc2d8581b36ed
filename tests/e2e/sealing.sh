#!/usr/bin/env bash
# End-to-end sealing and anti-rollback boots (issue 17) of the real Debian kernel in QEMU (TCG) on
# two simulated chips (two `cvm sim init` platforms; the broker restarted to trust the other), one
# broker keeping its volume generations in a state file across the restarts.
#   seal-1..4     the workload seals a text under each policy on the first boot, into its data
#                 volume; the same launch unseals both after a reboot; another MEASUREMENT unseals
#                 only chip-only; another chip unseals neither; measurement-only is refused (no VLEK)
#   rollback      the data disk as it was before two boots: VOLUME_ROLLBACK, nothing written
#   zeroed        its first 4 KiB zeroed (the primary header): refused by name by the agent
#   wiped         both header copies zeroed: blank where the broker knows a volume, refused
#   hybrid-1..5   a hybrid volume (broker key + chip-only derived key) with a recovery keyslot:
#                 opens on its chip, not on the other; after `cvm broker volume reset` and
#                 `recover` the recovery keyslot reopens it and keyslot 0 is re-made for the new
#                 chip, which then opens it alone; cryptsetup opens it with the recovery key
#   injected      the host writes state "formatting" into a finished volume's token (checksums
#                 fixed): the header's HMAC refuses it, and not one byte is written
# Usage: sealing.sh RELEASE_BUILD_DIR. Prints "N passed, N failed"; exit 77 (skip) without QEMU,
# the pinned kernel or cryptsetup.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
rel=$(realpath "$1")
cvm=$rel/tools/cvm/cvm
skip() { printf 'SKIP: %s\n' "$*"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (scripts/setup)"
PATH=$PATH:/usr/sbin:/sbin
command -v cryptsetup >/dev/null || skip "cryptsetup is not installed (scripts/setup)"
source "$here/inputs.sh"
prepare_inputs
work=$(mktemp -d)
source "$here/lib.sh"
port=$(broker_port) || { echo "FAILED: no free loopback port for the broker"; exit 1; }

# --- two chips, one image per workload, three launches --------------------------------------------
"$cvm" sim init "$work/sim" >/dev/null
"$cvm" sim init "$work/sim2" >/dev/null
pub=$("$cvm" broker keygen --out "$work/broker.key")
head -c 64 /dev/urandom >"$work/store.key"
head -c 64 /dev/urandom >"$work/data.key"
head -c 64 /dev/urandom >"$work/data.recovery"
mkdir -p "$work/tree/usr/bin" "$work/tree/data"
cp "$rel/tools/demo-workload/cvminit-demo-workload" "$work/tree/usr/bin/demo-workload"
image() {  # image NAME COMMAND-ARRAY: NAME.initrd running the demo workload so
  printf '[workload]\ncommand = %s\n' "$2" >"$work/$1.toml"
  "$cvm" initramfs --agent "$rel/agent/cvminit" --config "$work/$1.toml" --kernel-modules "$KMODULES" \
    --module virtio_net --module qemu_fw_cfg --module configfs --module virtio_blk --module dm_crypt --module xts \
    --module crc32c_generic --module ext4 --root "$work/tree" -o "$work/$1.initrd" >/dev/null ||
    { echo "FAILED: cvm initramfs ($1)"; exit 1; }
}
image seal '["/usr/bin/demo-workload", "--seal-probe", "/data", "measurement-and-chip", "chip-only", "measurement-only"]'
image files '["/usr/bin/demo-workload", "0", "/data"]'
url="http://10.0.2.2:$port"
launch seal "$work/seal.initrd" "$url" "$pub" --simulate --data /dev/vda --data-key store
launch seal2 "$work/seal.initrd" "$url" "$pub" --simulate --data /dev/vda --data-key store --deadline 119
launch hybrid "$work/files.initrd" "$url" "$pub" --simulate --data /dev/vda --data-key-mode hybrid
check_that "another command line, another MEASUREMENT" \
  test "$(cat "$work/seal.measurement")" != "$(cat "$work/seal2.measurement")"
tables='[[volume]]
name = "store"
key_file = "store.key"
measurements = @MEASUREMENTS@
[[volume]]
name = "data"
key_file = "data.key"
recovery_key_file = "data.recovery"
measurements = @MEASUREMENTS@
[volumes]
state_file = "volumes.state"
'
broker_on() {  # broker_on SIM: (re)start the one broker, trusting that platform's ARK
  if [[ -n $broker_pid ]]; then kill "$broker_pid"; wait "$broker_pid" 2>/dev/null; fi
  BROKER_SIM=$1 start_broker seal seal2 hybrid <<<"$tables"
}
volume() { "$cvm" broker volume "$@" --config "$work/broker.toml"; }
unchanged() { test "$1" = "$(sha256sum <"$2")"; }
broker_on sim
truncate -s 64M "$work/store.img"

# --- sealed data: a reboot, another measurement, another chip -------------------------------------
LAUNCH=seal boot seal-1 --disk "$work/store.img"
log=$work/seal-1.log
check "seal-1: the volume's claim reported before attesting" "$log" '^cvminit: volume: /dev/vda: blank'
check "seal-1: formatted" "$log" '^cvminit: storage: /dev/vda: formatted LUKS2'
check "seal-1: sealed measurement-and-chip" "$log" '^demo-workload: sealed measurement-and-chip \([0-9]+ bytes\)$'
check "seal-1: sealed chip-only" "$log" '^demo-workload: sealed chip-only \([0-9]+ bytes\)$'
check "seal-1: measurement-only refused: no VLEK" "$log" '^demo-workload: seal measurement-only refused: .*VLEK'
check "seal-1: powered off" "$log" '^qemu exit status 0$'
cp --sparse=always "$work/store.img" "$work/store-old.img"   # the copy from before two boots
old=$(sha256sum <"$work/store-old.img")

LAUNCH=seal boot seal-2 --disk "$work/store.img"
log=$work/seal-2.log
check "seal-2: generation 1 reported" "$log" '^cvminit: volume: /dev/vda: LUKS2, generation 1,'
check "seal-2: measurement-and-chip unsealed after a reboot" "$log" \
  '^demo-workload: unsealed measurement-and-chip: sealed by the first boot under measurement-and-chip$'
check "seal-2: chip-only unsealed after a reboot" "$log" \
  '^demo-workload: unsealed chip-only: sealed by the first boot under chip-only$'

LAUNCH=seal2 boot seal-3 --disk "$work/store.img"
log=$work/seal-3.log
check "seal-3: another measurement: measurement-and-chip refused" "$log" \
  '^demo-workload: unseal measurement-and-chip refused: '
check "seal-3: another measurement: chip-only still unsealed" "$log" \
  '^demo-workload: unsealed chip-only: sealed by the first boot under chip-only$'

broker_on sim2
SIM=sim2 LAUNCH=seal boot seal-4 --disk "$work/store.img"
log=$work/seal-4.log
check "seal-4: another chip: the volume (broker key) opens" "$log" '^cvminit: storage: /dev/vda: opened LUKS2'
check "seal-4: another chip: measurement-and-chip refused" "$log" '^demo-workload: unseal measurement-and-chip refused: '
check "seal-4: another chip: chip-only refused" "$log" '^demo-workload: unseal chip-only refused: '
check "seal-4: no sealed text leaked" "$log" '^demo-workload: unsealed' absent

# --- the host replays the disk: an old copy, a zeroed header ---------------------------------------
SIM=sim2 LAUNCH=seal boot rollback --disk "$work/store-old.img"
log=$work/rollback.log
check "rollback: VOLUME_ROLLBACK names both generations" "$log" \
  '^cvminit: FATAL retrieve: broker refused: VOLUME_ROLLBACK .*generation.* 1.* 4'
check "rollback: the hint says what to do" "$log" 'cvm broker volume reset'
check "rollback: no workload" "$log" '^demo-workload:' absent
check_that "rollback: the old copy is unchanged" unchanged "$old" "$work/store-old.img"
check "rollback: the broker logged it" "$work/broker.log" 'VOLUME_ROLLBACK'

cp --sparse=always "$work/store.img" "$work/zeroed.img"
dd if=/dev/zero of="$work/zeroed.img" bs=4096 count=1 conv=notrunc status=none
zeroed=$(sha256sum <"$work/zeroed.img")
SIM=sim2 LAUNCH=seal boot zeroed --disk "$work/zeroed.img"
log=$work/zeroed.log
check "zeroed: the primary header zeroed before a finished secondary is refused by name" "$log" \
  '^cvminit: FATAL volume: /dev/vda: .*zero'
check "zeroed: never formatted" "$log" 'formatted LUKS2' absent
check_that "zeroed: the disk is unchanged" unchanged "$zeroed" "$work/zeroed.img"

cp --sparse=always "$work/store.img" "$work/wiped.img"
dd if=/dev/zero of="$work/wiped.img" bs=4096 count=8 conv=notrunc status=none   # both header copies
wiped=$(sha256sum <"$work/wiped.img")
SIM=sim2 LAUNCH=seal boot wiped --disk "$work/wiped.img"
log=$work/wiped.log
check "wiped: both header copies gone: reported blank" "$log" '^cvminit: volume: /dev/vda: blank'
check "wiped: blank where the broker knows a volume: VOLUME_ROLLBACK" "$log" \
  '^cvminit: FATAL retrieve: broker refused: VOLUME_ROLLBACK .*blank'
check "wiped: never formatted" "$log" 'formatted LUKS2' absent
check_that "wiped: the disk is unchanged" unchanged "$wiped" "$work/wiped.img"

# --- a hybrid volume: its chip, another chip, the recovery keyslot ---------------------------------
truncate -s 64M "$work/data.img"
SIM=sim2 LAUNCH=hybrid boot hybrid-1 --disk "$work/data.img"
log=$work/hybrid-1.log
check "hybrid-1: formatted" "$log" '^cvminit: storage: /dev/vda: formatted LUKS2'
check "hybrid-1: wrote" "$log" '^demo-workload: wrote /data/hello.txt$'
check_that "hybrid-1: cryptsetup opens it with the recovery key (keyslot 1)" \
  cryptsetup open --test-passphrase --key-slot 1 --key-file "$work/data.recovery" "$work/data.img"
check_that "hybrid-1: the broker's key alone does not open it" \
  bash -c "! cryptsetup open --test-passphrase --key-file '$work/data.key' '$work/data.img' 2>/dev/null"
check_that "hybrid-1: cryptsetup sees our token" bash -c "cryptsetup luksDump '$work/data.img' | grep -q cvminit"

SIM=sim2 LAUNCH=hybrid boot hybrid-2 --disk "$work/data.img"
check "hybrid-2: opens on its chip" "$work/hybrid-2.log" \
  '^demo-workload: read back /data/hello.txt: written by the first boot$'

broker_on sim
LAUNCH=hybrid boot hybrid-3 --disk "$work/data.img"
log=$work/hybrid-3.log
check "hybrid-3: another chip: keyslot 0 does not open" "$log" '^cvminit: FATAL storage: .*keyslot 0'
check "hybrid-3: no workload" "$log" '^demo-workload:' absent

check_that "cvm broker volume reset data" volume reset data
check_that "cvm broker volume recover data" volume recover data
LAUNCH=hybrid boot hybrid-4 --disk "$work/data.img"
log=$work/hybrid-4.log
check "hybrid-4: the recovery keyslot reopens it" "$log" '^cvminit: storage: .*recover'
check "hybrid-4: read back" "$log" '^demo-workload: read back /data/hello.txt: written by the first boot$'

LAUNCH=hybrid boot hybrid-5 --disk "$work/data.img"
log=$work/hybrid-5.log
check "hybrid-5: keyslot 0 re-made for this chip opens it alone" "$log" \
  '^demo-workload: read back /data/hello.txt: written by the first boot$'
check "hybrid-5: without the recovery key" "$log" '^cvminit: storage: .*recover' absent

# --- the host injects the formatting state into a finished volume's token -------------------------
cp --sparse=always "$work/store.img" "$work/injected.img"
python3 "$here/luks2_rewrite.py" "$work/injected.img" tokens.0.state formatting
injected=$(sha256sum <"$work/injected.img")
LAUNCH=seal boot injected --disk "$work/injected.img"
log=$work/injected.log
check "injected: reported as the disk claims" "$log" '^cvminit: volume: /dev/vda: LUKS2, first boot unfinished'
check "injected: the header's HMAC refuses it" "$log" '^cvminit: FATAL storage: .*header authentication failed'
check "injected: never reformatted" "$log" 'made ext4' absent
check_that "injected: not one byte written" unchanged "$injected" "$work/injected.img"

[[ -n ${CVM_E2E_KEEP:-} ]] && cp "$work"/*.log "$CVM_E2E_KEEP/"
echo "e2e sealing boots: $passed passed, $failed failed"
((failed == 0))
