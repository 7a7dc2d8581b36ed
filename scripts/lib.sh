# Helpers for scripts/test and scripts/demo: step headers, counted checks, meson test results.
passed=0
failed=0
failures=()

step() { printf '\n=== %s\n' "$*"; }

# check NAME CMD...: runs CMD, counts it as one passed or failed check.
check() {
  local name=$1; shift
  if "$@"; then
    passed=$((passed + 1)); printf -- '--- ok: %s\n' "$name"
  else
    failed=$((failed + 1)); failures+=("$name"); printf -- '--- FAILED: %s\n' "$name"
  fi
}

# configure DIR [meson options...]: a fresh meson build directory (reconfigured if it exists).
configure() {
  local dir=$1; shift
  if [[ -d $dir/meson-private ]]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
}

# meson_tests DIR: runs the suite and adds its per-test results to the counts.
meson_tests() {
  local dir=$1
  meson test -C "$dir" --print-errorlogs --num-processes "$(nproc)" || true
  local log=$dir/meson-logs/testlog.json
  if [[ ! -s $log ]]; then
    check "meson test in $dir produced results" false
    return
  fi
  local ok bad
  ok=$(grep -c '"result": "OK"' "$log")
  bad=$(grep -vc '"result": "OK"' "$log")
  passed=$((passed + ok)); failed=$((failed + bad))
  ((bad == 0)) || failures+=("$bad meson tests in $dir")
}

static_binary() {
  file "$1" | grep -q 'statically linked' && ! readelf -d "$1" 2>/dev/null | grep -q 'Dynamic section'
}

# run_benchmarks DIR: the meson benchmark() targets, output shown (numbers, not verdicts).
run_benchmarks() {
  meson test -C "$1" --benchmark --verbose --num-processes 1
}

summary() {
  echo
  for f in "${failures[@]}"; do echo "failed: $f"; done
  echo "$passed passed, $failed failed"
  ((failed == 0))
}
