#!/usr/bin/env bash
# Black-box tests of `cvm broker`: keys, configuration errors, and a running broker driven over
# HTTP by a small independent client (Python: it recomputes REPORT_DATA from docs/cvmkb-1.md
# §4 with hashlib), with reports from `cvm sim`. Checks the answers' shape and error codes, the
# metrics endpoint, the log lines, and a clean shutdown on SIGTERM.
# Heartbeats: accepted and refused with the verdict signature checked, replay, metrics, GET /vms.
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
# keygen never replaces a key that images may pin, not even through a dangling symlink; --force does.
expect "keygen keeps an existing key" 2 "broker.key exists: refusing to replace .*--force" -- \
  broker keygen --out "$tmp/broker.key"
[[ $("$cvm" broker pubkey --key "$tmp/broker.key") == "$pub" ]]; check "key unchanged by a refused keygen" $?
ln -s "$tmp/nowhere.key" "$tmp/link.key"
expect "keygen refuses a dangling symlink" 2 'link.key exists' -- broker keygen --out "$tmp/link.key"
[[ ! -e $tmp/nowhere.key ]]; check "nothing written through the symlink" $?
! ls "$tmp" | grep -q keygen-; check "no temporary file left" $?
forced_old=$("$cvm" broker keygen --out "$tmp/forced.key")
expect "keygen --force replaces" 0 '^[A-Za-z0-9+/]{43}=$' -- broker keygen --force --out "$tmp/forced.key"
[[ $("$cvm" broker pubkey --key "$tmp/forced.key") != "$forced_old" ]]; check "--force wrote a new key" $?

"$cvm" sim init "$tmp/sim" >/dev/null || { echo "FAILED sim init"; exit 1; }
good=$(printf 'aa%.0s' $(seq 48))
bad=$(printf 'bb%.0s' $(seq 48))
printf 'hunter2' >"$tmp/db.secret"
cat >"$tmp/broker.toml" <<TOML
listen = "127.0.0.1:0"
metrics_listen = "127.0.0.1:0"
signing_key = "broker.key"
simulated_root = "sim/ark.pem"
simulated_crl = "sim/crl.der"
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
expect "check: typo" 2 "broker config key 'signing_keyy': unknown key" -- broker check --config "$tmp/typo.toml"
expect "check: ok" 0 "broker.toml: OK" -- broker check --config "$tmp/broker.toml"
expect "check: summary" 0 "^policy: accepts 1 measurement \(aaaaaaaaaaaa…\); VMPL <= 0; debug refused;.* min_tcb NONE" -- \
  broker check --config "$tmp/broker.toml"
expect "check: revocation on, from the simulated CRL" 0 \
  "; revocation on \(AMD's CRLs from nowhere: no \[kds\], AMD evidence refused; the simulated CRL .*/sim/crl.der\)" -- \
  broker check --config "$tmp/broker.toml"
expect "check: warnings" 0 "^WARNING: policy.allow_simulated = true" -- broker check --config "$tmp/broker.toml"
expect "check: no min_tcb warned" 0 "^WARNING: no policy.min_tcb" -- broker check --config "$tmp/broker.toml"
sed 's/^signing_key = .*/signing_key = "db.secret"/' "$tmp/broker.toml" >"$tmp/badkey.toml"
expect "check: bad signing key" 2 "signing_key" -- broker check --config "$tmp/badkey.toml"

echo 'reload_endpoint = true' >"$tmp/reload.toml"
cat "$tmp/broker.toml" >>"$tmp/reload.toml"
cp "$tmp/broker.toml" "$tmp/broker.orig.toml"
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

# Heartbeats (docs/cvmkb-1.md §9): the verdict's signature checked here with the broker's public
# key over SHA-512 of the tagged body and verdict hashes, recomputed from the spec.
cat >"$tmp/heartbeat.py" <<'PY'
import base64, hashlib, json, os, subprocess, sys, urllib.request, urllib.error
cvm, sim, port, measurement, broker_pub = sys.argv[1:6]
url = "http://127.0.0.1:%s/cvmkb/v1/" % port
def post(path, data):
    req = urllib.request.Request(url + path, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)
