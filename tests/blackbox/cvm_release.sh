#!/usr/bin/env bash
# Black-box tests of `cvm release` and `cvm release keygen`: a release of the AmdSev fixture
# with a kernel and initrd over a shape matrix, made again from another directory, with another
# umask, SOURCE_DATE_EPOCH from the flag instead of the environment, and (as root) as `nobody`:
# byte-identical statement and bundle each time, for an ECDSA P-256 and an Ed25519 key. The
# statement is the bundle's signed payload, names SOURCE_DATE_EPOCH and no path of the test;
# every shape's MEASUREMENT equals `cvm measure --launch` of that shape alone; the bundle verifies
# with `cvm release verify`. Refusals exit 2 naming the problem.
# Usage: cvm_release.sh CVM VECTORS_DIR
set -uo pipefail
cvm=$(realpath "$1")
fixture=$(realpath "$2")/measure/ovmf_AmdSev_suffix.bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"
unset SOURCE_DATE_EPOCH

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAILED $*"; }
check() { local name=$1; shift; if "$@"; then ok; else bad "$name"; fi; }

expect "help" 0 '^usage: cvm release --launch launch.toml' -- release --help
expect "listed" 0 '^  release ' -- --help

# --- keys -------------------------------------------------------------------------------------
expect "keygen p256" 0 '^.*/p256.key, .*/p256.pub: ECDSA P-256 release key [0-9a-f]{64}$' -- \
  release keygen --out "$tmp/p256"
expect "keygen ed25519" 0 ': Ed25519 release key [0-9a-f]{64}$' -- release keygen --kind ed25519 --out "$tmp/ed"
check "private key mode 0600" test "$(stat -c %a "$tmp/p256.key")" = 600
check "PKCS#8 private key" grep -q '^-----BEGIN PRIVATE KEY-----$' "$tmp/ed.key"
check "SPKI public key" grep -q '^-----BEGIN PUBLIC KEY-----$' "$tmp/p256.pub"
cp "$tmp/p256.key" "$tmp/p256.key.orig"
expect "keygen keeps a key" 2 'p256.key exists: refusing to replace a release key' -- release keygen --out "$tmp/p256"
check "the kept key is unchanged" cmp -s "$tmp/p256.key" "$tmp/p256.key.orig"
expect "keygen --force" 0 'ECDSA P-256 release key' -- release keygen --out "$tmp/forced" --force
expect "keygen kind" 2 '--kind rsa: expected ecdsa-p256 or ed25519' -- release keygen --kind rsa --out "$tmp/x"
expect "keygen without --out" 2 'keygen needs --out PREFIX' -- release keygen

# --- a project --------------------------------------------------------------------------------
project=$tmp/project-a
release_inputs "$project" "$fixture" 40000
cat >"$project/launch.toml" <<'TOML'
mode = "snp"
vcpus = 4
vcpu_type = "EPYC-Milan"
guest_features = 0x1
[firmware]
ovmf = "OVMF.fd"
[kernel]
path = "vmlinuz"
initrd = "initrd.img"
cmdline = ["console=ttyS0", "cvminit.simulate=1"]
TOML
cat >"$project/shapes.toml" <<'TOML'
vcpus = [1, 2, 4, 8]
vcpu_types = ["EPYC-Milan", "EPYC-Genoa"]
vmm_types = ["QEMU", "gce"]
[[shape]]
vcpus = 64
vcpu_type = "EPYC-Turin"
TOML
chmod -R a+rX "$tmp"   # readable by the run as nobody

# One release: run_release OUT KEY [ENV/umask handled by the caller's subshell].
run_release() {
  "$cvm" release --launch launch.toml --shapes shapes.toml --key "$2" --out "$1" --valid-days 365 >"$1.log" 2>&1
}

# Run 1: in the project, umask 022, SOURCE_DATE_EPOCH from the environment.
for key in p256 ed; do
  (cd "$project" && umask 022 && SOURCE_DATE_EPOCH=1700000000 run_release "$tmp/out1-$key" "$tmp/$key.key")
  check "release with $key (log: $(head -c 300 "$tmp/out1-$key.log"))" test -s "$tmp/out1-$key/release.sigstore.json"
done
check "summary counts the shapes" grep -q '^release: 17 shapes, source_date_epoch 1700000000, not_after 1731536000$' \
  "$tmp/out1-p256.log"
