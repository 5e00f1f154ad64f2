/**
 * Proof of work as the server asks for it (ALTCHA style): find n in [0, maxNumber] with
 * hex(sha256(salt + n)) == challenge. Uses Web Crypto, hashing in batches so the page stays
 * responsive; outside a secure context (plain http on a non-local host) Web Crypto is missing,
 * so a small SHA-256 in JavaScript takes over.
 */

export interface PowChallenge {
  algorithm: string;
  challenge: string;
  salt: string;
  maxNumber: number;
  signature: string;
}

export interface PowSolution {
  algorithm: string;
  challenge: string;
  salt: string;
  number: number;
  signature: string;
}

const hex = (buf: ArrayBuffer) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");

/** Finds the number for `c`, or throws when no number up to `maxNumber` matches. */
export async function solve(c: PowChallenge): Promise<PowSolution> {
  const enc = new TextEncoder();
  const subtle = globalThis.crypto && crypto.subtle;
  const target = c.challenge.toLowerCase();
  const batch = 500;
  for (let start = 0; start <= c.maxNumber; start += batch) {
    const end = Math.min(c.maxNumber, start + batch - 1);
    const hashes: Promise<string>[] = [];
    for (let n = start; n <= end; n++) {
      const data = enc.encode(c.salt + n);
      hashes.push(subtle ? subtle.digest("SHA-256", data).then(hex) : Promise.resolve(sha256(data)));
    }
    const found = (await Promise.all(hashes)).indexOf(target);
    if (found >= 0) return { algorithm: c.algorithm, challenge: c.challenge, salt: c.salt, number: start + found, signature: c.signature };
  }
  throw new Error("proof of work: no solution");
}

// FIPS 180-4's constants (§4.2.2, §5.3.3), computed instead of listed: the first 32 bits of the
// fractional parts of the cube roots of the first 64 primes (K) and of the square roots of the
// first 8 (H0). Doubles carry those bits exactly (checked against the listed values).
const K = new Uint32Array(64), H0 = new Uint32Array(8);
for (let p = 2, n = 0; n < 64; p++) {
  let prime = true;
  for (let d = 2; d * d <= p; d++) if (p % d == 0) prime = false;
  if (!prime) continue;
  if (n < 8) H0[n] = (Math.sqrt(p) % 1) * 2 ** 32;
  K[n++] = (Math.cbrt(p) % 1) * 2 ** 32;
}

/** SHA-256 of `msg` as lowercase hex (FIPS 180-4), for browsers without Web Crypto. */
export function sha256(msg: Uint8Array): string {
  const len = msg.length;
  const blocks = ((len + 9 + 63) >> 6) << 6;
  const buf = new Uint8Array(blocks);
  buf.set(msg);
  buf[len] = 0x80;
  const view = new DataView(buf.buffer);
  view.setUint32(blocks - 4, len * 8);
  view.setUint32(blocks - 8, Math.floor(len / 0x20000000));
  const hs = H0.slice();
  const w = new Uint32Array(64);
  const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));
  for (let off = 0; off < blocks; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    let [a, b, c, d, e, f, g, hh] = hs;
    for (let i = 0; i < 64; i++) {
      const t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
      const t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
    }
    hs[0] += a; hs[1] += b; hs[2] += c; hs[3] += d; hs[4] += e; hs[5] += f; hs[6] += g; hs[7] += hh;
  }
  return Array.from(hs, (x) => x.toString(16).padStart(8, "0")).join("");
}
