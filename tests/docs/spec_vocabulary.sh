#!/bin/sh
# docs/cvmkb-1.md lists what the broker can answer: every error code of lib/proto/errors.cc is a
# row of the §7 table, and every claim name the verifier (lib/verify) and the policy
# (lib/policy/policy.cc, as policy.<key>) can report is in the claim vocabulary.
# Usage: spec_vocabulary.sh SOURCE_ROOT
set -eu
root=$1
spec="$root/docs/cvmkb-1.md"
checked=0
failed=0
fail() {
    echo "FAIL $1"
    failed=$((failed + 1))
}
# Error codes: {ErrorCode::X, "NAME", status, retryable}.
for code in $(grep -oE '"[A-Z_]+", [0-9]{3}, (true|false)' "$root/lib/proto/errors.cc" | sed -E 's/^"([A-Z_]+)".*/\1/'); do
    checked=$((checked + 1))
    status=$(grep -oE "\"$code\", [0-9]{3}" "$root/lib/proto/errors.cc" | sed -E 's/.*, //')
    grep -qE "^\| \`$code\` \| $status \|" "$spec" || fail "error code $code (HTTP $status) is not a row of the table in docs/cvmkb-1.md §7"
done
# Verifier claims, and the policy's keys as policy.<key>.
claims=$(grep -ohE '"(chain|vek|report)\.[a-z_]+"' "$root"/lib/verify/*.cc | tr -d '"' | sort -u)
keys=$(grep -oE 'c\.(add|exact)\("[a-z_]+"' "$root/lib/policy/policy.cc" | sed -E 's/.*"([a-z_]+)"/\1/' | sort -u)
for claim in $claims; do
    checked=$((checked + 1))
    grep -qF "\`$claim\`" "$spec" || fail "claim $claim is not in the claim vocabulary of docs/cvmkb-1.md §7"
done
for key in $keys; do
    checked=$((checked + 1))
    grep -qF "\`$key\`" "$spec" || fail "claim policy.$key is not in the claim vocabulary of docs/cvmkb-1.md §7"
done
echo "$checked names checked, $failed missing from docs/cvmkb-1.md"
[ "$checked" -gt 30 ] && [ "$failed" -eq 0 ]
