#!/usr/bin/env bash
# End-to-end boot of issue 15 (the VM proves itself after boot): the real Debian kernel and the
# real initramfs in QEMU (TCG), the simulated AMD platform, a real `cvm broker` over https.
#
# One VM. Its agent retrieves the secrets over the RA-TLS transport (mutual TLS with its attested
# client certificate) and re-attests every 30 s. Its workload, a busybox script (test only):
#   1. probes its isolation: /dev/sev-guest, configfs-tsm, mknod, mount, open_by_handle_at;
#   2. asks the agent's socket for its info, evidence for its user data and an RA-TLS certificate
#      for its own key, and prints them for the host;
#   3. attests to the broker for the volume key with evidence from the agent (it gets nothing);
#   4. serves HTTPS with RA-TLS certificates made per handshake for the client's nonce.
# The host checks the evidence and the certificate with `cvm verify`, runs `cvm attest` against
# the workload's server through `cvm launch --hostfwd`, reads the re-attestations in the broker's
# metrics while the VM runs, and waits for the on_stale webhook after the VM powered off.
# Usage: attested.sh RELEASE_BUILD_DIR. Prints "N passed, N failed"; exit 77 (skip) without QEMU,
# busybox or the pinned kernel.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
rel=$(realpath "$1")
cvm=$rel/tools/cvm/cvm
skip() { printf 'SKIP: %s\n' "$*"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (scripts/setup)"
command -v busybox >/dev/null || skip "busybox is not installed (scripts/setup)"
source "$here/inputs.sh"
prepare_inputs
work=$(mktemp -d)
source "$here/lib.sh"
port=$(broker_port) || { echo "FAILED: no free loopback port for the broker"; exit 1; }
metrics_port=$(broker_port)
hook_port=$(broker_port)
https_port=$(broker_port)
hook_pid=
trap '[[ -n $broker_pid ]] && kill "$broker_pid" 2>/dev/null; [[ -n $hook_pid ]] && kill "$hook_pid" 2>/dev/null
  rm -rf "$work"' EXIT
REATTEST=30
SERVE=75  # seconds the workload serves HTTPS: long enough for two re-attestations

# --- the broker's TLS identity, the image ------------------------------------------------------
"$cvm" sim init "$work/sim" >/dev/null
pub=$("$cvm" broker keygen --out "$work/broker.key")
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=cvminit e2e broker" \
  -addext "subjectAltName=IP:10.0.2.2" -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null ||
  { echo "FAILED: openssl req"; exit 1; }
mkdir -p "$work/tree/usr/bin" "$work/tree/bin" "$work/tree/etc/ssl/certs"
cp "$work/tls.crt" "$work/tree/etc/ssl/certs/ca-certificates.crt"  # for the workload's --steal
cp "$rel/tools/demo-workload/cvminit-demo-workload" "$work/tree/usr/bin/demo-workload"
cp "$(command -v busybox)" "$work/tree/bin/busybox"
cat >"$work/tree/usr/bin/attested-workload" <<SCRIPT
#!/bin/busybox sh
PATH=/bin
/usr/bin/demo-workload --probe-isolation
mkdir -p /tmp/probe
/usr/bin/demo-workload --agent-probe /tmp/probe
for f in info.json user_data.hex report.bin certs/vcek.der certs/ask.pem certs/ark.pem leaf.pem issuer.pem; do
  echo "probe-file \$f \$(busybox base64 -w 0 /tmp/probe/\$f)"
done
/usr/bin/demo-workload --steal https://10.0.2.2:$port data
/usr/bin/demo-workload --ratls-server 8443 &
server=\$!
sleep $SERVE
kill -TERM \$server
wait \$server
SCRIPT
chmod 0755 "$work/tree/usr/bin/attested-workload"
cat >"$work/cvminit.toml" <<TOML
[workload]
command = ["/usr/bin/attested-workload"]
[secrets]
resources = ["db"]
TOML
"$cvm" initramfs --agent "$rel/agent/cvminit" --config "$work/cvminit.toml" --kernel-modules "$KMODULES" \
  --platform snp --platform sim --root "$work/tree" --file "$work/tls.crt:/etc/ssl/certs/ca-certificates.crt" \
  -o "$work/initrd" >/dev/null || { echo "FAILED: cvm initramfs"; exit 1; }
launch attested "$work/initrd" "https://10.0.2.2:$port" "$pub" --simulate --transport ratls \
  --reattest "$REATTEST" --reattest-fail log

# --- the webhook receiver and the broker --------------------------------------------------------
python3 - "$hook_port" "$work/hooks.jsonl" <<'PY' &
import http.server, sys
out = sys.argv[2]
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "ab") as f:
            f.write(self.path.encode() + b" " + body.replace(b"\n", b" ") + b"\n")
        self.send_response(204)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Hook).serve_forever()
