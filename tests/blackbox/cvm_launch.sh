#!/usr/bin/env bash
# Black-box tests of `cvm launch --print` (the QEMU command of a measured launch, hardware and
# simulated) and of `cvm demo`'s argument checks. The boots themselves are tests/e2e/boot.sh.
# Usage: cvm_launch.sh CVM
set -uo pipefail
cvm=$(realpath "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"

printf 'not firmware' >"$tmp/ovmf.fd"
printf 'not a kernel' >"$tmp/vmlinuz"
cat >"$tmp/launch.toml" <<TOML
vcpus = 2
vcpu_type = "EPYC-Milan"
memory_mib = 1024
[firmware]
ovmf = "ovmf.fd"
[kernel]
path = "vmlinuz"
initrd = "initrd, with a comma"
cmdline = ["console=ttyS0", "cvminit.simulate=1"]
TOML
expect "help" 0 '^usage: cvm launch --launch' -- launch --help
expect "listed" 0 '^  launch ' -- --help
expect "hardware: SNP with kernel hashes" 0 \
  "-object sev-snp-guest,id=sev0,cbitpos=51,reduced-phys-bits=1,kernel-hashes=on -bios $tmp/ovmf.fd" \
  -- launch --launch "$tmp/launch.toml" --print
expect "hardware: the launch's vCPUs, type and memory" 0 '-smp 2 -m 1024M .*-cpu EPYC-Milan' \
  -- launch --launch "$tmp/launch.toml" --print
expect "the measured cmdline, quoted" 0 "-append 'console=ttyS0 cvminit.simulate=1'" \
  -- launch --launch "$tmp/launch.toml" --print
expect "disks, commas doubled" 0 "file=$tmp/d,,1.img,if=none,format=raw,id=disk0 -device virtio-blk-pci,drive=disk0" \
  -- launch --launch "$tmp/launch.toml" --print --disk "$tmp/d,1.img"
expect "no network" 0 '^[^#]*-kernel' -- launch --launch "$tmp/launch.toml" --print --no-network
out=$("$cvm" launch --launch "$tmp/launch.toml" --print --no-network)
[[ $out != *virtio-net* ]] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAILED --no-network: $out"; }
expect "simulate needs fw-cfg dir" 2 '--simulate needs --fw-cfg-dir' -- launch --launch "$tmp/launch.toml" --simulate x
"$cvm" sim init "$tmp/sim" >/dev/null
# A simulated launch needs the MEASUREMENT: with this fake firmware, measure refuses, by name.
expect "simulated: measurement from the launch" 2 'ovmf.fd: the image is 12 bytes' \
  -- launch --launch "$tmp/launch.toml" --simulate "$tmp/sim" --fw-cfg-dir "$tmp/fw" --print
sed -i 's/^mode.*//; 1i mode = "sev"' "$tmp/launch.toml"
expect "only snp launches" 2 "launch.toml key 'mode'" -- launch --launch "$tmp/launch.toml" --print
expect "missing launch" 2 'needs --launch' -- launch --print
expect "demo help" 0 '^usage: cvm demo --kernel' -- demo --help
expect "demo needs its inputs" 2 'needs --kernel' -- demo --work-dir "$tmp/demo"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
