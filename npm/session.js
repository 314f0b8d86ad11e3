// One run of the wasi-virt CLI compiled to WebAssembly (`wasm/wasi-virt.wasm`:
// the CLI built for wasm32-wasip1 and packed by itself, so it imports
// nothing). Each run gets a fresh instance, whose filesystem holds only what
// the caller puts in; the caller reads the outputs back after. No Node
// module is used here: browsers run it as it is.

import { WasiVirtError, compile, instantiate } from "./wasm/wasi-virt.js";

let compiled = null;

/**
 * The CLI's module, compiled once per process or page: from `source` (its
 * bytes) when given on the first call, else fetched beside this file.
 */
export function cliModule(source) {
  compiled ??= compile(source).catch((error) => {
    compiled = null;
    throw explainCompileError(error);
  });
  return compiled;
}

/**
 * Runs `wasi-virt ARGS…` once, in a fresh instance.
 * - `cwd`: its working directory (created if missing; relative paths in
 *   `args` resolve from it),
 * - `env`: more environment variables,
 * - `entries`: what to put into its filesystem first, in order: `[path,
 *   entry]` with `entry` one of `{ file: bytes }`, `{ dir: true }`,
 *   `{ symlink: text }` (absolute paths); an array, or an iterable (sync or
 *   async) that reads each file only when it is asked for,
 * - `outputs`: absolute paths to read back after the run (those that are
 *   files then).
 * Resolves to `{ exitCode, stdout, stderr, stdoutText, stderrText, outputs }`
 * with `outputs` a `Map` from path to bytes.
 */
export async function runCli(args, { cwd = "/", env = {}, entries = [], outputs = [] } = {}) {
  const app = await instantiate(await cliModule());
  await app.fs.mkdir(cwd);
  for await (const [path, entry] of entries) {
    if (entry.file !== undefined) await app.fs.writeFile(path, entry.file);
    else if (entry.symlink !== undefined) await app.fs.symlink(entry.symlink, path);
    else await app.fs.mkdir(path);
  }
  const result = await app.run({ args: ["wasi-virt", ...args], env: { ...env, PWD: cwd } });
  const written = new Map();
  for (const path of outputs) {
    try {
      written.set(path, await app.fs.readFile(path));
    } catch (error) {
      // Not written (the command failed before it), or not a file.
      if (error?.name !== "WasiVirtError") throw error;
    }
  }
  return { ...result, outputs: written };
}

/** The name of a preview1 errno (44: `ENOENT`), or null. */
export function errnoName(errno) {
  const { code } = new WasiVirtError("", "", errno);
  return /^E[A-Z0-9]+$/.test(code) ? code : null;
}

/** Node before 22 and Safari have no WebAssembly multi-memory. */
function explainCompileError(error) {
  if (!(error instanceof WebAssembly.CompileError)) return error;
  const node = globalThis.process?.versions?.node;
  const engine = node ? `Node ${node}` : "this browser";
  return new Error(
    `wasi-virt's WebAssembly CLI needs multi-memory, which ${engine} lacks: use Node 22 or later, Chrome or Firefox (${error.message})`,
  );
}
