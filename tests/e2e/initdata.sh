#!/usr/bin/env bash
# End-to-end boots of issue 16 (one measured image, many deployments): the real Debian kernel and
# the real initramfs in QEMU (TCG), the simulated AMD platform, two real `cvm broker`s.
#
# One initramfs and one measured command line that names no broker (cvminit.initdata=fw_cfg),
# launched with two init-data documents, "eu" and "us", each naming its own broker and broker
# key. Both launches have the same MEASUREMENT; each VM gets its secret from its own broker. Then
# the host lies, through a QEMU wrapper that edits the fw_cfg argument `cvm launch` passes:
#   tampered  the "eu" document with its broker URL changed after HOST_DATA was fixed;
#   missing   no document at all;
#   swapped   HOST_DATA of "us" with the "eu" document.
# Each must end in the agent's FATAL line before any broker is asked. The "eu" broker trusts a
# signed release made by `cvm release` for the image (no measurement list).
# Usage: initdata.sh RELEASE_BUILD_DIR. Prints "N passed, N failed"; exit 77 (skip) without QEMU
# or the pinned kernel.
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

# --- the image: one initramfs, one measured command line without a broker ---------------------
"$cvm" sim init "$work/sim" >/dev/null
mkdir -p "$work/tree/usr/bin"
cp "$rel/tools/demo-workload/cvminit-demo-workload" "$work/tree/usr/bin/demo-workload"
printf '[workload]\ncommand = ["/usr/bin/demo-workload"]\n[secrets]\nresources = ["db"]\n' >"$work/cvminit.toml"
"$cvm" initramfs --agent "$rel/agent/cvminit" --config "$work/cvminit.toml" --kernel-modules "$KMODULES" \
  --platform snp --platform sim --root "$work/tree" -o "$work/initrd" >/dev/null ||
  { echo "FAILED: cvm initramfs"; exit 1; }
cmdline=$("$cvm" cmdline compose --initdata fw_cfg --simulate --extra "console=ttyS0") ||
  { echo "FAILED: cvm cmdline compose --initdata fw_cfg"; exit 1; }

# deployment NAME PORT: a broker key and the init-data document NAME.initdata pointing at it
deployment() {
  local key
  key=$("$cvm" broker keygen --out "$work/$1-broker.key")
  printf 'broker = "http://10.0.2.2:%s"\nbroker_key = "%s"\n' "$2" "$key" >"$work/$1.deploy.toml"
  "$cvm" initdata compose --algorithm sha384 --entry "cvminit.toml=$work/$1.deploy.toml" \
    --out "$work/$1.initdata" || { echo "FAILED: cvm initdata compose $1"; exit 1; }
}
# launch_with NAME INITDATA: NAME.toml launching the image with that document, its MEASUREMENT
launch_with() {
  cat >"$work/$1.toml" <<TOML
vcpus = 1
vcpu_type = "EPYC-v4"
memory_mib = 512
initdata = "$2"
[firmware]
ovmf = "$OVMF"
[kernel]
path = "$KERNEL"
initrd = "$work/initrd"
cmdline = ["$cmdline"]
TOML
  "$cvm" measure --launch "$work/$1.toml" >"$work/$1.measurement" || { echo "FAILED: measure $1"; exit 1; }
}
eu_port=$(broker_port) && us_port=$(broker_port) || { echo "FAILED: no free loopback ports"; exit 1; }
deployment eu "$eu_port"
deployment us "$us_port"
launch_with eu "$work/eu.initdata"
launch_with us "$work/us.initdata"
check_that "both deployments have the same MEASUREMENT" cmp -s "$work/eu.measurement" "$work/us.measurement"
check_that "... and different HOST_DATA" bash -c '[[ "$("$1" initdata digest "$2")" != "$("$1" initdata digest "$3")" ]]' \
  _ "$cvm" "$work/eu.initdata" "$work/us.initdata"

# --- the brokers: "eu" trusts a signed release of the image, "us" a measurement list ------------
"$cvm" release keygen --kind ecdsa-p256 --out "$work/release" >/dev/null || { echo "FAILED: cvm release keygen"; exit 1; }
printf 'vcpus = [1, 2]\nvcpu_types = ["EPYC-v4"]\nvmm_types = ["QEMU"]\n' >"$work/shapes.toml"
mkdir -p "$work/releases"
SOURCE_DATE_EPOCH=1767225600 "$cvm" release --launch "$work/eu.toml" --shapes "$work/shapes.toml" \
  --key "$work/release.key" --out "$work/release-out" >"$work/release.txt" 2>&1 ||
  { echo "FAILED: cvm release"; cat "$work/release.txt"; exit 1; }
