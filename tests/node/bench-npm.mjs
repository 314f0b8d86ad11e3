// The npm package's API with its module compiled once, as a bundler plugin
// or the packer page uses it: `pack` of APP with the folder FOLDER at `/`,
// RUNS times after a first call; prints one JSON line, the first call's and
// the median later call's milliseconds.
//
//   node bench-npm.mjs APP FOLDER RUNS      (from a folder where `wasi-virt` is installed)

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pack } from "wasi-virt";

const [appPath, folderPath, runs = "5"] = process.argv.slice(2);

function folder(path) {
  const out = {};
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    out[entry.name] = entry.isDirectory() ? folder(full) : readFileSync(full);
  }
  return out;
}

const app = readFileSync(appPath);
const dirs = { "/": folder(folderPath) };
const time = async () => {
  const start = performance.now();
  await pack(app, { name: "demo-app.wasm", dirs });
  return performance.now() - start;
};
const first = await time();
const later = [];
for (let i = 0; i < Number(runs); i++) later.push(await time());
later.sort((a, b) => a - b);
console.log(JSON.stringify({ first, median: later[later.length >> 1] }));