PY
hook_pid=$!
printf 's3cret-db-password' >"$work/db.secret"
head -c 64 /dev/urandom >"$work/data.key"  # a volume key the agent's launch may have; the workload tries for it
BROKER_TOP="metrics_listen = \"127.0.0.1:$metrics_port\"
" start_broker attested <<TOML
[tls]
cert = "tls.crt"
key = "tls.key"
[heartbeat]
stale_grace = 5
[webhooks]
on_stale = "http://127.0.0.1:$hook_port/stale"
on_refused = "http://127.0.0.1:$hook_port/refused"
[[secret]]
name = "db"
file = "db.secret"
env = "DB_PASSWORD"
measurements = @MEASUREMENTS@
[[volume]]
name = "data"
key_file = "data.key"
measurements = @MEASUREMENTS@
TOML

# --- the boot, with the host's checks while the workload serves ---------------------------------
log=$work/attested.log
(timeout 400 "$cvm" launch --launch "$work/attested.toml" --simulate "$work/sim" --fw-cfg-dir "$work/fw" \
  --hostfwd "tcp:127.0.0.1:$https_port-:8443" </dev/null 2>&1 | stdbuf -oL tr -d '\r' >"$log"
  echo "cvm launch exit status ${PIPESTATUS[0]}" >>"$log") &
vm=$!
for _ in $(seq 3000); do
  grep -q '^demo-workload: ratls server: listening' "$log" && break
  kill -0 "$vm" 2>/dev/null || break
  sleep 0.1
done
check "the workload's RA-TLS server listens" "$log" '^demo-workload: ratls server: listening on port 8443'
nonce=$(head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n')
"$cvm" attest "https://127.0.0.1:$https_port" --nonce "$nonce" --sim-dir "$work/sim" >"$work/attest.txt" 2>&1
echo "exit $?" >>"$work/attest.txt"
check "cvm attest verifies the workload's server with a fresh nonce" "$work/attest.txt" '^exit 0$'
"$cvm" attest "https://127.0.0.1:$https_port" --nonce "$(head -c 32 /dev/zero | od -An -v -tx1 | tr -d ' \n')" \
  --sim-dir "$work/sim" >"$work/attest-zero.txt" 2>&1
echo "exit $?" >>"$work/attest-zero.txt"
check "each handshake gets its own nonce's certificate" "$work/attest-zero.txt" '^exit 0$'
sleep $((REATTEST * 2 + 5))
python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())' \
  "http://127.0.0.1:$metrics_port/metrics" >"$work/metrics.txt"
check "re-attestations in the broker's metrics" "$work/metrics.txt" '^cvmkb_heartbeats_total\{outcome="accepted",code="OK",simulated="true"\} [2-9]'
wait "$vm"

check "powered off" "$log" '^cvm launch exit status 0$'
check "secrets over the RA-TLS transport" "$log" '^cvminit: retrieve: .* over RA-TLS'
check "the secret reached the workload" "$log" '^cvminit: secrets: 1 in /run/secrets: db'
check "re-attested" "$log" '^cvminit: reattest: accepted by the broker'
check "isolation: every attempt refused" "$log" '^isolation: ([0-9]+) of \1 attempts refused'
check "the workload could not attest for the volume key" "$log" '^steal: .*refused'

# --- the workload's evidence and certificate, checked on the host --------------------------------
mkdir -p "$work/probe/certs"
for f in info.json user_data.hex report.bin certs/vcek.der certs/ask.pem certs/ark.pem leaf.pem issuer.pem; do
  sed -n "s|^probe-file $f ||p" "$log" | base64 -d >"$work/probe/$f" 2>/dev/null
done
check "the agent probe got every answer" "$log" '^demo-workload: agent probe: platform simulated'
check_that "cvm verify --user-data accepts the workload's evidence" \
  "$cvm" verify --report "$work/probe/report.bin" --certs "$work/probe/certs" --sim-dir "$work/sim" \
  --user-data "$(cat "$work/probe/user_data.hex")"
check_that "... and refuses it for other user data" \
  bash -c '! "$@"' _ "$cvm" verify --report "$work/probe/report.bin" --certs "$work/probe/certs" \
  --sim-dir "$work/sim" --user-data 00
check "/v1/info names the launch's MEASUREMENT" "$work/probe/info.json" "\"measurement\": ?\"$(cat "$work/attested.measurement")\""
check_that "cvm verify --ratls accepts the workload's certificate" \
  "$cvm" verify --ratls "$work/probe/leaf.pem" --sim-dir "$work/sim"
check_that "openssl verify: the leaf under the agent's certificate" \
  openssl verify -partial_chain -CAfile "$work/probe/issuer.pem" "$work/probe/leaf.pem"

echo "waiting for the on_stale webhook"
for _ in $(seq $((REATTEST * 3 + 30))); do
  grep -q '^/stale ' "$work/hooks.jsonl" 2>/dev/null && break
  sleep 1
done
check "the on_stale webhook fired after the VM stopped" "$work/hooks.jsonl" '^/stale .*"event": ?"stale"'
echo "e2e attested boot: $passed passed, $failed failed"
((failed == 0))
