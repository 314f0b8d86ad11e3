// Opens the threads demo (examples/browser/threads.html) in headless
// Chromium and prints what it shows as one JSON line, once it says "done"
// or "failed…".
//
//   node browser-threads.mjs DIR [--not-isolated]
//
// DIR holds the page, its script, threads-app.js and threads-app.wasm.
// `--not-isolated` serves it without COOP/COEP.
// Output: {"isolated", "status", "one", "two", "speedup", "exitCode",
// "stdout", "files", "errors"}.

import { TIMEOUT_MS, withPage } from "./chromium.mjs";

const [dir, flag] = process.argv.slice(2);
if (dir === undefined) {
  console.error("usage: node browser-threads.mjs DIR [--not-isolated]");
  process.exit(2);
}
const errors = [];
let result = { status: "not loaded" };
try {
  result = await withPage(dir, "threads.html", { isolated: flag !== "--not-isolated" }, errors, async (tab) => {
    await tab.waitForFunction(
      () => {
        const text = document.getElementById("status").textContent;
        return text === "done" || text.startsWith("failed");
      },
      null,
      { timeout: TIMEOUT_MS * 2 },
    );
    return tab.evaluate(() => {
      const text = (id) => document.getElementById(id).textContent;
      return {
        isolated: text("isolated"),
        status: text("status"),
        one: text("one"),
        two: text("two"),
        speedup: text("speedup"),
        exitCode: text("exit-code"),
        stdout: text("stdout"),
        files: text("files"),
      };
    });
  });
} catch (error) {
  errors.push(`driver: ${error.message ?? error}`);
}
console.log(JSON.stringify({ ...result, errors }));
