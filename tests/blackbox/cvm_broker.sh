#!/usr/bin/env bash
# Black-box tests of `cvm broker`: keys, configuration errors, and a running broker driven over
# HTTP by a small independent client (Python: it recomputes REPORT_DATA from docs/cvmkb-1.md
# §4 with hashlib), with reports from `cvm sim`. Checks the answers' shape and error codes, the
# metrics endpoint, the log lines, and a clean shutdown on SIGTERM.
# Usage: cvm_broker.sh CVM
set -uo pipefail
cvm=$(realpath "$1")
tmp=$(mktemp -d)
broker_pid=
trap '[[ -n $broker_pid ]] && kill "$broker_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"
check() {  # check NAME CONDITION-STATUS
  if [[ $2 -eq 0 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED $1"; fi
}

expect "help" 0 '^usage: cvm broker --config FILE' -- broker --help
expect "listed" 0 '^  broker ' -- --help
expect "no config" 2 'expected --config FILE' -- broker
expect "keygen" 0 '^[A-Za-z0-9+/]{43}=$' -- broker keygen --out "$tmp/broker.key"
check "key mode 0600" "$([[ $(stat -c %a "$tmp/broker.key") == 600 ]]; echo $?)"
pub=$("$cvm" broker pubkey --key "$tmp/broker.key")
expect "pubkey" 0 "^${pub//+/\\+}\$" -- broker pubkey --key "$tmp/broker.key"
grep -q 'BEGIN PRIVATE KEY' "$tmp/broker.key"; check "PKCS#8 PEM" $?

"$cvm" sim init "$tmp/sim" >/dev/null || { echo "FAILED sim init"; exit 1; }
good=$(printf 'aa%.0s' $(seq 48))
bad=$(printf 'bb%.0s' $(seq 48))
printf 'hunter2' >"$tmp/db.secret"
cat >"$tmp/broker.toml" <<TOML
listen = "127.0.0.1:0"
metrics_listen = "127.0.0.1:0"
signing_key = "broker.key"
simulated_root = "sim/ark.pem"
[policy]
measurements = ["$good"]
allow_simulated = true
[[secret]]
name = "db"
file = "db.secret"
env = "DB_PASSWORD"
measurements = ["$good"]
TOML
sed 's/^signing_key/signing_keyy/' "$tmp/broker.toml" >"$tmp/typo.toml"
expect "unknown key named" 2 "broker config key 'signing_keyy': unknown key" -- broker --config "$tmp/typo.toml"

"$cvm" broker --config "$tmp/broker.toml" 2>"$tmp/broker.log" &
broker_pid=$!
# Both servers listen once it prints 'metrics on': wait for that (or its death), not a fixed time.
for _ in $(seq 600); do
  grep -q 'metrics on' "$tmp/broker.log" && break
  kill -0 "$broker_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q 'metrics on' "$tmp/broker.log" || { echo "FAILED: cvm broker did not start:"; cat "$tmp/broker.log"; exit 1; }
port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\),.*|\1|p' "$tmp/broker.log")
metrics_port=$(sed -n 's|.*metrics on http://127.0.0.1:\([0-9]*\)/metrics|\1|p' "$tmp/broker.log")
grep -q "public key $pub; SIMULATED evidence is accepted" "$tmp/broker.log"; check "startup line" $?

cat >"$tmp/client.py" <<'PY'
import base64, hashlib, json, os, subprocess, sys, urllib.request, urllib.error
cvm, sim, port, measurement, resources, vmpl = sys.argv[1:7]
url = "http://127.0.0.1:%s/cvmkb/v1/" % port
def post(path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)
status, challenge = post("challenge", {})
assert status == 200 and challenge["expires_in"] == 60, challenge
nonce = base64.b64decode(challenge["nonce"])
pub = os.urandom(32)  # any 32 bytes will do: the test does not open the answer
request = {"resources": [r for r in resources.split(",") if r]}
canonical = json.dumps(request, separators=(",", ":"), sort_keys=True).encode()
def lp(b): return len(b).to_bytes(2, "big") + b
report_data = hashlib.sha512(b"cvmkb/1 report-data\0" + lp(nonce) + lp(pub) + lp(hashlib.sha256(canonical).digest())).digest()
out = os.path.join(os.path.dirname(sim), "report.bin")
subprocess.run([cvm, "sim", "report", sim, "--report-data", report_data.hex(), "--measurement", measurement,
                "--vmpl", vmpl, "-o", out, "--cert-table", out + ".certs"], check=True, capture_output=True)
report = open(out, "rb").read()
def der(name):
    data = open(os.path.join(sim, name), "rb").read()
    if data.startswith(b"-----"):
        return b"".join(l for l in data.splitlines() if not l.startswith(b"-----")).decode()
    return base64.b64encode(data).decode()
body = {"nonce": challenge["nonce"], "pubkey": base64.b64encode(pub).decode(),
        "report": base64.b64encode(report).decode(), "certs": [der("vcek.der"), der("ask.pem"), der("ark.pem")],
        "request": request}
status, answer = post("attest", body)
if status == 200:
    assert sorted(answer) == ["ct", "enc", "sig", "simulated"], answer
    assert len(base64.b64decode(answer["enc"])) == 32 and len(base64.b64decode(answer["sig"])) == 64
    print("RELEASED simulated=%s" % answer["simulated"])
else:
    print("REFUSED %d %s %s retryable=%s" % (status, answer["error"]["code"], answer["error"].get("claim", "-"),
                                            answer["error"]["retryable"]))
status, again = post("attest", body)
print("REPLAY %d %s" % (status, again["error"]["code"]))
PY
client() { python3 "$tmp/client.py" "$cvm" "$tmp/sim" "$port" "$@" 2>&1; }

out=$(client "$good" db 0)
grep -q '^RELEASED simulated=True' <<<"$out"; check "released: $out" $?
grep -q '^REPLAY 403 NONCE_REUSED' <<<"$out"; check "replay refused" $?
out=$(client "$bad" db 0)
grep -q '^REFUSED 403 MEASUREMENT_MISMATCH policy.measurement retryable=False' <<<"$out"; check "measurement: $out" $?
out=$(client "$good" db 2)
grep -q '^REFUSED 403 VMPL policy.vmpl' <<<"$out"; check "vmpl: $out" $?
out=$(client "$good" secrets 0)
grep -q '^REFUSED 403 UNKNOWN_RESOURCE' <<<"$out"; check "unknown resource: $out" $?
out=$(python3 -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:$metrics_port/metrics').read().decode())")
grep -q 'cvmkb_attests_total{outcome="released",code="OK",simulated="true"} 1' <<<"$out"; check "metrics" $?

kill -TERM "$broker_pid"
wait "$broker_pid"
check "clean exit on SIGTERM" $?
broker_pid=
grep -q 'SIGTERM, shutting down' "$tmp/broker.log"; check "shutdown line" $?
grep -q 'attest refused code=MEASUREMENT_MISMATCH claim=policy.measurement .* SIMULATED' "$tmp/broker.log"
check "refusal logged" $?
! grep -q hunter2 "$tmp/broker.log"; check "no secret in the log" $?

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
