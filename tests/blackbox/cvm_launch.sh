#!/usr/bin/env bash
# Black-box tests of `cvm launch`: the QEMU command of a measured launch (hardware and
# simulated) with the report fields of launch.toml, the refusals of what QEMU would launch
# differently from what is measured, the MEASUREMENT it prints, and its exit status from the
# agent's final line (through a stand-in QEMU that prints what a guest's console would); and
# `cvm demo`'s argument checks. The real boots are tests/e2e/boot.sh.
# Usage: cvm_launch.sh CVM VECTORS_DIR KEYS_DIR
set -uo pipefail
cvm=$(realpath "$1")
ovmf=$(realpath "$2/measure/ovmf_AmdSev_suffix.bin")
keys=$(realpath "$3")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"
check() { if [[ $2 -eq 0 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED $1"; fi; }

# A bzImage header (boot_flag 0xAA55 at 0x1FE, "HdrS" at 0x202, protocol 2.15) and some bytes.
python3 -c 'import sys; b = bytearray(range(256)) * 64; b[0x1FE:0x200] = b"\x55\xAA"; b[0x202:0x208] = b"HdrS\x0f\x02"; sys.stdout.buffer.write(b)' >"$tmp/vmlinuz"
printf 'initrd bytes' >"$tmp/initrd, with a comma"
write_launch() {  # write_launch [LINES...]: launch.toml with the given top-level lines
  { printf '%s\n' "$@"
    printf 'vcpus = 2\nmemory_mib = 1024\n[firmware]\novmf = "%s"\n[kernel]\npath = "vmlinuz"\n' "$ovmf"
    printf 'initrd = "initrd, with a comma"\ncmdline = ["console=ttyS0", "cvminit.simulate=1"]\n'; } >"$tmp/launch.toml"
}
write_launch 'vcpu_type = "EPYC-Milan"'
expect "help" 0 '^usage: cvm launch --launch' -- launch --help
expect "help: exit statuses" 0 '^  125 the boot ended in the agent' -- launch --help
expect "listed" 0 '^  launch ' -- --help
expect "hardware: SNP with kernel hashes and the default policy" 0 \
  "-object sev-snp-guest,id=sev0,cbitpos=51,reduced-phys-bits=1,kernel-hashes=on,policy=0x30000 -bios $ovmf" \
  -- launch --launch "$tmp/launch.toml" --print
expect "hardware: the launch's vCPUs, type and memory" 0 '-smp 2 -m 1024M .*-cpu EPYC-Milan ' \
  -- launch --launch "$tmp/launch.toml" --print
expect "the measured cmdline, quoted" 0 "-append 'console=ttyS0 cvminit.simulate=1'" \
  -- launch --launch "$tmp/launch.toml" --print
measurement=$("$cvm" measure --launch "$tmp/launch.toml")
expect "prints cvm measure's MEASUREMENT" 0 "^cvm launch: MEASUREMENT $measurement \(cvm measure --launch" \
  -- launch --launch "$tmp/launch.toml" --print
out=$("$cvm" launch --launch "$tmp/launch.toml" --print 2>/dev/null)
[[ $out != *MEASUREMENT* && $out == *qemu-system-x86_64* ]]; check "the MEASUREMENT on stderr, the command on stdout" $?
expect "disks, commas doubled" 0 "file=$tmp/d,,1.img,if=none,format=raw,id=disk0 -device virtio-blk-pci,drive=disk0" \
  -- launch --launch "$tmp/launch.toml" --print --disk "$tmp/d,1.img"
out=$("$cvm" launch --launch "$tmp/launch.toml" --print --no-network 2>/dev/null)
[[ $out != *virtio-net* && $out == *-kernel* ]]; check "--no-network" $?

# hostfwd: QEMU's syntax only, nothing measured changes
expect "hostfwd" 0 '-netdev user,id=net0,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp::53-:53 ' \
  -- launch --launch "$tmp/launch.toml" --print --hostfwd tcp:127.0.0.1:8080-:80 --hostfwd udp::53-:53
expect "hostfwd: the same MEASUREMENT" 0 "^cvm launch: MEASUREMENT $measurement " \
  -- launch --launch "$tmp/launch.toml" --print --hostfwd tcp:127.0.0.1:8080-:80
expect "hostfwd: no option injection" 2 "--hostfwd 'tcp::1-:1,guestfwd=x': expected" \
  -- launch --launch "$tmp/launch.toml" --print --hostfwd 'tcp::1-:1,guestfwd=x'
expect "hostfwd: bad port" 2 "--hostfwd 'tcp::70000-:80'" -- launch --launch "$tmp/launch.toml" --print --hostfwd tcp::70000-:80
expect "hostfwd needs the network" 2 '--hostfwd needs the network' \
  -- launch --launch "$tmp/launch.toml" --print --no-network --hostfwd tcp::1-:1

# policy, host_data and the ID block from launch.toml, in QEMU's encodings
hd=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
hd64=$(python3 -c "import base64; print(base64.b64encode(bytes.fromhex('$hd')).decode())")
write_launch 'vcpu_type = "EPYC-Milan"' 'policy = 0xb0000' "host_data = \"$hd\""
expect "policy and host-data" 0 "kernel-hashes=on,policy=0xb0000,host-data=${hd64//+/\\+} -bios" \
  -- launch --launch "$tmp/launch.toml" --print
expect "policy and host-data: the same MEASUREMENT" 0 "^cvm launch: MEASUREMENT $measurement " \
  -- launch --launch "$tmp/launch.toml" --print
write_launch 'vcpu_type = "EPYC-Milan"' 'policy = 0xb0000'
printf '[id_block]\nid_key = "%s"\nauthor_key = "%s"\nguest_svn = 2\n' "$keys/id_key_TEST_ONLY.pem" \
  "$keys/author_key_TEST_ONLY.pem" >>"$tmp/launch.toml"
expect "ID block, author key" 0 'policy=0xb0000,id-block=[A-Za-z0-9+/]{128},id-auth=[A-Za-z0-9+/=]{5464},author-key-enabled=on -bios' \
  -- launch --launch "$tmp/launch.toml" --print
ld64=$(python3 -c "import base64; print(base64.b64encode(bytes.fromhex('$measurement')).decode())")
expect "the ID block signs the launch's MEASUREMENT" 0 "id-block=${ld64//+/\\+}" -- launch --launch "$tmp/launch.toml" --print
block=$("$cvm" launch --launch "$tmp/launch.toml" --print 2>/dev/null | grep -o 'id-block=[^,]*,id-auth=[^ ]*')
want=$("$cvm" id-block --measurement "$measurement" --id-key "$keys/id_key_TEST_ONLY.pem" \
  --author-key "$keys/author_key_TEST_ONLY.pem" --policy 0xb0000 --guest-svn 2 | head -1)
[[ "$block,policy=0xb0000" == "$want" ]]; check "cvm id-block prints the same properties" $?
expect "id-block: the whole property string" 0 '^id-block=[^,]*,id-auth=[^,]*,author-key-enabled=on,policy=0xb0000$' \
  -- id-block --measurement "$measurement" --id-key "$keys/id_key_TEST_ONLY.pem" --author-key "$keys/author_key_TEST_ONLY.pem" --policy 0xb0000
expect "id-block: nothing more without author key and default policy" 0 '^id-block=[^,]*,id-auth=[^,]*$' \
  -- id-block --measurement "$measurement" --id-key "$keys/id_key_TEST_ONLY.pem"

# what QEMU would launch differently from what is measured: refused by key
for bad in 'vcpu_type = "EPYC-Milan,+avx512f"|vcpu_type' 'vcpu_type = "host"|vcpu_type' \
           'vcpu_sig = 0x800f13|vcpu_sig' 'vcpu_family = 25
vcpu_model = 1
vcpu_stepping = 2|vcpu_family' 'vcpu_type = "EPYC-v4"
guest_features = 0x21|guest_features' 'vcpu_type = "EPYC-v4"
vmm_type = "ec2"|vmm_type' 'mode = "sev"|mode'; do
  write_launch "${bad%|*}"
  expect "refused: ${bad%|*}" 2 "launch.toml key '${bad#*|}'" -- launch --launch "$tmp/launch.toml" --print
done
write_launch 'vcpu_sig = 0xa10f10'
expect "a signature QEMU has: its model" 0 '-cpu EPYC-Genoa ' -- launch --launch "$tmp/launch.toml" --print
expect "report fields only from launch.toml" 2 "^cvm launch: unknown option '--policy'" \
  -- launch --launch "$tmp/launch.toml" --print --policy 0x30000

# simulated launches
expect "simulate needs fw-cfg dir" 2 '--simulate needs --fw-cfg-dir' -- launch --launch "$tmp/launch.toml" --simulate x
"$cvm" sim init "$tmp/sim" >/dev/null
expect "simulated: TCG with the fw_cfg blobs" 0 "-accel tcg -cpu max -fw_cfg name=opt/cvminit/sim/" \
  -- launch --launch "$tmp/launch.toml" --simulate "$tmp/sim" --fw-cfg-dir "$tmp/fw" --print
expect "missing launch" 2 'needs --launch' -- launch --print
# cvm sim takes the same report fields from launch.toml, and no flag for one launch.toml sets
write_launch 'vcpu_type = "EPYC-Milan"' 'policy = 0xb0000' "host_data = \"$hd\""
rd=$(printf '%0128d' 0)
expect "sim report: a flag for what launch.toml sets" 2 "--policy: the launch.toml of --launch sets 'policy'" \
  -- sim report "$tmp/sim" --report-data "$rd" --launch "$tmp/launch.toml" --policy 0x30000 -o "$tmp/r.bin"
expect "sim report: from launch.toml" 0 "measurement $measurement" \
  -- sim report "$tmp/sim" --report-data "$rd" --launch "$tmp/launch.toml" -o "$tmp/r.bin"
python3 -c "import sys; r = open(sys.argv[1], 'rb').read(); sys.exit(not (int.from_bytes(r[8:16], 'little') == 0xb0000 and r[0xC0:0xE0].hex() == sys.argv[2]))" \
  "$tmp/r.bin" "$hd"; check "sim report: GUEST_POLICY and HOST_DATA of launch.toml" $?
write_launch 'vcpu_type = "EPYC-Milan"'
printf '[id_block]\nid_key = "%s"\n' "$keys/id_key_TEST_ONLY.pem" >>"$tmp/launch.toml"
expect "sim report: no --policy beside an ID block signed for the default policy" 2 \
  "--policy: the launch.toml of --launch sets '\[id_block\] \(signed for launch.toml's policy\)'" \
  -- sim report "$tmp/sim" --report-data "$rd" --launch "$tmp/launch.toml" --policy 0x30000 -o "$tmp/r.bin"

# the outcome: a stand-in QEMU prints a console and exits; cvm launch relays it unchanged
fake_qemu() {  # fake_qemu NAME CONSOLE_FILE [QEMU_STATUS]
  printf '#!/bin/sh\ncat "%s"\nexit %s\n' "$2" "${3:-0}" >"$tmp/$1"
  chmod +x "$tmp/$1"
}
printf 'cvminit: early: mounts (3 ms)\r\ncvminit: workload /usr/bin/w exited with status 7; powering off\r\n[ 2.0] reboot: Power down\r\n' >"$tmp/c7"
printf 'cvminit: workload /usr/bin/w exited with status 0; powering off\r\n' >"$tmp/c0"
printf 'cvminit: FATAL attest: no report provider (ENODEV) \xe2\x80\x94 set cvminit.simulate=1\r\n' >"$tmp/cf"
printf 'Kernel panic - not syncing: Attempted to kill init!\r\n' >"$tmp/cn"
fake_qemu q7 "$tmp/c7"; fake_qemu q0 "$tmp/c0"; fake_qemu qf "$tmp/cf"; fake_qemu qn "$tmp/cn" 1
run() { "$cvm" launch --launch "$tmp/launch.toml" --simulate "$tmp/sim" --fw-cfg-dir "$tmp/fw" --qemu "$@"; }
run "$tmp/q7" </dev/null >"$tmp/out7" 2>"$tmp/err7"
check "workload status 7 -> exit 7" $(($? == 7 ? 0 : 1))
cmp -s "$tmp/c7" "$tmp/out7"; check "the console relayed unchanged (CR LF kept)" $?
grep -q "^cvm launch: the workload's status 7 (QEMU exit status 0): cvminit: workload /usr/bin/w exited with status 7; powering off$" "$tmp/err7"; check "the outcome on stderr" $?
run "$tmp/q0" </dev/null >/dev/null 2>&1; check "workload status 0 -> exit 0" $?
run "$tmp/qf" </dev/null >/dev/null 2>"$tmp/errf"
check "FATAL -> exit 125" $(($? == 125 ? 0 : 1))
grep -q 'the boot ended in FATAL, exit status 125' "$tmp/errf"; check "FATAL on stderr" $?
run "$tmp/qn" </dev/null >/dev/null 2>"$tmp/errn"
check "no final line -> exit 126" $(($? == 126 ? 0 : 1))
grep -q "no final line from the agent, exit status 126 (QEMU exit status 1)" "$tmp/errn"; check "no final line on stderr" $?
run "$tmp/no-such-qemu" </dev/null >/dev/null 2>&1
check "QEMU missing -> exit 126" $(($? == 126 ? 0 : 1))
# SIGTERM reaches QEMU: one stand-in reports it on the console and ends as a guest would, one
# just ends (cvm launch then ends as killed by SIGTERM: 143). Each stand-in stops by itself.
printf '#!/bin/sh\ntrap "echo cvminit: workload /w exited with status 3\\; powering off; exit 0" TERM\necho ready\nfor i in $(seq 300); do sleep 0.1; done\n' >"$tmp/qt"
printf '#!/bin/sh\ntrap "exit 0" TERM\necho ready\nfor i in $(seq 300); do sleep 0.1; done\n' >"$tmp/qk"
chmod +x "$tmp/qt" "$tmp/qk"
interrupt() {  # interrupt STAND_IN: cvm launch's exit status after a SIGTERM once QEMU runs
  "$cvm" launch --launch "$tmp/launch.toml" --qemu "$1" </dev/null >"$tmp/out-int" 2>&1 &
  local pid=$! ready=1
  for _ in $(seq 100); do grep -q ready "$tmp/out-int" 2>/dev/null && { ready=0; break; }; sleep 0.1; done
  ((ready == 0)) || echo "FAILED: the stand-in QEMU $1 never started"
  kill -TERM "$pid"
  wait "$pid"
}
interrupt "$tmp/qt"
check "SIGTERM forwarded to QEMU, its outcome kept" $(($? == 3 ? 0 : 1))
interrupt "$tmp/qk"
check "SIGTERM forwarded to QEMU, no outcome: ends as killed by SIGTERM" $(($? == 143 ? 0 : 1))

expect "demo help" 0 '^usage: cvm demo --kernel' -- demo --help
expect "demo needs its inputs" 2 'needs --kernel' -- demo --work-dir "$tmp/demo"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
