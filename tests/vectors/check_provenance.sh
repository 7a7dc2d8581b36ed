#!/usr/bin/env bash
# Keeps the vectors honest: every file matches its SHA-256 in SHA256SUMS, every vector file is
# listed there (no unlisted file), and every listed file has a PROVENANCE.md row that names it
# and carries the same SHA-256. Usage: check_provenance.sh VECTORS_DIR
set -uo pipefail
cd "$1" || exit 2
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# The documentation and this script are not vectors.
is_meta() { [[ $1 == README.md || $1 == PROVENANCE.md || $1 == SHA256SUMS || $1 == check_provenance.sh ]]; }

listed=$(awk '{print $2}' SHA256SUMS | sort)
present=$(find . -type f | sed 's|^\./||' | while read -r f; do is_meta "$f" || echo "$f"; done | sort)
while read -r f; do
  [[ -n $f ]] && fail "$f is in the directory but not in SHA256SUMS"
done < <(comm -13 <(echo "$listed") <(echo "$present"))
while read -r f; do
  [[ -n $f ]] && fail "$f is in SHA256SUMS but missing from the directory"
done < <(comm -23 <(echo "$listed") <(echo "$present"))

while read -r sum path; do
  [[ -f $path ]] || continue
  actual=$(sha256sum "$path" | awk '{print $1}')
  [[ $actual == "$sum" ]] || fail "$path has SHA-256 $actual, SHA256SUMS expects $sum"
  row=$(grep -F "| \`$path\` |" PROVENANCE.md)
  if [[ -z $row ]]; then
    fail "$path has no row in PROVENANCE.md (expected a row starting | \`$path\` |)"
  elif [[ $(grep -c . <<<"$row") != 1 ]]; then
    fail "$path has $(grep -c . <<<"$row") rows in PROVENANCE.md, expected 1"
  elif [[ $row != *"$sum"* ]]; then
    fail "$path: its PROVENANCE.md row does not carry SHA-256 $sum"
  fi
done < SHA256SUMS

count=$(grep -c . SHA256SUMS)
if [[ $failures == 0 ]]; then
  echo "$count vectors match SHA256SUMS and PROVENANCE.md"
  exit 0
fi
echo "$failures problems in $count vectors"
exit 1
