// Runs a merged wasi-virt module the way a web page would: with an EMPTY
// import object, so that instantiation fails if the module imports anything.
//
//   node run.mjs MODULE.wasm [ENTRY]
//
// Calls ENTRY (default `_start`), then writes the stdout and stderr the
// runtime captured (its host API, `wasi_virt_*` exports) to this process's
// stdout and stderr and exits with the program's exit code:
//   - ENTRY returned: wasi_virt_exit_code(), or 0 if that is negative;
//   - ENTRY threw and wasi_virt_exit_code() >= 0: that code (proc_exit
//     unwinds by trapping);
//   - ENTRY threw otherwise: a last stderr line `run.mjs: trap: MESSAGE`,
//     exit 134 (as for an abort).
// A module that cannot be run at all: a last stderr line
// `run.mjs: error: MESSAGE`, exit 125.
// The Rust harness (tests/src/run_node.rs) reads these lines back.

import { readFileSync, writeSync } from "node:fs";

const [path, entry = "_start"] = process.argv.slice(2);
if (path === undefined) {
  fail("usage: node run.mjs MODULE.wasm [ENTRY]");
}

let instance;
try {
  ({ instance } = await WebAssembly.instantiate(readFileSync(path), {}));
} catch (error) {
  fail(`cannot instantiate ${path} with no imports: ${error}`);
}
const api = instance.exports;
for (const name of [
  entry,
  "wasi_virt_exit_code",
  "wasi_virt_stdout_ptr",
  "wasi_virt_stdout_len",
  "wasi_virt_stderr_ptr",
  "wasi_virt_stderr_len",
]) {
  if (typeof api[name] !== "function") fail(`the module exports no function \`${name}\``);
}
if (!(api.memory instanceof WebAssembly.Memory)) {
  fail("the module exports no memory named `memory`");
}

let trap = null;
try {
  api[entry]();
} catch (error) {
  trap = error;
}
const code = api.wasi_virt_exit_code();
writeAll(1, captured(api.wasi_virt_stdout_ptr(), api.wasi_virt_stdout_len()));
writeAll(2, captured(api.wasi_virt_stderr_ptr(), api.wasi_virt_stderr_len()));
if (trap !== null && code < 0) {
  const message = trap instanceof Error ? `${trap.name}: ${trap.message}` : String(trap);
  writeAll(2, new TextEncoder().encode(`run.mjs: trap: ${message}\n`));
  process.exit(134);
}
process.exit(code < 0 ? 0 : code);

// A copy of the bytes at ptr..ptr+len of the exported memory (read after the
// run: a memory.grow detaches earlier views). A single-memory output
// (`merge --single-memory`) exports where the guest's addresses start in its
// one memory; otherwise they start at 0.
function captured(ptr, len) {
  const base = typeof api.wasi_virt_memory_base === "function" ? api.wasi_virt_memory_base() >>> 0 : 0;
  const [start, length] = [base + (ptr >>> 0), len >>> 0];
  if (start + length > api.memory.buffer.byteLength) {
    fail(`captured stdio at ${start}+${length} is past the end of \`memory\``);
  }
  return new Uint8Array(api.memory.buffer, start, length).slice();
}

// Synchronous, so that nothing is lost to process.exit; loops over short
// writes and EAGAIN on a non-blocking pipe.
function writeAll(fd, bytes) {
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
    } catch (error) {
      if (error.code !== "EAGAIN") throw error;
    }
  }
}

function fail(message) {
  writeAll(2, new TextEncoder().encode(`run.mjs: error: ${message}\n`));
  process.exit(125);
}
