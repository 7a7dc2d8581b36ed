#!/usr/bin/env bash
# The agent's KBS client (client::KbsSession, through tests/blackbox/kbs_probe) against
# tests/fakes/fake_kbs, an independent Python model of Trustee KBS v0.21, without a VM: the
# simulated platform of `cvm sim init` signs the reports. The fastest check that our evidence
# encoder, REPORT_DATA binding and JWE decryption agree with an implementation that shares no code
# with them.
#   - happy path: a secret and a volume key released, their sizes and SHA-256 those of the files;
#     the same with init-data (the fake checks HOST_DATA against the TOML's digest);
#   - a resource the policy denies, and one the KBS does not have (Trustee answers both with 401:
#     PolicyDeny, and PluginInternalError from its storage backend);
#   - a wrong nonce and an expired session (--session-seconds 0): Trustee's attest refusal, the
#     fake's log naming the real cause;
#   - the TEE key swapped in the attest request (--fault swap-key: the report is bound to another
#     key): refused, the fake's log naming the REPORT_DATA mismatch;
#   - a resource encrypted to another key (--fault other-key): Errc::Crypto naming the resource.
# Usage: kbs_client.sh CVM KBS_PROBE FAKE_KBS_DIR
set -uo pipefail
cvm=$(realpath "$1")
probe=$(realpath "$2")
fake=$(realpath "$3")
python3 -c 'import cryptography' 2>/dev/null || { echo "SKIP: python3-cryptography is not installed"; exit 77; }
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"

"$cvm" sim init "$tmp/sim" >/dev/null || { echo "FAILED cvm sim init"; exit 1; }
head -c 48 /dev/urandom >"$tmp/db.secret"
printf 'a volume key of 32 bytes, 0123456' >"$tmp/data.key"
cat >"$tmp/initdata.toml" <<'TOML'
algorithm = "sha384"
version = "0.1.0"

[data]
"cvminit.toml" = '''
broker_protocol = "kbs"
'''
TOML

# start_kbs NAME ARGS...: the fake on a free port, its log in $tmp/NAME.log; sets $url.
start_kbs() {
  local name=$1 ready=$tmp/$1.ready
  shift
  python3 "$fake" --port 0 --ark "$tmp/sim/ark.pem" --log "$tmp/$name.log" --ready-file "$ready" \
    --resource default/cvminit/db="$tmp/db.secret" --resource default/volume/data="$tmp/data.key" \
    --resource default/cvminit/denied="$tmp/db.secret" --deny default/cvminit/denied "$@" \
    2>"$tmp/$name.err" &
  pids+=($!)
  for _ in $(seq 300); do
    [[ -s $ready ]] && break
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.05
  done
  [[ -s $ready ]] || { echo "FAILED: fake_kbs $name did not start"; cat "$tmp/$name.err"; exit 1; }
  url="http://127.0.0.1:$(head -n1 "$ready")"
}

# probe NAME WANT-STATUS PATTERN -- ARGS...: expect_run (expect.sh) of kbs_probe --platform --url ARGS.
probe() {
  expect_run "$1" "$2" "$3" -- "$probe" --platform "$tmp/sim" --url "$url" "${@:5}"
}

# logged NAME LOG PATTERN: the fake's log has a line matching PATTERN.
logged() {
  if grep -Eq -- "$3" "$tmp/$2.log"; then passed=$((passed + 1)); else
    failed=$((failed + 1))
    printf 'FAILED %s: no /%s/ in the fake KBS log:\n' "$1" "$3"
    cat "$tmp/$2.log"
  fi
}

line_of() {  # line_of KIND NAME FILE: the probe's expected line for FILE
  printf '%s %s %s %s' "$1" "$2" "$(stat -c %s "$3")" "$(sha256sum "$3" | cut -d' ' -f1)"
}

start_kbs good
probe happy-secret 0 "^$(line_of secret db "$tmp/db.secret")\$" -- db=default/cvminit/db volume:data=default/volume/data
probe happy-volume 0 "^$(line_of volume data "$tmp/data.key")\$" -- db=default/cvminit/db volume:data=default/volume/data
probe happy-initdata 0 "^$(line_of secret db "$tmp/db.secret")\$" -- --initdata "$tmp/initdata.toml" db=default/cvminit/db
logged attested good '^POST /kbs/v0/attest 200'
probe denied 1 '^kbs_probe: \[HTTP 401\] policy: KBS resource denied \(default/cvminit/denied\): HTTP 401 PolicyDeny: Access denied by policy$' \
  -- db=default/cvminit/db denied=default/cvminit/denied
probe unknown 1 '^kbs_probe: \[HTTP 401\] policy: KBS resource nope \(default/cvminit/nope\): HTTP 401 PluginInternalError: Plugin internal error$' \
  -- nope=default/cvminit/nope
logged unknown-logged good 'resource not found: default/cvminit/nope'

attest_refused='^kbs_probe: \[HTTP 401\] policy: KBS attest: HTTP 401 AttestationError: Attestation error: RCAR handshake Attest failed$'
start_kbs nonce --fault wrong-nonce
probe wrong-nonce 1 "$attest_refused" -- db=default/cvminit/db
logged wrong-nonce-logged nonce 'the nonce in the handshake session is different'

start_kbs swap --fault swap-key
probe swap-key 1 "$attest_refused" -- db=default/cvminit/db
logged swap-key-logged swap 'Report Data Mismatch'

start_kbs expired --session-seconds 0
probe expired 1 "$attest_refused" -- db=default/cvminit/db
logged expired-logged expired 'session not found: [0-9a-f]{32} expired'

start_kbs stranger --fault other-key
probe other-key 1 '^kbs_probe: crypto: KBS resource db \(default/cvminit/db\): ' -- db=default/cvminit/db

echo "kbs_client: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
