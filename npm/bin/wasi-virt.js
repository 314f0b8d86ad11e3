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

import { errnoName, runCli } from "../session.js";

const LIST = "/.wasi-virt-files";

try {
  if (process.platform === "win32") {
    throw new Error("the npm package runs on Linux and macOS (its paths are POSIX paths); on Windows, run it in WSL");
  }
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
  const entries = [];
  for (const file of [...touched.read, ...touched.folder, ...touched.write]) placeFolders(file, entries);
  for (const file of touched.read) copyIn(path.resolve(file), entries, false);
  for (const folder of touched.folder) copyIn(path.resolve(folder), entries, true);
  for (const output of touched.write) placeOutput(path.resolve(output), entries);
  const outputs = touched.write.map((file) => guestPath(path.resolve(file)));
  const result = await runCli(args, { cwd, entries, outputs });
  const code = report(result);
  const inputs = [...touched.read, ...touched.folder].map((p) => realpath(path.resolve(p)));
  const copied = new Map(entries.filter(([, entry]) => entry.file).map(([guest, entry]) => [guest, entry.file]));
  for (const file of touched.write) {
    const host = path.resolve(file);
    const bytes = result.outputs.get(guestPath(host));
    // Not written, or a file copied in and left as it was (an output that
    // is also an input, which the CLI refuses).
    if (bytes === undefined || sameBytes(bytes, copied.get(guestPath(host)))) continue;
    if (inputs.includes(realpath(host))) {
      // The CLI cannot see host symlinks; an input is never overwritten.
      throw new Error(`${file}: the output is also an input; inputs are never modified, choose another -o`);
    }
    writeAtomically(host, bytes);
  }
  return code;
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
 * Puts the host file or folder `host` into `entries`: a file's bytes
 * (through symlinks), a folder (`whole`: with everything under it, symlinks
 * as symlinks, as `pack` records them). A missing or unreadable one is left
 * out: the CLI then reports it as the native one does.
 */
function copyIn(host, entries, whole) {
  let stat;
  try {
    stat = fs.statSync(host);
  } catch {
    return;
  }
  const guest = guestPath(host);
  if (stat.isDirectory()) {
    entries.push([guest, { dir: true }]);
    if (whole) copyTree(host, guest, entries);
  } else if (stat.isFile()) {
    entries.push([guest, { file: fs.readFileSync(host) }]);
  }
}

function copyTree(host, guest, entries) {
  for (const entry of fs.readdirSync(host, { withFileTypes: true })) {
    const from = path.join(host, entry.name);
    const to = `${guest}/${entry.name}`;
    if (entry.isSymbolicLink()) entries.push([to, { symlink: fs.readlinkSync(from) }]);
    else if (entry.isDirectory()) {
      entries.push([to, { dir: true }]);
      copyTree(from, to, entries);
    } else if (entry.isFile()) entries.push([to, { file: fs.readFileSync(from) }]);
    // A socket, a device or a pipe cannot be packed: left out.
  }
}

/**
 * The folders on the way to `file`, as written (`out/../app.wasm` goes
 * through `out`), exist for the CLI where they exist here.
 */
function placeFolders(file, entries) {
  const parts = file.split("/");
  let raw = file.startsWith("/") ? "/" : process.cwd();
  for (const part of parts.slice(0, -1)) {
    raw = `${raw}/${part}`;
    if (isDirectory(raw)) entries.push([guestPath(path.resolve(raw)), { dir: true }]);
  }
}

/** An output that is a folder here is one there (the CLI refuses it). */
function placeOutput(host, entries) {
  if (isDirectory(host)) entries.push([guestPath(host), { dir: true }]);
}

function isDirectory(host) {
  try {
    return fs.statSync(host).isDirectory();
  } catch {
    return false;
  }
}

function sameBytes(a, b) {
  return b !== undefined && a.length === b.length && Buffer.compare(a, b) === 0;
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
    fs.writeFileSync(temporary, bytes, { mode: 0o644 });
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
