#!/usr/bin/env bash
# Real Debian firmware and kernels through `cvm measure`, against digests made by the reference
# tool (sev-snp-measure). Inputs are pinned in inputs.tsv, cases and expected digests in
# cases.tsv; EXPECTED.md says how those were made.
#
#   measure_real.sh CVM                  runs `CVM measure ARGS...` for every case and compares
#   measure_real.sh --reference DIR      runs `python3 DIR/sev-snp-measure.py ARGS...` instead
#                                        (makes or re-checks cases.tsv; prints the values it got)
#
# Downloads (once; cached in $CVM_REALWORLD_CACHE, default <repo>/.cache/realworld): the apt
# indexes of sid and trixie (~21 MB) and two packages (~110 MB, of which ~16 MB are kept).
# Exit status: 0 all cases match, 1 a mismatch or error, 77 (skip) the inputs cannot be fetched.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${CVM_REALWORLD_CACHE:-$root/.cache/realworld}

case ${1:-} in
  --reference) [[ $# -eq 2 ]] || { echo "usage: $0 --reference SEV_SNP_MEASURE_DIR" >&2; exit 2; }
               measure=(python3 "$2/sev-snp-measure.py") ;;
  ''|-*)       echo "usage: $0 CVM | --reference SEV_SNP_MEASURE_DIR" >&2; exit 2 ;;
  *)           measure=("$1" measure) ;;
esac

skip() { printf 'SKIP: %s\n' "$*"; exit 77; }
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9   # one fetcher at a time per cache
source "$root/tests/support/debian_fetch.sh"

# The initrd is 1,500,000 bytes of SHA-256(SEED || uint32_be(i)), i = 0, 1, 2, ...: arbitrary
# content, reproducible in any language, not a multiple of 64 or 4096.
make_initrd() {
  python3 -c 'import hashlib, sys
n, seed, out, i = int(sys.argv[1]), sys.argv[2].encode(), bytearray(), 0
while len(out) < n:
    out += hashlib.sha256(seed + i.to_bytes(4, "big")).digest(); i += 1
sys.stdout.buffer.write(out[:n])' 1500000 cvminit-realworld-initrd >"$1"
}

while IFS=$'\t' read -r -u 3 name suite pkg version member want; do
  [[ -z $name || $name == \#* ]] && continue
  if [[ $suite == - ]]; then
    [[ -f $cache/$name && $(sha256_of "$cache/$name") == "$want" ]] || make_initrd "$cache/$name"
    [[ $(sha256_of "$cache/$name") == "$want" ]] || { echo "FAILED: generated $name differs" >&2; exit 1; }
  else
    fetch_member "$name" "$pkg" "$version" "$member" "$want"
  fi
done 3<"$here/inputs.tsv"
drop_apt_state

# --- cases ----------------------------------------------------------------------------------
OVMF=$cache/ovmf KERNEL=$cache/kernel INITRD=$cache/initrd
argv=()
passed=0
failed=0
while IFS=$'\t' read -r -u 3 name want args; do
  [[ -z $name || $name == \#* ]] && continue
  args=${args//@OVMF@/$OVMF}
  args=${args//@KERNEL@/$KERNEL}
  args=${args//@INITRD@/$INITRD}
  eval "argv=($args)"   # cases.tsv is ours: shell words, quoted where needed
  if got=$("${measure[@]}" "${argv[@]}" 2>&1 </dev/null) && [[ $got == "$want" ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    printf 'FAILED %s\n  expected %s\n  got      %s\n' "$name" "$want" "$got"
  fi
done 3<"$here/cases.tsv"
echo "realworld: $passed passed, $failed failed"
((failed == 0 && passed > 0))
