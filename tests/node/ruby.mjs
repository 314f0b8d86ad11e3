// Runs Ruby code in a packed ruby.wasm (`wasi-virt pack ruby+stdlib.wasm
// --stub-imports rb-js-abi-host`) the way @ruby/wasm-wasi's RubyVM does, but
// with no WASI and no JS interop: the import object holds only ruby.wasm's
// own `canonical_abi` resource table, which is all its eval API needs.
//
//   node ruby.mjs PACKED.wasm 'puts "hello"'
//
// Writes the captured stdout and stderr (the packed guest's host API) to
// this process's, then exits with 0 when the code ran, 1 when it raised,
// or 134 with a last stderr line `ruby.mjs: trap: MESSAGE`.

import { readFileSync, writeSync } from "node:fs";

const [path, code] = process.argv.slice(2);
const resources = new Map();
let next = 1;
const imports = {
  canonical_abi: {
    "resource_new_rb-abi-value": (value) => {
      resources.set(next, value);
      return next++;
    },
    "resource_get_rb-abi-value": (handle) => resources.get(handle),
    "resource_drop_js-abi-value": (handle) => {
      resources.delete(handle);
    },
  },
};
const { instance } = await WebAssembly.instantiate(readFileSync(path), imports);
const x = instance.exports;
// ruby.wasm's exports are named after their WIT signature: `ruby-init: func(…)`.
const f = (name) => x[Object.keys(x).find((k) => k === name || k.startsWith(name + ":"))];
const enc = new TextEncoder();
const view = () => new DataView(x.app_memory.buffer);
// A NUL-terminated string in ruby's memory (its C side reads up to the NUL).
const str = (s) => {
  const bytes = enc.encode(s + "\0");
  const ptr = x.cabi_realloc(0, 0, 1, bytes.length);
  new Uint8Array(x.app_memory.buffer).set(bytes, ptr);
  return [ptr, bytes.length - 1];
};
const list = (items) => {
  const ptr = x.cabi_realloc(0, 0, 4, items.length * 8);
  items.forEach((s, i) => {
    const [p, len] = str(s);
    view().setUint32(ptr + i * 8, p, true);
    view().setUint32(ptr + i * 8 + 4, len, true);
  });
  return [ptr, items.length];
};

let status = 0;
let trap = null;
try {
  x._initialize();
  f("ruby-init")(...list(["ruby.wasm", "-EUTF-8", "-e_=0"]));
  f("ruby-init-loadpath")();
  const result = f("rb-eval-string-protect")(...str(code));
  status = view().getInt32(result + 4, true) === 0 ? 0 : 1;
} catch (error) {
  trap = error;
}
const captured = (ptr, len) => new Uint8Array(x.memory.buffer, ptr >>> 0, len >>> 0).slice();
writeAll(1, captured(x.wasi_virt_stdout_ptr(), x.wasi_virt_stdout_len()));
writeAll(2, captured(x.wasi_virt_stderr_ptr(), x.wasi_virt_stderr_len()));
if (trap !== null) {
  writeAll(2, enc.encode(`ruby.mjs: trap: ${trap}\n`));
  process.exit(134);
}
process.exit(status);

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
