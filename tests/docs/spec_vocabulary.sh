#!/bin/sh
# docs/cvmkb-1.md lists what the broker can answer: every error code of lib/proto/errors.cc is a
# row of the §7 table, and every claim name the verifier and the policy can report is in the claim
# vocabulary (policy.<key> as `<key>`). The names come from the JSON Schema of cvm verify --json,
# whose required list the cvm-verify-json test holds equal to what the built verifier produces.
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
names=$(python3 -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))["properties"]["claims"]["required"]))' \
    "$root/docs/schema/cvm.verify-2.json")
claims=$(printf '%s\n' $names | grep -v '^policy\.')
keys=$(printf '%s\n' $names | sed -n 's/^policy\.//p')
for claim in $claims; do
    checked=$((checked + 1))
    grep -qF "\`$claim\`" "$spec" || fail "claim $claim is not in the claim vocabulary of docs/cvmkb-1.md §7"
done
for key in $keys; do
    checked=$((checked + 1))
    grep -qF "\`$key\`" "$spec" || fail "claim policy.$key is not in the claim vocabulary of docs/cvmkb-1.md §7"
done
echo "$checked names checked, $failed missing from docs/cvmkb-1.md"
[ "$checked" -gt 60 ] && [ "$failed" -eq 0 ]
