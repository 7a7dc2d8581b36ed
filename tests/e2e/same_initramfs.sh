#!/usr/bin/env bash
# The initrd is part of the MEASUREMENT: `cvm initramfs` from two build directories (their own
# cvm and cvminit, a workload tree with different mtimes) must write the same bytes.
# Usage: same_initramfs.sh BUILD_DIR_A BUILD_DIR_B
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for build in "$@"; do
  n=$((n + 1))
  mkdir -p "$tmp/tree$n/usr/bin"
  cp "$build/tools/demo-workload/cvminit-demo-workload" "$tmp/tree$n/usr/bin/demo-workload"
  touch -d "@$((1700000000 + n * 86400))" "$tmp/tree$n/usr/bin/demo-workload" "$tmp/tree$n/usr/bin"
  printf '[workload]\ncommand = ["/usr/bin/demo-workload"]\n' >"$tmp/cvminit$n.toml"
  "$build/tools/cvm/cvm" initramfs --agent "$build/agent/cvminit" --config "$tmp/cvminit$n.toml" \
    --root "$tmp/tree$n" -o "$tmp/initrd$n" >/dev/null
done
cmp "$tmp/initrd1" "$tmp/initrd2"
echo "identical: $(sha256sum "$tmp/initrd1" | cut -d' ' -f1)"
