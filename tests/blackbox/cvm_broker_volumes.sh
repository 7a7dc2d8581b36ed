#!/usr/bin/env bash
# Black-box tests of the broker's volume generations (docs/broker.md, "Volume generations"):
# `cvm broker` with [volumes] state_file driven by cvmkb_client.py with volume states in the
# attested request. The first blank disk is released (with its recovery key, logged), the next
# boot's generation too; an older copy, a blank disk and a generation never issued are
# VOLUME_ROLLBACK; an agent reporting no state is refused; `cvm broker volume reset|recover|show`
# change the running broker's state file and the broker logs their use; the generations survive a
# restart; a memory-only broker warns at start and the volume commands refuse it.
# Usage: cvm_broker_volumes.sh CVM
set -uo pipefail
cvm=$(realpath "$1")
here=$(dirname "$(realpath "${BASH_SOURCE[0]}")")
tmp=$(mktemp -d)
broker_pid=
trap '[[ -n $broker_pid ]] && kill "$broker_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
source "$here/expect.sh"
check() {  # check NAME CONDITION-STATUS
  if [[ $2 -eq 0 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED $1"; fi
}

"$cvm" broker keygen --out "$tmp/broker.key" >/dev/null || { echo "FAILED keygen"; exit 1; }
"$cvm" sim init "$tmp/sim" >/dev/null || { echo "FAILED sim init"; exit 1; }
good=$(printf 'aa%.0s' $(seq 48))
uuid=0f6e3c1a-2b4d-4e5f-8a9b-0c1d2e3f4a5b
head -c 64 /dev/urandom >"$tmp/vault.key"
head -c 64 /dev/urandom >"$tmp/vault.recovery"
cat >"$tmp/memory.toml" <<TOML
listen = "127.0.0.1:0"
signing_key = "broker.key"
simulated_root = "sim/ark.pem"
simulated_crl = "sim/crl.der"
[policy]
measurements = ["$good"]
allow_simulated = true
[[volume]]
name = "vault"
key_file = "vault.key"
recovery_key_file = "vault.recovery"
measurements = ["$good"]
TOML
{ cat "$tmp/memory.toml"; printf '[volumes]\nstate_file = "state/volumes.json"\n'; } >"$tmp/broker.toml"
mkdir "$tmp/state"

start() {  # start CONFIG: the broker in the background, $port once it listens
  "$cvm" broker --config "$1" 2>>"$tmp/broker.log" &
  broker_pid=$!
  for _ in $(seq 600); do
    [[ $(grep -c 'listening on' "$tmp/broker.log") -ge $2 ]] && break
    kill -0 "$broker_pid" 2>/dev/null || break
    sleep 0.1
  done
  port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\),.*|\1|p' "$tmp/broker.log" | tail -1)
  [[ -n $port ]] || { echo "FAILED: cvm broker did not start:"; cat "$tmp/broker.log"; exit 1; }
}
stop() { kill "$broker_pid"; wait "$broker_pid"; broker_pid=; }
client() { python3 "$here/cvmkb_client.py" "$cvm" "$tmp/sim" "$port" "$good" vault 0 "$@" 2>&1; }
volume() { "$cvm" broker volume "$@" --config "$tmp/broker.toml" 2>&1; }

# A memory-only broker says what a restart loses, and the operator's commands cannot reach it.
start "$tmp/memory.toml" 1
grep -q 'WARNING: volume generations are kept in this process.s memory' "$tmp/broker.log"; check "memory warning" $?
stop
expect "check warns too" 0 'WARNING: volume generations are kept in this process.s memory' -- \
  broker check --config "$tmp/memory.toml"
! "$cvm" broker check --config "$tmp/broker.toml" | grep -q 'WARNING: volume generations'; check "check: no warning with state_file" $?
expect "volume on a memory broker" 2 "no \[store\], no \[volumes\] state_file" -- \
  broker volume show vault --config "$tmp/memory.toml"

start "$tmp/broker.toml" 2
! grep -q 'WARNING: volume generations' <(sed -n '/listening on/,$p' "$tmp/broker.log" | tail -n +2); check "no warning with state_file" $?
out=$(client vault:blank:0:)
[[ $out == "RELEASED simulated=True" ]]; check "first boot, blank disk: $out" $?
grep -q 'volume vault: recovery key released for the first format (keyslot 1)' "$tmp/broker.log"; check "recovery logged" $?
grep -q 'attest released code=OK .* resources=vault volumes=vault:blank:0 ' "$tmp/broker.log"; check "states logged" $?
out=$(volume show vault)
grep -q '^volume vault: next generation 1, set by the launch of REPORT_ID [0-9a-f]\{64\}$' <<<"$out"; check "show: $out" $?
out=$(client "vault:ready:1:$uuid")
[[ $out == "RELEASED simulated=True" ]]; check "second boot, generation 1: $out" $?

out=$(client "vault:ready:1:$uuid")
grep -q '^REFUSED 403 VOLUME_ROLLBACK volume.generation retryable=False got=vault generation 1 detail=volume vault: the disk reports generation 1, the broker expects 2 (an older copy of the disk?)' <<<"$out"
check "older copy refused: $out" $?
grep -q 'attest refused code=VOLUME_ROLLBACK claim=volume.generation found="vault generation 1" expected="vault generation 2" ' \
  "$tmp/broker.log"; check "refusal logged with g and s" $?
out=$(client vault:blank:0:)
grep -q '^REFUSED 403 VOLUME_ROLLBACK volume.generation .*the disk is blank, the broker knows generation 2 .*cvm broker volume reset vault' <<<"$out"
check "blank disk refused: $out" $?
out=$(client "vault:ready:7:$uuid")
grep -q 'a generation the broker never issued' <<<"$out"; check "future generation refused: $out" $?
out=$(client)
grep -q '^REFUSED 403 RESOURCE_NOT_ALLOWED volume.generation .*must report the volume.s state' <<<"$out"; check "no state: $out" $?
out=$(client "vault:formatting:0:$uuid")
grep -q '^REFUSED 400 BAD_REQUEST' <<<"$out"; check "inconsistent state: $out" $?
# Ready at generation 0 is a volume without the agent's token, to adopt: only where the broker
# knows no generation (a token stripped from a known volume is an older copy).
out=$(client "vault:ready:0:$uuid")
grep -q '^REFUSED 403 VOLUME_ROLLBACK volume.generation .*the disk reports generation 0, the broker expects 2' <<<"$out"
check "token-less volume where the broker knows one: $out" $?

# The generations survive a restart (the state file), then an operator's reset and recovery.
stop
start "$tmp/broker.toml" 3
out=$(client "vault:ready:1:$uuid")
grep -q 'VOLUME_ROLLBACK' <<<"$out"; check "after a restart, still refused: $out" $?
out=$(volume reset vault)
grep -q '^volume vault: was next generation 2, set by the launch of REPORT_ID .*; reset: the next boot.s disk is accepted as it is$' <<<"$out"
check "reset: $out" $?
out=$(client "vault:ready:1:$uuid")
[[ $out == "RELEASED simulated=True" ]]; check "after reset, the old copy accepted: $out" $?
grep -q 'volume vault: generation record reset by an operator; accepted generation 1, next 2' "$tmp/broker.log"
check "reset logged at its use" $?
out=$(volume recover vault)
grep -q 'one recovery release armed' <<<"$out"; check "recover: $out" $?
grep -q 'recovery release armed (armed [0-9]*)' <<<"$(volume show vault)"; check "show armed" $?
out=$(client "vault:ready:2:$uuid")
[[ $out == "RELEASED simulated=True" ]]; check "recovery release: $out" $?
grep -q 'volume vault: recovery key released, armed by an operator (armed [0-9]*)' "$tmp/broker.log"
check "armed recovery logged" $?
grep -q 'recovery release not armed' <<<"$(volume show vault)"; check "armed recovery used up" $?
[[ $(stat -c %a "$tmp/state/volumes.json") == 600 ]]; check "state file mode 0600" $?

expect "volume: unknown action" 2 'expected reset, recover or show' -- broker volume wipe vault --config "$tmp/broker.toml"
expect "volume: unknown volume" 2 "no \[\[volume\]\] named 'data'" -- broker volume reset data --config "$tmp/broker.toml"
expect "help lists volume" 0 'volume reset NAME --config FILE' -- broker --help
! grep -q "$(head -c 8 "$tmp/vault.recovery" | base64)" "$tmp/broker.log"; check "no key in the log" $?

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
