"""Trustee's SNP Verifier::evaluate (deps/verifier/src/snp/mod.rs at 78962cd, lines 376-540) and the
init-data digest of attestation-service/src/lib.rs (Initdata 77-85, parse_init_data 342-380),
re-implemented over snp_report / amd_certs. Each failure raises Refused with the reason Trustee
gives (the KBS itself only answers "RCAR handshake Attest failed"; the reason goes to the log)."""

import hashlib
import tomllib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

import amd_certs
import snp_report

INIT_DATA_HASHES = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}


class Refused(Exception):
    pass


def regularize(data, length):
    """regularize_data (deps/verifier/src/lib.rs 295-310): zero-pad or truncate."""
    return data[:length] + bytes(max(0, length - len(data)))


def init_data_digest(body):
    """Initdata TOML: version (string), algorithm (sha256|sha384|sha512|sm3), data (string table),
    digest over the exact body bytes with that algorithm. sm3 is not modelled (hashlib lacks it)."""
    try:
        doc = tomllib.loads(body)
    except tomllib.TOMLDecodeError as e:
        raise Refused("parse init data: parse TOML structured data: %s" % e)
    if not isinstance(doc.get("version"), str):
        raise Refused("parse init data: `version` missing or not a string")
    algorithm = doc.get("algorithm")
    if algorithm == "sm3":
        raise Refused("parse init data: sm3 is not modelled by the fake")
    if algorithm not in INIT_DATA_HASHES:
        raise Refused("parse init data: unknown variant `algorithm` = %r" % (algorithm,))
    data = doc.get("data")
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise Refused("parse init data: `data` missing or not a table of strings")
    return INIT_DATA_HASHES[algorithm](body.encode("utf-8")).digest()


def evaluate(evidence, expected_report_data, expected_init_data_hash, trust):
    """evidence: the primary_evidence JSON value. trust: (pinned ARK, ASK or None, VCEK or None)."""
    try:
        if not isinstance(evidence, dict):
            raise snp_report.ReportError("expected an object")
        if "attestation_report" not in evidence:
            raise snp_report.ReportError("missing field `attestation_report`")
        report = snp_report.parse_report(evidence["attestation_report"])
        chain = snp_report.parse_cert_chain(evidence.get("cert_chain"))
    except snp_report.ReportError as e:
        raise Refused("Deserialize SNP Evidence failed: %s" % e)
    if report["version"] < 3:
        raise Refused("Attestation Report version is too old (%d < 3)" % report["version"])
    if report["version"] > 5:
        raise Refused("Unexpected attestation report version %d (> 5)" % report["version"])
    try:
        turin = snp_report.trustee_generation(report) == "Turin"
    except snp_report.ReportError as e:
        raise Refused(str(e))
    try:
        vek = amd_certs.resolve_vek(chain, *trust)
    except amd_certs.ChainError as e:
        raise Refused("certificate chain: %s" % e)
    raw = snp_report.encode(report, turin)
    signature = encode_dss_signature(int.from_bytes(report["sig_r"], "little"),
                                     int.from_bytes(report["sig_s"], "little"))
    key = vek.x509.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise Refused("Report signature verification against VEK signature failed: VEK key is not EC")
    try:
        key.verify(signature, raw[:0x2A0], ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        raise Refused("Report signature verification against VEK signature failed")
    try:
        amd_certs.verify_report_tcb(vek, report, turin)
    except amd_certs.ChainError as e:
        raise Refused("Reported TCB values do not match: %s" % e)
    if report["vmpl"] != 0:
        raise Refused("VMPL Check Failed: vmpl %d, expected 0" % report["vmpl"])
    expected = regularize(expected_report_data, 64)
    if expected != report["report_data"]:
        raise Refused("Report Data Mismatch. Given: %s, Expected: %s"
                      % (report["report_data"].hex(), expected.hex()))
    if expected_init_data_hash is not None:
        wanted = regularize(expected_init_data_hash, 32)
        if wanted != report["host_data"]:
            raise Refused("Host Data Mismatch. HOST_DATA %s, init-data digest %s"
                          % (report["host_data"].hex(), wanted.hex()))
    return {"measurement": report["measurement"].hex(), "report_data": report["report_data"].hex(),
            "init_data": report["host_data"].hex(), "chip_id": report["chip_id"].hex(),
            "reported_tcb_bootloader": report["reported_tcb"]["bootloader"],
            "reported_tcb_tee": report["reported_tcb"]["tee"],
            "reported_tcb_snp": report["reported_tcb"]["snp"],
            "reported_tcb_microcode": report["reported_tcb"]["microcode"]}
