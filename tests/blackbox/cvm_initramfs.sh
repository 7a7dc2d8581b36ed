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

# make_elf OUT [NOTE [INTERP [MACHINE]]]: a minimal ELF64 executable: a PT_NOTE named NOTE (type
# 1) unless NOTE is "-", a PT_INTERP when INTERP is not "-", e_machine MACHINE (default x86-64).
make_elf() {
  python3 - "$@" <<'PY'
import struct, sys
out, note, interp, machine = (sys.argv[1:] + ["cvminit", "-", "62"][len(sys.argv) - 2:])[:4]
segs = []
if interp != "-":
    segs.append((3, interp.encode() + b"\0"))
if note != "-":
    name = note.encode() + b"\0"
    segs.append((4, struct.pack("<III", len(name), 4, 1) + name + b"\0" * (-len(name) % 4) + struct.pack("<I", 1)))
segs.append((1, b"\x90" * 16))
head = b"\x7fELF\x02\x01\x01" + b"\0" * 9
head += struct.pack("<HHIQQQIHHHHHH", 2, int(machine), 1, 0x401000, 64, 0, 0, 64, 56, len(segs), 0, 0, 0)
at, table, data = 64 + 56 * len(segs), b"", b""
for kind, body in segs:
    table += struct.pack("<IIQQQQQQ", kind, 4, at + len(data), 0x400000, 0x400000, len(body), len(body), 1)
    data += body
open(out, "wb").write(head + table + data)
PY
}

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
  make_elf "$d/cvminit"
  printf '[secrets]\nresources = ["db"]\n' >"$d/cvminit.toml"
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
expect "build" 0 '^20 entries, 3104 bytes$' -- initramfs --agent one/cvminit --config one/cvminit.toml \
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
100644         29 etc/cvminit.toml
100644         48 etc/cvminit/modules
100644         29 etc/extra.toml
100755        216 init
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
expect "missing agent" 2 '--agent: cannot (stat|open) one/nope' -- initramfs --agent one/nope -o x.cpio
expect "escaping --file" 2 "contains '\.\.', refusing" -- initramfs --agent one/cvminit --file one/cvminit:../x -o x.cpio
expect "--file over /init" 2 "/init is the layout's own" -- initramfs --agent one/cvminit --file one/cvminit:/init -o x.cpio
expect "--file without DEST" 2 'expected SRC:DEST' -- initramfs --agent one/cvminit --file one/cvminit -o x.cpio
expect "unknown module" 2 "module 'e1000' is not in modules.dep" -- \
  initramfs --agent one/cvminit --kernel-modules one/6.1.0-test --module e1000 -o x.cpio
expect "module without a directory" 2 '--module and --platform need --kernel-modules' -- \
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

# Build-time checks: the agent, the configuration in the agent's grammar, the workload command
# and its interpreter, the layout's own paths, the platforms.
printf 'hello' >one/notelf
expect "agent not ELF" 2 'one/notelf: not an ELF file: expected the static x86-64 cvminit binary' -- \
  initramfs --agent one/notelf -o x.cpio
make_elf dyn.elf cvminit /lib64/ld-linux-x86-64.so.2
expect "dynamic agent" 2 'dyn.elf: dynamically linked \(PT_INTERP /lib64/ld-linux-x86-64.so.2\): expected a static' -- \
  initramfs --agent dyn.elf -o x.cpio
make_elf arm.elf cvminit - 183
expect "aarch64 agent" 2 'arm.elf: e_machine 183: expected 62 \(x86-64\)' -- initramfs --agent arm.elf -o x.cpio
make_elf plain.elf -
expect "unmarked agent: a warning" 0 'warning: --agent plain.elf is a static x86-64 executable without the cvminit note' -- \
  initramfs --agent plain.elf -o x.cpio
expect "marked agent: no warning" 0 '^sha256 ' -- initramfs --agent one/cvminit -o x.cpio
check "marked agent: no warning line" [ -z "$("$cvm" initramfs --agent one/cvminit -o x.cpio 2>&1 | grep warning)" ]
printf '[broker]\nurl = "http://10.0.2.2:8443"\n' >bad.toml
expect "config: a key the agent refuses" 2 "bad.toml: .*'broker'" -- initramfs --agent one/cvminit --config bad.toml -o x.cpio
printf '[workload]\ncommand = ["/usr/bin/nope"]\n' >nope.toml
expect "workload command missing" 2 '\[workload\] command /usr/bin/nope is missing from the initramfs below /workload' -- \
  initramfs --agent one/cvminit --config nope.toml --root one/root -o x.cpio
printf '[workload]\ncommand = ["/bin/app"]\n' >app.toml
expect "interpreter missing" 2 'interpreter /bin/sh of /bin/app is missing from the initramfs below /workload' -- \
  initramfs --agent one/cvminit --config app.toml --root one/root -o x.cpio
make_elf sh.elf -
chmod 0755 sh.elf
expect "interpreter given by --file" 0 '^sha256 ' -- \
  initramfs --agent one/cvminit --config app.toml --root one/root --file sh.elf:/workload/bin/sh -o x.cpio
chmod 0644 sh.elf
expect "interpreter not executable" 2 'interpreter /bin/sh of /bin/app has mode 0644' -- \
  initramfs --agent one/cvminit --config app.toml --root one/root --file sh.elf:/workload/bin/sh -o x.cpio
expect "workload from a verity root: a warning" 0 'warning: \[workload\] command /bin/app not checked' -- \
  initramfs --agent one/cvminit --config app.toml -o x.cpio
expect "--file over the configuration" 2 '/etc/cvminit.toml is the layout.s own \(the agent.s configuration' -- \
  initramfs --agent one/cvminit --file one/cvminit.toml:/etc/cvminit.toml -o x.cpio
expect "--file over the module list" 2 '/etc/cvminit/modules is the layout.s own \(the module list' -- \
  initramfs --agent one/cvminit --file one/cvminit.toml:etc//cvminit/modules -o x.cpio
expect "unknown platform" 2 "--platform 'tdx': expected snp or sim" -- \
  initramfs --agent one/cvminit --kernel-modules one/6.1.0-test --platform tdx -o x.cpio
expect "snp on a kernel without its crypto" 2 "--platform snp needs module 'aes_generic'" -- \
  initramfs --agent one/cvminit --kernel-modules one/6.1.0-test --platform snp -o x.cpio

printf '%d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
