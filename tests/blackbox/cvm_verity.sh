#!/usr/bin/env bash
# Black-box tests of `cvm verity`: format prints what `veritysetup format` prints and writes the
# same hash bytes, each verifies the other's trees, cmdline prints the agent's words, and verify
# names the first bad block. The veritysetup comparisons are skipped (with a message) when it is
# not on PATH.
# Usage: cvm_verity.sh CVM
set -uo pipefail
cvm=$(realpath "$1")
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
check() {  # check NAME COMMAND...: passes when COMMAND succeeds
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED $name"; fi
}

uuid=0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9
# Deterministic data: every block differs.
python3 -c 'import hashlib,sys
for n in (1, 129, 16385):
    with open(f"data{n}", "wb") as f:
        for i in range(n): f.write(hashlib.sha256(b"%d" % i).digest() * 128)' || exit 1
head -c 5000 data129 >data-short  # one whole block and a tail

expect "help" 0 '^usage: cvm verity format DATA HASH' -- verity --help
expect "listed" 0 '^  verity ' -- --help
expect "no subcommand" 2 'expected format, cmdline or verify' -- verity
expect "format needs two paths" 2 'format takes DATA and HASH' -- verity format data1
expect "bad salt" 2 '--salt: expected 0 to 256 bytes in hex' -- verity format data1 h --salt 0
expect "long salt" 2 '--salt: expected 0 to 256 bytes' -- verity format data1 h --salt "$(printf '00%.0s' $(seq 257))"
expect "bad uuid" 2 "--uuid 'nope': expected a UUID" -- verity format data1 h --uuid nope
expect "bad blocks" 2 "--data-blocks '0': expected a whole number" -- verity format data1 h --data-blocks 0
expect "too many blocks" 2 'is 4096 bytes, expected at least 8192 for --data-blocks' -- verity format data1 h --data-blocks 2
: >empty
expect "empty data" 2 "empty is 0 bytes, expected at least one 4096-byte block" -- verity format empty h
expect "same file" 2 'DATA and HASH are the same file' -- verity format data129 data129
expect "foreign flag" 2 'format does not take --data-device' -- verity format data1 h --data-device /dev/vda
[[ ! -e h ]]; check "nothing created on a usage error" test $? -eq 0

# Our format: the output's shape, the file's mode and size.
"$cvm" verity format data129 ours --salt 00112233 --uuid $uuid >ours.txt 2>&1
check "format succeeds" test $? -eq 0
cat >want.txt <<EOF
VERITY header information for ours
UUID:            	$uuid
Hash type:       	1
Data blocks:     	129
Data block size: 	4096
Hash blocks:     	3
Hash block size: 	4096
Hash algorithm:  	sha256
Salt:            	00112233
EOF
check "format transcript" diff -u want.txt <(head -9 ours.txt)
check "hash device size line" grep -qx $'Hash device size: \t16384 \\[bytes\\]' ours.txt
check "hash file mode 0600" test "$(stat -c %a ours)" = 600
check "hash file size" test "$(stat -c %s ours)" = 16384
root=$(sed -n 's/^Root hash:      \t//p' ours.txt)
check "root is 64 hex" grep -Eqx '[0-9a-f]{64}' <<<"$root"

"$cvm" verity format data129 random >random.txt
check "default salt: 32 random bytes" grep -Eqx $'Salt:            \t[0-9a-f]{64}' random.txt
check "default uuid: version 4" grep -Eqx $'UUID:            \t[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}' random.txt

head -c 100000 /dev/zero | tr '\0' 'x' >big
"$cvm" verity format data129 big --salt - --uuid $uuid >/dev/null
check "an existing larger file is not truncated" test "$(stat -c %s big)" = 100000
check "bytes past the tree are kept" cmp -s <(tail -c +16385 big) <(head -c $((100000 - 16384)) /dev/zero | tr '\0' 'x')
printf 'abc' >small
"$cvm" verity format data129 small --salt - --uuid $uuid >/dev/null
check "a shorter file is extended" test "$(stat -c %s small)" = 16384

