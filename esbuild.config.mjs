// The bundle: src/cli/main.ts → dist/, one entry plus lazily loaded chunks (the daemon, the TUI,
// sign-in flows). Run by `npm run build` after tsc has type-checked. See docs/architecture.md.
// Two passes: esbuild bundles into .esbuild/, then Rollup re-chunks that output into dist/.
import { build } from "esbuild";
import { rollup } from "@rollup/wasm-node";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isAbsolute } from "node:path";

/** esbuild's output, Rollup's input. A sibling of dist/, so source map paths resolve the same from both. */
const STAGE = ".esbuild";
rmSync("dist", { recursive: true, force: true });
rmSync(STAGE, { recursive: true, force: true });

/**
 * commander requires node:child_process as it loads, for executable subcommands we do not have;
 * loading it (with dgram and the rest) costs every command ~3 ms. It gets a stand-in that loads
 * the real module on first use.
 */
const lazyChildProcessForCommander = {
  name: "lazy-child-process-for-commander",
  setup(build) {
    build.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]commander[\\/]/.test(args.importer) ? { path: "lazy-child-process", namespace: "ocfleet-lazy" } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "ocfleet-lazy" }, () => ({
      contents: 'module.exports = { spawn: (...args) => require("node:child_process").spawn(...args) };',
      loader: "js",
    }));
  },
};

await build({
  entryPoints: ["src/cli/main.ts"],
  outdir: STAGE,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: true,
  // The maps point at src/ (shipped with the package) instead of carrying it: a third of the size, and
  // a daemon run with --enable-source-maps (OCFLEET_DEBUG=1) holds every map it loads in memory.
  sourcesContent: false,
  // Smaller code parses faster (the TUI chunk holds Ink and React); names stay for stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
  // Kept as packages: native addons, binaries, files read from their own directory (open's
  // xdg-open), and what is loaded rarely (selfsigned). Ink and React are bundled into the TUI chunk:
  // loading them as ~200 separate modules cost the TUI a third of a second at start. zod, jose,
  // execa and croner are bundled into the daemon's chunk: as ~270 separate ESM modules (the OpenCode
  // SDK's among them, before the adapter dropped it) they cost the daemon 7 MB (docs/performance.md).
  // commander is bundled into the entry: as a package, resolving and reading its seven files through
  // node_modules cost every command ~7 ms of CPU (docs/performance.md).
  external: ["@napi-rs/keyring", "better-sqlite3", "better-sqlite3-13", "open", "opencode-ai", "ws", "react-devtools-core", "selfsigned"],
  plugins: [lazyChildProcessForCommander],
  define: { "process.env.NODE_ENV": '"production"' },
  // Bundled CommonJS code may require() Node's built-ins; ESM has no require, so give it one.
  banner: { js: "import { createRequire as __ocfleetCreateRequire } from 'node:module'; const require = __ocfleetCreateRequire(import.meta.url);" },
});

/**
 * esbuild puts code shared by the entry and any lazily loaded chunk into chunks of its own, one per
 * set of importers: `ocfleet version` loaded 15 small ES modules, and each costs Node's loader
 * ~0.3 ms (Node 20) to ~0.4 ms (Node 24) whatever its size. Rollup knows that whatever the entry
 * imports is already loaded when a lazy chunk runs, and merges accordingly (the entry's static graph
 * becomes 3 modules). It only moves code: no tree-shaking (esbuild's output is already final), and
 * each input chunk's source map is handed on, so the maps still point at src/.
 */
const withInputSourceMaps = {
  name: "input-source-maps",
  load(id) {
    const code = readFileSync(id, "utf8");
    const mapFile = `${id}.map`;
    return existsSync(mapFile) ? { code, map: readFileSync(mapFile, "utf8") } : code;
  },
};
const rechunked = await rollup({
  input: `${STAGE}/main.js`,
  // Packages and Node's built-ins stay imports; our own chunks (relative, or absolute once resolved) are re-chunked.
  external: (id) => !id.startsWith(".") && !isAbsolute(id),
  treeshake: false,
  // The entry may export more than `main` (what lazy chunks import from it) instead of becoming a
  // facade over a chunk, one module load more.
  preserveEntrySignatures: "allow-extension",
  plugins: [withInputSourceMaps],
  onwarn(warning, warn) {
    // esbuild's output is ESM already; a cycle between its chunks would have failed at load.
    if (warning.code !== "CIRCULAR_DEPENDENCY") warn(warning);
  },
});
await rechunked.write({ dir: "dist", format: "es", chunkFileNames: "[name]-[hash].js", sourcemap: true, sourcemapExcludeSources: true });
await rechunked.close();
rmSync(STAGE, { recursive: true, force: true });

// A hash of the bundle: client and daemon compare it, so code from another build is replaced.
const hash = createHash("sha256");
for (const file of readdirSync("dist")
  .filter((f) => f.endsWith(".js"))
  .sort())
  hash.update(readFileSync(`dist/${file}`));
writeFileSync("dist/build-id", hash.digest("hex").slice(0, 10));
