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
//   node bench.mjs copy COPY.wasm RUNS            memory.copy of 64 MiB ($copy)
//
// The shim's files are built from DIR before each run, outside the timing.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const [mode, path, ...rest] = process.argv.slice(2);
const module = await WebAssembly.compile(readFileSync(path));
const times = [];
let out = "";
const warmup = Number(process.env.BENCH_WARMUP ?? 8);

function summary() {
  const all = times.slice(warmup);
  const sorted = [...all].sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      median: sorted[sorted.length >> 1],
      min: sorted[0],
      times: all.map((t) => Math.round(t * 100) / 100),
      out: out.trim(),
    }),
  );
}

if (mode === "merged") {
  const runs = Number(rest[0]) + warmup;
  for (let i = 0; i < runs; i++) {
    const x = new WebAssembly.Instance(module, {}).exports;
    const t0 = performance.now();
    x._start();
    times.push(performance.now() - t0);
    const mem = x.wasi_virt_stdout_ptr ? x.memory ?? x.wasi_virt_memory : null;
    if (x.wasi_virt_stdout_ptr) {
      const buf = (x.memory ?? Object.values(x).find((v) => v instanceof WebAssembly.Memory)).buffer;
      // A single-memory output keeps the guest's memory at a base.
      const base = x.wasi_virt_memory_base ? x.wasi_virt_memory_base() >>> 0 : 0;
      const ptr = base + (x.wasi_virt_stdout_ptr() >>> 0);
      out = new TextDecoder().decode(new Uint8Array(buf, ptr, x.wasi_virt_stdout_len()));
    }
    void mem;
  }
} else if (mode === "shim") {
  const shim = process.env.BROWSER_WASI_SHIM;
  const { WASI, File, Directory, PreopenDirectory, OpenFile, ConsoleStdout } = await import(shim);
  const [dir, runsText, ...args] = rest;
  const runs = Number(runsText) + warmup;
  const load = (folder) =>
    new Map(
      readdirSync(folder).map((name) => {
        const full = join(folder, name);
        return [name, statSync(full).isDirectory() ? new Directory(load(full)) : new File(readFileSync(full))];
      }),
    );
  const tree = load(dir);
  for (let i = 0; i < runs; i++) {
    // A fresh copy of the tree (appends change it); the big file's bytes are shared.
    const copy = (map) =>
      new Map([...map].map(([k, v]) => [k, v instanceof Directory ? new Directory(copy(v.contents)) : new File(v.data)]));
    let stdout = "";
    const fds = [
      new OpenFile(new File([])),
      ConsoleStdout.lineBuffered((line) => (stdout += line + "\n")),
      ConsoleStdout.lineBuffered((line) => (stdout += line + "\n")),
      new PreopenDirectory("/data", copy(tree)),
    ];
    const wasi = new WASI(["bench-app", ...args], [], fds, { debug: false });
    const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi.wasiImport });
    const t0 = performance.now();
    wasi.start(instance);
    times.push(performance.now() - t0);
    out = stdout;
  }
} else if (mode === "copy") {
  const runs = Number(rest[0]) + warmup;
  for (let i = 0; i < runs; i++) {
    const x = new WebAssembly.Instance(module, {}).exports;
    x.copy(); // touch the pages once, as the read does its buffer
    const t0 = performance.now();
    x.copy();
    times.push(performance.now() - t0);
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
summary();
