#!/usr/bin/env bash
# End-to-end storage boots (issue 7) of the real Debian kernel in QEMU (TCG) with virtio disks:
# a dm-verity root made by `cvm verity` and a 1 GiB LUKS2 data volume the agent formats itself.
#   first       blank data disk: the agent formats it, the workload writes a file
#   second      the same disks (the root's tree now from veritysetup): the file reads back
#   peer-open   bookworm's cryptsetup opens the agent's volume in the same kernel and reads it
#   peer-made   a volume cryptsetup luksFormat made (strict profile) is adopted by the agent
#   ciphernull  the host swapped in a cipher_null header: FATAL before attesting, not one byte written
#   tampered    one flipped byte in the root's data: the read fails, the workload never runs
#   plain       no verity root: the workload runs from the initramfs, the volume below it
# Usage: storage.sh RELEASE_BUILD_DIR. Prints bench: lines and "N passed, N failed"; exit 77
# (skip) without QEMU, the pinned kernel or the reference peers (cryptsetup, veritysetup, mke2fs).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
rel=$(realpath "$1")
cvm=$rel/tools/cvm/cvm
skip() { printf 'SKIP: %s\n' "$*"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (scripts/setup)"
PATH=$PATH:/usr/sbin:/sbin
for tool in cryptsetup veritysetup mke2fs debugfs busybox; do
  command -v $tool >/dev/null || skip "$tool is not installed (scripts/setup)"
done
source "$here/inputs.sh"
prepare_inputs
work=$(mktemp -d)
source "$here/lib.sh"
port=$(broker_port) || { echo "FAILED: no free loopback port for the broker"; exit 1; }
source "$here/peer.sh"

# --- the disks: a read-only root with its verity tree, a blank 1 GiB data volume --------------
mkdir -p "$work/rootfs/usr/bin" "$work/rootfs/"{dev,proc,sys,run,data,tmp}
cp "$rel/tools/demo-workload/cvminit-demo-workload" "$work/rootfs/usr/bin/demo-workload"
mke2fs -q -t ext4 -b 4096 -d "$work/rootfs" -E root_owner=0:0 "$work/root.img" 16M ||
  { echo "FAILED: mke2fs -d"; exit 1; }
salt=5a17ed5a17ed5a17ed5a17ed5a17ed5a17ed5a17ed5a17ed5a17ed5a17ed5a17
uuid=8f1c6a2e-3d4b-4c5e-9f60-718293a4b5c6
"$cvm" verity format --salt "$salt" --uuid "$uuid" "$work/root.img" "$work/root.hash" >"$work/cvm-verity.txt"
veritysetup format --salt "$salt" --uuid "$uuid" "$work/root.img" "$work/root.veritysetup" >"$work/veritysetup.txt"
check_that "cvm verity prints what veritysetup format prints" \
  cmp <(sed 1d "$work/cvm-verity.txt") <(sed 1d "$work/veritysetup.txt")   # line 1 names the hash file
check_that "cvm verity writes the hash device veritysetup writes" cmp "$work/root.hash" "$work/root.veritysetup"
roothash=$(sed -n 's/^Root hash:[[:space:]]*//p' "$work/cvm-verity.txt")
check_that "veritysetup verify accepts the cvm verity tree" \
  veritysetup verify "$work/root.img" "$work/root.hash" "$roothash"
verity_flags=()
for word in $("$cvm" verity cmdline "$work/root.img" "$work/root.hash" --data-device /dev/vda --hash-device /dev/vdb); do
  key=${word%%=*}
  key=${key#cvminit.}
  verity_flags+=("--${key//./-}" "${word#*=}")
done
truncate -s 1G "$work/data.img"
head -c 64 /dev/urandom >"$work/data.key"

# --- the image and the launch: one MEASUREMENT for every boot below -------------------------------
"$cvm" sim init "$work/sim" >/dev/null
pub=$("$cvm" broker keygen --out "$work/broker.key")
cat >"$work/cvminit.toml" <<TOML
[workload]
command = ["/usr/bin/demo-workload", "0", "/data"]
TOML
"$cvm" initramfs --agent "$rel/agent/cvminit" --config "$work/cvminit.toml" --kernel-modules "$KMODULES" \
  --module virtio_net --module qemu_fw_cfg --module configfs --module virtio_blk --module dm_crypt \
  --module dm_verity --module xts --module crc32c_generic --module ext4 -o "$work/initrd" >/dev/null ||
  { echo "FAILED: cvm initramfs"; exit 1; }
launch storage "$work/initrd" "http://10.0.2.2:$port" "$pub" --simulate --resources db "${verity_flags[@]}" \
  --data /dev/vdc
mkdir -p "$work/tree/usr/bin"
cp "$rel/tools/demo-workload/cvminit-demo-workload" "$work/tree/usr/bin/demo-workload"
# The plain boot also runs its workload unconfined (isolation = "off"): the one boot where the
# workload can read PID 1's environment, so the check that no secret is in it actually looks.
printf '[workload]\ncommand = ["/usr/bin/demo-workload", "0", "/data"]\nisolation = "off"\nenv = { GREETING = "plain" }\n' \
  >"$work/plain.toml"
"$cvm" initramfs --agent "$rel/agent/cvminit" --config "$work/plain.toml" --kernel-modules "$KMODULES" \
  --module virtio_net --module qemu_fw_cfg --module configfs --module virtio_blk --module dm_crypt --module xts \
  --module crc32c_generic --module ext4 --root "$work/tree" -o "$work/initrd-plain" >/dev/null ||
  { echo "FAILED: cvm initramfs (plain)"; exit 1; }
launch plain "$work/initrd-plain" "http://10.0.2.2:$port" "$pub" --simulate --resources db --data /dev/vda
start_broker storage plain <<'TOML'
[[secret]]
name = "db"
value = "s3cret"
measurements = @MEASUREMENTS@
[[volume]]
name = "data"
key_file = "data.key"
measurements = @MEASUREMENTS@
rollback_protection = false   # one key, several disks: the generations are tests/e2e/sealing.sh's
TOML
LAUNCH=storage   # every boot below is this launch, with other disks

disks() {  # disks ROOT HASH DATA: the cvm launch flags, in /dev/vda, vdb, vdc order
  printf -- '--disk\n%s\n--disk\n%s\n--disk\n%s\n' "$1" "$2" "$3"
}
storage_ms() { sed -n 's/^cvminit: storage: .*LUKS2.* in \([0-9]*\) ms,.*/\1/p' "$work/$1.log"; }

# --- first and second boot ------------------------------------------------------------------
boot first $(disks "$work/root.img" "$work/root.hash" "$work/data.img")
log=$work/first.log
check "first: powered off" "$log" '^qemu exit status 0$'
check "first: verity root" "$log" '^cvminit: storage: root /dev/vda verified by /dev/vdb .*read-only at /sysroot'
check "first: formatted" "$log" '/dev/vdc: formatted LUKS2, made ext4 \([0-9]+ KiB written\)'
check "first: key through the keyring" "$log" 'key via keyring, at /data'
check "first: root is read-only" "$log" '^demo-workload: root is read-only$'
check "first: wrote" "$log" '^demo-workload: wrote /data/hello.txt$'
check "first: closed" "$log" '^cvminit: storage: unmounted /data, closed cvminit-data'
check "first: powered off cleanly" "$log" 'exited with status 0; powering off'
check_that "first: cryptsetup sees LUKS2" cryptsetup isLuks "$work/data.img"
check_that "first: the keyslot opens with the broker's key" \
  cryptsetup open --test-passphrase --key-file "$work/data.key" "$work/data.img"
check_that "first: the cvminit token is in state ready" bash -c "cryptsetup luksDump --dump-json-metadata '$work/data.img' | grep -q '\"state\":\"ready\"'"

boot second $(disks "$work/root.img" "$work/root.veritysetup" "$work/data.img")
log=$work/second.log
check "second: opened, not formatted" "$log" '/dev/vdc: opened LUKS2'
check "second: read back" "$log" '^demo-workload: read back /data/hello.txt: written by the first boot$'
check "second: powered off" "$log" '^qemu exit status 0$'

# --- the reference peer, both ways ----------------------------------------------------------
build_peer_initrd "$work/data.key"
run_peer peer-open open "$work/data.img"
check "peer-open: cryptsetup open" "$work/peer-open.log" '^peer: cryptsetup open ok$'
check "peer-open: reads the agent's file" "$work/peer-open.log" '^peer: read written by the first boot$'
truncate -s 1G "$work/peer.img"
run_peer peer-format format "$work/peer.img"
check "peer-made: luksFormat" "$work/peer-format.log" '^peer: wrote$'
boot peer-made $(disks "$work/root.img" "$work/root.hash" "$work/peer.img")
check "peer-made: adopted in the agent (no cvminit token yet)" "$work/peer-made.log" \
  '/dev/vdc: adopted a LUKS2 volume without a cvminit token \(now generation 1\)'
check_that "peer-made: now carries our token" \
  bash -c "cryptsetup luksDump --dump-json-metadata '$work/peer.img' | grep -q '\"type\":\"cvminit\"'"
check "peer-made: read back" "$work/peer-made.log" '^demo-workload: read back /data/hello.txt: written by cryptsetup$'

# --- a header the host rewrote: cipher_null with correct checksums ----------------------------
cp --sparse=always "$work/data.img" "$work/evil.img"
python3 "$here/luks2_rewrite.py" "$work/evil.img" segments.0.encryption cipher_null
before=$(sha256sum <"$work/evil.img")
boot ciphernull $(disks "$work/root.img" "$work/root.hash" "$work/evil.img")
log=$work/ciphernull.log
check "ciphernull: FATAL names the field" "$log" \
  '^cvminit: FATAL volume: .*segments\.0\.encryption is "cipher_null", expected "aes-xts-plain64"'
check "ciphernull: no workload" "$log" '^demo-workload:' absent
check_that "ciphernull: the disk is unchanged" test "$before" = "$(sha256sum <"$work/evil.img")"

# --- one flipped byte in the root's data ------------------------------------------------------
cp "$work/root.img" "$work/tampered.img"
block=$(debugfs -R "bmap /usr/bin/demo-workload 0" "$work/tampered.img" 2>/dev/null)
printf '\xff' | dd of="$work/tampered.img" bs=1 seek=$((block * 4096 + 64)) conv=notrunc status=none
boot tampered $(disks "$work/tampered.img" "$work/root.hash" "$work/data.img")
log=$work/tampered.log
check "tampered: verity reports the block" "$log" "verity: .*data block $block is corrupted"
check "tampered: the workload never runs" "$log" '^demo-workload: started' absent
check "tampered: powered off" "$log" '^qemu exit status 0$'

# --- no verity root: the volume below the initramfs's workload tree -----------------------------
truncate -s 64M "$work/plain.img"
LAUNCH=plain boot plain --disk "$work/plain.img"
log=$work/plain.log
check "plain: formatted" "$log" '^cvminit: storage: /dev/vda: formatted LUKS2, made ext4'
check "plain: root from the initramfs" "$log" '^cvminit: handoff: root /workload,'
check "plain: wrote" "$log" '^demo-workload: wrote /data/hello.txt$'
check "plain: isolation off, said at handoff" "$log" '^cvminit: handoff: isolation off: the workload can reach /dev/sev-guest'
check "plain: the agent's environment is readable unconfined" "$log" "^demo-workload: the agent's environment is unreadable" absent
check "plain: and holds nothing of the workload's" "$log" "^demo-workload: GREETING in the agent's own environment: no$"
check "plain: closed" "$log" '^cvminit: storage: unmounted /data, closed cvminit-data'

# --- the issue's benchmark: numbers, not verdicts ----------------------------------------------
printf 'bench: data volume 1 GiB, first boot format + open (agent, TCG): %s ms\n' "$(storage_ms first)"
printf 'bench: data volume 1 GiB, steady-state open (agent, TCG): %s ms\n' "$(storage_ms second)"
read -r start end < <(sed -n 's/^peer: cryptsetup open took \([0-9.]*\) \([0-9.]*\)$/\1 \2/p' "$work/peer-open.log")
printf 'bench: data volume 1 GiB, cryptsetup open on the same volume (bookworm, TCG): %s ms\n' \
  "$(python3 -c "print(round(($end - $start) * 1000))" 2>/dev/null)"
[[ -n ${CVM_E2E_KEEP:-} ]] && cp "$work"/*.log "$CVM_E2E_KEEP/"
echo "e2e storage boots: $passed passed, $failed failed"
((failed == 0))
