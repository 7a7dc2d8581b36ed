// A larger log around one entry: @sigstore/mock's TLog proves every entry in a tree of one leaf
// with no audit path (rekor/tlog.js: calculateInclusionProof()), which exercises none of a
// verifier's path walking. This puts the entry's body among random leaves, computes the tree head
// and the audit path by RFC 6962 §2.1 and §2.1.1 (their recursive definitions, independent of the
// iterative RFC 9162 verifier under test), and signs the checkpoint with the log's key exactly as
// the mock does (origin "<host> - <tree id>", size, base64 root, "Timestamp: <ns>", then the
// "— <host> base64(keyhint[4] ‖ ECDSA signature)" line).
'use strict';

const crypto = require('crypto');
const { json: sigstoreJson } = require('@sigstore/core');

const hash = (...parts) => crypto.createHash('sha256').update(Buffer.concat(parts)).digest();
const leafHash = (leaf) => hash(Buffer.from([0x00]), leaf);
const nodeHash = (l, r) => hash(Buffer.from([0x01]), l, r);

// The largest power of two smaller than n (n > 1).
function split(n) {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// MTH(D[n]), RFC 6962 §2.1.
function mth(leaves) {
  if (leaves.length === 1) return leafHash(leaves[0]);
  const k = split(leaves.length);
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

// PATH(m, D[n]), RFC 6962 §2.1.1, lowest level first.
function auditPath(m, leaves) {
  if (leaves.length === 1) return [];
  const k = split(leaves.length);
  if (m < k) return [...auditPath(m, leaves.slice(0, k)), mth(leaves.slice(k))];
  return [...auditPath(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

// A checkpoint for (size, root) signed by log.signer (default: the log's own key) under log.name
// (default: the log's host), with the key hint of the entry's log id.
function checkpoint(entry, log, size, root) {
  const signer = (log.signer || log.keys).privateKey;
  const name = log.name || log.host;
  const note = [
    `${log.host} - ${crypto.randomInt(2 ** 48 - 1)}`,
    `${size}`,
    root.toString('base64'),
    `Timestamp: ${BigInt(entry.integratedTime) * 1000000000n}`,
    '',
  ].join('\n');
  const sig = crypto.sign('sha256', Buffer.from(note), signer);
  const hint = Buffer.from(entry.logId.keyId, 'base64').subarray(0, 4);
  return [note, `\u2014 ${name} ${Buffer.concat([hint, sig]).toString('base64')}`, ''].join('\n');
}

// `entry` (a bundle's tlogEntries[] JSON) as leaf `index` of a tree of `size` leaves.
function inTree(entry, log, size, index) {
  const leaves = Array.from({ length: size }, () => crypto.randomBytes(40 + crypto.randomInt(80)));
  leaves[index] = Buffer.from(entry.canonicalizedBody, 'base64');
  const root = mth(leaves);
  return {
    ...entry,
    inclusionProof: {
      logIndex: String(index),
      rootHash: root.toString('base64'),
      treeSize: String(size),
      hashes: auditPath(index, leaves).map((h) => h.toString('base64')),
      checkpoint: { envelope: checkpoint(entry, log, size, root) },
    },
  };
}

// The entry with its proof kept and a checkpoint, correctly signed, of another tree size.
function resignedCheckpoint(entry, log, { size }) {
  const root = Buffer.from(entry.inclusionProof.rootHash, 'base64');
  return { ...entry, inclusionProof: { ...entry.inclusionProof, checkpoint: { envelope: checkpoint(entry, log, size, root) } } };
}

// A signed entry timestamp by the log's key over the entry's fields with `overrides`
// (@sigstore/mock rekor/tlog.js: calculateSET()).
function setOver(entry, log, overrides) {
  const data = {
    body: entry.canonicalizedBody,
    integratedTime: Number(entry.integratedTime),
    logIndex: Number(entry.logIndex),
    logID: Buffer.from(entry.logId.keyId, 'base64').toString('hex'),
    ...overrides,
  };
  return crypto.sign('sha256', Buffer.from(sigstoreJson.canonicalize(data), 'utf8'), log.keys.privateKey).toString('base64');
}

module.exports = { leafHash, nodeHash, mth, auditPath, inTree, resignedCheckpoint, setOver };
