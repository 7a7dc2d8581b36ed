// What Rekor's server does with an uploaded "dsse" 0.0.1 entry before it logs it, which
// @sigstore/mock's TLog does not do (its log() logs the proposed entry as it came): Rekor verifies
// the envelope with the uploaded keys, then logs only the hashes, the signatures and the keys
// (sigstore/rekor pkg/types/dsse/v0.0.1/entry.go: V001Entry.Unmarshal() and Canonicalize();
// the JSON is then canonicalized, RFC 8785, as the mock's log() also does).
'use strict';

const crypto = require('crypto');
const { TransparencyLogEntry } = require('@sigstore/protobuf-specs');

const sha256hex = (data) => crypto.createHash('sha256').update(data).digest('hex');

// DSSE's pre-authentication encoding (secure-systems-lab/dsse protocol.md).
function pae(type, payload) {
  const t = Buffer.from(type, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${t.length} `), t, Buffer.from(` ${payload.length} `), payload]);
}

// The key as Rekor re-encodes it (pkg/pki/x509: PublicKey.CanonicalValue(), PEM of the PKIX DER).
const canonicalPem = (pem) => crypto.createPublicKey(pem).export({ format: 'pem', type: 'spki' });

function verifies(key, type, payload, sig) {
  const k = crypto.createPublicKey(key);
  const hash = k.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  return crypto.verify(hash, pae(type, payload), k, sig);
}

function body(envelopeText, payload, signatures) {
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256hex(Buffer.from(envelopeText, 'utf8')) },
      payloadHash: { algorithm: 'sha256', value: sha256hex(payload) },
      signatures: signatures.sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0)),
    },
  };
}

// The proposed entry as @sigstore/sign posts it ({proposedContent: {envelope, verifiers}}) to the
// body Rekor logs; throws, as Rekor answers 400, when a signature has no key that verifies it.
function canonicalBody(proposed) {
  if (proposed.kind !== 'dsse' || proposed.apiVersion !== '0.0.1')
    throw new Error(`mock Rekor: only dsse 0.0.1 here, not ${proposed.kind} ${proposed.apiVersion}`);
  const { envelope, verifiers } = proposed.spec.proposedContent;
  const env = JSON.parse(envelope);
  const payload = Buffer.from(env.payload, 'base64');
  const keys = verifiers.map((v) => Buffer.from(v, 'base64').toString('utf8'));
  const signatures = env.signatures.map((s) => {
    const key = keys.find((k) => verifies(k, env.payloadType, payload, Buffer.from(s.sig, 'base64')));
    if (!key) throw new Error('mock Rekor: all signatures must have a key that verifies it');
    return { signature: s.sig, verifier: Buffer.from(canonicalPem(key), 'utf8').toString('base64') };
  });
  return body(envelope, payload, signatures);
}

// The body for `envelope` (@sigstore/bundle's object form) with `pem` as its key, unchecked: what a
// faulty or dishonest log could write.
function canonicalBodyFor(envelope, pem) {
  const text = JSON.stringify({
    payload: envelope.payload.toString('base64'),
    payloadType: envelope.payloadType,
    signatures: envelope.signatures.map((s) => ({ sig: s.sig.toString('base64'), keyid: s.keyid })),
  });
  const signatures = envelope.signatures.map((s) => ({
    signature: s.sig.toString('base64'),
    verifier: Buffer.from(canonicalPem(pem), 'utf8').toString('base64'),
  }));
  return body(text, envelope.payload, signatures);
}

// Rekor's API answer ({uuid: {body, integratedTime, logID, logIndex, verification}}) as a bundle's
// tlogEntries[] JSON, converted as @sigstore/sign does (witness/tlog/index.js:
// toTransparencyLogEntry()).
function toBundleEntry(answer) {
  const e = Object.values(answer)[0];
  const parsed = JSON.parse(Buffer.from(e.body, 'base64').toString('utf8'));
  const proof = e.verification.inclusionProof;
  return TransparencyLogEntry.toJSON({
    logIndex: String(e.logIndex),
    logId: { keyId: Buffer.from(e.logID, 'hex') },
    kindVersion: { kind: parsed.kind, version: parsed.apiVersion },
    integratedTime: String(e.integratedTime),
    inclusionPromise: { signedEntryTimestamp: Buffer.from(e.verification.signedEntryTimestamp, 'base64') },
    inclusionProof: {
      logIndex: String(proof.logIndex),
      treeSize: String(proof.treeSize),
      rootHash: Buffer.from(proof.rootHash, 'hex'),
      hashes: proof.hashes.map((h) => Buffer.from(h, 'hex')),
      checkpoint: { envelope: proof.checkpoint },
    },
    canonicalizedBody: Buffer.from(e.body, 'base64'),
  });
}

module.exports = { pae, canonicalBody, canonicalBodyFor, toBundleEntry };
