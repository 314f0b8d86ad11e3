// Runs a plan against a component that `jco transpile` turned into an ES
// module, through the interface `examples/component-guest` exports
// (`wasi-virt:demo/program`: `run`, `write-file`, `read-file`):
//
//   node run-component.mjs OUT/demo.js PLAN.json
//
// PLAN is `{ "write": [[path, text]], "runs": [{args, env, stdin}],
// "read": [path] }`: the files are written first, in order, then each run,
// then the files read. Prints one JSON object: `{ "writes": [result],
// "runs": [{exitCode, stdout, stderr}], "reads": [result] }`, a result
// being `{ "ok": bytes }` or `{ "err": "ENOENT" }`, bytes as arrays of
// numbers, so that the comparison is byte for byte.

import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [modulePath, planPath] = process.argv.slice(2);
const { program: app } = await import(pathToFileURL(modulePath).href);
const plan = JSON.parse(readFileSync(planPath, "utf8"));
const encode = (text) => new TextEncoder().encode(text ?? "");

// A `result` error comes back as a thrown `ComponentError` whose `payload`
// is the error value (the errno's name).
const attempt = (f) => {
  try {
    return { ok: Array.from(f() ?? []) };
  } catch (e) {
    if (e?.payload === undefined) throw e;
    return { err: e.payload };
  }
};

const result = { writes: [], runs: [], reads: [] };
for (const [path, text] of plan.write ?? []) {
  result.writes.push(attempt(() => app.writeFile(path, encode(text))));
}
for (const run of plan.runs ?? []) {
  const outcome = app.run(run.args, run.env ?? [], encode(run.stdin));
  result.runs.push({
    exitCode: outcome.exitCode,
    stdout: Array.from(outcome.stdout),
    stderr: Array.from(outcome.stderr),
  });
}
for (const path of plan.read ?? []) {
  result.reads.push(attempt(() => app.readFile(path)));
}
console.log(JSON.stringify(result));
