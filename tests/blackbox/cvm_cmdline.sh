#!/usr/bin/env bash
# Black-box tests of `cvm cmdline`: compose from flags (and from key files), parse what compose
# printed back to the same values, refusals naming the key, and check against a cvminit.toml.
# Usage: cvm_cmdline.sh CVM
set -uo pipefail
cvm=$(realpath "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"
check() {  # check NAME CONDITION-STATUS
  if [[ $2 -eq 0 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED $1"; fi
}

expect "help" 0 '^usage: cvm cmdline compose' -- cmdline --help
expect "listed" 0 '^  cmdline ' -- --help
expect "no subcommand" 2 'expected compose, parse or check' -- cmdline

key=$("$cvm" broker keygen --out "$tmp/broker.key") || { echo "FAILED keygen"; exit 1; }
rkey=${key//+/\\+}
# The public PEM: SubjectPublicKeyInfo = the fixed Ed25519 prefix (RFC 8410 §4) and the 32 bytes.
python3 - "$key" >"$tmp/broker.pub" <<'PY'
import base64, sys, textwrap
der = bytes.fromhex("302a300506032b6570032100") + base64.b64decode(sys.argv[1])
print("-----BEGIN PUBLIC KEY-----\n" + "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64)) +
      "\n-----END PUBLIC KEY-----")
PY

canonical="panic=-1 cvminit.broker=https://kb.example:8443 cvminit.broker_key=$rkey cvminit.simulate=0 cvminit.net=dhcp cvminit.deadline=120"
expect "compose minimal" 0 "^$canonical\$" -- cmdline compose --broker https://kb.example:8443/ --broker-key "$key"
expect "compose private PEM" 0 "^$canonical\$" -- cmdline compose --broker https://kb.example:8443 --broker-key-file "$tmp/broker.key"
expect "compose public PEM" 0 "^$canonical\$" -- cmdline compose --broker https://kb.example:8443 --broker-key-file "$tmp/broker.pub"
expect "compose: panic=N in --extra replaces panic=-1" 0 "^console=ttyS0 panic=5 cvminit\.broker=" \
  -- cmdline compose --extra "console=ttyS0 panic=5" --broker http://a --broker-key "$key"
out=$("$cvm" cmdline compose --broker http://kb --broker-key-file "$tmp/broker.key" 2>&1)
! grep -q 'PRIVATE' <<<"$out"; check "no private key printed" $?
expect "compose extra first" 0 "^console=ttyS0 quiet panic=-1 cvminit\.broker=http://10\.0\.2\.2 .* cvminit\.simulate=1 cvminit\.net=static cvminit\.ip=10\.0\.2\.15/24 cvminit\.gateway=10\.0\.2\.2 cvminit\.dns=10\.0\.2\.3 cvminit\.deadline=60 cvminit\.resources=db,data cvminit\.workload=/usr/bin/app\$" \
  -- cmdline compose --extra " console=ttyS0" --extra "quiet " --broker HTTP://10.0.2.2:80 --broker-key "$key" --simulate \
     --net static --ip 10.0.2.15/24 --gateway 10.0.2.2 --dns 10.0.2.3 --deadline 60 --resources db,data --workload /usr/bin/app

expect "compose needs a key" 2 'needs --broker-key B64 or --broker-key-file PEM' -- cmdline compose --broker http://a
expect "compose both keys" 2 'not both' -- cmdline compose --broker http://a --broker-key "$key" --broker-key-file "$tmp/broker.pub"
expect "compose needs a broker" 2 "cmdline key 'cvminit.broker': missing" -- cmdline compose --broker-key "$key"
expect "compose bad key" 2 "cmdline key 'cvminit.broker_key': expected the base64" -- cmdline compose --broker http://a --broker-key AAAA
expect "compose bad deadline" 2 "cmdline key 'cvminit.deadline': expected whole seconds from 10 to 3600, got \"5\"" \
  -- cmdline compose --broker http://a --broker-key "$key" --deadline 5
expect "compose path in URL" 2 "cmdline key 'cvminit.broker'.*a path, query or fragment is not allowed" \
  -- cmdline compose --broker http://a/cvmkb --broker-key "$key"
expect "compose static needs ip" 2 "cmdline key 'cvminit.ip': missing" -- cmdline compose --broker http://a --broker-key "$key" --net static
expect "compose ip needs static" 2 "cmdline key 'cvminit.gateway': only allowed with cvminit.net=static" \
  -- cmdline compose --broker http://a --broker-key "$key" --gateway 10.0.0.1
expect "compose extra has ours" 2 "--extra: 'cvminit.simulate' has its own flag" \
  -- cmdline compose --broker http://a --broker-key "$key" --extra "cvminit.simulate=1"
expect "compose extra --" 2 'contains "--"' -- cmdline compose --broker http://a --broker-key "$key" --extra "quiet -- x"
expect "compose extra trailing --" 2 'contains "--"' -- cmdline compose --broker http://a --broker-key "$key" --extra "quiet --"
expect "compose extra open quote" 2 'never closed' -- cmdline compose --broker http://a --broker-key "$key" --extra 'a="b'
expect "compose too long" 2 'an x86 kernel takes at most 2047' \
  -- cmdline compose --broker http://a --broker-key "$key" --extra "x=$(printf 'y%.0s' $(seq 2000))"
expect "compose refuses --config" 2 'compose does not take --config' -- cmdline compose --broker http://a --broker-key "$key" --config x

base="cvminit.broker=http://a cvminit.broker_key=$key"
line=$("$cvm" cmdline compose --broker http://10.0.2.2:8080 --broker-key "$key" --net static --ip 10.0.2.15/24 \
       --gateway 10.0.2.2 --resources db --workload /bin/app --extra console=ttyS0)
expect "parse round trip" 0 '^cvminit\.ip = 10\.0\.2\.15/24$' -- cmdline parse "$line"
again=$("$cvm" cmdline parse "$line" | sed 's/ = /=/' | tr '\n' ' ')
[[ "console=ttyS0 panic=-1 ${again% }" == "$line" ]]; check "parse prints what compose wrote" $?
printf '%s\n' "$line" >"$tmp/proc_cmdline"
expect "parse --file" 0 '^cvminit\.workload = /bin/app$' -- cmdline parse --file "$tmp/proc_cmdline"
expect "parse defaults" 0 '^cvminit\.deadline = 120$' -- cmdline parse "cvminit.broker=http://a cvminit.broker_key=$key"
expect "parse quoted" 0 '^cvminit\.broker = http://a:1$' -- cmdline parse "quiet cvminit.broker=\"http://a:1\" cvminit.broker_key=$key"
expect "parse unknown key" 2 "cmdline key 'cvminit.brokr': unknown key" -- cmdline parse "$line cvminit.brokr=x"
expect "parse repeated key" 2 "cmdline key 'cvminit.net': given twice" -- cmdline parse "$line cvminit.net=dhcp"
expect "parse after --" 2 "cmdline key 'cvminit.simulate': after \"--\"" -- cmdline parse "$line -- cvminit.simulate=1"
expect "parse long value shortened" 2 'got "/a{60}\.\.\."' -- cmdline parse "$base cvminit.deadline=/$(printf 'a%.0s' $(seq 300))"
expect "parse needs text" 2 'expected the command line as one argument' -- cmdline parse
expect "parse two texts" 2 'expected the command line as one argument' -- cmdline parse a b
expect "parse missing file" 2 'cannot open' -- cmdline parse --file "$tmp/nope"
expect "parse refuses compose flags" 2 'parse does not take --broker' -- cmdline parse --broker http://a "$line"

cat >"$tmp/cvminit.toml" <<'TOML'
[workload]
command = ["/usr/bin/app", "--flag", "two words"]
env = { LANG = "C.UTF-8" }
[secrets]
resources = ["db", "data"]
TOML
expect "check ok" 0 '^workload\.command = \["/usr/bin/app", "--flag", "two words"\]$' -- cmdline check --config "$tmp/cvminit.toml" "$base"
expect "check prints resources" 0 '^resources = db,data$' -- cmdline check --config "$tmp/cvminit.toml" "$base"
expect "check env" 0 '^workload\.env = \{LANG = "C\.UTF-8"\}$' -- cmdline check --config "$tmp/cvminit.toml" "$base"
expect "check workload twice" 2 'workload: set both by cvminit.workload' \
  -- cmdline check --config "$tmp/cvminit.toml" "$base cvminit.workload=/bin/app"
expect "check resources twice" 2 'resources: set both by cvminit.resources' \
  -- cmdline check --config "$tmp/cvminit.toml" "$base cvminit.resources=db"
expect "check without config needs a workload" 2 'workload: not set' -- cmdline check "$base"
expect "check without config" 0 '^workload\.command = \["/bin/app"\]$' -- cmdline check "$base cvminit.workload=/bin/app"
sed 's/^env/environment/' "$tmp/cvminit.toml" >"$tmp/typo.toml"
expect "check unknown toml key" 2 "cvminit.toml key 'workload.environment': unknown key" \
  -- cmdline check --config "$tmp/typo.toml" "$base"
printf '[secrets]\ndir = "/tmp/s"\n' >"$tmp/dir.toml"
expect "check dir outside /run" 2 "key 'secrets.dir': expected an absolute path below /run" \
  -- cmdline check --config "$tmp/dir.toml" "$base cvminit.workload=/bin/app"
expect "check bad cmdline" 2 "cmdline key 'cvminit.net'" -- cmdline check --config "$tmp/cvminit.toml" "$base cvminit.net=wifi"

# cvminit.initdata: the document may name the broker; without the flag nothing is added.
expect "compose initdata without broker" 0 '^panic=-1 cvminit\.simulate=1 cvminit\.net=dhcp cvminit\.deadline=120 cvminit\.initdata=fw_cfg$' \
  -- cmdline compose --initdata fw_cfg --simulate
expect "compose initdata pins the transport" 0 ' cvminit\.transport=cvmkb cvminit\.reattest_fail=poweroff cvminit\.initdata=fw_cfg$' \
  -- cmdline compose --initdata fw_cfg --broker http://a --transport cvmkb --reattest-fail poweroff
expect "compose without initdata: cvmkb is the default, composed away" 0 "^$canonical\$" \
  -- cmdline compose --broker https://kb.example:8443 --broker-key "$key" --transport cvmkb
expect "compose initdata bad value" 2 "cmdline key 'cvminit.initdata': expected fw_cfg or none" \
  -- cmdline compose --initdata disk --broker http://a --broker-key "$key"
expect "compose reattest_fail alone needs initdata" 2 "only allowed with cvminit.reattest" \
  -- cmdline compose --broker http://a --broker-key "$key" --reattest-fail poweroff
# cvminit.broker_protocol=kbs: a Trustee KBS, no broker key; the resources' KBS paths from cvminit.toml.
expect "compose kbs" 0 '^panic=-1 cvminit\.broker=https://kbs\.example:8080 cvminit\.broker_protocol=kbs cvminit\.simulate=0 ' \
  -- cmdline compose --broker https://kbs.example:8080 --broker-protocol kbs
expect "compose kbs refuses a broker key" 2 "cmdline key 'cvminit.broker_key': not with cvminit.broker_protocol=kbs: a KBS signs nothing" \
  -- cmdline compose --broker https://kbs.example --broker-protocol kbs --broker-key "$key"
expect "compose kbs refuses http:// on real hardware" 2 "cmdline key 'cvminit.broker': not with cvminit.broker_protocol=kbs: a KBS over http://" \
  -- cmdline compose --broker http://kbs.example --broker-protocol kbs
printf '[workload]\ncommand = ["/bin/app"]\n[secrets]\nresources = ["db"]\nkbs_paths = { db = "prod/db/password" }\n' >"$tmp/kbs.toml"
expect "check kbs paths" 0 '^kbs_paths\.data = default/cvminit/data$' \
  -- cmdline check --config "$tmp/kbs.toml" "cvminit.broker=https://kbs cvminit.broker_protocol=kbs cvminit.data=/dev/vdb"
expect "check kbs paths, mapped" 0 '^kbs_paths\.db = prod/db/password$' \
  -- cmdline check --config "$tmp/kbs.toml" "cvminit.broker=https://kbs cvminit.broker_protocol=kbs"
expect "parse initdata" 0 '^cvminit\.initdata = fw_cfg$' -- cmdline parse "cvminit.initdata=fw_cfg cvminit.broker=http://a"
expect "parse refuses --initdata" 2 'parse does not take --initdata' -- cmdline parse --initdata fw_cfg "cvminit.simulate=1"
expect "check initdata: the measured part" 0 '^workload\.command = \["/usr/bin/app", "--flag", "two words"\]$' \
  -- cmdline check --config "$tmp/cvminit.toml" "console=ttyS0 cvminit.initdata=fw_cfg"
expect "check: no broker without initdata" 2 "cmdline key 'cvminit.broker': missing" -- cmdline check "cvminit.simulate=1"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
