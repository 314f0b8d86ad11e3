// Runs a merged module through the ES module `wasi-virt merge --js` wrote,
// the way an application would, and prints what happened as one JSON line.
//
//   node run-js.mjs WRAPPER.js PLAN.json
//
// PLAN: { "mkdir": [path], "files": {path: text}, "runs": [{args, env,
// stdin}], "read": [path], "readdir": [path], "threads": N }: directories
// made and files written first, then the runs in order, then the reads;
// `threads`, for a threads output, the size of its pool of Workers.
// Output: { "runs": [{exitCode, stdout, stderr, trap}], "files": {path:
// text or "error: CODE"}, "dirs": {path: [name] or "error: CODE"} }.

import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

const [wrapper, planFile] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planFile, "utf8"));
const { instantiate } = await import(pathToFileURL(resolve(wrapper)).href);
const app = await instantiate(undefined, { threads: plan.threads });
for (const path of plan.mkdir ?? []) await app.fs.mkdir(path);
for (const [path, text] of Object.entries(plan.files ?? {})) await app.fs.writeFile(path, text);
const runs = [];
for (const options of plan.runs ?? []) {
  const r = await app.run(options);
  runs.push({ exitCode: r.exitCode, stdout: r.stdoutText, stderr: r.stderrText, trap: r.trap });
}
const attempt = async (f) => {
  try {
    return await f();
  } catch (error) {
    if (error.code === undefined) throw error;
    return `error: ${error.code}`;
  }
};
const files = {};
for (const path of plan.read ?? []) files[path] = await attempt(() => app.fs.readFile(path, "utf8"));
const dirs = {};
for (const path of plan.readdir ?? []) dirs[path] = await attempt(() => app.fs.readdir(path));
console.log(JSON.stringify({ runs, files, dirs }));
