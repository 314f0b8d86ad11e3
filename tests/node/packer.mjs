// Drives the packer page (examples/packer, with the npm package installed
// in its node_modules) in headless Chromium as a person would: chooses a
// program and a folder, types the environment and arguments, presses Pack,
// downloads the packed module into OUT, and prints one JSON line: the
// status, the report the page shows, the download's name and the errors.
//
//   node packer.mjs DIR APP FOLDER ENV ARGS OUT

import { withPage } from "./chromium.mjs";

const [dir, app, folder, env, args, out] = process.argv.slice(2);
if (out === undefined) {
  console.error("usage: node packer.mjs DIR APP FOLDER ENV ARGS OUT");
  process.exit(2);
}
const errors = [];
let result = { status: "not loaded" };
try {
  result = await withPage(dir, "index.html", {}, errors, async (tab) => {
    await tab.setInputFiles("#app", app);
    await tab.setInputFiles("#folder", folder);
    await tab.fill("#env", env);
    await tab.fill("#args", args);
    await tab.click("#pack");
    await tab.waitForFunction(() => {
      const text = document.getElementById("status").textContent;
      return text.startsWith("done") || text === "failed";
    });
    const status = await tab.textContent("#status");
    let download = null;
    if (status.startsWith("done")) {
      const [event] = await Promise.all([tab.waitForEvent("download"), tab.click("#download")]);
      await event.saveAs(out);
      download = event.suggestedFilename();
    }
    return {
      status,
      chosen: await tab.textContent("#chosen"),
      report: await tab.textContent("#report"),
      download,
    };
  });
} catch (error) {
  errors.push(`driver: ${error.message ?? error}`);
}
console.log(JSON.stringify({ ...result, errors }));
process.exit(result.status?.startsWith("done") ? 0 : 1);
