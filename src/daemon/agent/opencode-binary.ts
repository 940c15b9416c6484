// Finding the OpenCode binary a worker runs, and the version ocfleet was built for. Part of the
// one OpenCode adapter (`opencode.ts` re-exports it); apart only to keep that file readable.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";
import { FleetError } from "../../protocol/errors.js";
import { PACKAGE_ROOT } from "../../platform/package-root.js";

const require = createRequire(import.meta.url);

/** The OpenCode version this package pins (`opencode-ai`), whose routes and payloads the adapter speaks; a worker should report it. */
export const OPENCODE_VERSION: string = (JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> })
  .dependencies["opencode-ai"]!;

export type BinarySource = "setting" | "dependency" | "platform-package" | "path";

export interface OpencodeBinary {
  path: string;
  source: BinarySource;
}

/** True for a native executable, false for the stub opencode-ai leaves when its postinstall did not run. */
function isNativeExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    const fd = openSync(path, "r");
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    closeSync(fd);
    const magic = head.readUInt32BE(0);
    return (
      head.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])) || // ELF
      [0xcffaedfe, 0xcefaedfe, 0xfeedfacf, 0xcafebabe].includes(magic) || // Mach-O
      head.subarray(0, 2).toString("latin1") === "MZ" // Windows PE
    );
  } catch {
    return false;
  }
}

/** The platform packages opencode-ai may have installed, most specific first. */
function platformPackageNames(): string[] {
  const platform = process.platform === "win32" ? "windows" : process.platform;
  const base = `opencode-${platform}-${process.arch}`;
  return [base, `${base}-baseline`, `${base}-musl`, `${base}-baseline-musl`];
}

/**
 * Finds the OpenCode binary: an explicit setting, else the opencode-ai dependency's binary (or,
 * if its postinstall did not run, the platform package's), else `opencode` on PATH.
 */
export function resolveOpencodeBinary(explicit?: string | null): OpencodeBinary {
  const setting = explicit || process.env.OCFLEET_OPENCODE_BIN;
  if (setting) {
    if (!existsSync(setting)) throw new FleetError("failed_precondition", `the OpenCode binary ${setting} does not exist`);
    return { path: setting, source: "setting" };
  }
  let packageDir: string | undefined;
  try {
    packageDir = dirname(require.resolve("opencode-ai/package.json"));
    const bundled = join(packageDir, "bin", "opencode.exe");
    if (isNativeExecutable(bundled)) return { path: bundled, source: "dependency" };
  } catch {
    // opencode-ai is not installed
  }
  for (const name of platformPackageNames()) {
    try {
      const dir = dirname(require.resolve(`${name}/package.json`, packageDir ? { paths: [packageDir] } : undefined));
      const binary = join(dir, "bin", process.platform === "win32" ? "opencode.exe" : "opencode");
      if (isNativeExecutable(binary)) return { path: binary, source: "platform-package" };
    } catch {
      // not this variant
    }
  }
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, process.platform === "win32" ? "opencode.exe" : "opencode");
    if (dir && isNativeExecutable(candidate)) return { path: candidate, source: "path" };
    if (dir && existsSync(candidate) && statSync(candidate).isFile()) return { path: candidate, source: "path" };
  }
  throw new FleetError(
    "failed_precondition",
    "no OpenCode binary found: reinstall ocfleet (its opencode-ai dependency), put `opencode` on PATH, or set OCFLEET_OPENCODE_BIN",
  );
}
