#!/usr/bin/env python3
"""An independent cvmkb/1 client for the black-box tests (docs/cvmkb-1.md): one challenge and one
attest with a report from `cvm sim report`, REPORT_DATA recomputed here with hashlib (§4) over the
RFC 8785 form of the request, which json.dumps gives for these ASCII strings and integers.

usage: cvmkb_client.py CVM SIM_DIR PORT MEASUREMENT RESOURCES VMPL [VOLUMES]
  RESOURCES  comma-separated names ("" for none)
  VOLUMES    comma-separated volume states NAME:STATE:GENERATION:UUID (docs/cvmkb-1.md §3.3),
             e.g. data:blank:0: or data:ready:3:0f6e3c1a-2b4d-4e5f-8a9b-0c1d2e3f4a5b

Prints "RELEASED simulated=True" or "REFUSED <status> <code> <claim> retryable=<bool> got=<got>
detail=<detail>". The answer is not opened: the X25519 key is 32 random bytes."""
import base64, hashlib, json, os, subprocess, sys, urllib.error, urllib.request

cvm, sim, port, measurement, resources, vmpl = sys.argv[1:7]
volumes = sys.argv[7] if len(sys.argv) > 7 else ""
url = "http://127.0.0.1:%s/cvmkb/v1/" % port


def post(path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def lp(b):
    return len(b).to_bytes(2, "big") + b


def der(name):
    data = open(os.path.join(sim, name), "rb").read()
    if data.startswith(b"-----"):
        return b"".join(l for l in data.splitlines() if not l.startswith(b"-----")).decode()
    return base64.b64encode(data).decode()


status, challenge = post("challenge", {})
assert status == 200 and challenge["expires_in"] == 60, challenge
nonce = base64.b64decode(challenge["nonce"])
pub = os.urandom(32)
request = {"resources": [r for r in resources.split(",") if r]}
if volumes:
    request["volumes"] = []
    for v in volumes.split(","):
        name, state, generation, uuid = v.split(":")
        request["volumes"].append({"name": name, "state": state, "generation": int(generation), "uuid": uuid})
canonical = json.dumps(request, separators=(",", ":"), sort_keys=True).encode()
report_data = hashlib.sha512(b"cvmkb/1 report-data\0" + lp(nonce) + lp(pub) +
                             lp(hashlib.sha256(canonical).digest())).digest()
out = os.path.join(os.path.dirname(os.path.abspath(sim)), "report-%d.bin" % os.getpid())
subprocess.run([cvm, "sim", "report", sim, "--report-data", report_data.hex(), "--measurement", measurement,
                "--vmpl", vmpl, "-o", out], check=True, capture_output=True)
report = open(out, "rb").read()
os.unlink(out)
body = {"nonce": challenge["nonce"], "pubkey": base64.b64encode(pub).decode(),
        "report": base64.b64encode(report).decode(), "certs": [der("vcek.der"), der("ask.pem"), der("ark.pem")],
        "request": request}
status, answer = post("attest", body)
if status == 200:
    assert sorted(answer) == ["ct", "enc", "sig", "simulated"], answer
    print("RELEASED simulated=%s" % answer["simulated"])
else:
    e = answer["error"]
    print("REFUSED %d %s %s retryable=%s got=%s detail=%s" % (status, e["code"], e.get("claim", "-"), e["retryable"],
                                                             e.get("got", "-"), e["detail"]))
