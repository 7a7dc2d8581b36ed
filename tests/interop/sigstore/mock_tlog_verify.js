#!/usr/bin/env node
// `cvm release verify` against tlog-bearing bundles built with the Sigstore mock services:
//
//   node mock_tlog_verify.js MAKE_BUNDLES_EXE CVM_EXE
//
// Two releases, each through every case of mock_tlog.js (good entries and 18 broken ones):
//   - "cvm": a bundle lib/release made (make_bundles, no tlog entry) to which the pipeline adds
//     its Rekor entry with @sigstore/sign's RekorWitness, the issue's flow;
//   - "sigstore-js": a release signed and logged wholly by @sigstore/sign's DSSEBundleBuilder.
// For each: `cvm release verify BUNDLE --key PUB --require-tlog --trusted-root ROOT` exits 0 for
// a good bundle, and exits 1 naming the broken member for the others. Also: without
// --trusted-root, a tlog-bearing bundle is refused (its entries are never skipped).
//
// Exit 77 (skipped) when the npm packages are not installed, unless CI=true (then 1).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync, spawnSync } = require('child_process');
const { makeCases } = require('./mock_tlog');

let checks = 0;
let failures = 0;
function check(ok, what, detail = '') {
  checks++;
  if (ok) {
    console.log(`ok: ${what}`);
  } else {
    failures++;
    console.error(`FAIL: ${what}${detail ? `\n  ${detail}` : ''}`);
  }
}

function cvmVerify(cvm, dir, bundle, root) {
  const args = ['release', 'verify', path.join(dir, bundle), '--key', path.join(dir, 'release.pub.pem')];
  if (root) args.push('--require-tlog', '--trusted-root', path.join(dir, root));
  const r = spawnSync(cvm, args, { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

async function main() {
  const [makeBundles, cvm] = process.argv.slice(2);
  if (!makeBundles || !cvm) {
    console.error('usage: node mock_tlog_verify.js MAKE_BUNDLES_EXE CVM_EXE');
    process.exit(2);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cvm-mock-tlog-'));
  try {
    fs.mkdirSync(path.join(tmp, 'made'));
    execFileSync(makeBundles, [path.join(tmp, 'made')], { stdio: 'inherit' });
    const releases = [
      ['cvm', path.join(tmp, 'cvm'), { bundle: path.join(tmp, 'made', 'p256.bundle.json'), key: path.join(tmp, 'made', 'p256.pub.pem') }],
      ['sigstore-js', path.join(tmp, 'sigstore-js'), {}],
    ];
    for (const [name, dir, input] of releases) {
      const cases = await makeCases(dir, input);
      for (const c of cases) {
        const r = cvmVerify(cvm, dir, c.bundle, c.root);
        if (c.expect === 'ok') {
          check(r.status === 0 && /transparency log: included/.test(r.output), `${name} ${c.name}: verifies`, r.output);
        } else {
          check(r.status === 1 && r.output.includes(c.member), `${name} ${c.name}: refused naming ${c.member}`, r.output);
        }
      }
      const noRoot = cvmVerify(cvm, dir, 'ok_tree.json', null);
      check(noRoot.status !== 0 && noRoot.output.includes('no trusted root'),
        `${name}: a tlog-bearing bundle without --trusted-root is refused, not verified without its entries`, noRoot.output);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`mock_tlog_verify.js: ${checks} checks, ${failures} failed`);
  process.exit(failures === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(`mock_tlog_verify.js: ${e.stack || e}`);
  process.exit(1);
});
