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
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9   # one fetcher at a time per cache

# --- inputs ---------------------------------------------------------------------------------
# The Debian mirror this machine already uses for bookworm, exactly as scripts/setup finds it.
debian_mirror() {
  local f=/etc/apt/sources.list.d/debian.sources
  if [[ -f $f ]]; then
    awk '/^[[:space:]]*$/ { if (ok && u) { print u; exit } u = ""; ok = 0; next }
         $1 == "URIs:"    { u = $2 }
         $1 == "Suites:"  { for (i = 2; i <= NF; i++) if ($i == "bookworm") ok = 1 }
         END              { if (ok && u) print u }' "$f" | head -n1
  elif [[ -f /etc/apt/sources.list ]]; then
    sed -E 's/\[[^]]*\]//' /etc/apt/sources.list |
      awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }'
  fi
}

# A private apt (own sources, lists and cache under $cache/apt): the machine's apt is untouched.
apt_opts=()
apt_ready=0
private_apt() {
  ((apt_ready)) && return 0
  command -v apt-get >/dev/null || skip "apt-get is not available"
  local mirror dir=$cache/apt
  mirror=$(debian_mirror)
  [[ -n $mirror ]] || skip "cannot find the Debian mirror in /etc/apt"
  mkdir -p "$dir/sources" "$dir/preferences" "$dir/lists/partial" "$dir/cache/archives/partial"
  : >"$dir/status"
  printf 'Types: deb\nURIs: %s\nSuites: sid trixie\nComponents: main\nSigned-By: %s\n' \
    "$mirror" /usr/share/keyrings/debian-archive-keyring.gpg >"$dir/sources/realworld.sources"
  apt_opts=(-qq -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$dir/sources"
    -o "Dir::Etc::PreferencesParts=$dir/preferences" -o Dir::Etc::Preferences=/dev/null
    -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache" -o "Dir::State::Status=$dir/status"
    -o Acquire::Languages=none -o APT::Architectures=amd64)
  [[ $(id -u) -eq 0 ]] && apt_opts+=(-o APT::Sandbox::User=root)
  apt-get "${apt_opts[@]}" update || skip "apt-get update failed (no network?)"
  apt_ready=1
}

# fetch NAME SUITE PACKAGE VERSION MEMBER SHA256: $cache/NAME holds MEMBER of PACKAGE=VERSION.
fetch() {
  local name=$1 suite=$2 pkg=$3 version=$4 member=$5 want=$6 dest=$cache/$1
  [[ -f $dest && $(sha256_of "$dest") == "$want" ]] && return 0
  private_apt
  local tmp
  tmp=$(mktemp -d "$cache/.fetch-$name.XXXXXX")
  (cd "$tmp" && apt-get "${apt_opts[@]}" download "$pkg=$version") ||
    { rm -rf "$tmp"; skip "the mirror does not serve $pkg=$version ($suite); update inputs.tsv"; }
  # Only the one file: the kernel package unpacks to ~108 MB of modules otherwise.
  dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" "$member"
  [[ $(sha256_of "$tmp/$member") == "$want" ]] ||
    { rm -rf "$tmp"; echo "FAILED: $pkg=$version: $member is not the pinned file" >&2; exit 1; }
  mv "$tmp/$member" "$dest"
  rm -rf "$tmp"
}

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
    fetch "$name" "$suite" "$pkg" "$version" "$member" "$want"
  fi
done 3<"$here/inputs.tsv"
# The indexes (~43 MB unpacked) are stale by the next fetch anyway.
((apt_ready)) && rm -rf "$cache/apt"

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
