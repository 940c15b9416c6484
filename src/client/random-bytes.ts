// Strong random bytes for the WebSocket client without node:crypto, whose load costs every CLI command 3–5 ms.
import { closeSync, openSync, readSync } from "node:fs";

/**
 * Fills `target` with random bytes from the kernel's /dev/urandom (node:fs is loaded anyway). Where
 * that cannot be read (Windows, a sandbox), from Web Crypto's getRandomValues: as strong, only slower
 * to load. Never Math.random: WebSocket masks must be unpredictable (RFC 6455 §5.3).
 * `device` is for tests, to exercise the fallback.
 */
export function fillRandom<T extends Uint8Array>(target: T, device = "/dev/urandom"): T {
  if (readDevice(device, target)) return target;
  // getRandomValues takes at most 65,536 bytes a call.
  for (let offset = 0; offset < target.length; offset += 65536) {
    globalThis.crypto.getRandomValues(target.subarray(offset, Math.min(offset + 65536, target.length)));
  }
  return target;
}

function readDevice(device: string, target: Uint8Array): boolean {
  let fd: number;
  try {
    fd = openSync(device, "r");
  } catch {
    return false;
  }
  try {
    let filled = 0;
    while (filled < target.length) {
      const read = readSync(fd, target, filled, target.length - filled, null);
      if (read <= 0) return false;
      filled += read;
    }
    return true;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}
