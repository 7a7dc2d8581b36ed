"""RFC 8785 canonical JSON (as serde_json_canonicalizer in attestation-service/src/lib.rs 32-34),
the ECDH-ES+A256KW/A256GCM JWE of kbs/src/jwe/mod.rs (78962cd, lines 24-47 and 163-333) and an
ES256 JWT for the token, written here from the RFCs (7516, 7518 §4.6, 7519, 8785)."""

import base64
import hashlib
import json
import os

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_wrap

CURVES = {"P-256": (ec.SECP256R1, 32), "P-521": (ec.SECP521R1, 66)}


class JoseError(Exception):
    pass


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    """base64 URL_SAFE_NO_PAD as the Rust `base64` crate decodes it: no padding, canonical bits."""
    if not isinstance(text, str) or "=" in text or len(text) % 4 == 1:
        raise JoseError("not unpadded base64url: %r" % (text,))
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as e:
        raise JoseError("not base64url: %s" % e)
    if b64url(raw) != text:
        raise JoseError("non-canonical base64url: %r" % text)
    return raw


def _jcs_string(s):
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif code < 0x20:
            out.append({8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"}.get(code, "\\u%04x" % code))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def jcs(value):
    """RFC 8785 for the values the KBS hashes: objects, arrays, strings, integers, bools, null."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(_jcs_string(k) + ":" + jcs(value[k]) for k in keys) + "}"
    if isinstance(value, list):
        return "[" + ",".join(jcs(v) for v in value) + "]"
    if isinstance(value, str):
        return _jcs_string(value)
    if value is True or value is False or value is None:
        return json.dumps(value)
    if type(value) is int:
        return str(value)
    raise JoseError("JCS: unsupported value %r" % (value,))


def concat_kdf(z, alg, length=32):
    """NIST SP 800-56A Concat KDF with SHA-256, empty PartyUInfo/PartyVInfo (RFC 7518 §4.6.2)."""
    out, counter = b"", 1
    while len(out) < length:
        out += hashlib.sha256(counter.to_bytes(4, "big") + z + len(alg).to_bytes(4, "big") +
                              alg.encode() + bytes(8) + (length * 8).to_bytes(4, "big")).digest()
        counter += 1
    return out[:length]


def ec_public_key(jwk):
    crv, size = CURVES[jwk["crv"]]
    try:
        x, y = b64url_decode(jwk["x"]), b64url_decode(jwk["y"])
    except JoseError as e:
        raise JoseError("base64 decode of the coordinates failed: %s" % e)
    if len(x) != size or len(y) != size:
        raise JoseError("invalid bytes length of coordinates (%d, %d), expected %d" % (len(x), len(y), size))
    try:
        return ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"),
                                             crv()).public_key()
    except ValueError:
        raise JoseError("invalid TEE public key: not on %s" % jwk["crv"])


def jwe_encrypt(tee_pubkey, payload):
    """jwe() of kbs/src/jwe/mod.rs 335-359, EC keys only; the flattened JWE as Trustee serialises it."""
    if tee_pubkey["kty"] != "EC":
        raise JoseError("the fake encrypts to EC keys only, not kty %s" % tee_pubkey["kty"])
    if tee_pubkey["crv"] not in CURVES or tee_pubkey["alg"] != "ECDH-ES+A256KW":
        raise JoseError("curve %s and algorithm %s is not supported" % (tee_pubkey["crv"], tee_pubkey["alg"]))
    peer = ec_public_key(tee_pubkey)
    crv, size = CURVES[tee_pubkey["crv"]]
    ephemeral = ec.generate_private_key(crv())
    kek = concat_kdf(ephemeral.exchange(ec.ECDH(), peer), "ECDH-ES+A256KW")
    cek = os.urandom(32)
    numbers = ephemeral.public_key().public_numbers()
    epk = {"crv": tee_pubkey["crv"], "kty": "EC", "x": b64url(numbers.x.to_bytes(size, "big")),
           "y": b64url(numbers.y.to_bytes(size, "big"))}
    header = json.dumps({"alg": "ECDH-ES+A256KW", "enc": "A256GCM", "epk": epk}, separators=(",", ":"))
    protected = b64url(header.encode())
    iv = os.urandom(12)
    sealed = AESGCM(cek).encrypt(iv, payload, protected.encode("ascii"))
    return {"protected": protected, "encrypted_key": b64url(aes_key_wrap(kek, cek)), "iv": b64url(iv),
            "ciphertext": b64url(sealed[:-16]), "tag": b64url(sealed[-16:])}


def jwt_sign(key, claims):
    head = b64url(json.dumps({"alg": "ES256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    r, s = decode_dss_signature(key.sign((head + "." + body).encode(), ec.ECDSA(hashes.SHA256())))
    return head + "." + body + "." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def jwt_verify(public_key, token):
    """The claims of an ES256 JWT signed by public_key, or JoseError."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        raise JoseError("not a compact JWS")
    try:
        if json.loads(b64url_decode(parts[0])).get("alg") != "ES256":
            raise JoseError("alg is not ES256")
        sig = b64url_decode(parts[2])
        if len(sig) != 64:
            raise JoseError("ES256 signature is not 64 bytes")
        public_key.verify(encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")),
                          (parts[0] + "." + parts[1]).encode(), ec.ECDSA(hashes.SHA256()))
        return json.loads(b64url_decode(parts[1]))
    except InvalidSignature:
        raise JoseError("token signature does not verify")
    except (ValueError, AttributeError) as e:
        raise JoseError("token does not parse: %s" % e)
