"""The KBS's three client endpoints as Trustee v0.21 (78962cd) answers them:
kbs/src/attestation/backend.rs (__auth 241-277, __attest 285-435, get_attest_token_from_session
437-465), kbs/src/attestation/session.rs (ids, cookie, expiry), kbs/src/api_server.rs (api 215-476:
plugin dispatch, token, resource policy, JWE), kbs/src/error.rs (problem JSON, 404 only for
InvalidRequestPath/PluginNotFound, 401 for everything else)."""

import base64
import email.utils
import hashlib
import json
import os
import re
import threading
import time
import uuid

from cryptography.hazmat.primitives.asymmetric import ec

import jose
import verifier

ERROR_PREFIX = "https://github.com/confidential-containers/kbs/errors/"
TEES = ("az-snp-vtpm", "az-tdx-vtpm", "nvidia", "sgx", "snp", "tdx", "cca", "csv", "se", "hygondcu",
        "dpu", "tpm", "sample", "sampledevice")  # kbs-types 0.18 Tee
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$")
RESOURCE_PART = r"[a-zA-Z0-9_\-]+[a-zA-Z0-9_\-\.]*"
RESOURCE_DESC = re.compile(r"^(%s)/(%s)/(%s)$" % (RESOURCE_PART, RESOURCE_PART, RESOURCE_PART))
ATTEST_FAILED = "Attestation error: RCAR handshake Attest failed"


class Problem(Exception):
    """A refusal: Trustee's error kind and detail (what the client sees) and the reason (the log)."""

    def __init__(self, kind, detail, reason):
        super().__init__(reason)
        self.kind, self.detail, self.reason = kind, detail, reason
        self.status = 404 if kind in ("InvalidRequestPath", "PluginNotFound") else 401

    def body(self):
        return json.dumps({"type": ERROR_PREFIX + self.kind, "detail": self.detail},
                               separators=(",", ":")).encode()


def attest_failed(reason):
    return Problem("AttestationError", ATTEST_FAILED, reason)


def _str_member(obj, name, where):
    if not isinstance(obj, dict) or not isinstance(obj.get(name), str):
        raise attest_failed("deserialize Attestation: %s.%s missing or not a string" % (where, name))
    return obj[name]


def parse_tee_pubkey(obj):
    """kbs-types TeePubKey (#[serde(tag = "kty")]): re-serialised with only its own members."""
    kty = _str_member(obj, "kty", "tee-pubkey")
    names = {"EC": ("crv", "alg", "x", "y"), "RSA": ("alg", "n", "e"), "AKP": ("alg", "pub")}.get(kty)
    if names is None:
        raise attest_failed("deserialize Attestation: tee-pubkey.kty: unknown variant %r" % kty)
    return dict([("kty", kty)] + [(n, _str_member(obj, n, "tee-pubkey")) for n in names])


def parse_attestation(doc):
    if not isinstance(doc, dict):
        raise attest_failed("deserialize Attestation: not an object")
    runtime, evidence = doc.get("runtime-data"), doc.get("tee-evidence")
    nonce = _str_member(runtime, "nonce", "runtime-data")
    if not isinstance(runtime, dict) or "tee-pubkey" not in runtime:
        raise attest_failed("deserialize Attestation: missing runtime-data.tee-pubkey")
    pubkey = parse_tee_pubkey(runtime["tee-pubkey"])
    if not isinstance(evidence, dict) or "primary_evidence" not in evidence:
        raise attest_failed("deserialize Attestation: missing tee-evidence.primary_evidence")
    additional = _str_member(evidence, "additional_evidence", "tee-evidence")
    init = doc.get("init-data")
    if init is not None:
        init = (_str_member(init, "format", "init-data"), _str_member(init, "body", "init-data"))
    return nonce, pubkey, evidence["primary_evidence"], additional, init


def stranger_jwk():
    """A fresh P-256 TEE key JWK that nobody attested (for the faults)."""
    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW",
            "x": jose.b64url(point.x.to_bytes(32, "big")), "y": jose.b64url(point.y.to_bytes(32, "big"))}


