#!/usr/bin/env bash
# Black-box tests of `cvm initramfs`: the same inputs give the same bytes wherever they live and
# whatever their mtimes, owners or modes; GNU cpio reads what we write; bad inputs exit 2.
# Usage: cvm_initramfs.sh CVM
set -uo pipefail
cvm=$(realpath "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"
cd "$tmp" || exit 1

differ() { ! cmp -s "$1" "$2"; }

check() {  # check NAME COMMAND...: counts a shell condition as one test
  local name=$1
  shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED $name"; fi
}

# One input set, made twice in different places, in a different order, with different mtimes
# and permission bits (execute bits kept: they decide 0755 vs 0644).
make_inputs() {  # make_inputs DIR MTIME SECOND
  local d=$1 t=$2
  mkdir -p "$d/root" "$d/6.1.0-test/kernel/net"
  if [[ $3 == 1 ]]; then
    mkdir "$d/root/etc" "$d/root/bin"
    ln -s ../bin/app "$d/root/etc/app"
    printf 'B' >"$d/root/etc/b"; chmod 0444 "$d/root/etc/b"
    printf 'A' >"$d/root/etc/a"; chmod 0660 "$d/root/etc/a"
    printf '#!/bin/sh\necho hi\n' >"$d/root/bin/app"; chmod 0751 "$d/root/bin/app"
  else
    mkdir "$d/root/bin" "$d/root/etc"
    printf '#!/bin/sh\necho hi\n' >"$d/root/bin/app"; chmod 0700 "$d/root/bin/app"
    printf 'A' >"$d/root/etc/a"; chmod 0600 "$d/root/etc/a"
    printf 'B' >"$d/root/etc/b"
    ln -s ../bin/app "$d/root/etc/app"
  fi
  printf '\177ELF the agent' >"$d/cvminit"
  printf '[broker]\nurl = "http://10.0.2.2:8443"\n' >"$d/cvminit.toml"
  printf 'NET' >"$d/6.1.0-test/kernel/net/net.ko.xz"
  printf 'FAILOVER' >"$d/6.1.0-test/kernel/net/fail-over.ko.xz"
  printf 'kernel/net/fail-over.ko.xz:\nkernel/net/net.ko.xz: kernel/net/fail-over.ko.xz\n' >"$d/6.1.0-test/modules.dep"
  find "$d" -exec touch -h -d "@$t" {} +
}
make_inputs one 1 0
make_inputs "two/elsewhere" 2000000000 1

build() {  # build DIR OUT [ARGS...]
  local d=$1 out=$2
  shift 2
  "$cvm" initramfs --agent "$d/cvminit" --config "$d/cvminit.toml" --kernel-modules "$d/6.1.0-test" \
    --module net --root "$d/root" --file "$d/cvminit.toml:/etc/extra.toml" -o "$out" "$@"
}

expect "help" 0 '^usage: cvm initramfs --agent PATH' -- initramfs --help
expect "listed" 0 '^  initramfs ' -- --help
expect "no arguments" 2 '^usage: cvm initramfs' -- initramfs
expect "build" 0 '^20 entries, 2920 bytes$' -- initramfs --agent one/cvminit --config one/cvminit.toml \
  --kernel-modules one/6.1.0-test --module net --root one/root --file one/cvminit.toml:/etc/extra.toml -o a.cpio
expect "modules in load order" 0 '^module lib/modules/6.1.0-test/kernel/net/fail-over.ko.xz$' -- \
  initramfs --agent one/cvminit --kernel-modules one/6.1.0-test --module net -o m.cpio
build one a.cpio >a.out 2>&1
build two/elsewhere b.cpio >b.out 2>&1
check "identical bytes from different places, mtimes and modes" cmp -s a.cpio b.cpio
check "identical printed digest" [ "$(tail -n1 a.out | cut -d' ' -f2)" == "$(tail -n1 b.out | cut -d' ' -f2)" ]
check "the printed digest is the file's" [ "$(tail -n1 a.out | cut -d' ' -f2)" == "$(sha256sum a.cpio | cut -d' ' -f1)" ]

cat >want.txt <<'LIST'
040755          0 etc
040755          0 etc/cvminit
100644         38 etc/cvminit.toml
100644         48 etc/cvminit/modules
100644         38 etc/extra.toml
100755         14 init
040755          0 lib
040755          0 lib/modules
040755          0 lib/modules/6.1.0-test
040755          0 lib/modules/6.1.0-test/kernel
040755          0 lib/modules/6.1.0-test/kernel/net
100644          8 lib/modules/6.1.0-test/kernel/net/fail-over.ko.xz
100644          3 lib/modules/6.1.0-test/kernel/net/net.ko.xz
040755          0 workload
040755          0 workload/bin
100755         18 workload/bin/app
040755          0 workload/etc
100644          1 workload/etc/a
120777         10 workload/etc/app -> ../bin/app
100644          1 workload/etc/b
LIST
"$cvm" initramfs --list a.cpio >list.txt 2>&1
check "--list" diff -u want.txt list.txt

# --list escapes control bytes in names and targets, so an archive cannot forge lines.
mkdir odd && printf 'x' >"odd/a"$'\n'"100644 1 forged" && ln -s $'\e[2J' odd/l
"$cvm" initramfs --agent one/cvminit --root odd -o odd.cpio >/dev/null 2>&1
check "--list escapes control bytes" [ "$("$cvm" initramfs --list odd.cpio | tail -n2)" == \
  "$(printf '%s\n' '100644          1 workload/a\x0a100644 1 forged' '120777          4 workload/l -> \x1b[2J')" ]

# SOURCE_DATE_EPOCH changes the mtimes, and only them.
SOURCE_DATE_EPOCH=1700000000 build one e.cpio >/dev/null 2>&1
build one f.cpio --source-date-epoch 1700000000 >/dev/null 2>&1
check "SOURCE_DATE_EPOCH and --source-date-epoch agree" cmp -s e.cpio f.cpio
check "SOURCE_DATE_EPOCH changes the bytes" differ a.cpio e.cpio
check "only the mtimes differ" [ "$(cmp -l a.cpio e.cpio | wc -l)" -le $((20 * 8)) ]

# gzip: reproducible, and what gunzip gives back is the plain archive.
build one a.gz --compress gzip >/dev/null 2>&1
build two/elsewhere b.gz --compress gzip >/dev/null 2>&1
check "identical gzip bytes" cmp -s a.gz b.gz
if command -v gzip >/dev/null; then
  check "gzip -dc gives the plain archive" cmp -s a.cpio <(gzip -dc a.gz)
fi
"$cvm" initramfs --list a.gz >list-gz.txt 2>&1
check "--list reads gzip" diff -u want.txt list-gz.txt

# GNU cpio reads the same entries and contents back.
if command -v cpio >/dev/null; then
  cpio -it --quiet <a.cpio >cpio-list.txt 2>&1
  check "cpio -it lists the same entries" diff -u <(sed -E 's/^[0-7]{6} +[0-9]+ //; s/ -> .*//' want.txt) cpio-list.txt
  mkdir x && (cd x && cpio -idm --quiet <../a.cpio)
  check "cpio extracts the workload tree" diff -r one/root x/workload
  check "cpio extracts the agent" cmp -s one/cvminit x/init
  check "the module list" [ "$(cat x/etc/cvminit/modules)" == $'kernel/net/fail-over.ko.xz\nkernel/net/net.ko.xz' ]
  check "symlinks stay symlinks" [ "$(readlink x/workload/etc/app)" == ../bin/app ]
fi

# Refusals: exit 2 with a line that names the problem.
expect "no agent" 2 '--agent PATH and -o OUT are required' -- initramfs -o x.cpio
expect "no output" 2 '--agent PATH and -o OUT are required' -- initramfs --agent one/cvminit
expect "missing agent" 2 'cannot stat' -- initramfs --agent one/nope -o x.cpio
expect "escaping --file" 2 "contains '\.\.', refusing" -- initramfs --agent one/cvminit --file one/cvminit:../x -o x.cpio
expect "--file over /init" 2 'init is added twice' -- initramfs --agent one/cvminit --file one/cvminit:/init -o x.cpio
expect "--file without DEST" 2 'expected SRC:DEST' -- initramfs --agent one/cvminit --file one/cvminit -o x.cpio
expect "unknown module" 2 "module 'e1000' is not in modules.dep" -- \
  initramfs --agent one/cvminit --kernel-modules one/6.1.0-test --module e1000 -o x.cpio
expect "module without a directory" 2 '--module needs --kernel-modules' -- \
  initramfs --agent one/cvminit --module net -o x.cpio
mkdir -p cyc/6.1 && printf 'a.ko: b.ko\nb.ko: a.ko\n' >cyc/6.1/modules.dep
expect "dependency cycle" 2 'module dependency cycle: a -> b -> a' -- \
  initramfs --agent one/cvminit --kernel-modules cyc/6.1 --module a -o x.cpio
expect "bad compression" 2 '--compress xz: expected none or gzip' -- \
  initramfs --agent one/cvminit --compress xz -o x.cpio
expect "epoch past 2106" 2 'expected whole seconds' -- \
  initramfs --agent one/cvminit --source-date-epoch 4294967296 -o x.cpio
SOURCE_DATE_EPOCH=yesterday expect "bad SOURCE_DATE_EPOCH" 2 "SOURCE_DATE_EPOCH 'yesterday'" -- \
  initramfs --agent one/cvminit -o x.cpio
mkfifo one/root/fifo
expect "a FIFO in the root" 2 'is a FIFO' -- initramfs --agent one/cvminit --root one/root -o x.cpio
rm one/root/fifo
expect "unwritable output" 2 'cannot create a temporary file' -- initramfs --agent one/cvminit -o nodir/x.cpio
check "nothing left behind" [ ! -e x.cpio ]
expect "--list with build options" 2 'takes no other options' -- initramfs --list a.cpio --agent one/cvminit
head -c 300 a.cpio >cut.cpio
expect "--list truncated" 2 'truncated' -- initramfs --list cut.cpio
printf 'hello' >garbage
expect "--list garbage" 2 'c_magic' -- initramfs --list garbage
{ cat a.cpio; printf 'x'; } >tail.cpio
expect "--list trailing bytes" 2 'not zero padding' -- initramfs --list tail.cpio

printf '%d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
