#!/usr/bin/env node
// `wasi-virt …` for Node 22+: the CLI compiled to WebAssembly, with no Rust
// and no native binary. A WebAssembly program sees no host files, so this
// front end asks the CLI which files the command reads and writes (it
// parses its own arguments: `WASI_VIRT_LIST_FILES`), copies the inputs into
// the CLI's filesystem at their absolute paths, runs the command in the same
// working directory, then writes the outputs back, each atomically.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";

import { cliModule, errnoName, runCli } from "../session.js";

const LIST = "/.wasi-virt-files";

/** Reused by `readFile`: one buffer for every file, not one each. */
let scratch = Buffer.allocUnsafe(1 << 20);

try {
  if (process.platform === "win32") {
    throw new Error("the npm package runs on Linux and macOS (its paths are POSIX paths); on Windows, run it in WSL");
  }
  // Read at once: the module's own loader reads it asynchronously, which
  // here takes longer than compiling (4 MB in 512 KiB chunks through the
  // thread pool).
  cliModule(fs.readFileSync(new URL("../wasm/wasi-virt.wasm", import.meta.url)));
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`error: ${error.message}\n`);
  process.exitCode = 1;
}

async function main(args) {
  const cwd = guestPath(process.cwd());
  const listed = await runCli(args, { cwd, env: { WASI_VIRT_LIST_FILES: LIST }, outputs: [LIST] });
  if (!listed.outputs.has(LIST)) {
    // `--help`, `--version` or a usage error: the CLI has answered already.
    return report(listed);
  }
  const touched = parseList(listed.outputs.get(LIST));
  const outputs = touched.write.map((file) => guestPath(path.resolve(file)));
  const copiedIn = new Set();
  const result = await runCli(args, { cwd, entries: noting(inputs(touched), copiedIn), outputs });
  const code = report(result);
  const sources = [...touched.read, ...touched.folder].map((p) => realpath(path.resolve(p)));
  for (const file of touched.write) {
    const host = path.resolve(file);
    const bytes = result.outputs.get(guestPath(host));
    // Not written, or an input left as it was (an output that is also an
    // input, which the CLI refuses). Only an input is compared: reading a
    // 100 MiB output of the previous run back costs as much as writing it.
    if (bytes === undefined || (copiedIn.has(guestPath(host)) && sameAsHost(bytes, host))) continue;
    if (sources.includes(realpath(host))) {
      // The CLI cannot see host symlinks; an input is never overwritten.
      throw new Error(`${file}: the output is also an input; inputs are never modified, choose another -o`);
    }
    writeAtomically(host, bytes);
  }
  return code;
}

/**
 * What the command needs in the CLI's filesystem, each file read only when
 * it is put in (a 100 MiB folder is never held twice).
 */
function* inputs(touched) {
  for (const file of [...touched.read, ...touched.folder, ...touched.write]) yield* folders(file);
  for (const file of touched.read) yield* copyIn(path.resolve(file), false);
  for (const folder of touched.folder) yield* copyIn(path.resolve(folder), true);
  // An output that is a folder here is one there (the CLI refuses it).
  for (const file of touched.write) {
    if (isDirectory(path.resolve(file))) yield [guestPath(path.resolve(file)), { dir: true }];
  }
}

/** `entries` as they go by, the path of each file and symlink noted in `paths`. */
function* noting(entries, paths) {
  for (const entry of entries) {
    if (!entry[1].dir) paths.add(entry[0]);
    yield entry;
  }
}

/**
 * Prints what the CLI printed; its exit code. Its messages number errors as
 * WASI does (`No such file or directory (os error 44)`): they get this
 * system's numbers, as the native CLI prints them.
 */
function report(result) {
  process.stdout.write(result.stdout);
  process.stderr.write(
    result.stderrText.replace(/\(os error (\d+)\)/g, (text, errno) => {
      const host = os.constants.errno[errnoName(Number(errno))];
      return host === undefined ? text : `(os error ${host})`;
    }),
  );
  return result.exitCode;
}

