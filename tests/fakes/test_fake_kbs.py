#!/usr/bin/python3
"""Self-test of tests/fakes/fake_kbs (the Trustee KBS v0.21 test fake), driven over HTTP by a
small client written here independently of the fake: its own AMD test chain (RSA-2048 ARK/ASK
signed RSASSA-PSS SHA-384 salt 48, P-384 VCEK with the KDS TCB extensions), its own report layout
(offsets of the SEV-SNP ABI's ATTESTATION_REPORT table), RFC 8785 by hand, and its own JWE
decryption. Usage: test_fake_kbs.py [PATH/TO/fake_kbs]   (meson test 'fake-kbs')."""

import base64
import datetime
import hashlib
import http.client
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "fake_kbs")
ERR = "https://github.com/confidential-containers/kbs/errors/"
FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILURES.append(what)


# ---- DER and the AMD-like test chain --------------------------------------------------------

def tlv(tag, content):
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = (n.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + n.to_bytes(size, "big") + content


SHA384_ALG = tlv(0x30, bytes.fromhex("0609608648016503040202") + b"\x05\x00")
PKCS1_SHA384 = tlv(0x30, bytes.fromhex("06092a864886f70d01010c0500"))
PSS_SHA384 = tlv(0x30, bytes.fromhex("06092a864886f70d01010a") + tlv(0x30,
    tlv(0xA0, SHA384_ALG) + tlv(0xA1, tlv(0x30, bytes.fromhex("06092a864886f70d010108") + SHA384_ALG)) +
    tlv(0xA2, tlv(0x02, b"\x30"))))


def pss_cert(builder, issuer_key):
    """Sign with cryptography (PKCS#1 v1.5), then swap in RSASSA-PSS as AMD's KDS certificates use."""
    tbs = builder.sign(issuer_key, hashes.SHA384()).tbs_certificate_bytes
    assert tbs.count(PKCS1_SHA384) == 1
    body = tbs[2 + (tbs[1] & 0x7F if tbs[1] & 0x80 else 0):].replace(PKCS1_SHA384, PSS_SHA384)
    new_tbs = tlv(0x30, body)
    sig = issuer_key.sign(new_tbs, padding.PSS(padding.MGF1(hashes.SHA384()), 48), hashes.SHA384())
    return tlv(0x30, new_tbs + PSS_SHA384 + tlv(0x03, b"\x00" + sig))


def name(cn):
    return x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, cn)])


def builder(subject, issuer, key):
    now = datetime.datetime(2025, 1, 1)
    return (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=9000)))


def make_ca(tag="Milan"):
    ark_key = rsa.generate_private_key(65537, 2048)
    ask_key = rsa.generate_private_key(65537, 2048)
    ark = pss_cert(builder("ARK-" + tag, "ARK-" + tag, ark_key), ark_key)
    return ark, pss_cert(builder("SEV-" + tag, "ARK-" + tag, ask_key), ark_key), ask_key


def make_vcek(ask_key, chip_id, tcb, fmc=None, cn="VCEK", raw_hwid=None):
    """cn "VCEK" makes Trustee check hwID against CHIP_ID (DER OCTET STRING form here); AMD's own
    KDS certificates say "SEV-VCEK" and carry raw bytes (8 on Turin), which Trustee does not check."""
    vcek_key = ec.generate_private_key(ec.SECP384R1())
    b = builder(cn, "SEV-Milan", vcek_key)
    spl = [("3.1", tcb["bootloader"]), ("3.2", tcb["tee"]), ("3.3", tcb["snp"]), ("3.8", tcb["microcode"])]
    if fmc is not None:
        spl.append(("3.9", fmc))
    for arc, value in spl:
        oid = x509.ObjectIdentifier("1.3.6.1.4.1.3704.1." + arc)
        b = b.add_extension(x509.UnrecognizedExtension(oid, tlv(0x02, bytes([value]))), False)
    b = b.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.3704.1.4"),
                                                   raw_hwid or tlv(0x04, chip_id)), False)
    return pss_cert(b, ask_key), vcek_key


# ---- the report: SEV-SNP ABI ATTESTATION_REPORT offsets, and virtee/sev's JSON ---------------

def tcb_bytes(t, turin):
    if turin:
        return bytes([t["fmc"], t["bootloader"], t["tee"], t["snp"], 0, 0, 0, t["microcode"]])
    return bytes([t["bootloader"], t["tee"], 0, 0, 0, 0, t["snp"], t["microcode"]])