# verify and cmdline.
expect "verify ok" 0 '^$' -- verity verify data129 ours "$root"
out=$("$cvm" verity verify data129 ours "$root" 2>&1)
check "verify prints nothing" test -z "$out"
expect "cmdline" 0 "^cvminit\.verity\.data=/dev/vda cvminit\.verity\.hash=/dev/vdb cvminit\.verity\.blocks=129 cvminit\.verity\.root=$root cvminit\.verity\.salt=00112233\$" \
  -- verity cmdline data129 ours --data-device /dev/vda --hash-device /dev/vdb
expect "cmdline no salt" 0 'cvminit\.verity\.blocks=129 cvminit\.verity\.root=[0-9a-f]{64} cvminit\.verity\.salt=-$' \
  -- verity cmdline data129 small --data-device /dev/vda --hash-device /dev/vdb
expect "cmdline needs devices" 2 'cmdline takes DATA HASH --data-device DEV --hash-device DEV' -- verity cmdline data129 ours
expect "cmdline bad device" 2 "--hash-device has the character 0x20" \
  -- verity cmdline data129 ours --data-device /dev/vda --hash-device "/dev/vdb x"
cp data129 bad129
printf '\x01' | dd of=bad129 bs=1 seek=$((4096 * 100 + 9)) conv=notrunc status=none
expect "flipped data byte" 1 '^cvm verity: data block 100 does not match its hash in hash block 2 \(level 0\)$' \
  -- verity verify bad129 ours "$root"
expect "cmdline refuses a bad tree" 1 'data block 100 does not match' \
  -- verity cmdline bad129 ours --data-device /dev/vda --hash-device /dev/vdb
expect "wrong root" 1 "the tree's root hash is $root, expected 0{64}" -- verity verify data129 ours "$(printf '0%.0s' $(seq 64))"
expect "bad root text" 2 "ROOT 'xyz': expected 64 hex digits" -- verity verify data129 ours xyz
expect "not a hash device" 1 'data129: verity superblock: signature is' -- verity verify data129 data129 "$root"

if ! command -v veritysetup >/dev/null; then
  echo "SKIPPED: veritysetup is not on PATH, no comparison with it"
  echo "$passed passed, $failed failed"
  [[ $failed -eq 0 ]]
  exit
fi

# Byte-identical transcripts and hash devices, for the same data, salt and UUID.
same() {  # same NAME DATA ARGS...
  local name=$1 data=$2; shift 2
  rm -f o t
  "$cvm" verity format "$data" o "$@" >o.txt 2>&1; local ours=$?
  veritysetup format "$data" t "$@" >t.txt 2>&1; local theirs=$?
  check "$name: exit status" test $ours -eq 0 -a $theirs -eq 0
  check "$name: stdout" diff -u t.txt <(sed '1s/ o$/ t/' o.txt)
  check "$name: hash bytes" cmp o t
  check "$name: mode" test "$(stat -c %a o)" = "$(stat -c %a t)"
  local r
  r=$(sed -n 's/^Root hash:      \t//p' o.txt)
  check "$name: veritysetup verifies ours" veritysetup verify "$data" o "$r"
  check "$name: we verify veritysetup's" "$cvm" verity verify "$data" t "$r"
}
same "1 block" data1 --salt 00 --uuid $uuid
same "1 block, no salt" data1 --salt - --uuid $uuid
same "129 blocks" data129 --salt 00112233 --uuid $uuid
same "upper-case input" data129 --salt AABBCC --uuid ${uuid^^}
same "empty salt string" data129 --salt "" --uuid $uuid
same "256-byte salt" data129 --salt "$(printf 'a5%.0s' $(seq 256))" --uuid $uuid
same "data-blocks" data129 --data-blocks 5 --salt - --uuid $uuid
same "partial last block" data-short --salt 01 --uuid $uuid
same "128*128+1 blocks" data16385 --salt - --uuid $uuid

# veritysetup also reports the flipped byte (at its byte offset).
check "veritysetup rejects the flipped byte" bash -c "! veritysetup verify bad129 ours $root 2>/dev/null"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
