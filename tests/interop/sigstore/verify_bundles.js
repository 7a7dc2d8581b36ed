#!/usr/bin/env node
// The bundles cvm's release library writes, checked by the Sigstore project's own JavaScript
// verifier (@sigstore/bundle and @sigstore/verify, as npm `sigstore` 4.1.1 uses them), given
// only the release public key:
//
//   node verify_bundles.js MAKE_BUNDLES_EXE
//   node verify_bundles.js --bundle BUNDLE --key PUB [--bundle BUNDLE --key PUB ...]
//
// runs make_bundles (tests/interop/sigstore/make_bundles.cc) into a temporary directory, then
// for ECDSA P-256 and Ed25519 keys: the bundle is a valid v0.3 bundle and verifies; the key
// hint sigstore-js asks for is SHA-256 of the key's SPKI, computed here by Node itself; the
// payload it verified is the statement; a bundle with one payload byte flipped, and a bundle
// checked with the other key, are refused.
//
// The second form checks bundles written elsewhere (`cvm release`'s release.sigstore.json): each
// must be a valid v0.3 bundle that verifies with its key and carries an in-toto statement of our
// predicate type, and must be refused once a payload byte is flipped.
//
// Thresholds: our bundles are signed offline and carry no tlog entry, SCT or RFC 3161 timestamp
// (the pipeline adds a Rekor entry when it is online), so the Verifier is made with
// tlogThreshold, ctlogThreshold and timestampThreshold 0; with sigstore-js's defaults (1) the
// same bundle is refused for want of a timestamp, which is checked too. The signature over
// DSSE's PAE with the given key is verified whatever the thresholds.
//
// Exit 77 (skipped) when the npm packages are not installed, unless CI=true (then 1).
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

function requireOrSkip(name) {
  try {
    return require(name);
  } catch (e) {
    const inCI = process.env.CI === 'true';
    console.error(`verify_bundles.js: ${name} is not installed (npm ci): ${inCI ? 'failing under CI' : 'skipped'}`);
    process.exit(inCI ? 1 : 77);
  }
}

const { bundleFromJSON, assertBundleLatest } = requireOrSkip('@sigstore/bundle');
const { Verifier, toSignedEntity, toTrustMaterial } = requireOrSkip('@sigstore/verify');

const EMPTY_ROOT = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  certificateAuthorities: [],
  timestampAuthorities: [],
  tlogs: [],
  ctlogs: [],
};
const OFFLINE = { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 };

let checks = 0;
let failures = 0;
function check(ok, what) {
  checks++;
  if (!ok) {
    failures++;
    console.error(`FAIL: ${what}`);
  } else {
    console.log(`ok: ${what}`);
  }
}

// Verifies `bundleJSON` with `pem` as the only key; returns {error, hints, entity}.
function verify(bundleJSON, pem, options) {
  const hints = [];
  const trust = toTrustMaterial(EMPTY_ROOT, (hint) => {
    hints.push(hint);
    return { publicKey: crypto.createPublicKey(pem), validFor: () => true };
  });
  try {
    const bundle = bundleFromJSON(bundleJSON);
    assertBundleLatest(bundle);
    const entity = toSignedEntity(bundle);
    new Verifier(trust, options).verify(entity);
    return { error: null, hints, bundle };
  } catch (e) {
    return { error: e, hints };
  }
}

// Verifies BUNDLE with PUB, and refuses it with one payload byte flipped.
function checkGiven(bundlePath, pubPath) {
  const pem = fs.readFileSync(pubPath, 'utf8');
  const json = JSON.parse(fs.readFileSync(bundlePath, 'utf8'));
  const good = verify(json, pem, OFFLINE);
  check(good.error === null, `${bundlePath}: sigstore-js verifies it with ${pubPath}` +
    (good.error ? ` (${good.error.code || ''} ${good.error.message})` : ''));
  if (good.bundle) {
    const statement = JSON.parse(Buffer.from(good.bundle.content.dsseEnvelope.payload).toString('utf8'));
    check(statement._type === 'https://in-toto.io/Statement/v1' &&
      statement.predicateType === 'https://cvminit.dev/release/v1' && statement.predicate.shapes.length >= 1,
      `${bundlePath}: an in-toto Statement v1 of our predicate (${statement.predicate.shapes.length} shapes)`);
  }
  const payload = Buffer.from(json.dsseEnvelope.payload, 'base64');
  payload[Math.floor(payload.length / 2)] ^= 0x01;
  const tampered = { ...json, dsseEnvelope: { ...json.dsseEnvelope, payload: payload.toString('base64') } };
  const refused = verify(tampered, pem, OFFLINE);
  check(refused.error !== null && refused.error.code === 'SIGNATURE_ERROR',
    `${bundlePath}: refused with a payload byte flipped (${refused.error && refused.error.code})`);
}

