"""fake_kbs: a TEST FAKE of the Confidential Containers Trustee KBS v0.21 (RCAR protocol 0.4.0,
SNP evidence only), for the end-to-end QEMU boots of cvminit's `kbs` profile. Not a KBS: no TLS,
no admin API, no Rego, state in memory, one process. It shares no code with cvminit's C++ (and
never runs its binaries), so it catches mistakes of our evidence encoder and JWE code.

Run: python3 tests/fakes/fake_kbs --port P --ark ARK.pem [--ask ASK.pem] [--vcek VCEK.der]
       [--resource repo/type/tag=FILE]... [--deny repo/type/tag]... [--session-seconds N]
       [--fault wrong-nonce|swap-key|other-key] [--log FILE] [--ready-file FILE]
(--fault: the session remembers another nonce than it sent; the attested runtime data's
tee-pubkey is swapped for a stranger's, as a man in the middle would, so REPORT_DATA no longer
matches; resources are encrypted to a stranger's key instead of the attested one.)
(--port 0 picks a free port; the ready file then holds the port number and a newline.)

What it models, from github.com/confidential-containers/trustee at 78962cd (v0.21.0):
  kbs/src/api_server.rs 215-476        dispatch /kbs/v0/<plugin>/..., token from the session or
                                       `Authorization: Bearer`, resource policy, JWE  (kbs.py)
  kbs/src/attestation/backend.rs       auth (version "=0.4.0" by semver, nonce of 32 random bytes,
                                       extra-params ""), attest (cookie, session, nonce, runtime
                                       data {"tee-pubkey","nonce","additional-evidence"}), the
                                       already-attested shortcut                          (kbs.py)
  kbs/src/attestation/session.rs       uuid simple ids, cookie `kbs-session-id=..; Expires=..`,
                                       expiry (minutes there, --session-seconds here)     (kbs.py)
  kbs/src/error.rs 108-136             problem JSON {"type": ".../errors/<Kind>", "detail"}, 404
                                       for InvalidRequestPath/PluginNotFound, 401 for the rest
  kbs/src/attestation/coco/builtin.rs  SHA-384 runtime-data hash, init-data format "toml" only
  attestation-service/src/lib.rs       RFC 8785 runtime data; Initdata TOML digest   (verifier.py)
  deps/verifier/src/snp/mod.rs 376-709 report versions 3-5, processor generation, cert chain
                                       (supplied or files), report signature, VCEK TCB/chip ID,
                                       VMPL 0, REPORT_DATA, HOST_DATA     (verifier.py, amd_certs.py)
  kbs/src/jwe/mod.rs                   ECDH-ES+A256KW (P-256, P-521) + A256GCM flattened JWE (jose.py)
  kbs/src/plugins/implementations/resource/{mod,backend,kv_storage}.rs  ResourceDesc regex,
                                       a missing resource is PluginInternalError (401, not 404)
and virtee/sev at d487809 (AttestationReport serde/Encoder, TcbVersion, CertTableEntry; snp_report.py),
kbs-types 0.18 (Request, Challenge, Attestation, TeePubKey, InitData, Response, ErrorInformation).

Left out: TLS, the admin endpoints and admin auth, Rego policies (--deny stands for a resource
policy), RVPS/reference values and the EAR appraisal policy (every verified report is
"affirming"), tees other than snp (auth accepts every kbs-types tee as Trustee does; attest then
refuses), additional evidence, VLEK without an ASK in the chain (no ASVK file), sm3 init-data,
RSA and AKP TEE keys for the JWE, the KDS (the --vcek/--ask files stand for the offline store),
CRLs (Trustee does none either), duplicate-member detection of serde_json, plugins other than
`resource` (any method but GET there, or on another plugin, answers 404 PluginNotFound; Trustee
would ask for admin auth). Client-visible details are Trustee's texts (auth keeps Trustee's cause,
attest only says "RCAR handshake Attest failed"); the real reason of every refusal goes to --log.
"""

import argparse
import http.server
import json
import os
import sys
import threading

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import amd_certs  # noqa: E402
import kbs  # noqa: E402