def report_bytes(j):
    turin = j["cpuid_fam_id"] == 0x1A
    b = bytearray(1184)
    put = lambda off, data: b.__setitem__(slice(off, off + len(data)), data)
    put(0x00, struct.pack("<IIQ", j["version"], j["guest_svn"], j["policy"]))
    put(0x10, bytes(j["family_id"])); put(0x20, bytes(j["image_id"]))
    put(0x30, struct.pack("<II", j["vmpl"], j["sig_algo"]))
    put(0x38, tcb_bytes(j["current_tcb"], turin)); put(0x40, struct.pack("<QI", j["plat_info"], j["key_info"]))
    for off, key in ((0x50, "report_data"), (0x90, "measurement"), (0xC0, "host_data"),
                     (0xE0, "id_key_digest"), (0x110, "author_key_digest"), (0x140, "report_id"),
                     (0x160, "report_id_ma"), (0x1A0, "chip_id")):
        put(off, bytes(j[key]))
    put(0x180, tcb_bytes(j["reported_tcb"], turin))
    put(0x188, bytes([j["cpuid_fam_id"], j["cpuid_mod_id"], j["cpuid_step"]]))
    put(0x1E0, tcb_bytes(j["committed_tcb"], turin))
    for off, key in ((0x1E8, "current"), (0x1EC, "committed")):
        put(off, bytes([j[key]["build"], j[key]["minor"], j[key]["major"]]))
    put(0x1F0, tcb_bytes(j["launch_tcb"], turin))
    if j["version"] >= 5:
        put(0x1F8, struct.pack("<QQ", j["launch_mit_vector"], j["current_mit_vector"]))
    return bytes(b)


def sign_report(j, vcek_key):
    r, s = decode_dss_signature(vcek_key.sign(report_bytes(j)[:0x2A0], ec.ECDSA(hashes.SHA384())))
    j["signature"] = {"r": list(r.to_bytes(72, "little")), "s": list(s.to_bytes(72, "little"))}
    return j


def report_json(report_data, chip_id, tcb, turin=False, host_data=bytes(32), version=3, vmpl=0):
    t = dict(tcb, fmc=tcb.get("fmc") if turin else None)
    j = {"version": version, "guest_svn": 1, "policy": 0x30000, "family_id": [1] * 16, "image_id": [2] * 16,
         "vmpl": vmpl, "sig_algo": 1, "current_tcb": t, "plat_info": 3, "key_info": 0,
         "report_data": list(report_data), "measurement": list(range(48)), "host_data": list(host_data),
         "id_key_digest": [0] * 48, "author_key_digest": [0] * 48, "report_id": [7] * 32,
         "report_id_ma": [0xFF] * 32, "reported_tcb": t, "cpuid_fam_id": 0x1A if turin else 0x19,
         "cpuid_mod_id": 0x02 if turin else 0x01, "cpuid_step": 1, "chip_id": list(chip_id),
         "committed_tcb": t, "current": {"major": 1, "minor": 55, "build": 21},
         "committed": {"major": 1, "minor": 55, "build": 21}, "launch_tcb": t,
         "launch_mit_vector": 5 if version >= 5 else None, "current_mit_vector": 6 if version >= 5 else None}
    return j


# ---- the client side ---------------------------------------------------------------------------

def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TeeKey:
    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        n = self.key.public_key().public_numbers()
        self.jwk = {"kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW",
                    "x": b64u(n.x.to_bytes(32, "big")), "y": b64u(n.y.to_bytes(32, "big"))}

    def report_data(self, nonce):
        canonical = ('{"additional-evidence":"","nonce":"%s","tee-pubkey":{"alg":"ECDH-ES+A256KW",'
                     '"crv":"P-256","kty":"EC","x":"%s","y":"%s"}}' % (nonce, self.jwk["x"], self.jwk["y"]))
        return hashlib.sha384(canonical.encode()).digest() + bytes(16)

    def decrypt(self, jwe):
        header = json.loads(unb64u(jwe["protected"]))
        assert header["alg"] == "ECDH-ES+A256KW" and header["enc"] == "A256GCM", header
        epk = header["epk"]
        peer = ec.EllipticCurvePublicNumbers(int.from_bytes(unb64u(epk["x"]), "big"),
                                             int.from_bytes(unb64u(epk["y"]), "big"), ec.SECP256R1()).public_key()
        z = self.key.exchange(ec.ECDH(), peer)
        alg = b"ECDH-ES+A256KW"
        kek = hashlib.sha256(b"\x00\x00\x00\x01" + z + struct.pack(">I", len(alg)) + alg +
                             bytes(8) + struct.pack(">I", 256)).digest()
        cek = aes_key_unwrap(kek, unb64u(jwe["encrypted_key"]))
        return AESGCM(cek).decrypt(unb64u(jwe["iv"]), unb64u(jwe["ciphertext"]) + unb64u(jwe["tag"]),
                                   jwe["protected"].encode())


