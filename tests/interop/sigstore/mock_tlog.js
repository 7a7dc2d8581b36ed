#!/usr/bin/env node
// Makes tlog-bearing release bundles the way a release pipeline would with the Sigstore project's
// own JavaScript tools, against the Sigstore mock services (npm @sigstore/mock), and the trusted
// root that names the mock's log; then the broken variants cvm must refuse.
//
//   node mock_tlog.js OUT_DIR [--bundle BUNDLE.json --key RELEASE.pub.pem]
//
// Without --bundle it makes a release key and a small release statement of its own (release.h's
// format) and signs it with @sigstore/sign's DSSEBundleBuilder; with --bundle it takes a bundle
// `cvm release` wrote (no tlog entries) and only adds the entry, as `RekorWitness.testify` does.
// Either way the entry comes from @sigstore/sign's Rekor client (RekorWitness, entry type "dsse")
// posting to the mock's log over nock (no network). Every "ok" bundle is also verified here with
// @sigstore/verify, so the fixtures are known good to the Sigstore project's own verifier.
//
// Writes into OUT_DIR: release.pub.pem, trusted_root.json and the roots of the refusal cases,
// one bundle per case, and cases.json: [{name, bundle, root, expect: "ok" | "refused", member}],
// `member` being the text cvm's refusal must contain.
//
// Exit 77 (skipped) when the npm packages are not installed, unless CI=true (then 1).
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

function requireOrSkip(name) {
  try {
    return require(name);
  } catch (e) {
    const inCI = process.env.CI === 'true';
    console.error(`mock_tlog.js: ${name} is not installed (npm ci): ${inCI ? 'failing under CI' : 'skipped'}`);
    process.exit(inCI ? 1 : 77);
  }
}

const nock = requireOrSkip('nock');
const { initializeTLog } = requireOrSkip('@sigstore/mock');
const { DSSEBundleBuilder, RekorWitness } = requireOrSkip('@sigstore/sign');
const { bundleToJSON, bundleFromJSON } = requireOrSkip('@sigstore/bundle');
const { Verifier, toSignedEntity, toTrustMaterial } = requireOrSkip('@sigstore/verify');
const { TrustedRoot, TransparencyLogEntry, PublicKeyDetails, HashAlgorithm } = requireOrSkip('@sigstore/protobuf-specs');
const { json: sigstoreJson } = requireOrSkip('@sigstore/core');
const rekorEntry = require('./mock_rekor_entry');
const merkle = require('./mock_merkle');

const REKOR_URL = 'https://rekor.sigstore.dev'; // the mock's default; its host names the log's key
const PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';

const sha256 = (data) => crypto.createHash('sha256').update(data).digest();
const spki = (key) => key.export({ format: 'der', type: 'spki' });

// A statement in release.h's format (what `cvm release` writes), canonical JSON.
function statement(sourceDateEpoch) {
  return Buffer.from(
    sigstoreJson.canonicalize({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'kernel', digest: { sha256: sha256('mock kernel').toString('hex') } }],
      predicateType: 'https://cvminit.dev/release/v1',
      predicate: {
        tool: 'cvm 0.1.0',
        source_date_epoch: sourceDateEpoch,
        mode: 'snp',
        policy: '0x30000',
        guest_features: '0x1',
        cmdline: 'console=ttyS0',
        shapes: [
          { vcpus: 2, vcpu_type: 'EPYC-v4', vmm_type: 'QEMU', measurement: crypto.randomBytes(48).toString('hex') },
        ],
      },
    }),
    'utf8'
  );
}

function releaseSigner(keys) {
  const publicKey = keys.publicKey.export({ format: 'pem', type: 'spki' });
  const hint = sha256(spki(keys.publicKey)).toString('hex');
  return {
    sign: async (data) => ({
      signature: crypto.sign('sha256', data, keys.privateKey),
      key: { $case: 'publicKey', publicKey, hint },
    }),
  };
}

function trustedRoot(logPublicKey, validFor) {
  const raw = spki(logPublicKey);
  return TrustedRoot.toJSON({
    mediaType: TRUSTED_ROOT_MEDIA_TYPE,
    tlogs: [
      {
        baseUrl: REKOR_URL,
        hashAlgorithm: HashAlgorithm.SHA2_256,
        publicKey: { rawBytes: raw, keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256, validFor },
        logId: { keyId: sha256(raw) },
        checkpointKeyId: undefined,
        operator: 'sigstore.mock',
      },
    ],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  });
}

// @sigstore/verify with the release key and the trusted root; throws what it refuses.
function sigstoreVerify(bundleJSON, rootJSON, publicKeyPem) {
  const material = toTrustMaterial(TrustedRoot.fromJSON(rootJSON), () => ({
    publicKey: crypto.createPublicKey(publicKeyPem),
    validFor: () => true,
  }));
  // No timestamp threshold: a proof-only entry carries no signed time, which a key-based release
  // does not need (sigstore-js counts only promises as timestamps).
  new Verifier(material, { tlogThreshold: 1, timestampThreshold: 0 }).verify(toSignedEntity(bundleFromJSON(bundleJSON)));
}

