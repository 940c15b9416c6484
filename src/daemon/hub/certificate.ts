// The hub listener's TLS certificate: the user's own (--tls-cert/--tls-key), or one generated once
// and kept 0600 in the state directory. Its SHA-256 fingerprint is what invites and clients pin.
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { FleetError } from "../../protocol/errors.js";
import { normalizeFingerprint } from "../../platform/tls-pin.js";
import { ensurePrivateDir, writePrivateFileAtomic } from "../../platform/files.js";

export interface HubCertificate {
  cert: string;
  key: string;
  fingerprint: string;
  /** "generated", or the path of the user's certificate. */
  source: string;
}

const GENERATED_DAYS = 3650;

/** The generated pair's paths under the state directory. */
export function generatedPaths(home: string): { dir: string; cert: string; key: string } {
  const dir = join(home, "hub-tls");
  return { dir, cert: join(dir, "cert.pem"), key: join(dir, "key.pem") };
}

export function fingerprintOf(certPem: string): string {
  return normalizeFingerprint(new X509Certificate(certPem).fingerprint256);
}

/** Loads the given pair, or the generated one (creating it on first use, for these host names). */
export async function loadHubCertificate(home: string, given: { certPath: string | null; keyPath: string | null }, names: string[]): Promise<HubCertificate> {
  if (given.certPath || given.keyPath) {
    if (!given.certPath || !given.keyPath) throw new FleetError("invalid_argument", "give both --tls-cert and --tls-key, or neither");
    let cert: string;
    let key: string;
    try {
      cert = readFileSync(given.certPath, "utf8");
      key = readFileSync(given.keyPath, "utf8");
    } catch (err) {
      throw new FleetError("not_found", `cannot read the TLS certificate or key: ${(err as Error).message}`);
    }
    try {
      return { cert, key, fingerprint: fingerprintOf(cert), source: given.certPath };
    } catch {
      throw new FleetError("invalid_argument", `${given.certPath} is not a PEM certificate`);
    }
  }
  const paths = generatedPaths(home);
  if (!existsSync(paths.cert) || !existsSync(paths.key)) {
    ensurePrivateDir(paths.dir);
    // A CommonJS package: its exports are the default export's properties under ESM.
    const selfsigned = await import("selfsigned");
    const generate = selfsigned.generate ?? (selfsigned as unknown as { default: typeof selfsigned }).default.generate;
    const altNames = [...new Set(["localhost", hostname(), ...names])].map((name) =>
      /^[\d.]+$|:/.test(name) ? { type: 7 as const, ip: name } : { type: 2 as const, value: name },
    );
    const pems = await generate([{ name: "commonName", value: `ocfleet hub on ${hostname()}` }], {
      keyType: "ec",
      curve: "P-256",
      days: GENERATED_DAYS,
      algorithm: "sha256",
      extensions: [
        { name: "basicConstraints", cA: false },
        { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
        { name: "extKeyUsage", serverAuth: true },
        { name: "subjectAltName", altNames },
      ],
    } as never);
    writePrivateFileAtomic(paths.key, pems.private);
    writePrivateFileAtomic(paths.cert, pems.cert);
  }
  const cert = readFileSync(paths.cert, "utf8");
  return { cert, key: readFileSync(paths.key, "utf8"), fingerprint: fingerprintOf(cert), source: "generated" };
}