class Kbs:
    def __init__(self, trust, resources, denied, session_seconds, fault):
        self.trust, self.resources, self.denied = trust, resources, denied
        self.session_seconds, self.fault = session_seconds, fault
        self.token_key = ec.generate_private_key(ec.SECP256R1())
        self.sessions, self.lock = {}, threading.Lock()

    def _cookie(self, sid, expires):
        return "kbs-session-id=%s; Expires=%s" % (sid, email.utils.formatdate(expires, usegmt=True))

    def _session(self, sid):
        """SessionMap::get: an expired session is deleted and reads as absent. (session, why)."""
        with self.lock:
            session = self.sessions.get(sid)
            if session is None:
                return None, "session not found: unknown id %s" % sid
            if not time.time() < session["expires"]:
                del self.sessions[sid]
                return None, "session not found: %s expired" % sid
            return session, None

    def auth(self, doc):
        def fail(why):
            return Problem("AttestationError", "Attestation error: RCAR handshake Auth failed: " + why, why)
        if not isinstance(doc, dict) or not isinstance(doc.get("version"), str) \
                or doc.get("tee") not in TEES or "extra-params" not in doc:
            raise fail("deserialize Request")
        match = SEMVER.match(doc["version"])
        if not match:
            raise fail("failed to parse KBS version")
        if match.group(1, 2, 3) != ("0", "4", "0") or match.group(4):
            raise fail("KBS Client Protocol Version Mismatch: expect =0.4.0 while the request is %s"
                       % doc["version"])
        nonce = base64.b64encode(os.urandom(32)).decode()
        remembered = base64.b64encode(os.urandom(32)).decode() if self.fault == "wrong-nonce" else nonce
        sid, expires = uuid.uuid4().hex, time.time() + self.session_seconds
        with self.lock:
            self.sessions[sid] = {"tee": doc["tee"], "nonce": remembered, "expires": expires, "token": None}
        return {"nonce": nonce, "extra-params": ""}, self._cookie(sid, expires)

    def attest(self, sid, doc):
        if sid is None:
            raise attest_failed("cookie not found")
        nonce, pubkey, evidence, additional, init = parse_attestation(doc)
        if self.fault == "swap-key":  # a man in the middle asks for the resources under his own key
            pubkey = stranger_jwk()
        session, why = self._session(sid)
        if session is None:
            raise attest_failed(why)
        if session["token"] is not None:
            return {"token": session["token"]}, self._cookie(sid, session["expires"])
        if nonce != session["nonce"]:
            raise attest_failed("the nonce in the handshake session is different from the client side "
                                "in KBS protocol's Attestation message")
        if additional:
            raise attest_failed("additional evidence is not modelled by the fake")
        if session["tee"] != "snp":
            raise attest_failed("verify TEE evidence failed: the fake verifies only snp, not %s" % session["tee"])
        if init is not None and init[0] != "toml":
            raise attest_failed("verify TEE evidence failed: Unsupported initdata format: %s" % init[0])
        runtime = {"tee-pubkey": pubkey, "nonce": nonce, "additional-evidence": additional}
        report_data = hashlib.sha384(jose.jcs(runtime).encode()).digest()
        try:
            init_hash = None if init is None else verifier.init_data_digest(init[1])
            claims = verifier.evaluate(evidence, report_data, init_hash, self.trust)
        except verifier.Refused as e:
            raise attest_failed("verify TEE evidence failed: %s" % e)
        now = int(time.time())
        token = jose.jwt_sign(self.token_key, {
            "eat_profile": "tag:github.com,2023:veraison/ear", "iat": now, "exp": now + 300,
            "ear.verifier-id": {"developer": "cvminit tests/fakes/fake_kbs", "build": "trustee-v0.21-model"},
            "submods": {"cpu0": {"ear.status": "affirming", "ear.veraison.annotated-evidence": {
                "snp": claims, "init_data_claims": None, "runtime_data_claims": runtime}}}})
        with self.lock:
            session["token"] = token
        return {"token": token}, self._cookie(sid, session["expires"])

    def resource(self, path, sid, bearer):
        plugin, _, rest = path.partition("/")
        if plugin != "resource":
            raise Problem("PluginNotFound", "Plugin %s not found" % plugin, "no plugin %r" % plugin)
        session, why = self._session(sid) if sid is not None else (None, "no session cookie")
        if session is not None and session["token"] is not None:
            token = session["token"]
        elif bearer is not None:
            token = bearer
        else:
            raise Problem("TokenNotFound", "Attestation Token not found", why or "session not attested")
        try:
            claims = jose.jwt_verify(self.token_key.public_key(), token)
        except jose.JoseError as e:
            raise Problem("TokenVerifierError", "Token Verifier error", str(e))
        if not isinstance(claims.get("exp"), int) or claims["exp"] < time.time():
            raise Problem("TokenVerifierError", "Token Verifier error", "token expired")
        if rest in self.denied:
            raise Problem("PolicyDeny", "Access denied by policy", "resource policy denies %s" % rest)
        if not RESOURCE_DESC.match(rest):
            raise Problem("PluginInternalError", "Plugin internal error", "illegal ResourceDesc format: %s" % rest)
        if rest not in self.resources:
            raise Problem("PluginInternalError", "Plugin internal error", "resource not found: %s" % rest)
        try:
            pubkey = claims["submods"]["cpu0"]["ear.veraison.annotated-evidence"]["runtime_data_claims"]["tee-pubkey"]
        except (KeyError, TypeError):
            raise Problem("TokenVerifierError", "Token Verifier error", "Tee public key not found in Attestation Token")
        if self.fault == "other-key":
            pubkey = stranger_jwk()
        try:
            return jose.jwe_encrypt(pubkey, self.resources[rest])
        except jose.JoseError as e:
            raise Problem("JweError", "JWE failed", str(e))
