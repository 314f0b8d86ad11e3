// Drives the example page (examples/browser) in headless Chromium, as a
// person would: types the arguments and a file, clicks Run, waits for the
// result, and prints what the page shows as one JSON line.
//
//   node browser.mjs DIR PAGE [ARGS] [FILE_PATH] [FILE_CONTENT]
//
// DIR is served on 127.0.0.1 (serve.mjs); PAGE is the page's path and
// query (`index.html?wasm=demo-single.wasm`). Chromium is the system's
// (`$WASI_VIRT_CHROMIUM`, default /usr/bin/chromium), started with a fresh
// profile and with every background connection off; every request that is
// not to the local server is aborted, so nothing reaches the internet.
//
// Output: {"status", "exitCode", "stdout", "stderr", "memoryMode",
// "imports", "module", "written" (null if the page has no #written),
// "errors": [console errors, page errors, aborted
// requests]}. Exit code 0 when the page said "done", else 1.

import { withPage } from "./chromium.mjs";

const [dir, page, args, filePath, fileContent] = process.argv.slice(2);
if (page === undefined) {
  console.error("usage: node browser.mjs DIR PAGE [ARGS] [FILE_PATH] [FILE_CONTENT]");
  process.exit(2);
}
let result = { status: "not loaded" };
const errors = [];
try {
  result = await withPage(dir, page, {}, errors, async (tab) => {
    await tab.waitForFunction(() => document.getElementById("status").textContent !== "loading…");
    if (args !== undefined) await tab.fill("#args", args);
    if (filePath !== undefined) await tab.fill("#file-path", filePath);
    if (fileContent !== undefined) await tab.fill("#file-content", fileContent);
    if ((await tab.textContent("#status")) === "ready") {
      await tab.click("#run");
      await tab.waitForFunction(() => {
        const text = document.getElementById("status").textContent;
        return text === "done" || text.startsWith("failed");
      });
    }
    return await tab.evaluate(() => {
      const text = (id) => document.getElementById(id).textContent;
      return {
        status: text("status"),
        exitCode: text("exit-code") === "" ? null : Number(text("exit-code")),
        stdout: text("stdout"),
        stderr: text("stderr"),
        memoryMode: text("memory-mode"),
        imports: text("imports"),
        module: text("module"),
        // Pages that read a file back after the run show it here.
        written: document.getElementById("written")?.textContent ?? null,
      };
    });
  });
} catch (error) {
  errors.push(`driver: ${error.message ?? error}`);
}
console.log(JSON.stringify({ ...result, errors }));
process.exit(result.status === "done" ? 0 : 1);