status, challenge = post("challenge", b"{}")
nonce = base64.b64decode(challenge["nonce"])
pub = os.urandom(32)
request = {"heartbeat": {"interval": 30}}
canonical = json.dumps(request, separators=(",", ":"), sort_keys=True).encode()
def lp(b): return len(b).to_bytes(2, "big") + b
report_data = hashlib.sha512(b"cvmkb/1 report-data\0" + lp(nonce) + lp(pub) + lp(hashlib.sha256(canonical).digest())).digest()
out = os.path.join(os.path.dirname(sim), "heartbeat.bin")
subprocess.run([cvm, "sim", "report", sim, "--report-data", report_data.hex(), "--measurement", measurement,
                "-o", out, "--cert-table", out + ".certs"], check=True, capture_output=True)
def der(name):
    data = open(os.path.join(sim, name), "rb").read()
    if data.startswith(b"-----"):
        return b"".join(l for l in data.splitlines() if not l.startswith(b"-----")).decode()
    return base64.b64encode(data).decode()
body = json.dumps({"nonce": challenge["nonce"], "pubkey": base64.b64encode(pub).decode(),
                   "report": base64.b64encode(open(out, "rb").read()).decode(),
                   "certs": [der("vcek.der"), der("ask.pem"), der("ark.pem")], "request": request}).encode()
status, answer = post("heartbeat", body)
verdict = answer["verdict"]
jcs = json.dumps(verdict, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
digest = hashlib.sha512(b"cvmkb/1 heartbeat verdict\0" + lp(hashlib.sha256(body).digest()) +
                        lp(hashlib.sha256(jcs).digest())).digest()
try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(broker_pub))
    try:
        key.verify(base64.b64decode(answer["sig"]), digest)
        sig = "ok"
    except Exception:
        sig = "BAD"
    try:  # the same verdict over another body must not verify
        key.verify(base64.b64decode(answer["sig"]), hashlib.sha512(b"cvmkb/1 heartbeat verdict\0" +
                   lp(hashlib.sha256(body + b" ").digest()) + lp(hashlib.sha256(jcs).digest())).digest())
        sig += "+FORGEABLE"
    except Exception:
        pass
except ImportError:
    sig = "unchecked"
if verdict["accepted"]:
    print("HEARTBEAT %d accepted interval=%d report_id=%s sig=%s" % (status, verdict["interval"], verdict["report_id"], sig))
else:
    print("HEARTBEAT %d refused %s %s sig=%s" % (status, verdict["error"]["code"], verdict["error"].get("claim", "-"), sig))
