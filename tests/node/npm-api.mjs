// The npm package's API as a user's script calls it, on DIR (which holds
// demo-app.wasm, the folder site/ and the guest guest.wasm): packs, merges
// and inspects, writes the outputs into DIR (api-pack.wasm/.js/.d.ts,
// api-merge.wasm) and prints one JSON line: what inspect printed, the
// imports `inspect --json` found, and the CliError a bad module gets.
//
//   node npm-api.mjs DIR      (run from a folder where `wasi-virt` is installed)

import { readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inspect, merge, pack, symlink } from "wasi-virt";

const dir = process.argv[2];

/** A folder on disk as the API takes it: nested objects, symlinks, bytes. */
function folder(path) {
  const out = {};
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isSymbolicLink()) out[entry.name] = symlink(readlinkSync(full));
    else if (entry.isDirectory()) out[entry.name] = folder(full);
    else out[entry.name] = readFileSync(full);
  }
  return out;
}

const app = readFileSync(join(dir, "demo-app.wasm"));
const packed = await pack(app, {
  name: "demo-app.wasm",
  dirs: { "/": folder(join(dir, "site")), "/data": null },
  env: { GREETING: "hi" },
  args: ["a", "b"],
  js: true,
});
writeFileSync(join(dir, "api-pack.wasm"), packed.wasm);
writeFileSync(join(dir, "api-pack.js"), packed.js);
writeFileSync(join(dir, "api-pack.d.ts"), packed.dts);

const merged = await merge(readFileSync(join(dir, "guest.wasm")), { "demo-app.wasm": app });
writeFileSync(join(dir, "api-merge.wasm"), merged.wasm);

const shown = {
  inspect: await inspect(merged.wasm),
  inspectJsonImports: (await inspect(merged.wasm, { json: true })).imports,
};
try {
  await pack(new TextEncoder().encode("not wasm"));
  shown.error = "no error";
} catch (error) {
  shown.error = { name: error.name, message: error.message, exitCode: error.exitCode, stderr: error.stderr };
}
console.log(JSON.stringify(shown));
