# Helpers for scripts/test and scripts/demo: step headers, counted checks, meson test results.
passed=0
failed=0
skipped=0
failures=()

# step TITLE: a section header with the seconds since the script started, so a slow run shows where
# its time went.
step() { printf '\n=== [%d s] %s\n' "$SECONDS" "$*"; }

# check NAME CMD...: runs CMD, counts it as one passed or failed check.
check() {
  local name=$1; shift
  if "$@"; then
    passed=$((passed + 1)); printf -- '--- ok: %s\n' "$name"
  else
    failed=$((failed + 1)); failures+=("$name"); printf -- '--- FAILED: %s\n' "$name"
  fi
}

# check_or_skip NAME COMMAND...: like check, but exit status 77 counts as skipped (a pinned
# download the mirror no longer serves, a tool the machine lacks).
check_or_skip() {
  local name=$1; shift
  "$@"
  case $? in
    0) passed=$((passed + 1)); printf -- '--- ok: %s\n' "$name" ;;
    77) skipped=$((skipped + 1)); printf -- '--- SKIPPED: %s\n' "$name" ;;
    *) failed=$((failed + 1)); failures+=("$name"); printf -- '--- FAILED: %s\n' "$name" ;;
  esac
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

# meson_tests DIR [meson test options...]: runs tests and adds each result to the counts; a
# skipped test (exit 77: e.g. a pinned download the mirror no longer serves) is counted as such.
meson_tests() {
  local dir=$1; shift
  meson test -C "$dir" --print-errorlogs --num-processes "$(nproc)" "$@" || true
  local log=$dir/meson-logs/testlog.json
  if [[ ! -s $log ]]; then
    check "meson test in $dir produced results" false
    return
  fi
  local ok skip bad
  ok=$(grep -c '"result": "OK"' "$log")
  skip=$(grep -c '"result": "SKIP"' "$log")
  bad=$(grep -vc '"result": "\(OK\|SKIP\)"' "$log")
  passed=$((passed + ok)); skipped=$((skipped + skip)); failed=$((failed + bad))
  ((bad == 0)) || failures+=("$bad meson tests in $dir")
  ((skip == 0)) || echo "--- SKIPPED: $skip meson tests in $dir (see the log above for why)"
}

# fuzz_harness HARNESS SECONDS: libFuzzer for SECONDS on a scratch copy of the harness's committed
# seed corpus (tests/fuzz/corpus/NAME), so new inputs never land in the source tree.
fuzz_harness() {
  local name corpus status
  name=$(basename "$1")
  corpus=$(mktemp -d)
  cp -r "tests/fuzz/corpus/${name#fuzz_}/." "$corpus/"
  "$1" -max_total_time="$2" -max_len=8192 -print_final_stats=1 "$corpus"
  status=$?
  rm -rf "$corpus"
  return "$status"
}

# show_log FILE STATUS: prints FILE (its last lines when STATUS is 0), then returns STATUS.
show_log() {
  if (($2 == 0)); then tail -n 4 "$1"; else cat "$1"; fi
  return "$2"
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
  echo "took $SECONDS s"
  echo "$passed passed, $failed failed, $skipped skipped"
  ((failed == 0))
}