PREFIX = "/kbs/v0/"


def cookie_value(header, name):
    for item in (header or "").split(";"):
        key, _, value = item.strip().partition("=")
        if key == name:
            return value
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-kbs"

    def log_message(self, *args):
        pass

    def _reply(self, status, body=b"", content_type=None, cookie=None, reason=""):
        # Logged before the reply is sent: a client that reads the log after the reply finds the line.
        self.server.log_line("%s %s %d%s" % (self.command, self.path, status, " " + reason if reason else ""))
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if cookie:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _dispatch(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        if not path.startswith(PREFIX):
            return self._reply(404, reason="not under /kbs/v0/")
        plugin_path = path[len(PREFIX):]
        sid = cookie_value(self.headers.get("Cookie"), "kbs-session-id")
        core = self.server.kbs
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = None
        try:
            if plugin_path == "auth" and self.command == "POST":
                answer, cookie = core.auth(doc)
                return self._reply(200, json.dumps(answer, separators=(",", ":")).encode(),
                                   "application/json", cookie)
            if plugin_path == "attest" and self.command == "POST":
                answer, cookie = core.attest(sid, doc)
                # Verified by then: a document given had the report's HOST_DATA as its digest.
                note = "init-data matches HOST_DATA" if doc.get("init-data") is not None else "no init-data"
                return self._reply(200, json.dumps(answer, separators=(",", ":")).encode(),
                                   "application/json", cookie, note)
            if self.command != "GET":
                raise kbs.Problem("PluginNotFound", "Plugin %s not found" % plugin_path.split("/")[0],
                                  "only GET of resource/... is modelled besides auth and attest")
            auth = self.headers.get("Authorization") or ""
            bearer = auth[7:] if auth.startswith("Bearer ") else None
            jwe = core.resource(plugin_path, sid, bearer)
            return self._reply(200, json.dumps(jwe, separators=(",", ":")).encode(), "application/json")
        except kbs.Problem as p:
            return self._reply(p.status, p.body(), reason="%s: %s" % (p.kind, p.reason))

    do_GET = do_POST = do_PUT = do_DELETE = _dispatch


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port, core, log_path):
        super().__init__(("127.0.0.1", port), Handler)
        self.kbs, self.log_lock = core, threading.Lock()
        self.log_file = open(log_path, "a", buffering=1) if log_path else None

    def log_line(self, line):
        if self.log_file:
            with self.log_lock:
                self.log_file.write(line + "\n")


def main(argv):
    ap = argparse.ArgumentParser(prog="fake_kbs", description="Test fake of Trustee KBS v0.21 (SNP only)")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ark", required=True, help="pinned ARK (PEM or DER)")
    ap.add_argument("--ask", help="ASK used when the evidence has no cert_chain (or no ASK in it)")
    ap.add_argument("--vcek", help="VCEK used when the evidence has no cert_chain")
    ap.add_argument("--resource", action="append", default=[], metavar="repo/type/tag=FILE")
    ap.add_argument("--deny", action="append", default=[], metavar="repo/type/tag")
    ap.add_argument("--session-seconds", type=int, default=300)
    ap.add_argument("--fault", choices=("wrong-nonce", "swap-key", "other-key"))
    ap.add_argument("--log")
    ap.add_argument("--ready-file")
    args = ap.parse_args(argv)
    resources = {}
    for spec in args.resource:
        name, sep, path = spec.partition("=")
        if not sep or not kbs.RESOURCE_DESC.match(name):
            ap.error("--resource %r: expected repo/type/tag=FILE" % spec)
        with open(path, "rb") as f:
            resources[name] = f.read()
    trust = (amd_certs.load(args.ark), amd_certs.load(args.ask) if args.ask else None,
             amd_certs.load(args.vcek) if args.vcek else None)
    core = kbs.Kbs(trust, resources, set(args.deny), args.session_seconds, args.fault)
    server = Server(args.port, core, args.log)
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % server.server_address[1])
        os.replace(tmp, args.ready_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
