"""The AMD certificate checks of Trustee's SNP verifier (deps/verifier/src/snp/mod.rs at 78962cd,
lines 403-497 and verify_report_tcb 579-629), written anew: the ARK pinned, a supplied ARK checked
by the pinned one's key, VCEK/VLEK <- ASK <- ARK signature checks only (X509_verify: no dates, no
names, no CRL), then the VCEK's hwID and SPL extensions against the report."""

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

import der

AMD_ARC = "1.3.6.1.4.1.3704.1."
HW_ID_OID = AMD_ARC + "4"
SPL_OIDS = (("microcode", AMD_ARC + "3.8", "Microcode version mismatch"),
            ("snp", AMD_ARC + "3.3", "SNP version mismatch"),
            ("tee", AMD_ARC + "3.2", "TEE version mismatch"),
            ("bootloader", AMD_ARC + "3.1", "Boot loader version mismatch"))
FMC_SPL_OID = AMD_ARC + "3.9"
HASHES = {der.OID_SHA256: hashes.SHA256, der.OID_SHA384: hashes.SHA384,
          der.OID_SHA512: hashes.SHA512, der.OID_SHA1: hashes.SHA1}


class ChainError(Exception):
    pass


class Cert:
    def __init__(self, der_bytes):
        self.der = bytes(der_bytes)
        try:
            self.x509 = x509.load_der_x509_certificate(self.der)
            self.parts = der.split_certificate(self.der)
        except (ValueError, der.DerError) as e:
            raise ChainError("certificate does not parse: %s" % e)

    def common_name(self):
        names = self.x509.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        return names[0].value if len(names) == 1 else None

    def extension(self, dotted):
        for ext in self.x509.extensions:
            if ext.oid.dotted_string == dotted:
                return ext.value.value
        raise ChainError("VCEK: extension %s not found" % dotted)


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    if b"-----BEGIN" in data:
        data = x509.load_pem_x509_certificate(data).public_bytes(serialization.Encoding.DER)
    return Cert(data)


def verify_signed(signer, signee, what):
    """signer's public key over signee's TBS, with the algorithm signee names (as X509_verify)."""
    tbs, oid, params, sig = signee.parts
    key = signer.x509.public_key()
    try:
        if oid == der.OID_RSA_PSS and isinstance(key, rsa.RSAPublicKey):
            h, mgf_h, salt = der.pss_params(params)
            if h not in HASHES or mgf_h not in HASHES:
                raise ChainError("%s: RSASSA-PSS hash %s not supported" % (what, h))
            key.verify(sig, tbs, padding.PSS(padding.MGF1(HASHES[mgf_h]()), salt), HASHES[h]())
        elif oid in (der.OID_SHA384_RSA, der.OID_SHA256_RSA) and isinstance(key, rsa.RSAPublicKey):
            h = hashes.SHA384() if oid == der.OID_SHA384_RSA else hashes.SHA256()
            key.verify(sig, tbs, padding.PKCS1v15(), h)
        elif oid == der.OID_ECDSA_SHA384 and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sig, tbs, ec.ECDSA(hashes.SHA384()))
        else:
            raise ChainError("%s: signature algorithm %s does not fit the signer's key" % (what, oid))
    except InvalidSignature:
        raise ChainError("%s: signature does not verify" % what)
    except der.DerError as e:
        raise ChainError("%s: %s" % (what, e))


def resolve_vek(cert_chain, pinned_ark, default_ask, default_vcek):
    """Trustee's cert_chain branch (lines 404-469) or the offline/KDS branch (471-496)."""
    if cert_chain is None:
        if default_vcek is None or default_ask is None:
            raise ChainError("Failed to fetch VCEK from any configured source")
        ark, ask, vek = pinned_ark, default_ask, default_vcek
    else:
        ark = ask = vek = None
        vlek = False
        for entry in cert_chain:
            kind, data = entry
            if kind == "ARK":
                ark = Cert(data)
                verify_signed(pinned_ark, ark, "Provided ARK has an invalid signature")
            elif kind == "ASK":
                ask = Cert(data)
            elif kind in ("VCEK", "VLEK") and vek is None:
                vlek = kind == "VLEK"
                vek = Cert(data)
        if vek is None:
            raise ChainError("If a cert chain is provided, it must include a VCEK/VLEK")
        if vlek and ask is None:
            raise ChainError("VLEK without an ASVK: the fake has no ASVK file")
        ark = ark or pinned_ark
        ask = ask or default_ask
        if ask is None:
            raise ChainError("no ASK in the cert chain and no --ask file")
    verify_signed(ark, ark, "ARK is not self-signed")
    verify_signed(ark, ask, "ARK does not sign the ASK")
    verify_signed(ask, vek, "ASK does not sign the VEK")
    return vek


def der_int(value):
    tag, body, end, _ = der.read_tlv(value)
    if tag != 0x02 or end != len(value) or not body or body[0] & 0x80:
        raise ChainError("VCEK: SPL extension is not a non-negative INTEGER")
    number = int.from_bytes(body, "big")
    if number > 255:
        raise ChainError("VCEK: SPL extension %d does not fit u8" % number)
    return number


def verify_report_tcb(vek, report, turin):
    """verify_report_tcb (lines 579-629): chip ID for a VCEK, then each SPL, FMC on Turin."""
    if vek.common_name() == "VCEK":
        raw = vek.extension(HW_ID_OID)
        if len(raw) != 64:
            tag, body, end, _ = der.read_tlv(raw)
            if tag != 0x04 or end != len(raw) or len(body) != 64:
                raise ChainError("VCEK: hwID extension is not 64 bytes")
            raw = body
        if raw != report["chip_id"]:
            raise ChainError("Chip ID mismatch")
    tcb = report["reported_tcb"]
    for field, oid, message in SPL_OIDS:
        if der_int(vek.extension(oid)) != tcb[field]:
            raise ChainError(message)
    if turin and der_int(vek.extension(FMC_SPL_OID)) != tcb["fmc"]:
        raise ChainError("FMC version mismatch")
