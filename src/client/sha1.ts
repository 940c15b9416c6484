// SHA-1 (FIPS 180-4) in plain JS, so that every CLI command need not load node:crypto (~20 internal
// modules, 3–5 ms of start-up) for one hash. Used only to check the server's Sec-WebSocket-Accept,
// which RFC 6455 §4.1 requires of the client; not for security.

/** The base64 SHA-1 digest of `input`: a latin1 string (each char one byte) or bytes. */
export function sha1Base64(input: string | Uint8Array): string {
  const bytes = typeof input === "string" ? Buffer.from(input, "latin1") : input;
  // Padding (§5.1.1): a 1 bit, zeros, then the message length in bits as a 64-bit big-endian number.
  const blocks = Math.ceil((bytes.length + 9) / 64);
  const message = new Uint8Array(blocks * 64);
  message.set(bytes);
  message[bytes.length] = 0x80;
  const view = new DataView(message.buffer);
  const bitLength = bytes.length * 8;
  view.setUint32(message.length - 8, Math.floor(bitLength / 2 ** 32));
  view.setUint32(message.length - 4, bitLength >>> 0);

  let h0 = 0x67452301;
  let h1 = 0xefcdab89;
  let h2 = 0x98badcfe;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0;
  const w = new Uint32Array(80);
  for (let block = 0; block < message.length; block += 64) {
    // Message schedule (§6.1.2).
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(block + t * 4);
    for (let t = 16; t < 80; t++) w[t] = rotl(w[t - 3]! ^ w[t - 8]! ^ w[t - 14]! ^ w[t - 16]!, 1);
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let t = 0; t < 80; t++) {
      // The round functions and constants of §4.1.1 and §4.2.1.
      let f: number;
      let k: number;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      const temp = (rotl(a, 5) + f + e + k + w[t]!) >>> 0;
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = temp;
    }
    h0 = (h0 + a) >>> 0;
    h1 = (h1 + b) >>> 0;
    h2 = (h2 + c) >>> 0;
    h3 = (h3 + d) >>> 0;
    h4 = (h4 + e) >>> 0;
  }
  const digest = Buffer.alloc(20);
  [h0, h1, h2, h3, h4].forEach((h, i) => digest.writeUInt32BE(h, i * 4));
  return digest.toString("base64");
}

function rotl(x: number, n: number): number {
  return ((x << n) | (x >>> (32 - n))) >>> 0;
}