// Makes the bundles, roots and cases.json in `out`; with `input` ({bundle, key}: file paths) the
// release is that bundle, else one made here. Returns the cases.
async function makeCases(out, input = {}) {
  fs.mkdirSync(out, { recursive: true });
  const write = (name, value) =>
    fs.writeFileSync(path.join(out, name), typeof value === 'string' ? value : JSON.stringify(value, null, 2) + '\n');

  // The mock's Rekor, behind nock: each upload becomes the entry Rekor would log (see
  // mock_rekor_entry.js), logged by @sigstore/mock's TLog.
  const logKeys = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const tlog = await initializeTLog(REKOR_URL, logKeys);
  nock.cleanAll(); // a second run in this process gets its own log
  nock(REKOR_URL)
    .persist()
    .post('/api/v1/log/entries')
    .reply(async (_uri, body) => {
      const proposed = typeof body === 'string' ? JSON.parse(body) : body;
      return [201, JSON.stringify(await tlog.log(rekorEntry.canonicalBody(proposed))), { 'Content-Type': 'application/json' }];
    });
  nock.disableNetConnect();
  const witness = new RekorWitness({ rekorBaseURL: REKOR_URL, entryType: 'dsse', retry: 0 });

  // The release: made here, or read from `cvm release`.
  let releasePem;
  let bundle;
  let signer;
  let releaseKeys;
  if (input.bundle) {
    releasePem = fs.readFileSync(input.key, 'utf8');
    const given = bundleFromJSON(JSON.parse(fs.readFileSync(input.bundle, 'utf8')));
    const { tlogEntries } = await witness.testify(given.content, releasePem);
    given.verificationMaterial.tlogEntries = tlogEntries;
    bundle = bundleToJSON(given);
  } else {
    releaseKeys = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    releasePem = releaseKeys.publicKey.export({ format: 'pem', type: 'spki' });
    signer = releaseSigner(releaseKeys);
    const builder = new DSSEBundleBuilder({ signer, witnesses: [witness] });
    bundle = bundleToJSON(await builder.create({ data: statement(1700000000), type: PAYLOAD_TYPE }));
  }
  write('release.pub.pem', releasePem);
  const envelope = bundleFromJSON(bundle).content.dsseEnvelope;

  // Roots: the mock's log valid from an hour ago; another log; the mock's log expired before the
  // entry, and valid only from tomorrow.
  const hour = 3600 * 1000;
  const now = Date.now();
  const root = trustedRoot(logKeys.publicKey, { start: new Date(now - hour) });
  write('trusted_root.json', root);
  write('other_root.json', trustedRoot(crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey, { start: new Date(now - hour) }));
  write('expired_root.json', trustedRoot(logKeys.publicKey, { start: new Date(now - 2 * hour), end: new Date(now - hour) }));
  write('future_root.json', trustedRoot(logKeys.publicKey, { start: new Date(now + 24 * hour) }));

  const cases = [];
  const withEntry = (entry) => {
    const b = JSON.parse(JSON.stringify(bundle));
    b.verificationMaterial.tlogEntries = [entry];
    return b;
  };
  const add = (name, b, expect, member, rootFile = 'trusted_root.json') => {
    write(`${name}.json`, b);
    cases.push({ name, bundle: `${name}.json`, root: rootFile, expect, member });
  };
  const entry = bundle.verificationMaterial.tlogEntries[0];
  const log = { keys: logKeys, host: new URL(REKOR_URL).host };

  // Good: the mock's own entry (a tree of one), the same entry in a larger tree, and without its
  // promise (the proof alone suffices).
  add('ok_mock', bundle, 'ok', '');
  const inTree = merkle.inTree(entry, log, 13, 9);
  add('ok_tree', withEntry(inTree), 'ok', '');
  const noPromise = { ...inTree };
  delete noPromise.inclusionPromise;
  add('ok_tree_no_promise', withEntry(noPromise), 'ok', '');

  // The proof and its checkpoint.
  const flipped = JSON.parse(JSON.stringify(inTree));
  const h = Buffer.from(flipped.inclusionProof.hashes[2], 'base64');
  h[7] ^= 0x01;
  flipped.inclusionProof.hashes[2] = h.toString('base64');
  add('bad_proof_hash', withEntry(flipped), 'refused', 'inclusionProof.hashes');
  add('bad_proof_short', withEntry({ ...inTree, inclusionProof: { ...inTree.inclusionProof, hashes: inTree.inclusionProof.hashes.slice(1) } }), 'refused', 'inclusionProof.hashes');
  add('bad_root_hash', withEntry({ ...inTree, inclusionProof: { ...inTree.inclusionProof, rootHash: crypto.randomBytes(32).toString('base64') } }), 'refused', 'inclusionProof.rootHash');
  add('bad_tree_size', withEntry({ ...inTree, inclusionProof: { ...inTree.inclusionProof, treeSize: '14' } }), 'refused', 'inclusionProof.treeSize');
  add('bad_log_index', withEntry({ ...inTree, inclusionProof: { ...inTree.inclusionProof, logIndex: '8' } }), 'refused', 'inclusionProof.hashes');
  const otherKey = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  add('bad_checkpoint_key', withEntry(merkle.inTree(entry, { ...log, signer: otherKey }, 13, 9)), 'refused', 'inclusionProof.checkpoint');
  add('bad_checkpoint_name', withEntry(merkle.inTree(entry, { ...log, name: 'rekor.example.org' }, 13, 9)), 'refused', 'inclusionProof.checkpoint');
  add('bad_checkpoint_tree', withEntry(merkle.resignedCheckpoint(inTree, log, { size: 12 })), 'refused', 'inclusionProof.treeSize');
  const noProof = { ...entry };
  delete noProof.inclusionProof;
  add('bad_no_proof', withEntry(noProof), 'refused', 'inclusionProof');

  // The promise (signed entry timestamp).
  add('bad_set', withEntry({ ...inTree, inclusionPromise: { signedEntryTimestamp: merkle.setOver(entry, log, { logIndex: Number(entry.logIndex) + 1 }) } }), 'refused', 'inclusionPromise.signedEntryTimestamp');
  add('bad_integrated_time', withEntry({ ...inTree, integratedTime: String(Number(inTree.integratedTime) - 1) }), 'refused', 'inclusionPromise.signedEntryTimestamp');

  // The body: logged faithfully, but for another envelope, another signature, another key.
  const toContent = (env) => ({ $case: 'dsseEnvelope', dsseEnvelope: env });
  const otherPayload = statement(1700000001);
  const reSign = async (payload) => {
    // Without the release's private key (a --bundle run), the other signature is by another key:
    // Rekor refuses an envelope whose signature the verifier does not check, so it comes with it.
    const keys = releaseKeys || otherKey;
    const sig = crypto.sign('sha256', rekorEntry.pae(PAYLOAD_TYPE, payload), keys.privateKey);
    const env = { payloadType: PAYLOAD_TYPE, payload, signatures: [{ keyid: envelope.signatures[0].keyid, sig }] };
    const pem = keys.publicKey.export({ format: 'pem', type: 'spki' });
    return (await witness.testify(toContent(env), pem)).tlogEntries[0];
  };
  const bundleEntryJSON = (e) => TransparencyLogEntry.toJSON(e);
  add('bad_body_other_envelope', withEntry(bundleEntryJSON(await reSign(otherPayload))), 'refused', 'canonicalizedBody.spec.payloadHash');
  add('bad_body_other_signature', withEntry(bundleEntryJSON(await reSign(envelope.payload))), 'refused',
      releaseKeys ? 'canonicalizedBody.spec.signatures[0].signature' : 'canonicalizedBody.spec.signatures[0]');
  // A body Rekor would never write (the verifier does not check the signature), logged as is:
  // what a compromised or buggy log could hand out.
  const wrongVerifier = rekorEntry.canonicalBodyFor(envelope, otherKey.publicKey.export({ format: 'pem', type: 'spki' }));
  const raw = await tlog.log(wrongVerifier);
  add('bad_body_verifier', withEntry(rekorEntry.toBundleEntry(raw)), 'refused', 'canonicalizedBody.spec.signatures[0].verifier');

  // The log and its validity.
  add('bad_unknown_log', bundle, 'refused', 'logId.keyId', 'other_root.json');
  add('bad_log_expired', bundle, 'refused', 'integratedTime', 'expired_root.json');
  add('bad_log_not_yet_valid', bundle, 'refused', 'integratedTime', 'future_root.json');
  add('bad_log_id', withEntry({ ...inTree, logId: { keyId: crypto.randomBytes(32).toString('base64') } }), 'refused', 'logId.keyId');

  // The Sigstore project's verifier agrees on every good bundle, and on the refusals it makes too.
  for (const c of cases) {
    const b = JSON.parse(fs.readFileSync(path.join(out, c.bundle), 'utf8'));
    const r = JSON.parse(fs.readFileSync(path.join(out, c.root), 'utf8'));
    let refusal = null;
    try {
      sigstoreVerify(b, r, releasePem);
    } catch (e) {
      refusal = e.message || String(e);
    }
    c.sigstore_js = refusal === null ? 'ok' : `refused: ${refusal}`;
    if (c.expect === 'ok' && refusal !== null)
      throw new Error(`@sigstore/verify refuses the good bundle ${c.name}: ${refusal}`);
  }
  write('cases.json', cases);
  return cases;
}

module.exports = { makeCases };

if (require.main === module) {
  const args = process.argv.slice(2);
  if (!args[0] || (args.length !== 1 && !(args.length === 5 && args.includes('--bundle') && args.includes('--key')))) {
    console.error('usage: node mock_tlog.js OUT_DIR [--bundle BUNDLE.json --key RELEASE.pub.pem]');
    process.exit(2);
  }
  const opt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  makeCases(args[0], { bundle: opt('--bundle'), key: opt('--key') })
    .then((cases) => console.log(`mock_tlog.js: ${cases.length} cases in ${args[0]}`))
    .catch((e) => {
      console.error(`mock_tlog.js: ${e.stack || e}`);
      process.exit(1);
    });
}