status, again = post("heartbeat", body)
print("HB-REPLAY %d %s" % (status, again["verdict"]["error"]["code"]))
PY
heartbeat() { python3 "$tmp/heartbeat.py" "$cvm" "$tmp/sim" "$port" "$1" "$pub" 2>&1; }
out=$(heartbeat "$good")
grep -Eq '^HEARTBEAT 200 accepted interval=30 report_id=[0-9a-f]{64} sig=(ok|unchecked)$' <<<"$out"; check "heartbeat accepted: $out" $?
report_id=$(sed -n 's/^HEARTBEAT 200 accepted interval=30 report_id=\([0-9a-f]*\).*/\1/p' <<<"$out")
grep -q '^HB-REPLAY 403 NONCE_REUSED' <<<"$out"; check "heartbeat replay refused" $?
out=$(heartbeat "$bad")
grep -Eq '^HEARTBEAT 403 refused MEASUREMENT_MISMATCH policy.measurement sig=(ok|unchecked)$' <<<"$out"
check "heartbeat refused, signed: $out" $?
grep -q "cvm broker: heartbeat accepted code=OK .*report_id=$report_id .*interval=30 SIMULATED" "$tmp/broker.log"
check "heartbeat log line" $?
out=$(python3 -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:$metrics_port/metrics').read().decode())")
grep -q '^cvmkb_heartbeats_total{outcome="accepted",code="OK",simulated="true"} 1$' <<<"$out"; check "heartbeat metric" $?
grep -q '^cvmkb_heartbeats_total{outcome="refused",code="MEASUREMENT_MISMATCH",simulated="true"} 1$' <<<"$out"
check "heartbeat refusal metric" $?
grep -q '^cvmkb_vms{state="attesting"} 1$' <<<"$out"; check "VMs attesting" $?
grep -q "^cvmkb_vm_heartbeat_age_seconds{report_id=\"$report_id\"} [0-9]*$" <<<"$out"; check "heartbeat age" $?
grep -q '^cvmkb_attests_total{outcome="released",code="OK",simulated="true"} 1$' <<<"$out"; check "a heartbeat releases nothing" $?
out=$(python3 -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:$metrics_port/vms').read().decode())")
python3 -c "
import json, sys
d = json.loads(sys.argv[1])
vm = d['vms'][0]
assert len(d['vms']) == 1 and vm['report_id'] == sys.argv[2] and vm['interval'] == 30 and vm['state'] == 'attesting', d
assert vm['stale_at'] == vm['last_seen'] + 2 * 30 + d['grace'], d
" "$out" "$report_id"; check "GET /vms" $?

get() { python3 - "$@" <<'PY'
import sys, urllib.request, urllib.error
method, url = sys.argv[1], sys.argv[2]
req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
try:
    with urllib.request.urlopen(req) as r:
        print(r.status, r.read().decode().strip())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode().strip())
PY
}
ops="http://127.0.0.1:$metrics_port"
[[ $(get GET "$ops/healthz") == "200 ok" ]]; check "healthz" $?
get GET "$ops/readyz" | grep -q '^200 ready: configuration generation 1, store memory'; check "readyz" $?
get POST "$ops/-/reload" | grep -q '^403 reload_endpoint = false'; check "reload endpoint off by default" $?

# The policy the broker applies, applied offline by cvm verify to the last client's report.
expect "verify --policy takes a broker config" 0 '^PASS +policy.measurement' -- verify --report "$tmp/report.bin" \
  --cert-table "$tmp/report.bin.certs" --trusted-root "$tmp/sim/ark.pem" --policy "$tmp/broker.toml" --crl "$tmp/sim/crl.der"

# Every signal is handled: SIGUSR1 and SIGQUIT are logged and ignored; SIGHUP reloads.
kill -USR1 "$broker_pid"; kill -QUIT "$broker_pid"; sleep 0.3
kill -0 "$broker_pid"; check "alive after SIGUSR1 and SIGQUIT" $?
grep -q 'SIGUSR1 ignored' "$tmp/broker.log"; check "SIGUSR1 logged" $?
grep -q 'SIGQUIT ignored' "$tmp/broker.log"; check "SIGQUIT logged" $?
wait_log() {  # wait_log PATTERN: up to 10 s for a line of the broker's log
  for _ in $(seq 100); do grep -q "$1" "$tmp/broker.log" && return 0; sleep 0.1; done; return 1
}
printf 'hunter3' >"$tmp/db.secret"
kill -HUP "$broker_pid"
wait_log 'reloaded, now configuration generation 2'; check "SIGHUP reloads" $?
sed -i 's/^\[policy\]$/[policy]\nmax_vmpl = "zero"/' "$tmp/broker.toml"
kill -HUP "$broker_pid"
wait_log "reload failed, keeping configuration generation 2: policy key 'max_vmpl': expected an integer"; check "bad reload logged, old kept" $?
out=$(client "$good" db 0)
grep -q '^RELEASED' <<<"$out"; check "serving after a failed reload: $out" $?
cp "$tmp/reload.toml" "$tmp/broker.toml"
kill -HUP "$broker_pid"
wait_log 'reloaded, now configuration generation 3'; check "reload_endpoint turned on" $?
[[ $(get POST "$ops/-/reload") == "200 reloaded: configuration generation 4" ]]; check "POST /-/reload" $?
sed 's/^listen = .*/listen = "127.0.0.1:1"/' "$tmp/reload.toml" >"$tmp/broker.toml"
get POST "$ops/-/reload" | grep -q '^422 reload failed, configuration generation 4 kept: listen changed'
check "restart-only setting refused" $?

out=$(python3 -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:$metrics_port/metrics').read().decode())")
grep -q '^cvm_broker_config_generation 4$' <<<"$out"; check "generation metric" $?
grep -q '^cvm_broker_reloads_total{result="failed"} 2$' <<<"$out"; check "failed reloads counted" $?
grep -q '^cvm_broker_build_info{version="[^"]\+"} 1$' <<<"$out"; check "build info" $?
# Every metric the shipped Grafana dashboard queries is in the broker's output.
dashboard=$(dirname "${BASH_SOURCE[0]}")/../../dist/grafana/cvm-broker.json
printf '%s\n' "$out" >"$tmp/metrics.txt"
missing=$(python3 - "$dashboard" "$tmp/metrics.txt" <<'PY'
import json, re, sys
dash = json.load(open(sys.argv[1]))
exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
exprs += [v["query"]["query"] for v in dash["templating"]["list"]]
names = {n for e in exprs for n in re.findall(r"\b(cvm[a-z0-9_]*)", e)}
families = set(re.findall(r"^# TYPE (\S+) (\S+)", open(sys.argv[2]).read(), re.M))
kinds = dict(families)
def exists(n):
    if n in kinds:
        return kinds[n] != "histogram"
    base = re.sub(r"_(bucket|sum|count)$", "", n)
    return kinds.get(base) == "histogram"
bad = sorted(n for n in names if not exists(n))
print(len(names), " ".join(bad))
PY
)
[[ ${missing%% *} -ge 10 && $missing != *" "?* ]]; check "dashboard metrics exist (${missing})" $?
# The shipped unit passes systemd's own checker (ExecStart pointed at this cvm).
if command -v systemd-analyze >/dev/null; then
  sed "s|/usr/local/bin/cvm|$cvm|" "$(dirname "${BASH_SOURCE[0]}")/../../dist/systemd/cvm-broker.service" \
    >"$tmp/cvm-broker.service"
  out=$(systemd-analyze verify "$tmp/cvm-broker.service" 2>&1)
  [[ $? -eq 0 && -z $out ]]; check "systemd-analyze verify: $out" $?
else
  echo "SKIP systemd-analyze verify: systemd-analyze is not installed"
fi

kill -TERM "$broker_pid"
wait "$broker_pid"
check "clean exit on SIGTERM" $?
broker_pid=
grep -q 'SIGTERM, shutting down' "$tmp/broker.log"; check "shutdown line" $?
grep -q 'attest refused code=MEASUREMENT_MISMATCH claim=policy.measurement .* SIMULATED' "$tmp/broker.log"
check "refusal logged" $?
grep -q "attest refused code=MEASUREMENT_MISMATCH claim=policy.measurement found=\"$bad\" expected=\"$good\" " \
  "$tmp/broker.log"; check "refusal names the measurement found and expected" $?
grep -q 'attest refused code=VMPL claim=policy.vmpl found="2" expected="<= 0" ' "$tmp/broker.log"
check "refusal names the VMPL found and expected" $?
grep -q 'attest refused code=UNKNOWN_RESOURCE claim=resource found="secrets" peer=' "$tmp/broker.log"
check "no empty expected" $?
! grep -q hunter "$tmp/broker.log"; check "no secret in the log" $?

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
