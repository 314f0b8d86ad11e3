// wasi-virt for JavaScript: `pack`, `merge` and `inspect` as functions, bytes
// and file maps in, bytes out. Each call runs the wasi-virt CLI, compiled to
// WebAssembly, on a filesystem of its own that holds only what the call
// gives it; the outputs are the bytes the native CLI writes for the same
// inputs. Works in browsers (no Node module is used) and Node 22+.

import { runCli } from "./session.js";

export { runCli as run };

/** Where a call's inputs are put, and its working directory. */
const WORK = "/work";

/** A failed command: its exit code and what it printed (`error: …`). */
export class CliError extends Error {
  constructor(result) {
    const text = result.stderrText.trim() || result.stdoutText.trim() || `exit code ${result.exitCode}`;
    super(text.replace(/^error: /, ""));
    this.name = "CliError";
    this.exitCode = result.exitCode;
    this.stderr = result.stderrText;
  }
}

/** A symlink in a folder given to `pack`, holding `target` as given. */
export class Symlink {
  constructor(target) {
    this.target = String(target);
  }
}

/** `new Symlink(target)`. */
export function symlink(target) {
  return new Symlink(target);
}

/**
 * `wasi-virt pack`: the program `app` with the built-in guest. Resolves to
 * `{ wasm, js, dts, stderr }` (`js`/`dts` when `options.js` is set), or
 * rejects with a `CliError`.
 */
export async function pack(app, options = {}) {
  const { name = "app.wasm", output = "out.wasm", dirs = {}, readOnly = [] } = options;
  const { env = {}, args = [], argv0, flags = [] } = options;
  const entries = [[`${WORK}/${fileName(name, "name")}`, { file: await bytesOf(app) }]];
  const argv = ["pack", name, "-o", fileName(output, "output")];
  let folders = 0;
  for (const [guest, folder] of entriesOf(dirs)) {
    if (folder === null || folder === undefined) {
      argv.push("--dir", guest);
      continue;
    }
    const host = `folder-${++folders}`;
    entries.push([`${WORK}/${host}`, { dir: true }], ...(await folderEntries(`${WORK}/${host}`, folder)));
    argv.push("--dir", `${guest}=${host}${readOnly.includes(guest) ? ":ro" : ""}`);
  }
  const list = Array.isArray(env) ? env : Object.entries(env).map(([k, v]) => `${k}=${v}`);
  for (const pair of list) argv.push("--env", pair);
  if (argv0 !== undefined) argv.push("--argv0", argv0);
  argv.push(...flags);
  return finish(argv, entries, output, options.js, args);
}

/**
 * `wasi-virt merge`: a guest and its targets. `targets`: one module's bytes,
 * an array of them, or an object from file name to bytes (a file's stem
 * names its target, as on the command line: `my-app.wasm` is `my_app`).
 * Resolves as `pack`.
 */
export async function merge(guest, targets, options = {}) {
  const { guestName = "guest.wasm", output = "out.wasm", flags = [] } = options;
  const entries = [[`${WORK}/${fileName(guestName, "guestName")}`, { file: await bytesOf(guest) }]];
  const argv = ["merge", guestName];
  let named;
  if (isBytes(targets)) named = [["app.wasm", targets]];
  else if (Array.isArray(targets)) named = targets.map((t, i) => [`target-${i + 1}.wasm`, t]);
  else named = entriesOf(targets);
  for (const [file, bytes] of named) {
    entries.push([`${WORK}/${fileName(file, "target")}`, { file: await bytesOf(bytes) }]);
    argv.push(file);
  }
  argv.push("-o", fileName(output, "output"), ...flags);
  return finish(argv, entries, output, options.js, []);
}

/**
 * `wasi-virt inspect`: a module's imports, exports and wasi-virt manifest,
 * as text, or as an object with `{ json: true }`.
 */
export async function inspect(module, { json = false } = {}) {
  const file = `${WORK}/module.wasm`;
  const argv = ["inspect", "module.wasm", ...(json ? ["--json"] : [])];
  const result = await runCli(argv, { cwd: WORK, entries: [[file, { file: await bytesOf(module) }]] });
  if (result.exitCode !== 0) throw new CliError(result);
  return json ? JSON.parse(result.stdoutText) : result.stdoutText;
}

/** Runs a `merge` or `pack` with its outputs, and collects them. */
async function finish(argv, entries, output, js, args) {
  const jsName = js === true ? `${output.replace(/\.wasm$/, "")}.js` : js;
  const outputs = [`${WORK}/${output}`];
  if (jsName) {
    // As the CLI names it: the file stem, then `.d.mts` for `.mjs`, else `.d.ts`.
    const dot = jsName.lastIndexOf(".");
    const stem = dot > 0 ? jsName.slice(0, dot) : jsName;
    const dts = `${stem}${jsName.endsWith(".mjs") ? ".d.mts" : ".d.ts"}`;
    argv.push("--js", fileName(jsName, "js"));
    outputs.push(`${WORK}/${jsName}`, `${WORK}/${dts}`);
  }
  if (args.length > 0) argv.push("--", ...args);
  const result = await runCli(argv, { cwd: WORK, entries, outputs });
  if (result.exitCode !== 0) throw new CliError(result);
  const text = (path) => (result.outputs.has(path) ? new TextDecoder().decode(result.outputs.get(path)) : undefined);
  return {
    wasm: result.outputs.get(outputs[0]),
    js: text(outputs[1]),
    dts: text(outputs[2]),
    stderr: result.stderrText,
  };
}

/** The entries that put `folder` (an object or a Map, nested) at `base`. */
async function folderEntries(base, folder) {
  const entries = [];
  for (const [name, value] of entriesOf(folder)) {
    const parts = String(name).split("/").filter((p) => p !== "");
    if (parts.length === 0 || parts.some((p) => p === "." || p === "..")) {
      throw new TypeError(`pack: ${JSON.stringify(name)} is not a relative path inside its folder`);
    }
    const path = `${base}/${parts.join("/")}`;
    if (value instanceof Symlink) entries.push([path, { symlink: value.target }]);
    else if (isBytes(value) || typeof value === "string" || isBlob(value)) {
      entries.push([path, { file: await bytesOf(value) }]);
    } else if (value !== null && typeof value === "object") {
      entries.push([path, { dir: true }], ...(await folderEntries(path, value)));
    } else {
      throw new TypeError(`pack: ${JSON.stringify(name)}: expected bytes, a string, a Blob, a Symlink or a folder`);
    }
  }
  return entries;
}

function entriesOf(map) {
  return map instanceof Map ? [...map.entries()] : Object.entries(map);
}

/** A plain file name: the CLI's messages name files by it. */
function fileName(name, what) {
  if (typeof name !== "string" || name === "" || name.includes("/") || name === "." || name === "..") {
    throw new TypeError(`${what}: expected a file name without a folder, got ${JSON.stringify(name)}`);
  }
  return name;
}

function isBytes(value) {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

function isBlob(value) {
  return typeof Blob === "function" && value instanceof Blob;
}

async function bytesOf(value) {
  if (typeof value === "string") return new TextEncoder().encode(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (isBlob(value)) return new Uint8Array(await value.arrayBuffer());
  throw new TypeError("expected bytes (an ArrayBuffer or a typed array), a string or a Blob");
}
