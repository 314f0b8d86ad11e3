// Runs a merged module whose guest stays in control of its target
// (`wrap_unreachable!`), as examples/runner-guest is, with an EMPTY import
// object:
//
//   node runner.mjs MODULE.wasm once [ARG…]
//     sets the program's arguments to `app ARG…` (`wasi_virt_set_args`),
//     calls `_start`, and prints one JSON line: {"code", "trap", "stdout",
//     "stderr"}, the exit code and captured stdio, as run.mjs reads them.
//
//   node runner.mjs MODULE.wasm reruns N
//     runs the program N times in ONE instance (`runner_reset`, new
//     arguments, environment and input file, `runner_run`), each with its
//     own inputs, and compares every run with the same run in a FRESH
//     instance; prints {"runs": N, "equal": N} or the first difference.
//
// The Rust side is tests/tests/unwind.rs; a module that cannot be run at
// all prints {"error": MESSAGE}.

import { readFileSync } from "node:fs";

const [path, mode, ...rest] = process.argv.slice(2);
const enc = new TextEncoder();
const dec = new TextDecoder();

let module;
try {
  module = await WebAssembly.compile(readFileSync(path));
} catch (error) {
  done({ error: `cannot compile ${path}: ${error}` });
}

function instantiate() {
  try {
    return new WebAssembly.Instance(module, {}).exports;
  } catch (error) {
    done({ error: `cannot instantiate ${path} with no imports: ${error}` });
  }
}

function put(x, bytes) {
  const ptr = x.wasi_virt_alloc(bytes.length);
  new Uint8Array(x.memory.buffer, ptr, bytes.length).set(bytes);
  return [ptr, bytes.length];
}

function list(items) {
  return enc.encode(items.map((s) => `${s}\0`).join(""));
}

function check(what, errno) {
  if (errno !== 0) done({ error: `${what} failed with errno ${errno}` });
}

function captured(x, ptr, len) {
  return dec.decode(new Uint8Array(x.memory.buffer, ptr >>> 0, len >>> 0).slice());
}

function outcome(x, code, trap) {
  return {
    code,
    trap,
    stdout: captured(x, x.wasi_virt_stdout_ptr(), x.wasi_virt_stdout_len()),
    stderr: captured(x, x.wasi_virt_stderr_ptr(), x.wasi_virt_stderr_len()),
  };
}

// What run `i` of `reruns` gives the program: its own arguments (of
// varying length, so that the heap grows by different amounts), its own
// environment, an input file or none, and now and then an exit or a panic
// in the middle of its work.
function inputs(i) {
  const words = ["echo", `run${i}`];
  for (let w = 0; w < i % 5; w++) words.push("x".repeat((i * 7 + w) % 13 + 1));
  const env = [`RUN=${i}`];
  if (i % 10 === 7) env.push("END=panic");
  if (i % 10 === 8) env.push(`END=exit:${i % 256}`);
  const file = i % 4 === 3 ? null : `input of run ${i}`;
  return { args: ["app", ...words], env, file };
}

function setUp(x, { args, env, file }) {
  check("wasi_virt_set_args", x.wasi_virt_set_args(...put(x, list(args))));
  check("wasi_virt_set_env", x.wasi_virt_set_env(...put(x, list(env))));
  if (file !== null) {
    check(
      "wasi_virt_write_file",
      x.wasi_virt_write_file(...put(x, enc.encode("/data/in.txt")), ...put(x, enc.encode(file))),
    );
  }
}

function run(x) {
  let code = null;
  let trap = null;
  try {
    code = x.runner_run();
  } catch (error) {
    trap = String(error);
  }
  return outcome(x, code, trap);
}

if (mode === "once") {
  const x = instantiate();
  check("wasi_virt_set_args", x.wasi_virt_set_args(...put(x, list(["app", ...rest]))));
  let trap = null;
  try {
    x._start();
  } catch (error) {
    trap = String(error);
  }
  const code = x.wasi_virt_exit_code();
  done(outcome(x, trap === null || code >= 0 ? Math.max(code, 0) : null, code >= 0 ? null : trap));
} else if (mode === "reruns") {
  const n = Number(rest[0]);
  const shared = instantiate();
  for (let i = 0; i < n; i++) {
    shared.wasi_virt_clear();
    shared.runner_reset();
    setUp(shared, inputs(i));
    const again = run(shared);
    const fresh = instantiate();
    setUp(fresh, inputs(i));
    const first = run(fresh);
    if (JSON.stringify(again) !== JSON.stringify(first)) {
      done({ runs: n, equal: i, run: i, shared: again, fresh: first });
    }
  }
  done({ runs: n, equal: n });
} else {
  done({ error: "usage: node runner.mjs MODULE.wasm once [ARG…] | reruns N" });
}

function done(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