check "summary gives the matrix's cost" grep -Eq '^matrix: 17 shapes in [0-9.]+ ms: the image hashed once [0-9.]+ ms' \
  "$tmp/out1-p256.log"

# Run 2: a copy under another name, from another working directory, umask 077, the flag.
cp -a "$project" "$tmp/elsewhere-b"
for key in p256 ed; do
  (cd / && umask 077 && "$cvm" release --launch "$tmp/elsewhere-b/launch.toml" --shapes "$tmp/elsewhere-b/shapes.toml" \
    --key "$tmp/$key.key" --out "$tmp/elsewhere-b/out2" --valid-days 365 --source-date-epoch 1700000000 >/dev/null 2>&1)
  for f in statement.json release.sigstore.json; do
    check "$key $f identical from another directory and umask" cmp "$tmp/out1-$key/$f" "$tmp/elsewhere-b/out2/$f"
  done
  check "files are 0644 whatever the umask" test "$(stat -c %a "$tmp/elsewhere-b/out2/statement.json")" = 644
  rm -rf "$tmp/elsewhere-b/out2"
done

# Run 3: as nobody, when we are root and can become someone else.
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
  mkdir -p "$tmp/nobody"
  for key in p256 ed; do
    install -m 0400 -o nobody "$tmp/$key.key" "$tmp/nobody/$key.key"
  done
  chown nobody "$tmp/nobody"
  for key in p256 ed; do
    (cd "$project" && umask 027 && SOURCE_DATE_EPOCH=1700000000 \
      setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
      "$cvm" release --launch launch.toml --shapes shapes.toml --key "$tmp/nobody/$key.key" \
      --out "$tmp/nobody/out-$key" --valid-days 365 >"$tmp/nobody.log" 2>&1)
    check "release as nobody with $key ($(head -c 300 "$tmp/nobody.log"))" test -s "$tmp/nobody/out-$key/statement.json"
    check "files owned by nobody" test "$(stat -c %U "$tmp/nobody/out-$key/statement.json")" = nobody
    for f in statement.json release.sigstore.json; do
      check "$key $f identical as nobody" cmp "$tmp/out1-$key/$f" "$tmp/nobody/out-$key/$f"
    done
  done
else
  echo "note: not root (or no setpriv/nobody): the run as another user is skipped"
fi

# --- what the statement says ------------------------------------------------------------------
statement=$tmp/out1-p256/statement.json
check "statement names SOURCE_DATE_EPOCH" grep -q '"source_date_epoch":1700000000' "$statement"
check "statement has not_after" grep -q '"not_after":1731536000' "$statement"
outputs=("$tmp"/out1-*/*.json)
[[ -d $tmp/nobody ]] && outputs+=("$tmp"/nobody/out-*/*.json)
if grep -lF -e "$tmp" -e project-a "${outputs[@]}"; then
  bad "a path of the test appears in an output file"
else
  ok
fi
check "no file name in the statement" bash -c "! grep -Eq 'OVMF.fd|vmlinuz|initrd.img|launch.toml|/tmp' '$statement'"
check "the bundle signs exactly statement.json" python3 - "$tmp/out1-p256/release.sigstore.json" "$statement" <<'PY'
import base64, json, sys
bundle = json.load(open(sys.argv[1]))
assert bundle["dsseEnvelope"]["payloadType"] == "application/vnd.in-toto+json"
assert base64.b64decode(bundle["dsseEnvelope"]["payload"]) == open(sys.argv[2], "rb").read()
PY
check "subjects are the files' SHA-256" python3 - "$statement" "$project" <<'PY'
import hashlib, json, sys
s, d = json.load(open(sys.argv[1])), sys.argv[2]
want = [(n, hashlib.sha256(open(d + "/" + f, "rb").read()).hexdigest())
        for n, f in (("firmware", "OVMF.fd"), ("kernel", "vmlinuz"), ("initrd", "initrd.img"))]
assert [(x["name"], x["digest"]["sha256"]) for x in s["subject"]] == want, s["subject"]
assert s["predicateType"] == "https://cvminit.dev/release/v1"
assert s["predicate"]["cmdline"] == "console=ttyS0 cvminit.simulate=1"
assert len(s["predicate"]["shapes"]) == 17
PY

