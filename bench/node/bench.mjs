// The in-process timings of `cargo xtask bench` (Node ≥ 22): each mode
// compiles its module once, then per run makes a fresh instance and times
// the call with performance.now(); prints one JSON line with the median and
// the minimum in ms, every time, and the program's output of the last run.
//
// Before the timed runs, WARMUP runs (env BENCH_WARMUP, default 8) are made
// the same way and not counted, on both sides alike: V8 runs wasm first with
// its baseline compiler (Liftoff) and JS in its interpreter, and tiers hot
// functions up in the background, so the first runs of either side measure
// the compilers, not the calls (on a busy 2-core machine the merged open
// workload took 17-26 ms per run for the first 5 or so runs, 8-9 ms after).
//
//   node bench.mjs merged OUT.wasm RUNS           import-free wasi-virt output
//   node bench.mjs shim APP.wasm DIR RUNS ARGS…   browser_wasi_shim, DIR as /data
//   node bench.mjs pair OUT.wasm APP.wasm DIR RUNS ARGS…
//                                                 both, taking turns run by run
//   node bench.mjs copy COPY.wasm RUNS            memory.copy of 64 MiB ($copy)
//
// `pair` is what a ratio should come from: this machine's speed drifts by
// tens of percent over minutes, and runs that alternate see the same
// drift. It prints {"merged": {…}, "shim": {…}}, each as the other modes do.
//
// No garbage collection is forced between runs: tried (node --expose-gc,
// gc() before each timed run), it made the merged runs slower, not the
// comparison fairer (append 6.2 -> 7.2 ms, readdir 5.5 -> 7.8 ms).
//
// The shim's files are built from DIR before each run, outside the timing.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const warmup = Number(process.env.BENCH_WARMUP ?? 8);
const compile = (path) => WebAssembly.compile(readFileSync(path));

function summary(times, out) {
  const all = times.slice(warmup);
  const sorted = [...all].sort((a, b) => a - b);
  return {
    median: sorted[sorted.length >> 1],
    min: sorted[0],
    times: all.map((t) => Math.round(t * 100) / 100),
    out: out.trim(),
  };
}

/// One run of an import-free output: [ms, captured stdout].
function runMerged(module) {
  const x = new WebAssembly.Instance(module, {}).exports;
  const t0 = performance.now();
  x._start();
  const ms = performance.now() - t0;
  let out = "";
  if (x.wasi_virt_stdout_ptr) {
    const buf = (x.memory ?? Object.values(x).find((v) => v instanceof WebAssembly.Memory)).buffer;
    // A single-memory output keeps the guest's memory at a base.
    const base = x.wasi_virt_memory_base ? x.wasi_virt_memory_base() >>> 0 : 0;
    const ptr = base + (x.wasi_virt_stdout_ptr() >>> 0);
    out = new TextDecoder().decode(new Uint8Array(buf, ptr, x.wasi_virt_stdout_len()));
  }
  return [ms, out];
}

/// A runner of the unmerged program under browser_wasi_shim, with the
/// files of `dir` as /data: () => [ms, stdout].
async function shimRunner(module, dir, args) {
  const { WASI, File, Directory, PreopenDirectory, OpenFile, ConsoleStdout } = await import(
    process.env.BROWSER_WASI_SHIM
  );
  const load = (folder) =>
    new Map(
      readdirSync(folder).map((name) => {
        const full = join(folder, name);
        return [name, statSync(full).isDirectory() ? new Directory(load(full)) : new File(readFileSync(full))];
      }),
    );
  const tree = load(dir);
  return () => {
    // A fresh copy of the tree (appends change it); the big file's bytes are shared.
    const copy = (map) =>
      new Map([...map].map(([k, v]) => [k, v instanceof Directory ? new Directory(copy(v.contents)) : new File(v.data)]));
    let stdout = "";
    const fds = [
      new OpenFile(new File([])),
      ConsoleStdout.lineBuffered((line) => (stdout += line + "\n")),
      ConsoleStdout.lineBuffered(() => {}), // stderr: bench-app's own elapsed_ns
      new PreopenDirectory("/data", copy(tree)),
    ];
    const wasi = new WASI(["bench-app", ...args], [], fds, { debug: false });
    const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi.wasiImport });
      const t0 = performance.now();
    wasi.start(instance);
    return [performance.now() - t0, stdout];
  };
}

/// Runs `run` warmup + `runs` times: {median, min, times, out}.
function measure(run, runs) {
  const times = [];
  let out = "";
  for (let i = 0; i < runs + warmup; i++) {
    let ms;
    [ms, out] = run();
    times.push(ms);
  }
  return summary(times, out);
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === "merged") {
  const [path, runs] = rest;
  const module = await compile(path);
  console.log(JSON.stringify(measure(() => runMerged(module), Number(runs))));
} else if (mode === "shim") {
  const [path, dir, runs, ...args] = rest;
  const run = await shimRunner(await compile(path), dir, args);
  console.log(JSON.stringify(measure(run, Number(runs))));
} else if (mode === "pair") {
  const [merged, app, dir, runs, ...args] = rest;
  const module = await compile(merged);
  const shim = await shimRunner(await compile(app), dir, args);
  const times = { merged: [], shim: [] };
  const outs = { merged: "", shim: "" };
  for (let i = 0; i < Number(runs) + warmup; i++) {
    let ms;
    [ms, outs.merged] = runMerged(module);
    times.merged.push(ms);
    [ms, outs.shim] = shim();
    times.shim.push(ms);
  }
  console.log(
    JSON.stringify({
      merged: summary(times.merged, outs.merged),
      shim: summary(times.shim, outs.shim),
    }),
  );
} else if (mode === "copy") {
  const [path, runs] = rest;
  const module = await compile(path);
  const run = () => {
    const x = new WebAssembly.Instance(module, {}).exports;
    x.copy(); // touch the pages once, as the read does its buffer
      const t0 = performance.now();
    x.copy();
    return [performance.now() - t0, ""];
  };
  console.log(JSON.stringify(measure(run, Number(runs))));
} else {
  throw new Error(`unknown mode ${mode}`);
}
