#!/usr/bin/env bash
# Black-box tests of `cvm broker` over https with the RA-TLS transport's endpoint
# (docs/cvmkb-1.md §10): the [tls] listener asks every client for a certificate without requiring
# one. An independent client (Python's standard library: ssl, urllib, hashlib; the TLS stack is
# OpenSSL's) checks that
#   - the cvmkb/1 transport still releases over https to a client that sends no certificate;
#   - POST /cvmkb/v1/attest-ratls without a client certificate, and with an ordinary certificate
#     (not RA-TLS), is BAD_REQUEST with claim client_certificate, before the nonce is used (the
#     same nonce then releases through attest), and evidence in its body is BAD_REQUEST too;
#   - the log lines say transport=ratls.
# The RA-TLS path that releases needs an RA-TLS certificate: tests/unit/broker/test_attest_ratls.cc
# in-process, tests/e2e/attested.sh from the real agent in QEMU.
# Usage: cvm_broker_ratls.sh CVM
set -uo pipefail
cvm=$(realpath "$1")
tmp=$(mktemp -d)
broker_pid=
trap '[[ -n $broker_pid ]] && kill "$broker_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
passed=0
failed=0
check() {  # check NAME CONDITION-STATUS
  if [[ $2 -eq 0 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED $1"; fi
}
command -v openssl >/dev/null || { echo "SKIP: openssl is not installed"; exit 77; }

"$cvm" sim init "$tmp/sim" >/dev/null || { echo "FAILED sim init"; exit 1; }
"$cvm" broker keygen --out "$tmp/broker.key" >/dev/null || { echo "FAILED keygen"; exit 1; }
selfsigned() {  # selfsigned NAME SUBJECT [EXTRA...]: NAME.crt and NAME.key, P-256
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "$2" "${@:3}" \
    -keyout "$tmp/$1.key" -out "$tmp/$1.crt" 2>/dev/null || { echo "FAILED openssl req $1"; exit 1; }
}
selfsigned tls "/CN=cvminit black-box broker" -addext "subjectAltName=IP:127.0.0.1"
selfsigned client "/CN=an ordinary client"
good=$(printf 'aa%.0s' $(seq 48))
printf 'hunter2' >"$tmp/db.secret"
cat >"$tmp/broker.toml" <<TOML
listen = "127.0.0.1:0"
signing_key = "broker.key"
simulated_root = "sim/ark.pem"
simulated_crl = "sim/crl.der"
[tls]
cert = "tls.crt"
key = "tls.key"
[policy]
measurements = ["$good"]
allow_simulated = true
[[secret]]
name = "db"
file = "db.secret"
measurements = ["$good"]
TOML
"$cvm" broker --config "$tmp/broker.toml" 2>"$tmp/broker.log" &
broker_pid=$!
for _ in $(seq 600); do
  grep -q 'listening on' "$tmp/broker.log" && break
  kill -0 "$broker_pid" 2>/dev/null || break
  sleep 0.1
done
port=$(sed -n 's|.*listening on https://127.0.0.1:\([0-9]*\),.*|\1|p' "$tmp/broker.log")
[[ -n $port ]] || { echo "FAILED: cvm broker did not start on https:"; cat "$tmp/broker.log"; exit 1; }

cat >"$tmp/client.py" <<'PY'
import base64, hashlib, json, os, ssl, subprocess, sys, urllib.request, urllib.error
cvm, sim, port, ca, cert, key, measurement = sys.argv[1:8]
url = "https://127.0.0.1:%s/cvmkb/v1/" % port
def context(with_cert):
    c = ssl.create_default_context(cafile=ca)
    if with_cert:
        c.load_cert_chain(cert, key)
    return c
def post(path, body, with_cert=False):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, context=context(with_cert)) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)
def show(label, status, answer):
    e = answer.get("error", {})
    print("%s %d %s %s got=%s detail=%s" % (label, status, e.get("code", "-"), e.get("claim", "-"), e.get("got", "-"),
                                           e.get("detail", "-")))
status, challenge = post("challenge", {})
assert status == 200, challenge
nonce = base64.b64decode(challenge["nonce"])
pub = os.urandom(32)
request = {"resources": ["db"]}
ratls_body = {"nonce": challenge["nonce"], "pubkey": base64.b64encode(pub).decode(), "request": request}
show("NO-CERT", *post("attest-ratls", ratls_body))
show("ORDINARY-CERT", *post("attest-ratls", ratls_body, with_cert=True))
show("EVIDENCE-IN-BODY", *post("attest-ratls", dict(ratls_body, report="AAAA"), with_cert=True))

# The same nonce through the cvmkb/1 transport: nothing above used it up.
canonical = json.dumps(request, separators=(",", ":"), sort_keys=True).encode()
def lp(b): return len(b).to_bytes(2, "big") + b
report_data = hashlib.sha512(b"cvmkb/1 report-data\0" + lp(nonce) + lp(pub) + lp(hashlib.sha256(canonical).digest())).digest()
out = os.path.join(os.path.dirname(sim), "report.bin")
subprocess.run([cvm, "sim", "report", sim, "--report-data", report_data.hex(), "--measurement", measurement,
                "--vmpl", "0", "-o", out], check=True, capture_output=True)
def der(name):
    data = open(os.path.join(sim, name), "rb").read()
    if data.startswith(b"-----"):
        return b"".join(l for l in data.splitlines() if not l.startswith(b"-----")).decode()
    return base64.b64encode(data).decode()
body = {"nonce": challenge["nonce"], "pubkey": base64.b64encode(pub).decode(),
        "report": base64.b64encode(open(out, "rb").read()).decode(),
        "certs": [der("vcek.der"), der("ask.pem"), der("ark.pem")], "request": request}
status, answer = post("attest", body)
print("ATTEST %d %s" % (status, ",".join(sorted(answer))))
show("RATLS-AFTER-USE", *post("attest-ratls", ratls_body))  # step 1 still comes first
PY
out=$(python3 "$tmp/client.py" "$cvm" "$tmp/sim" "$port" "$tmp/tls.crt" "$tmp/client.crt" "$tmp/client.key" "$good" 2>&1)
grep -q '^NO-CERT 400 BAD_REQUEST client_certificate got=none ' <<<"$out"; check "no client certificate: $out" $?
grep -q '^ORDINARY-CERT 400 BAD_REQUEST client_certificate got=- detail=the TLS client certificate is not an RA-TLS certificate' \
  <<<"$out"; check "an ordinary client certificate: $out" $?
grep -q '^EVIDENCE-IN-BODY 400 BAD_REQUEST - got=- detail=attest-ratls.report: unknown member' <<<"$out"
check "evidence in the body: $out" $?
grep -q '^ATTEST 200 ct,enc,sig,simulated$' <<<"$out"; check "attest over https, the nonce unused: $out" $?
grep -q '^RATLS-AFTER-USE 400 BAD_REQUEST client_certificate got=none ' <<<"$out"; check "still step 1: $out" $?

kill -TERM "$broker_pid"
wait "$broker_pid"
check "clean exit on SIGTERM" $?
broker_pid=
[[ $(grep -c 'attest refused code=BAD_REQUEST claim=client_certificate .*transport=ratls' "$tmp/broker.log") -eq 3 ]]
check "refusals logged with transport=ratls" $?
grep 'attest released code=OK' "$tmp/broker.log" | grep -vq 'transport=ratls'; check "attest logged without it" $?
! grep -q hunter "$tmp/broker.log"; check "no secret in the log" $?

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