function finish() {
  console.log(`${checks} checks, ${failures} failed`);
  process.exit(failures === 0 ? 0 : 1);
}

function main() {
  const args = process.argv.slice(2);
  if (args.length >= 4 && args[0] === '--bundle') {
    for (let i = 0; i < args.length; i += 4) {
      if (args[i] !== '--bundle' || args[i + 2] !== '--key' || i + 3 >= args.length) {
        console.error('usage: node verify_bundles.js --bundle BUNDLE --key PUB [...]');
        process.exit(2);
      }
      checkGiven(args[i + 1], args[i + 3]);
    }
    finish();
  }
  if (args.length !== 1) {
    console.error('usage: node verify_bundles.js MAKE_BUNDLES_EXE | --bundle BUNDLE --key PUB ...');
    process.exit(2);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvm-sigstore-js-'));
  try {
    execFileSync(process.argv[2], [dir], { stdio: 'inherit' });
    const kinds = ['p256', 'ed25519'];
    const read = (kind, what) => fs.readFileSync(path.join(dir, `${kind}.${what}`), 'utf8');
    for (const kind of kinds) {
      const pem = read(kind, 'pub.pem');
      const bundle = JSON.parse(read(kind, 'bundle.json'));
      const statement = read(kind, 'statement.json');

      const good = verify(bundle, pem, OFFLINE);
      check(good.error === null, `${kind}: sigstore-js verifies the bundle with the release key` +
        (good.error ? ` (${good.error.code || ''} ${good.error.message})` : ''));
      const spki = crypto.createPublicKey(pem).export({ type: 'spki', format: 'der' });
      const hint = crypto.createHash('sha256').update(spki).digest('hex');
      check(good.hints.length === 1 && good.hints[0] === hint,
        `${kind}: the key hint is SHA-256 of the SPKI (${good.hints[0]})`);
      if (good.bundle) {
        const env = good.bundle.content.dsseEnvelope;
        check(env.payloadType === 'application/vnd.in-toto+json', `${kind}: payloadType is in-toto's`);
        check(Buffer.from(env.payload).toString('utf8') === statement, `${kind}: the verified payload is the statement`);
        const parsed = JSON.parse(statement);
        check(parsed._type === 'https://in-toto.io/Statement/v1' &&
          parsed.predicateType === 'https://cvminit.dev/release/v1' && parsed.predicate.shapes.length === 2,
          `${kind}: the statement is an in-toto Statement v1 with our predicate and two shapes`);
      }

      const tampered = verify(JSON.parse(read(kind, 'tampered.json')), pem, OFFLINE);
      check(tampered.error !== null && tampered.error.code === 'SIGNATURE_ERROR',
        `${kind}: a flipped payload byte is refused (${tampered.error && tampered.error.code})`);

      const other = kinds.find((k) => k !== kind);
      const foreign = verify(bundle, read(other, 'pub.pem'), OFFLINE);
      check(foreign.error !== null && foreign.error.code === 'SIGNATURE_ERROR',
        `${kind}: the bundle checked with the ${other} key is refused (${foreign.error && foreign.error.code})`);

      const strict = verify(bundle, pem, {});
      check(strict.error !== null && strict.error.code === 'TIMESTAMP_ERROR',
        `${kind}: with the default thresholds sigstore-js wants a timestamp (${strict.error && strict.error.message})`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  finish();
}

main();
