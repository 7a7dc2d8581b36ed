#!/usr/bin/env node
// An independent JWE encryptor for the interop test of lib/kbs's TeeKey (jose_jwe_probe.cc):
// npm `jose` (panva/jose, a different implementation on WebCrypto) encrypts a file to a public JWK
// as Trustee's KBS does, a flattened JWE with alg ECDH-ES+A256KW and enc A256GCM:
//
//   node make_jwe.mjs JWK_JSON PLAINTEXT_FILE
//
// writes the flattened JWE JSON serialisation to stdout. jose puts the ephemeral key (epk) in the
// protected header because one is set, and adds no other member (no kid, apu, apv, aad).
//
// Exit 77 (skipped) when jose is not installed (npm ci), unless CI=true (then 1).
import { readFileSync } from 'node:fs';

let jose;
try {
  jose = await import('jose');
} catch (e) {
  const inCI = process.env.CI === 'true';
  console.error(`make_jwe.mjs: jose is not installed (npm ci): ${inCI ? 'failing under CI' : 'skipped'}`);
  process.exit(inCI ? 1 : 77);
}

if (process.argv.length !== 4) {
  console.error('usage: make_jwe.mjs JWK_JSON PLAINTEXT_FILE');
  process.exit(2);
}
const jwk = JSON.parse(process.argv[2]);
const plaintext = readFileSync(process.argv[3]);
const key = await jose.importJWK(jwk, 'ECDH-ES+A256KW');
const jwe = await new jose.FlattenedEncrypt(plaintext)
  .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM' })
  .encrypt(key);
process.stdout.write(JSON.stringify(jwe));
