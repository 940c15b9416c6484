#!/usr/bin/env -S node --
// Launcher: check the Node.js version, then hand over to the compiled CLI.
const major = Number(process.versions.node.split(".")[0]);
if (major < 20) {
  process.stderr.write(`ocfleet: needs Node.js 20 or newer; this is ${process.version}\n`);
  process.exit(1);
}

// Node ≥ 22.1 can keep the compiled code of our modules on disk between runs (a few ms of every
// command's start-up); Node 20 has no such cache, and this is then a no-op.
import("node:module")
  .then((nodeModule) => {
    try {
      nodeModule.enableCompileCache?.();
    } catch {
      // A cache that cannot be written (read-only tmp) only costs the time it would have saved.
    }
    return import("../dist/main.js");
  })
  .then(
    ({ main }) => main(process.argv.slice(2)),
    (err) => {
      if (err && err.code === "ERR_MODULE_NOT_FOUND" && String(err.message).includes("dist/main.js")) {
        const root = new URL("..", import.meta.url).pathname;
        process.stderr.write(`ocfleet: not built yet (dist/ is missing); run: npm --prefix ${root} run build\n`);
      } else {
        process.stderr.write(`ocfleet: failed to start: ${err?.stack ? err.stack : err}\n`);
      }
      process.exit(1);
    },
  );
