# What the QEMU boot suites share: `source` it after setting $work (a scratch directory), $cvm
# and $port (the broker's, from broker_port). Counts checks in $passed and $failed.
passed=0
failed=0
broker_pid=   # the last broker started
broker_pids=()
trap '((${#broker_pids[@]})) && kill "${broker_pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT

# broker_port: a free loopback port for the broker, below the kernel's ephemeral range (32768 and
# up by default, net.ipv4.ip_local_port_range), so no outgoing connection can take it between
# this check and the broker's bind. It cannot be bound later: it is part of the measured cmdline.
broker_port() {
  python3 -c '
import random, socket
for port in random.sample(range(20000, 32768), 200):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port)
    break
else:
    raise SystemExit("no free loopback port in 20000..32767")'
}

check() {  # check NAME LOG PATTERN [absent]: PATTERN (extended regex) must (or must not) be in LOG
  if grep -Eq -- "$3" "$2"; then found=1; else found=0; fi
  if [[ ${4:-} == absent ]]; then found=$((1 - found)); fi
  if ((found)); then passed=$((passed + 1)); else
    failed=$((failed + 1)); printf 'FAILED %s: /%s/ %s in %s\n' "$1" "$3" "${4:-missing}" "$2"; tail -n 40 "$2"
  fi
}

check_that() {  # check_that NAME COMMAND...: the command must succeed
  local name=$1
  shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); printf 'FAILED %s: %s\n' "$name" "$*"; fi
}

# launch NAME INITRD BROKER_URL KEY [cvm cmdline compose flags...]: NAME.toml, its measured
# cmdline, and its MEASUREMENT in NAME.measurement; KEY "" for none (a Trustee KBS)
launch() {
  local name=$1 initrd=$2 url=$3 key=$4 cmdline
  shift 4
  cmdline=$("$cvm" cmdline compose --broker "$url" ${key:+--broker-key "$key"} --extra "console=ttyS0" "$@") ||
    { echo "FAILED: cvm cmdline compose for $name"; exit 1; }
  cat >"$work/$name.toml" <<TOML
vcpus = 1
vcpu_type = "EPYC-v4"
memory_mib = 512
[firmware]
ovmf = "$OVMF"
[kernel]
path = "$KERNEL"
initrd = "$initrd"
cmdline = ["$cmdline"]
TOML
  "$cvm" measure --launch "$work/$name.toml" >"$work/$name.measurement" || { echo "FAILED: measure $name"; exit 1; }
}

# start_broker LAUNCH... <RESOURCES: `cvm broker` in the background until the script exits, with
# the simulated root, allowing the MEASUREMENTs of the named launches; stdin holds its [[secret]]
# and [[volume]] tables (and any other table), where @MEASUREMENTS@ stands for that list;
# $BROKER_TOP, when set, holds more top-level keys; $BROKER_NAME (default broker) names its
# configuration, signing key and log files in $work; $BROKER_SIM (default sim) is the simulated
# platform directory in $work whose ARK and CRL it trusts.
start_broker() {
  local allowed="" name b=${BROKER_NAME:-broker}
  for name in "$@"; do allowed+="${allowed:+, }\"$(cat "$work/$name.measurement")\""; done
  local sim=${BROKER_SIM:-sim}
  { printf 'listen = "127.0.0.1:%s"\nsigning_key = "%s.key"\nsimulated_root = "%s/ark.pem"\n' "$port" "$b" "$sim"
    printf 'simulated_crl = "%s/crl.der"\n' "$sim"  # revocation is on: cvm sim init wrote the platform's CRL
    printf '%s' "${BROKER_TOP:-}"  # more top-level keys, each line ending in a newline
    printf '[policy]\nmeasurements = [%s]\nallow_simulated = true\n' "$allowed"
    sed "s|@MEASUREMENTS@|[$allowed]|"; } >"$work/$b.toml"
  "$cvm" broker --config "$work/$b.toml" 2>"$work/$b.log" &
  broker_pid=$!
  broker_pids+=("$broker_pid")
  # Until it says it listens (it binds before it says so), or dies (e.g. $port taken meanwhile):
  # a boot against a broker that is not there would fail later with a misleading verdict.
  for _ in $(seq 600); do
    grep -q 'listening on' "$work/$b.log" && return 0
    kill -0 "$broker_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAILED: cvm broker is not listening on 127.0.0.1:$port:"; cat "$work/$b.log"; exit 1
}

# boot NAME [cvm launch flags...]: runs the VM of launch ${LAUNCH:-NAME} to its power-off (or 5
# minutes) into NAME.log, which ends with "qemu exit status N" (0: the VM powered off) and
# "cvm launch exit status N" (the agent's outcome: the workload's status, 125 FATAL, 126 no
# final line; 124 from timeout); $SIM (default sim) is the simulated platform in $work it runs on
boot() {
  local name=$1
  shift
  timeout 300 "$cvm" launch --launch "$work/${LAUNCH:-$name}.toml" --simulate "$work/${SIM:-sim}" --fw-cfg-dir "$work/fw-$name" "$@" \
    </dev/null 2>&1 | tr -d '\r' >"$work/$name.log"   # the serial console ends lines with CR LF
  local status=${PIPESTATUS[0]} qemu
  qemu=$(sed -n 's/^cvm launch: .*(QEMU exit status \([0-9]*\))\(: .*\)\?$/\1/p' "$work/$name.log")
  printf 'qemu exit status %s\ncvm launch exit status %s\n' "${qemu:-unknown}" "$status" >>"$work/$name.log"
}
