// Runs the wasm-bindgen build of a merged bindgen-guest (`wasm-bindgen
// --target web` output) in Node, through the guest's own functions, and
// prints the same JSON as run-js.mjs for the same plan, so that the two
// can be compared.
//
//   node run-bindgen.mjs PKG/demo.js PLAN.json
//
// The `web` target's JS runs in Node too: `initSync` with the module's
// bytes instead of a fetch.

import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

const [script, planFile] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planFile, "utf8"));
const pkg = await import(pathToFileURL(resolve(script)).href);
const wasm = readFileSync(resolve(script).replace(/\.js$/, "_bg.wasm"));
pkg.initSync({ module: wasm });

const encoder = new TextEncoder();
const decoder = new TextDecoder();
for (const path of plan.mkdir ?? []) pkg.mkdir(path);
for (const [path, text] of Object.entries(plan.files ?? {})) pkg.write_file(path, encoder.encode(text));
const runs = [];
for (const options of plan.runs ?? []) {
  const env = Array.isArray(options.env)
    ? options.env
    : Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`);
  const outcome = pkg.run(options.args, env);
  runs.push({
    exitCode: outcome.exitCode,
    stdout: decoder.decode(outcome.stdout),
    stderr: decoder.decode(outcome.stderr),
    // A trap is exit code 134 here, without the engine's message.
    trap: null,
  });
  outcome.free();
}
// The guest throws the errno's name.
const attempt = (f) => {
  try {
    return f();
  } catch (error) {
    if (typeof error !== "string") throw error;
    return `error: ${error}`;
  }
};
const files = {};
for (const path of plan.read ?? []) files[path] = attempt(() => decoder.decode(pkg.read_file(path)));
const dirs = {};
for (const path of plan.readdir ?? []) dirs[path] = attempt(() => pkg.list_dir(path));
console.log(JSON.stringify({ runs, files, dirs }));
