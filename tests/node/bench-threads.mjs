// The threads rows of `cargo xtask bench` in Node: a threads output packed
// with `--js` (threads-app, `--clock host`), run through its ES module.
//
//   node bench-threads.mjs WRAPPER.js RUNS
//
// Prints one JSON line: `work1`, `work2` (ms the program measured for its
// rayon workload on 1 and 2 threads, best of RUNS) and `startup` (ms from
// `instantiate()` to the end of a run of `spawn`, which starts a pool of 4
// Workers and four threads: best of RUNS).

import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

const [wrapper, runs] = process.argv.slice(2);
const { instantiate } = await import(pathToFileURL(resolve(wrapper)).href);

async function once(args, threads) {
  const started = performance.now();
  const app = await instantiate(undefined, { threads });
  const result = await app.run({ args });
  if (result.exitCode !== 0) throw new Error(`${args}: exit ${result.exitCode}: ${result.stderrText}`);
  return { text: result.stdoutText, ms: performance.now() - started };
}

async function best(f) {
  let min = Infinity;
  for (let i = 0; i < Number(runs ?? 5); i++) min = Math.min(min, await f());
  return min;
}

const work = (n) => best(async () => Number(/(\d+) ms/.exec((await once(["threads-app", "work", String(n)], 2)).text)[1]));
const work1 = await work(1);
const work2 = await work(2);
const startup = await best(async () => (await once(["threads-app", "spawn"], 4)).ms);
console.log(JSON.stringify({ work1, work2, startup }));
