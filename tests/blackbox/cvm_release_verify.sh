#!/usr/bin/env bash
# Black-box tests of `cvm release verify`: bundles made by lib/release for an ECDSA P-256 and an
# Ed25519 key (interop_make_bundles, the same maker the sigstore-js interop test uses) verify and
# print their shapes; a flipped payload byte, the other key, an expired release, tlog entries
# without a trusted root and --require-tlog without an entry are refused (exit 1) naming the
# member; usage and unreadable inputs exit 2.
# Usage: cvm_release_verify.sh CVM MAKE_BUNDLES
set -uo pipefail
cvm=$(realpath "$1")
make_bundles=$(realpath "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"

"$make_bundles" "$tmp" || { echo "FAILED make_bundles"; exit 1; }

expect "help" 0 '^usage: cvm release verify BUNDLE --key PUB' -- release verify --help
for kind in p256 ed25519; do
  other=$([[ $kind == p256 ]] && echo ed25519 || echo p256)
  algorithm=$([[ $kind == p256 ]] && echo "ECDSA P-256" || echo "Ed25519")
  hint=$(openssl pkey -pubin -in "$tmp/$kind.pub.pem" -outform DER | sha256sum | cut -d' ' -f1)
  expect "$kind verifies" 0 "^signed by: $algorithm key $hint\$" -- release verify "$tmp/$kind.bundle.json" --key "$tmp/$kind.pub.pem"
  expect "$kind shapes" 0 '^  64 EPYC-Genoa gce (22){48}$' -- release verify "$tmp/$kind.bundle.json" --key "$tmp/$kind.pub.pem"
  expect "$kind shape count" 0 '^shapes: 2$' -- release verify "$tmp/$kind.bundle.json" --key "$tmp/$kind.pub.pem"
  expect "$kind no tlog" 0 '^transparency log: no entry$' -- release verify "$tmp/$kind.bundle.json" --key "$tmp/$kind.pub.pem"
  expect "$kind subjects" 0 "^subject kernel sha256:(a1){32}\$" -- release verify "$tmp/$kind.bundle.json" --key "$tmp/$kind.pub.pem"
  expect "$kind tampered" 1 "dsseEnvelope.signatures\[0\]\.sig: signature does not verify with the release key $hint" \
    -- release verify "$tmp/$kind.tampered.json" --key "$tmp/$kind.pub.pem"
  expect "$kind other key" 1 "verificationMaterial.publicKey.hint is \"$hint\", expected" \
    -- release verify "$tmp/$kind.bundle.json" --key "$tmp/$other.pub.pem"
  # not_after is source_date_epoch (1700000000) plus 100 years of 365 days.
  expect "$kind before not_after" 0 '^not_after: 4853600000$' \
    -- release verify "$tmp/$kind.bundle.json" --key "$tmp/$kind.pub.pem" --time 4853599999
  expect "$kind expired" 1 'release expired: statement.predicate.not_after is 4853600000, now is 4853600000, refusing' \
    -- release verify "$tmp/$kind.bundle.json" --key "$tmp/$kind.pub.pem" --time 4853600000
done

# A tlog entry (any: it is refused before or by verification) and no trusted root.
python3 - "$tmp/p256.bundle.json" >"$tmp/tlog.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
b["verificationMaterial"]["tlogEntries"] = [{"logIndex": "1", "logId": {"keyId": "AAAA"},
  "kindVersion": {"kind": "dsse", "version": "0.0.1"}, "integratedTime": "1700000000", "canonicalizedBody": "e30="}]
print(json.dumps(b))
PY
expect "tlog entry without a trusted root" 2 'tlogEntries has 1 entries and no trusted root was given to verify them, refusing' \
  -- release verify "$tmp/tlog.json" --key "$tmp/p256.pub.pem"
expect "require-tlog without an entry" 2 '--require-tlog needs --trusted-root' \
  -- release verify "$tmp/p256.bundle.json" --key "$tmp/p256.pub.pem" --require-tlog
# A trusted root naming one log (its key: the Ed25519 release key, any valid key will do): a bundle
# without an entry is then refused by --require-tlog, not by the root.
python3 - "$tmp/ed25519.pub.pem" >"$tmp/root.json" <<'PY'
import base64, hashlib, json, subprocess, sys
der = subprocess.run(["openssl", "pkey", "-pubin", "-in", sys.argv[1], "-outform", "DER"], capture_output=True, check=True).stdout
print(json.dumps({"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1", "tlogs": [{
  "baseUrl": "https://rekor.example", "hashAlgorithm": "SHA2_256",
  "publicKey": {"rawBytes": base64.b64encode(der).decode(), "keyDetails": "PKIX_ED25519",
                "validFor": {"start": "2020-01-01T00:00:00Z"}},
  "logId": {"keyId": base64.b64encode(hashlib.sha256(der).digest()).decode()}}]}))
PY
expect "require-tlog refuses a bundle without an entry" 1 'verificationMaterial.tlogEntries is empty, expected at least one' \
  -- release verify "$tmp/p256.bundle.json" --key "$tmp/p256.pub.pem" --require-tlog --trusted-root "$tmp/root.json"
expect "an entry of an unknown log is refused" 1 'tlogEntries\[0\]' \
  -- release verify "$tmp/tlog.json" --key "$tmp/p256.pub.pem" --trusted-root "$tmp/root.json"
expect "the root alone is not a requirement" 0 '^transparency log: no entry$' \
  -- release verify "$tmp/p256.bundle.json" --key "$tmp/p256.pub.pem" --trusted-root "$tmp/root.json"

expect "no key" 2 '--key is required' -- release verify "$tmp/p256.bundle.json"
expect "no bundle" 2 'expected one BUNDLE file, found 0' -- release verify --key "$tmp/p256.pub.pem"
expect "missing bundle" 2 'nonexistent' -- release verify "$tmp/nonexistent.json" --key "$tmp/p256.pub.pem"
expect "private key as --key" 2 '^cvm release verify: --key: .*found a private key' \
  -- release verify "$tmp/p256.bundle.json" --key <(openssl genpkey -algorithm ed25519 2>/dev/null)
expect "bad --time" 2 '--time is "soon", expected seconds since the epoch' \
  -- release verify "$tmp/p256.bundle.json" --key "$tmp/p256.pub.pem" --time soon
expect "unknown flag" 2 'unknown|--keys' -- release verify "$tmp/p256.bundle.json" --keys "$tmp/p256.pub.pem"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
