// The bundle: src/cli/main.ts → dist/, one entry plus lazily loaded chunks (the daemon, the TUI,
// sign-in flows). Run by `npm run build` after tsc has type-checked. See docs/architecture.md.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });

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
  outdir: "dist",
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
  // execa, croner and the OpenCode SDK are bundled into the daemon's chunk: as ~270 separate ESM
  // modules they cost the daemon 7 MB of memory (docs/performance.md).
  // commander is bundled into the entry: as a package, resolving and reading its seven files through
  // node_modules cost every command ~7 ms of CPU (docs/performance.md).
  external: ["@napi-rs/keyring", "better-sqlite3", "better-sqlite3-13", "open", "opencode-ai", "ws", "react-devtools-core", "selfsigned"],
  plugins: [lazyChildProcessForCommander],
  define: { "process.env.NODE_ENV": '"production"' },
  // Bundled CommonJS code may require() Node's built-ins; ESM has no require, so give it one.
  banner: { js: "import { createRequire as __ocfleetCreateRequire } from 'node:module'; const require = __ocfleetCreateRequire(import.meta.url);" },
});

// A hash of the bundle: client and daemon compare it, so code from another build is replaced.
const hash = createHash("sha256");
for (const file of readdirSync("dist")
  .filter((f) => f.endsWith(".js"))
  .sort())
  hash.update(readFileSync(`dist/${file}`));
writeFileSync("dist/build-id", hash.digest("hex").slice(0, 10));
