# Shared by the black-box scripts: `source` it after setting $cvm.
passed=0
failed=0

# expect NAME STATUS PATTERN -- ARGS...: runs $cvm ARGS, requires the exit status and a line
# matching the extended regex PATTERN in stdout+stderr.
expect() {
  expect_run "$1" "$2" "$3" -- "$cvm" "${@:5}"
}

# expect_run NAME STATUS PATTERN -- PROGRAM ARGS...: the same for any program.
expect_run() {
  local name=$1 want=$2 pattern=$3
  shift 4
  local out status
  out=$("$@" 2>&1)
  status=$?
  if [[ $status -eq $want ]] && grep -Eq -- "$pattern" <<<"$out"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    printf 'FAILED %s: status %s (expected %s), pattern /%s/\n%s\n' "$name" "$status" "$want" "$pattern" "$out"
  fi
}

# release_inputs DIR OVMF INITRD_BLOCKS: the measured inputs of a `cvm release` project in DIR
# (made if needed): OVMF.fd copied from OVMF, a 200,000-byte vmlinuz with a bzImage header
# (boot_flag 0xAA55, "HdrS", protocol 2.15) and an initrd.img of INITRD_BLOCKS SHA-256 digests,
# the same bytes on every run.
release_inputs() {
  mkdir -p "$1"
  cp "$2" "$1/OVMF.fd"
  python3 - "$1" "$3" <<'PY'
import hashlib, sys
d, blocks = sys.argv[1], int(sys.argv[2])
k = bytearray(hashlib.sha256(b"kernel %d" % i).digest()[0] for i in range(200000))
k[0x1fe:0x200] = b"\x55\xaa"; k[0x202:0x206] = b"HdrS"; k[0x206:0x208] = b"\x0f\x02"
open(d + "/vmlinuz", "wb").write(k)
open(d + "/initrd.img", "wb").write(b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(blocks)))
PY
}
