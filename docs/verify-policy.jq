# The rules of docs/verify-policy.rego in jq, one per line, over `cvm verify --json` (cvm.verify/2):
#
#   jq --argjson data "$(cat data.json)" -f docs/verify-policy.jq verdict.json
#
# prints the reasons it denies, [] when it allows. As in the Rego file, a missing or null field
# denies. (`!= true` rather than `| not`, so that null denies; `any(. == $m)` rather than
# `inside`, which matches substrings of strings.)
[
  (select(.schema != "cvm.verify/2") | "schema: not cvm.verify/2"),
  (select(.verdict != "pass") | "verdict: cvm verify rejected the evidence"),
  (select(.simulated != false) | "simulated: not rooted at AMD"),
  (select(.claims["report.signature"].pass != true) | "report.signature: not signed by the VCEK/VLEK"),
  (select(.claims["chain.revocation"].found // "" | startswith("disabled")) | "chain.revocation: revocation was turned off"),
  (select(.claims["policy.debug"].pass != true) | "policy.debug: the guest is debuggable"),
  (select(.report.measurement as $m | $data.measurements | any(. == $m) | not) | "measurement: not an accepted launch"),
  (select(.report.vmpl != 0) | "vmpl: not VMPL 0"),
  (select((.report.reported_tcb.snp // -1) < ($data.min_tcb[.product // ""].snp // 256)) | "reported_tcb: SNP firmware below the product's minimum"),
  (select(.report.platform_info.alias_check_complete != true) | "platform_info: alias check not complete")
]
