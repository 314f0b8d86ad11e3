// Times runs of a merged program through its `--js` module: the benchmark
// of BENCHMARKS.md ("Browsers"). Not a test.
//
//   node bench-js.mjs WRAPPER.js RUNS ARG…
//
// Instantiates once, runs the program RUNS times with argv ARG…, and
// prints one JSON line: the instantiation time, each run's time (ms), the
// median, and the first run's stdout (to check the runs did the work).

import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

const [wrapper, runs, ...args] = process.argv.slice(2);
const { instantiate } = await import(pathToFileURL(resolve(wrapper)).href);
let started = performance.now();
const app = await instantiate();
const instantiateMs = performance.now() - started;
const times = [];
let stdout = null;
for (let i = 0; i < Number(runs); i++) {
  started = performance.now();
  const result = await app.run({ args });
  times.push(performance.now() - started);
  if (result.exitCode !== 0) {
    console.error(result.stderrText);
    throw new Error(`run ${i} exited with ${result.exitCode}`);
  }
  stdout ??= result.stdoutText;
}
const sorted = [...times].sort((a, b) => a - b);
const round = (ms) => Math.round(ms * 100) / 100;
console.log(
  JSON.stringify({
    node: process.version,
    instantiateMs: round(instantiateMs),
    medianMs: round(sorted[Math.floor(sorted.length / 2)]),
    minMs: round(sorted[0]),
    runsMs: times.map(round),
    stdout: stdout.trim(),
  }),
);