class Fake:
    def __init__(self, tmp, tag, args):
        self.ready, self.log = os.path.join(tmp, tag + ".ready"), os.path.join(tmp, tag + ".log")
        self.proc = subprocess.Popen([sys.executable, "-B", FAKE, "--port", "0", "--ready-file", self.ready,
                                      "--log", self.log] + args)
        deadline = time.monotonic() + 20
        while not os.path.exists(self.ready):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("fake_kbs %s did not start" % tag)
            time.sleep(0.01)
        with open(self.ready) as f:
            self.port = int(f.read())

    def request(self, method, path, body=None, cookie=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        h = dict(headers or {})
        if body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(body)
        if cookie:
            h["Cookie"] = cookie
        conn.request(method, "/kbs/v0/" + path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, resp.getheader("Set-Cookie"), (json.loads(data) if data else None)

    def auth(self, version="0.4.0", tee="snp"):
        return self.request("POST", "auth", {"version": version, "tee": tee, "extra-params": {
            "supported-hash-algorithms": ["sha256", "sha384", "sha512", "sm3"]}})

    def log_text(self):
        with open(self.log) as f:
            return f.read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


# ---- the scenarios -------------------------------------------------------------------------------

TCB = {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}
TURIN_TCB = dict(TCB, fmc=1)


def session(fake):
    status, cookie, body = fake.auth()
    assert status == 200, (status, body)
    return cookie.split(";")[0], body["nonce"]


def attest(fake, cookie, nonce, key, report, chain=None, init=None, runtime_nonce=None):
    body = {"init-data": init,
            "runtime-data": {"nonce": runtime_nonce or nonce, "tee-pubkey": key.jwk},
            "tee-evidence": {"primary_evidence": {"attestation_report": report, "cert_chain": chain},
                             "additional_evidence": ""}}
    return fake.request("POST", "attest", body, cookie)


def refused(answer, status, kind, what):
    ok = answer[0] == status and isinstance(answer[2], dict) and answer[2].get("type") == ERR + kind
    check(ok, "%s -> %d %s" % (what, status, kind) + ("" if ok else " (got %s %s)" % (answer[0], answer[2])))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        ark, ask, ask_key = make_ca()
        chip = os.urandom(64)
        vcek, vcek_key = make_vcek(ask_key, chip, TCB)
        turin_chip = os.urandom(8) + bytes(56)
        turin_vcek, turin_key = make_vcek(ask_key, turin_chip, TCB, fmc=1, cn="SEV-VCEK", raw_hwid=turin_chip[:8])
        other_ark, _, _ = make_ca("Other")
        paths = {}
        for n, data in (("ark.pem", ark), ("ask.pem", ask), ("vcek.der", vcek), ("secret", b"top secret\n")):
            paths[n] = os.path.join(tmp, n)
            with open(paths[n], "wb") as f:
                if n.endswith(".pem"):
                    data = x509.load_der_x509_certificate(data).public_bytes(serialization.Encoding.PEM)
                f.write(data)
        common = ["--ark", paths["ark.pem"], "--ask", paths["ask.pem"], "--vcek", paths["vcek.der"],
                  "--resource", "default/key/disk=" + paths["secret"], "--resource",
                  "default/key/other=" + paths["secret"], "--deny", "default/key/other"]
        fakes = {t: Fake(tmp, t, common + extra) for t, extra in (
            ("main", []), ("expired", ["--session-seconds", "0"]),
            ("wrongnonce", ["--fault", "wrong-nonce"]), ("swapkey", ["--fault", "swap-key"]),
            ("otherkey", ["--fault", "other-key"]))}
        try:
            run(fakes, chip, vcek_key, turin_chip, turin_vcek, turin_key, ark, ask, other_ark)
        finally:
            for fake in fakes.values():
                fake.stop()
    print("%d failure(s)" % len(FAILURES))
    return 1 if FAILURES else 0


def run(fakes, chip, vcek_key, turin_chip, turin_vcek, turin_key, ark, ask, other_ark):
    main_fake = fakes["main"]
    key = TeeKey()
    good = lambda nonce, **kw: sign_report(report_json(key.report_data(nonce), chip, TCB, **kw), vcek_key)

    # auth
    status, cookie, body = main_fake.auth()
    check(status == 200 and body.get("extra-params") == "" and len(base64.b64decode(body["nonce"])) == 32,
          "auth: 200, 32-byte standard-base64 nonce, extra-params \"\"")
    check(re.fullmatch(r"kbs-session-id=[0-9a-f]{32}; Expires=\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT",
                       cookie or "") is not None, "auth: Set-Cookie kbs-session-id=<uuid simple>; Expires=...")
    refused(main_fake.auth(version="0.3.0"), 401, "AttestationError", "auth version 0.3.0")
    refused(main_fake.auth(version="0.4"), 401, "AttestationError", "auth version 0.4")
    refused(main_fake.auth(tee="nope"), 401, "AttestationError", "auth unknown tee")
    check("Mismatch: expect =0.4.0 while the request is 0.3.0" in main_fake.auth(version="0.3.0")[2]["detail"],
          "auth: the mismatch detail names both versions")

    # attest refusals
    c, n = session(main_fake)
    refused(attest(main_fake, "kbs-session-id=" + "0" * 32, n, key, good(n)), 401, "AttestationError",
            "attest unknown cookie")
    refused(attest(main_fake, None, n, key, good(n)), 401, "AttestationError", "attest without cookie")
    refused(attest(main_fake, c, n, key, good(n), runtime_nonce=base64.b64encode(bytes(32)).decode()),
            401, "AttestationError", "attest runtime-data nonce not the session's")
    refused(attest(main_fake, c, n, key, good("some other nonce")), 401, "AttestationError",
            "attest REPORT_DATA not matching")
    flipped = good(n)
    flipped["measurement"][0] ^= 1
    refused(attest(main_fake, c, n, key, flipped), 401, "AttestationError", "attest bad signature (flipped byte)")
    refused(attest(main_fake, c, n, key, good(n, vmpl=1)), 401, "AttestationError", "attest VMPL 1")
    refused(attest(main_fake, c, n, key, good(n, version=2)), 401, "AttestationError", "attest version 2")
    wrong_chip = sign_report(report_json(key.report_data(n), bytes(64), TCB), vcek_key)
    refused(attest(main_fake, c, n, key, wrong_chip), 401, "AttestationError", "attest CHIP_ID not the VCEK's hwID")
    wrong_tcb = sign_report(report_json(key.report_data(n), chip, dict(TCB, snp=9)), vcek_key)
    refused(attest(main_fake, c, n, key, wrong_tcb), 401, "AttestationError", "attest reported TCB not the VCEK's")
    refused(attest(main_fake, c, n, key, good(n, version=6)), 401, "AttestationError", "attest version 6")
    chain = [{"cert_type": "VCEK", "data": list(turin_vcek)}, {"cert_type": "ASK", "data": list(ask)},
             {"cert_type": "ARK", "data": list(other_ark)}]
    turin = lambda nonce, **kw: sign_report(report_json(key.report_data(nonce), turin_chip, TURIN_TCB,
                                                        turin=True, version=5, **kw), turin_key)
    refused(attest(main_fake, c, n, key, turin(n), chain=chain), 401, "AttestationError", "attest wrong ARK")
    body_toml = 'version = "0.1.0"\nalgorithm = "sha384"\n\n[data]\n"aa.toml" = "x"\n'
    digest = hashlib.sha384(body_toml.encode()).digest()[:32]
    refused(attest(main_fake, c, n, key, good(n, host_data=bytes(31) + b"\x01"),
                   init={"format": "toml", "body": body_toml}), 401, "AttestationError", "attest init-data digest mismatch")
    refused(attest(main_fake, c, n, key, good(n, host_data=digest), init={"format": "json", "body": "{}"}),
            401, "AttestationError", "attest init-data format json")
    status, _, body = main_fake.auth(tee="tdx")
    check(status == 200, "auth tee tdx accepted (Trustee issues a challenge for every kbs-types tee)")
    refused(main_fake.request("GET", "resource/default/key/disk", cookie=c), 401, "TokenNotFound",
            "resource before attestation")
    log = main_fake.log_text()
    for reason in ("Chip ID mismatch", "SNP version mismatch", "Report Data Mismatch", "Report signature verification", "VMPL Check Failed",
                   "Host Data Mismatch", "Provided ARK has an invalid signature", "nonce in the handshake session",
                   "session not found", "cookie not found", "Unsupported initdata format"):
        check(reason in log, "log names the reason: " + reason)

    # happy paths: Milan v3 with files, init-data bound to HOST_DATA; Turin v5 with a cert chain
    status, setc, body = attest(main_fake, c, n, key, good(n, host_data=digest),
                                init={"format": "toml", "body": body_toml})
    check(status == 200 and "token" in body and setc and setc.startswith(c), "attest Milan v3 + init-data: 200")
    claims = json.loads(unb64u(body["token"].split(".")[1]))
    tee_pubkey = claims["submods"]["cpu0"]["ear.veraison.annotated-evidence"]["runtime_data_claims"]["tee-pubkey"]
    check(tee_pubkey == key.jwk, "token carries the tee-pubkey at runtime_data_claims")
    check(json.loads(unb64u(body["token"].split(".")[0]))["alg"] == "ES256", "token is ES256")
    status, _, jwe = main_fake.request("GET", "resource/default/key/disk", cookie=c)
    check(status == 200 and key.decrypt(jwe) == b"top secret\n", "resource decrypted by the client's own JWE code")
    check(sorted(jwe) == ["ciphertext", "encrypted_key", "iv", "protected", "tag"], "flattened JWE members")
    check(list(json.loads(unb64u(jwe["protected"]))) == ["alg", "enc", "epk"], "protected header alg, enc, epk")
    refused(main_fake.request("GET", "resource/default/key/missing", cookie=c), 401, "PluginInternalError",
            "unknown resource (Trustee v0.21: 401, not 404)")
    refused(main_fake.request("GET", "resource/default/key/other", cookie=c), 401, "PolicyDeny", "denied resource")
    refused(main_fake.request("GET", "nosuchplugin/a/b/c", cookie=c), 404, "PluginNotFound", "unknown plugin")
    status, _, jwe = main_fake.request("GET", "resource/default/key/disk",
                                       headers={"Authorization": "Bearer " + body["token"]})
    check(status == 200 and key.decrypt(jwe) == b"top secret\n", "resource with the token as Bearer")
    refused(main_fake.request("GET", "resource/default/key/disk", headers={"Authorization": "Bearer x.y.z"}),
            401, "TokenVerifierError", "resource with a forged Bearer token")

    c2, n2 = session(main_fake)
    status, _, body = attest(main_fake, c2, n2, key, turin(n2, host_data=os.urandom(32)), chain=chain[:2])
    check(status == 200, "attest Turin v5 with cert_chain, HOST_DATA set and no init-data: 200")

    # expired sessions, the faults
    fake = fakes["expired"]
    c, n = session(fake)
    refused(attest(fake, c, n, key, good(n)), 401, "AttestationError", "attest on an expired session")
    refused(fake.request("GET", "resource/default/key/disk", cookie=c), 401, "TokenNotFound",
            "resource on an expired session")
    check("expired" in fake.log_text(), "log: the session expired")
    fake = fakes["wrongnonce"]
    c, n = session(fake)
    refused(attest(fake, c, n, key, good(n)), 401, "AttestationError", "--fault wrong-nonce refuses attest")
    fake = fakes["swapkey"]
    c, n = session(fake)
    refused(attest(fake, c, n, key, good(n)), 401, "AttestationError", "--fault swap-key refuses attest")
    check("Report Data Mismatch" in fake.log_text(), "log: --fault swap-key fails the REPORT_DATA binding")
    fake = fakes["otherkey"]
    c, n = session(fake)
    check(attest(fake, c, n, key, good(n))[0] == 200, "--fault other-key: attest 200")
    status, _, jwe = fake.request("GET", "resource/default/key/disk", cookie=c)
    try:
        key.decrypt(jwe)
        opened = True
    except InvalidUnwrap:
        opened = False
    check(status == 200 and not opened, "--fault other-key: the JWE does not open with the attested key")


if __name__ == "__main__":
    sys.exit(main())
