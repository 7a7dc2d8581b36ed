"""Just enough DER for the fake KBS: split a certificate into TBS / algorithm / signature and read
the RSASSA-PSS parameters (RFC 4055 §3.1) that OpenSSL's X509_verify honours, which Trustee's
verifier reaches through virtee/sev's `(&Certificate, &Certificate)::verify` (src/certs/snp/cert.rs)."""

OID_RSA_PSS = "1.2.840.113549.1.1.10"
OID_SHA384_RSA = "1.2.840.113549.1.1.12"
OID_SHA256_RSA = "1.2.840.113549.1.1.11"
OID_ECDSA_SHA384 = "1.2.840.10045.4.3.3"
OID_SHA256 = "2.16.840.1.101.3.4.2.1"
OID_SHA384 = "2.16.840.1.101.3.4.2.2"
OID_SHA512 = "2.16.840.1.101.3.4.2.3"
OID_SHA1 = "1.3.14.3.2.26"
OID_MGF1 = "1.2.840.113549.1.1.8"


class DerError(ValueError):
    pass


def read_tlv(data, offset=0):
    """One TLV at offset: (tag, content bytes, offset after it, the whole TLV bytes)."""
    if offset + 2 > len(data):
        raise DerError("DER: truncated header at %d" % offset)
    tag = data[offset]
    first = data[offset + 1]
    pos = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise DerError("DER: bad length of length %d at %d" % (count, offset))
        length = int.from_bytes(data[pos:pos + count], "big")
        if length < 0x80 or data[pos] == 0:
            raise DerError("DER: non-minimal length at %d" % offset)
        pos += count
    end = pos + length
    if end > len(data):
        raise DerError("DER: content of %d bytes runs past the end at %d" % (length, offset))
    return tag, data[pos:end], end, data[offset:end]


def children(content):
    out, pos = [], 0
    while pos < len(content):
        tag, body, pos, whole = read_tlv(content, pos)
        out.append((tag, body, whole))
    return out


def decode_oid(body):
    if not body:
        raise DerError("DER: empty OID")
    arcs, value = [], 0
    for byte in body:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first] + arcs[1:])


def split_certificate(der):
    """(tbs bytes, signature algorithm OID, its parameter TLVs, signature bytes)."""
    tag, body, end, _ = read_tlv(der)
    if tag != 0x30 or end != len(der):
        raise DerError("certificate: not one SEQUENCE")
    parts = children(body)
    if len(parts) != 3 or parts[2][0] != 0x03:
        raise DerError("certificate: expected tbs, algorithm, BIT STRING")
    alg = children(parts[1][1])
    if not alg or alg[0][0] != 0x06:
        raise DerError("certificate: signature algorithm has no OID")
    bits = parts[2][1]
    if not bits or bits[0] != 0:
        raise DerError("certificate: signature BIT STRING has unused bits")
    return parts[0][2], decode_oid(alg[0][1]), alg[1:], bits[1:]


def pss_params(params):
    """RSASSA-PSS-params: (hash OID, MGF1 hash OID, salt length), RFC 4055 defaults SHA-1/20."""
    hash_oid, mgf_hash, salt = OID_SHA1, OID_SHA1, 20
    if not params:
        return hash_oid, mgf_hash, salt
    if params[0][0] != 0x30:
        raise DerError("RSASSA-PSS parameters: not a SEQUENCE")
    for tag, body, _ in children(params[0][1]):
        inner = children(body)
        if tag == 0xA0:
            hash_oid = decode_oid(children(inner[0][1])[0][1])
        elif tag == 0xA1:
            mgf = children(inner[0][1])
            if decode_oid(mgf[0][1]) != OID_MGF1:
                raise DerError("RSASSA-PSS parameters: mask generation is not MGF1")
            mgf_hash = decode_oid(children(mgf[1][1])[0][1])
        elif tag == 0xA2:
            salt = int.from_bytes(inner[0][1], "big")
        elif tag == 0xA3:
            if int.from_bytes(inner[0][1], "big") != 1:
                raise DerError("RSASSA-PSS parameters: trailerField is not 1")
    return hash_oid, mgf_hash, salt
