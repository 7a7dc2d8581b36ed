# Shared by the black-box scripts: `source` it after setting $cvm.
passed=0
failed=0

# expect NAME STATUS PATTERN -- ARGS...: runs $cvm ARGS, requires the exit status and a line
# matching the extended regex PATTERN in stdout+stderr.
expect() {
  local name=$1 want=$2 pattern=$3
  shift 4
  local out status
  out=$("$cvm" "$@" 2>&1)
  status=$?
  if [[ $status -eq $want ]] && grep -Eq -- "$pattern" <<<"$out"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    printf 'FAILED %s: status %s (expected %s), pattern /%s/\n%s\n' "$name" "$status" "$want" "$pattern" "$out"
  fi
}