cp "$work/release-out/release.sigstore.json" "$work/releases/image.sigstore.json"
printf 'from-eu-broker' >"$work/eu.secret"
printf 'from-us-broker' >"$work/us.secret"
eu_host_data=$("$cvm" initdata digest "$work/eu.initdata")
port=$eu_port
{ printf 'listen = "127.0.0.1:%s"\nsigning_key = "eu-broker.key"\nsimulated_root = "sim/ark.pem"\n' "$port"
  printf 'simulated_crl = "sim/crl.der"\n[releases]\ndir = "releases"\n'
  printf '[policy]\nallow_simulated = true\n[[policy.release]]\nname = "image"\nkey = "release.pub"\n'
  printf '[[secret]]\nname = "db"\nfile = "eu.secret"\nreleases = ["image"]\nhost_data = ["%s"]\n' "$eu_host_data"
} >"$work/eu-broker.toml"
"$cvm" broker --config "$work/eu-broker.toml" 2>"$work/eu-broker.log" &
broker_pids+=($!)
port=$us_port
BROKER_NAME=us-broker start_broker us <<'TOML'
[[secret]]
name = "db"
file = "us.secret"
measurements = @MEASUREMENTS@
TOML
for _ in $(seq 100); do grep -q 'listening on' "$work/eu-broker.log" && break; sleep 0.1; done
check "the eu broker starts with a release key and no measurement list" "$work/eu-broker.log" 'listening on'

# --- two honest boots ---------------------------------------------------------------------------
for d in eu us; do
  boot "$d"
  log=$work/$d.log
  check "$d: powered off, the workload's status" "$log" '^cvm launch exit status 0$'
  check "$d: init-data checked against HOST_DATA" "$log" '^cvminit: initdata: '
  check "$d: its own broker's secret" "$log" "^demo-workload: secret db mode 0400: from-$d-broker\$"
done
check "the eu broker released by the signed release" "$work/eu-broker.log" 'attest released code=OK'

# --- the host lies: a QEMU wrapper edits the document cvm launch passes ---------------------------
# lie MODE DOC: the wrapper replaces the init-data fw_cfg file by DOC, or drops it (DOC "-")
lie() {
  cat >"$work/qemu-$1" <<SH
#!/usr/bin/env bash
args=()
for a in "\$@"; do
  case \$a in
    name=opt/cvminit/initdata,file=*)
      if [[ "$2" == - ]]; then unset 'args[\${#args[@]}-1]'; continue; fi
      a="name=opt/cvminit/initdata,file=$2" ;;
  esac
  args+=("\$a")
done
exec qemu-system-x86_64 "\${args[@]}"
SH
  chmod +x "$work/qemu-$1"
}
sed "s|10.0.2.2:$eu_port|10.0.2.2:$us_port|" "$work/eu.initdata" >"$work/tampered.initdata"
lie tampered "$work/tampered.initdata"
lie missing -
lie swapped "$work/eu.initdata"
for mode in tampered missing swapped; do
  case $mode in swapped) LAUNCH=us ;; *) LAUNCH=eu ;; esac
  LAUNCH=$LAUNCH boot "$mode" --qemu "$work/qemu-$mode"
  log=$work/$mode.log
  check "$mode: FATAL, no workload" "$log" '^cvm launch exit status 125$'
  check "$mode: the init-data stage refused" "$log" '^cvminit: FATAL initdata: '
  check "$mode: no workload" "$log" '^demo-workload:' absent
done
check "tampered: HOST_DATA named" "$work/tampered.log" 'HOST_DATA'
check "swapped: HOST_DATA named" "$work/swapped.log" 'HOST_DATA'
check "missing: the document named" "$work/missing.log" 'opt/cvminit/initdata'
for d in eu us; do
  check_that "the $d broker released once (the honest boot only)" \
    test "$(grep -c 'attest released code=OK' "$work/$d-broker.log")" -eq 1
done
[[ -n ${CVM_E2E_KEEP:-} ]] && cp "$work"/*.log "$CVM_E2E_KEEP/"
echo "e2e init-data boots: $passed passed, $failed failed"
((failed == 0))
