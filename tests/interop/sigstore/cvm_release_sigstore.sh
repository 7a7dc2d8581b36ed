#!/usr/bin/env bash
# The bundles `cvm release` writes, checked by the Sigstore project's JavaScript verifier: for an
# ECDSA P-256 and an Ed25519 release key (cvm release keygen), a two-shape release of a small
# launch (the AMD SEV OVMF fixture, empty kernel and initrd) is verified by sigstore-js given
# only the public key (verify_bundles.js --bundle ... --key ...) and by `cvm release verify`.
# Usage: cvm_release_sigstore.sh CVM VECTORS_DIR
# Exit 77 (skipped) without node or the npm packages, unless CI=true (then 1).
set -uo pipefail
cvm=$(realpath "$1")
fw=$2/measure
here=$(dirname "${BASH_SOURCE[0]}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! command -v node >/dev/null 2>&1; then
  [[ ${CI:-} == true ]] && { echo "node is not installed: failing under CI"; exit 1; }
  echo "node is not installed: skipped"; exit 77
fi

cp "$fw/ovmf_AmdSev_suffix.bin" "$tmp/OVMF.fd"
cat >"$tmp/launch.toml" <<TOML
mode = "snp"
vcpus = 2
vcpu_type = "EPYC-v4"
[firmware]
ovmf = "OVMF.fd"
[kernel]
path = "/dev/null"
initrd = "/dev/null"
cmdline = ["console=ttyS0"]
TOML
cat >"$tmp/shapes.toml" <<TOML
vcpus = [1, 2]
vcpu_types = ["EPYC-v4"]
TOML

args=()
for kind in ecdsa-p256 ed25519; do
  "$cvm" release keygen --kind "$kind" --out "$tmp/$kind" >/dev/null || { echo "FAILED keygen $kind"; exit 1; }
  "$cvm" release --launch "$tmp/launch.toml" --shapes "$tmp/shapes.toml" --key "$tmp/$kind.key" \
    --out "$tmp/out-$kind" --source-date-epoch 1700000000 --valid-days 36500 >/dev/null \
    || { echo "FAILED cvm release with $kind"; exit 1; }
  "$cvm" release verify "$tmp/out-$kind/release.sigstore.json" --key "$tmp/$kind.pub" | grep -q '^shapes: 2$' \
    || { echo "FAILED cvm release verify with $kind"; exit 1; }
  args+=(--bundle "$tmp/out-$kind/release.sigstore.json" --key "$tmp/$kind.pub")
done
node "$here/verify_bundles.js" "${args[@]}"
