"""Judges `cvm verify --json` outputs with an independent validator: Debian's python3-jsonschema
(Draft 2020-12) against the published schema docs/schema/cvm.verify-2.json, plus the promises a
schema cannot state (docs/verify.md): the claims are the schema's required list plus only the
optional ones it names (--user-data, --ratls, cvm attest), no report field
or report path is a claim name, the exit status agrees with the verdict. Then it checks that
the schema itself rejects broken documents, so a schema that accepts anything fails this test.

Usage: python3 validate_verify_json.py SCHEMA CASES_DIR
  CASES_DIR holds NAME.json (the stdout of one run) and NAME.status (its exit status).
Prints one line per failure and "N passed, N failed"; exits 1 on any failure.
"""
import copy
import json
import re
import pathlib
import sys

from jsonschema import Draft202012Validator

schema = json.loads(pathlib.Path(sys.argv[1]).read_text())
Draft202012Validator.check_schema(schema)
validator = Draft202012Validator(schema)
CLAIMS = set(schema["properties"]["claims"]["required"])
# Claims only some runs produce (--user-data, --ratls, cvm attest): named, or an issuer.* pattern.
OPTIONAL = set(schema["properties"]["claims"]["properties"])
OPTIONAL_PATTERNS = [re.compile(p) for p in schema["properties"]["claims"]["patternProperties"]]
passed = failed = 0


def check(name, ok, why=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAILED {name}: {why}")


def report_names(value, path):
    """Every key under the report, and every dotted path to it ("report.guest_policy.debug")."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield key
            yield f"{path}.{key}"
            yield from report_names(child, f"{path}.{key}")


docs = {}
for out in sorted(pathlib.Path(sys.argv[2]).glob("*.json")):
    name = out.stem
    doc = json.loads(out.read_text())
    status = int(out.with_suffix(".status").read_text())
    docs[name] = doc
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
    check(f"{name}: valid cvm.verify/2", not errors, "; ".join(errors[:5]))
    claims = set(doc.get("claims", {}))
    unlisted = {c for c in claims - CLAIMS
                if c not in OPTIONAL and not any(p.fullmatch(c) for p in OPTIONAL_PATTERNS)}
    check(f"{name}: every claim, no other", CLAIMS <= claims and not unlisted,
          f"missing {sorted(CLAIMS - claims)}, unlisted {sorted(unlisted)}")
    shared = set(report_names(doc.get("report"), "report")) & claims
    shared |= set(doc) & claims
    check(f"{name}: claims and report fields share no name", not shared, f"shared: {sorted(shared)}")
    want = 0 if doc.get("verdict") == "pass" else 1
    check(f"{name}: exit status {status} matches verdict {doc.get('verdict')}", status == want)

check("cases", len(docs) >= 8, f"only {len(docs)} outputs")
passing = [d for d in docs.values() if d["verdict"] == "pass" and d["product"] != "Turin"]
turin = [d for d in docs.values() if d["product"] == "Turin" and d["report"]]
v2 = [d for d in docs.values() if d["report"] and d["report"]["version"] == 2]
check("a passing case among the outputs", bool(passing))
check("a Turin case among the outputs", bool(turin))
check("a version 2 case among the outputs", bool(v2))
if not (passing and turin and v2):
    print(f"{passed} passed, {failed} failed")
    sys.exit(1)


def claim_failed(d):
    d["claims"]["report.signature"]["pass"] = False


def del_claim(d):
    del d["claims"]["policy.debug"]


def set_in(path, value):
    def mutate(d):
        node = d
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return mutate


# Each mutation of a valid document must make it invalid.
base, t, v = passing[0], turin[0], v2[0]
mutations = [
    ("schema 1", base, set_in(["schema"], "cvm.verify/1")),
    ("pass with a failing claim", base, claim_failed),
    ("fail with every claim passing", base, set_in(["verdict"], "fail")),
    ("a claim left out", base, del_claim),
    ("a claim without reason", base, lambda d: d["claims"]["chain.ark"].pop("reason")),
    ("claim pass as a string", base, set_in(["claims", "chain.ark", "pass"], "true")),
    ("a claim name without a dot", base, set_in(["claims", "measurement"], base["claims"]["chain.ark"])),
    ("pass without a report", base, set_in(["report"], None)),
    ("an unknown report field", base, set_in(["report", "extra"], 1)),
    ("a report field left out", base, lambda d: d["report"].pop("host_data")),
    ("upper-case measurement", base, set_in(["report", "measurement"], base["report"]["measurement"].upper())),
    ("short measurement", base, set_in(["report", "measurement"], base["report"]["measurement"][:94])),
    ("raw TCB as a number", base, set_in(["report", "reported_tcb", "raw"], 1)),
    ("raw TCB without 0x", base, set_in(["report", "reported_tcb", "raw"], "0" * 16)),
    ("debug as a number", base, set_in(["report", "guest_policy", "debug"], 0)),
    ("an unnamed platform bit", base, set_in(["report", "platform_info", "bit6"], True)),
    ("fmc on Milan/Genoa", base, set_in(["report", "launch_tcb", "fmc"], 0)),
    ("no fmc on Turin", t, set_in(["report", "committed_tcb", "fmc"], None)),
    ("TCB components of an unknown product", base, set_in(["product"], None)),
    ("an unknown product", base, set_in(["product"], "Venice")),
    ("version 6", base, set_in(["report", "version"], 6)),
    ("vmpl negative", base, set_in(["report", "vmpl"], -1)),
    ("a v5 field before v5", v, set_in(["report", "launch_mit_vector"], "0x" + "0" * 16)),
    ("no v5 field on v5", t, set_in(["report", "current_mit_vector"], None)),
    ("a CPUID field on v2", v, set_in(["report", "cpuid_fam_id"], 25)),
    ("signer unknown", base, set_in(["signer"], "ARK")),
    ("simulated as a string", base, set_in(["simulated"], "no")),
    ("an extra top-level member", base, set_in(["policy.debug"], True)),
    ("one RA-TLS claim without the others", base,
     set_in(["claims", "ratls.subject_binding"], base["claims"]["chain.ark"])),
    ("tls.key_possession without the RA-TLS claims", base,
     set_in(["claims", "tls.key_possession"], base["claims"]["chain.ark"])),
    ("an optional claim without reason", base,
     set_in(["claims", "binding.user_data"], {"pass": True, "found": "", "expected": ""})),
]
for name, doc, mutate in mutations:
    broken = copy.deepcopy(doc)
    mutate(broken)
    check(f"schema rejects: {name}", not validator.is_valid(broken), "accepted")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
