"""virtee/sev's AttestationReport in its serde JSON form (src/firmware/guest/types/snp.rs at
d487809, the rev Trustee 78962cd pins: struct lines 242-319, Encoder 357-444), read as strictly as
serde_json reads it (missing non-Option members, wrong types and wrong array lengths refused;
unknown members ignored) and re-encoded to the firmware's 1184 bytes with reserved bytes zero."""

import struct

BYTE_ARRAYS = (("family_id", 16), ("image_id", 16), ("report_data", 64), ("measurement", 48),
               ("host_data", 32), ("id_key_digest", 48), ("author_key_digest", 48),
               ("report_id", 32), ("report_id_ma", 32), ("chip_id", 64))
TCBS = ("current_tcb", "reported_tcb", "committed_tcb", "launch_tcb")
CERT_TYPES = ("Empty", "ARK", "ASK", "VCEK", "VLEK", "CRL")


class ReportError(Exception):
    pass


def _int(value, bits, where):
    if type(value) is not int or value < 0 or value >= 1 << bits:
        raise ReportError("%s: expected u%d, found %r" % (where, bits, value))
    return value


def _opt(value, bits, where):
    return None if value is None else _int(value, bits, where)


def _member(obj, name, where):
    if not isinstance(obj, dict):
        raise ReportError("%s: expected an object, found %r" % (where, type(obj).__name__))
    if name not in obj:
        raise ReportError("%s: missing field `%s`" % (where, name))
    return obj[name]


def _bytes(value, length, where):
    if not isinstance(value, list) or len(value) != length:
        found = len(value) if isinstance(value, list) else type(value).__name__
        raise ReportError("%s: expected an array of %d bytes, found %s" % (where, length, found))
    return bytes(_int(b, 8, where) for b in value)


def _tcb(obj, where):
    out = {"fmc": _opt(obj.get("fmc") if isinstance(obj, dict) else None, 8, where + ".fmc")}
    for name in ("bootloader", "tee", "snp", "microcode"):
        out[name] = _int(_member(obj, name, where), 8, where + "." + name)
    return out


def _version(obj, where):
    return {n: _int(_member(obj, n, where), 8, where + "." + n) for n in ("major", "minor", "build")}


def parse_report(obj):
    r = {}
    for name, bits in (("version", 32), ("guest_svn", 32), ("policy", 64), ("vmpl", 32),
                       ("sig_algo", 32), ("plat_info", 64), ("key_info", 32)):
        r[name] = _int(_member(obj, name, "attestation_report"), bits, name)
    for name, length in BYTE_ARRAYS:
        r[name] = _bytes(_member(obj, name, "attestation_report"), length, name)
    for name in TCBS:
        r[name] = _tcb(_member(obj, name, "attestation_report"), name)
    for name in ("current", "committed"):
        r[name] = _version(_member(obj, name, "attestation_report"), name)
    for name in ("cpuid_fam_id", "cpuid_mod_id", "cpuid_step"):
        r[name] = _opt(obj.get(name), 8, name)
    for name in ("launch_mit_vector", "current_mit_vector"):
        r[name] = _opt(obj.get(name), 64, name)
    sig = _member(obj, "signature", "attestation_report")
    r["sig_r"] = _bytes(_member(sig, "r", "signature"), 72, "signature.r")
    r["sig_s"] = _bytes(_member(sig, "s", "signature"), 72, "signature.s")
    return r


def parse_cert_chain(value):
    """Option<Vec<CertTableEntry>>: [(type name, DER bytes)], or None."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise ReportError("cert_chain: expected an array or null")
    out = []
    for i, entry in enumerate(value):
        kind = _member(entry, "cert_type", "cert_chain[%d]" % i)
        if isinstance(kind, dict) and list(kind) == ["OTHER"] and isinstance(kind["OTHER"], str):
            kind = "OTHER"
        elif kind not in CERT_TYPES:
            raise ReportError("cert_chain[%d].cert_type: unknown variant %r" % (i, kind))
        data = _member(entry, "data", "cert_chain[%d]" % i)
        if not isinstance(data, list):
            raise ReportError("cert_chain[%d].data: expected an array of bytes" % i)
        out.append((kind, bytes(_int(b, 8, "cert_chain[%d].data" % i) for b in data)))
    return out


def trustee_generation(r):
    """get_processor_generation (deps/verifier/src/snp/mod.rs 684-709; note 0xA0..0xAF exclusive)."""
    fam, mod = r["cpuid_fam_id"], r["cpuid_mod_id"]
    if fam is None:
        raise ReportError("Attestation report version 3+ is missing CPU family ID")
    if mod is None:
        raise ReportError("Attestation report version 3+ is missing CPU model ID")
    if fam == 0x19:
        if mod <= 0xF:
            return "Milan"
        if 0x10 <= mod <= 0x1F or 0xA0 <= mod < 0xAF:
            return "Genoa"
        raise ReportError("Processor model not supported")
    if fam == 0x1A:
        if mod <= 0x11:
            return "Turin"
        raise ReportError("Processor model not supported")
    raise ReportError("Processor family not supported")


def _tcb_bytes(t, turin):
    if turin:
        return bytes([t["fmc"] or 0, t["bootloader"], t["tee"], t["snp"], 0, 0, 0, t["microcode"]])
    return bytes([t["bootloader"], t["tee"], 0, 0, 0, 0, t["snp"], t["microcode"]])


def encode(r, turin):
    """The 1184 bytes virtee/sev's Encoder writes (versions 3-5 only; Trustee refuses 2)."""
    v = lambda d: bytes([d["build"], d["minor"], d["major"]])
    out = struct.pack("<IIQ", r["version"], r["guest_svn"], r["policy"])
    out += r["family_id"] + r["image_id"] + struct.pack("<II", r["vmpl"], r["sig_algo"])
    out += _tcb_bytes(r["current_tcb"], turin) + struct.pack("<QI", r["plat_info"], r["key_info"])
    out += bytes(4) + r["report_data"] + r["measurement"] + r["host_data"] + r["id_key_digest"]
    out += r["author_key_digest"] + r["report_id"] + r["report_id_ma"]
    out += _tcb_bytes(r["reported_tcb"], turin)
    out += bytes([r["cpuid_fam_id"] or 0, r["cpuid_mod_id"] or 0, r["cpuid_step"] or 0]) + bytes(21)
    out += r["chip_id"] + _tcb_bytes(r["committed_tcb"], turin) + v(r["current"]) + bytes(1)
    out += v(r["committed"]) + bytes(1) + _tcb_bytes(r["launch_tcb"], turin)
    if r["version"] >= 5:
        out += struct.pack("<QQ", r["launch_mit_vector"] or 0, r["current_mit_vector"] or 0)
        out += bytes(152)
    else:
        out += bytes(168)
    assert len(out) == 0x2A0, len(out)
    return out + r["sig_r"] + r["sig_s"] + bytes(368)
