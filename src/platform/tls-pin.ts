// TLS to a hub whose certificate is pinned by its SHA-256 fingerprint (carried by invite tokens, or
// confirmed once by the user), not vouched for by a CA: the way k3s join tokens carry the CA hash.
import { connect, type ConnectionOptions, type TLSSocket } from "node:tls";

/**
 * A certificate's SHA-256 fingerprint as we show and compare it: `SHA256:` and 64 uppercase hex
 * digits in pairs. Accepts Node's `AB:CD:…` form, with or without the prefix, any case.
 */
export function normalizeFingerprint(text: string): string {
  const hex = text
    .trim()
    .replace(/^sha256:/i, "")
    .replace(/:/g, "")
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) throw new Error(`'${text.slice(0, 120)}' is not a SHA-256 fingerprint (SHA256:AB:CD:…, 32 pairs)`);
  return `SHA256:${hex.match(/../g)!.join(":")}`;
}

export class FingerprintMismatchError extends Error {
  readonly code = "FINGERPRINT_MISMATCH";
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`the hub's certificate is not the one pinned (expected ${expected}, got ${actual}): someone may be in between; not connecting`);
  }
}

/**
 * A TLS connection that is destroyed with FingerprintMismatchError as soon as the handshake shows a
 * certificate other than the pinned one. Callers send secrets only after the WebSocket has opened
 * (the upgrade request carries none), which on a mismatch it never does. `onCertificate` lets a
 * caller without a pin (fingerprint null) see the certificate, for trust on first use.
 */
export function pinnedTlsConnect(options: ConnectionOptions & { fingerprint: string | null; onCertificate?: (fingerprint: string) => void }): TLSSocket {
  const { fingerprint, onCertificate, ...rest } = options;
  const expected = fingerprint === null ? null : normalizeFingerprint(fingerprint);
  // The CA check is replaced by the pin, so it is off; the pin is checked before any byte is written.
  const socket = connect({ ...rest, rejectUnauthorized: false });
  socket.once("secureConnect", () => {
    const actual = normalizeFingerprint(socket.getPeerCertificate().fingerprint256 ?? "");
    onCertificate?.(actual);
    if (expected !== null && actual !== expected) socket.destroy(new FingerprintMismatchError(expected, actual));
  });
  return socket;
}
