# An example policy over `cvm verify --json` (the document cvm.verify/2, docs/verify.md): one
# rule per line, each denying with its reason; an empty `deny` allows. docs/verify-policy.jq
# holds the same rules in jq, which tests/blackbox/cvm_verify_json.sh runs against real outputs.
#
#   opa eval -d docs/verify-policy.rego -d data.json -i verdict.json 'data.cvm.verify.deny'
#
# data.json: {"measurements": ["<96 hex digits>", ...], "min_tcb": {"Milan": {"snp": 8}, ...}}.
# Every rule is written `not <what must hold>`, so a field that is missing or null denies.
package cvm.verify

import rego.v1

deny contains "schema: not cvm.verify/2" if not input.schema == "cvm.verify/2"
deny contains "verdict: cvm verify rejected the evidence" if not input.verdict == "pass"
deny contains "simulated: not rooted at AMD" if not input.simulated == false
deny contains "report.signature: not signed by the VCEK/VLEK" if not input.claims["report.signature"].pass
deny contains "chain.revocation: revocation was turned off" if startswith(input.claims["chain.revocation"].found, "disabled")
deny contains "policy.debug: the guest is debuggable" if not input.claims["policy.debug"].pass
deny contains "measurement: not an accepted launch" if not input.report.measurement in data.measurements
deny contains "vmpl: not VMPL 0" if not input.report.vmpl == 0
deny contains "reported_tcb: SNP firmware below the product's minimum" if not input.report.reported_tcb.snp >= data.min_tcb[input.product].snp
deny contains "platform_info: alias check not complete" if not input.report.platform_info.alias_check_complete == true

default allow := false

allow if count(deny) == 0