# Every shape's MEASUREMENT is `cvm measure --launch` of that shape alone.
python3 - "$statement" >"$tmp/shapes.tsv" <<'PY'
import json, sys
for s in json.load(open(sys.argv[1]))["predicate"]["shapes"]:
    print(s["vcpus"], s["vcpu_type"], s["vmm_type"], s["measurement"])
PY
measured=0
while read -r vcpus type vmm want; do
  sed -e "s/^vcpus = .*/vcpus = $vcpus/" -e "s/^vcpu_type = .*/vcpu_type = \"$type\"\nvmm_type = \"$vmm\"/" \
    "$project/launch.toml" >"$project/one.toml"
  got=$("$cvm" measure --launch "$project/one.toml" 2>&1)
  if [[ $got == "$want" ]]; then measured=$((measured + 1)); else bad "shape $vcpus $type $vmm: $got, expected $want"; fi
done <"$tmp/shapes.tsv"
check "17 shapes each equal to cvm measure --launch" test "$measured" -eq 17

expect "the bundle verifies" 0 '^shapes: 17$' -- \
  release verify "$tmp/out1-ed/release.sigstore.json" --key "$tmp/ed.pub" --time 1700000001
expect "and not with the other key" 1 'refusing|expected' -- \
  release verify "$tmp/out1-ed/release.sigstore.json" --key "$tmp/p256.pub" --time 1700000001

# Without --shapes, the launch.toml's own shape is the release.
(cd "$project" && "$cvm" release --launch launch.toml --key "$tmp/ed.key" --out "$tmp/own" --source-date-epoch 0 >/dev/null)
check "own shape release" grep -q "\"measurement\":\"$("$cvm" measure --launch "$project/launch.toml")\",\"vcpu_type\":\"EPYC-Milan\",\"vcpus\":4,\"vmm_type\":\"QEMU\"" \
  "$tmp/own/statement.json"

# --- refusals ---------------------------------------------------------------------------------
cd "$project" || exit 1
expect "no SOURCE_DATE_EPOCH" 2 'SOURCE_DATE_EPOCH is not set and there is no --source-date-epoch' -- \
  release --launch launch.toml --shapes shapes.toml --key "$tmp/ed.key" --out "$tmp/r"
SOURCE_DATE_EPOCH=1.5 expect "malformed SOURCE_DATE_EPOCH" 2 'SOURCE_DATE_EPOCH is "1.5", expected seconds since the epoch' -- \
  release --launch launch.toml --shapes shapes.toml --key "$tmp/ed.key" --out "$tmp/r"
SOURCE_DATE_EPOCH=5 expect "flag and environment differ" 2 '--source-date-epoch 6 and SOURCE_DATE_EPOCH=5 differ' -- \
  release --launch launch.toml --shapes shapes.toml --key "$tmp/ed.key" --out "$tmp/r" --source-date-epoch 6
expect "no key" 2 'needs --key KEY' -- release --launch launch.toml --out "$tmp/r" --source-date-epoch 1
expect "public key as signing key" 2 '^cvm release: --key' -- \
  release --launch launch.toml --shapes shapes.toml --key "$tmp/ed.pub" --out "$tmp/r" --source-date-epoch 1
expect "valid days 0" 2 '--valid-days 0: expected 1 to 36600' -- \
  release --launch launch.toml --shapes shapes.toml --key "$tmp/ed.key" --out "$tmp/r" --source-date-epoch 1 --valid-days 0
printf 'vcpus = [1, 2]\nvcpu_types = ["EPYC-Milan"]\n' >"$tmp/small.toml"
expect "launch.toml's own shape outside the matrix" 2 "launch.toml's own launch \(vcpus = 4, vCPU signature 0xa00f11, QEMU; MEASUREMENT [0-9a-f]{96}\) is none of the release's 2 shapes" -- \
  release --launch launch.toml --shapes "$tmp/small.toml" --key "$tmp/ed.key" --out "$tmp/r" --source-date-epoch 1
printf 'vcpus = [1]\nvcpu_types = ["EPYC-Milan"]\nvcpu_type = "EPYC"\n' >"$tmp/typo.toml"
expect "shapes.toml key" 2 "typo.toml: shapes.toml key 'vcpu_type': unknown key" -- \
  release --launch launch.toml --shapes "$tmp/typo.toml" --key "$tmp/ed.key" --out "$tmp/r" --source-date-epoch 1
check "nothing written on a refusal" test ! -e "$tmp/r"

echo "$passed passed, $failed failed"
((failed == 0))