/** `read`/`folder`/`write` lists from the CLI's NUL-separated pairs. */
function parseList(bytes) {
  const parts = new TextDecoder().decode(bytes).split("\0");
  parts.pop();
  const touched = { read: [], folder: [], write: [] };
  for (let i = 0; i + 1 < parts.length; i += 2) touched[parts[i]].push(parts[i + 1]);
  return touched;
}

/**
 * The host file or folder `host`: a file's bytes (through symlinks), a
 * folder (`whole`: with everything under it, symlinks as symlinks, as
 * `pack` records them). A missing or unreadable one is left out: the CLI
 * then reports it as the native one does.
 */
function* copyIn(host, whole) {
  let stat;
  try {
    stat = fs.statSync(host);
  } catch {
    return;
  }
  const guest = guestPath(host);
  if (stat.isDirectory()) {
    yield [guest, { dir: true }];
    if (whole) yield* copyTree(host, guest);
  } else if (stat.isFile()) {
    yield [guest, { file: readFile(host) }];
  }
}

function* copyTree(host, guest) {
  for (const entry of fs.readdirSync(host, { withFileTypes: true })) {
    const from = path.join(host, entry.name);
    const to = `${guest}/${entry.name}`;
    if (entry.isSymbolicLink()) yield [to, { symlink: fs.readlinkSync(from) }];
    else if (entry.isDirectory()) {
      yield [to, { dir: true }];
      yield* copyTree(from, to);
    } else if (entry.isFile()) yield [to, { file: readFile(from) }];
    // A socket, a device or a pipe cannot be packed: left out.
  }
}

/**
 * The bytes of the file `host`, in a buffer the next call reuses: each is
 * copied into the CLI's memory before the next file is read. A buffer per
 * file would have V8 collect garbage thousands of times for a big folder.
 */
function readFile(host) {
  const fd = fs.openSync(host, "r");
  try {
    const size = fs.fstatSync(fd).size;
    if (size > scratch.length) scratch = Buffer.allocUnsafe(Math.max(size, 2 * scratch.length));
    let done = 0;
    while (done < size) {
      const read = fs.readSync(fd, scratch, done, size - done, done);
      if (read === 0) break;
      done += read;
    }
    return scratch.subarray(0, done);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The folders on the way to `file`, as written (`out/../app.wasm` goes
 * through `out`), exist for the CLI where they exist here.
 */
function* folders(file) {
  const parts = file.split("/");
  let raw = file.startsWith("/") ? "/" : process.cwd();
  for (const part of parts.slice(0, -1)) {
    raw = `${raw}/${part}`;
    if (isDirectory(raw)) yield [guestPath(path.resolve(raw)), { dir: true }];
  }
}

function isDirectory(host) {
  try {
    return fs.statSync(host).isDirectory();
  } catch {
    return false;
  }
}

/** Whether the host file `host` holds `bytes`. */
function sameAsHost(bytes, host) {
  try {
    return Buffer.compare(bytes, fs.readFileSync(host)) === 0;
  } catch {
    return false;
  }
}

function realpath(host) {
  try {
    return fs.realpathSync(host);
  } catch {
    return host;
  }
}

/** Writes a temporary file beside `host`, then renames it over `host`. */
function writeAtomically(host, bytes) {
  const temporary = path.join(path.dirname(host), `.wasi-virt-${process.pid}-${Date.now()}.tmp`);
  try {
    const fd = fs.openSync(temporary, "wx", 0o644);
    try {
      // In 1 MiB writes: one 100 MiB write took two to eight times longer.
      for (let done = 0; done < bytes.length; ) {
        done += fs.writeSync(fd, bytes, done, Math.min(1 << 20, bytes.length - done));
      }
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, host);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw new Error(`${host}: cannot write the output: ${error.message}`);
  }
}

/** The CLI's path for a host path: the same (POSIX). */
function guestPath(host) {
  return host;
}
