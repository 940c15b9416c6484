// `npm run fuzz -- --seconds N [--seed S] [--frames F]`: the protocol fuzzer against a real daemon
// for N seconds with a random seed (printed first, so a failing run can be replayed with --seed).
import { randomInt } from "node:crypto";
import { parseArgs } from "node:util";
import { formatReport, runFuzz } from "./runner.js";

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "60" }, seed: { type: "string" }, frames: { type: "string" } },
});
const seconds = Number(values.seconds);
const seed = values.seed === undefined ? randomInt(2 ** 31) : Number(values.seed);
const frames = values.frames === undefined ? Number.MAX_SAFE_INTEGER : Number(values.frames);
if (!(seconds > 0) || !Number.isInteger(seed) || !(frames > 0)) {
  console.error("usage: npm run fuzz -- [--seconds N] [--seed S] [--frames F]");
  process.exit(2);
}
console.log(`protocol fuzz: seed ${seed} (replay with --seed ${seed}), ${seconds} s`);
const report = await runFuzz({ seed, hostileFrames: frames, seconds, say: (line) => console.log(line) });
console.log(formatReport(report));
process.exit(report.failures.length === 0 ? 0 : 1);
