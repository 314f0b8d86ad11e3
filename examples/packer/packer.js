// The packer page: a program and a folder in (file inputs or drag and drop),
// `pack` from the npm package `wasi-virt` in the page, the packed module out
// as a download, and what `inspect` says of it.

import { inspect, pack } from "wasi-virt";

const $ = (id) => document.getElementById(id);
/** The program: a File. */
let program = null;
/** The folder: relative path to File. */
let files = new Map();

$("app").addEventListener("change", () => choose($("app").files[0] ?? null, files));
$("folder").addEventListener("change", () => {
  // `site/docs/faq.txt`: the first part is the chosen folder itself.
  const chosen = new Map();
  for (const file of $("folder").files) chosen.set(file.webkitRelativePath.split("/").slice(1).join("/"), file);
  choose(program, chosen);
});

const drop = $("drop");
drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", async (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  let app = program;
  let folder = files;
  for (const entry of [...event.dataTransfer.items].map((item) => item.webkitGetAsEntry())) {
    if (entry?.isDirectory) folder = await readFolder(entry, "", new Map());
    else if (entry?.isFile && entry.name.endsWith(".wasm")) app = await new Promise((ok, fail) => entry.file(ok, fail));
  }
  choose(app, folder);
});

/** Every file under a dropped folder, by path relative to it. */
async function readFolder(dir, prefix, out) {
  const reader = dir.createReader();
  for (;;) {
    const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
    if (batch.length === 0) return out;
    for (const entry of batch) {
      if (entry.isDirectory) await readFolder(entry, `${prefix}${entry.name}/`, out);
      else out.set(`${prefix}${entry.name}`, await new Promise((ok, fail) => entry.file(ok, fail)));
    }
  }
}

function choose(app, folder) {
  program = app;
  files = folder;
  const bytes = [...files.values()].reduce((sum, file) => sum + file.size, 0);
  $("chosen").textContent = program
    ? `${program.name} (${program.size} bytes) with ${files.size} files (${bytes} bytes) at /`
    : "No program yet.";
  $("pack").disabled = !program;
  $("status").textContent = program ? "ready" : "choose a program";
}

$("pack").addEventListener("click", async () => {
  $("pack").disabled = true;
  $("download").hidden = true;
  $("status").textContent = "packing…";
  $("report").textContent = "";
  const started = performance.now();
  try {
    const env = $("env").value.split("\n").map((line) => line.trim()).filter(Boolean);
    const args = $("args").value.split(" ").filter(Boolean);
    const folder = Object.fromEntries(files);
    const packed = await pack(program, { name: program.name, dirs: files.size ? { "/": folder } : {}, env, args });
    const name = `${program.name.replace(/\.wasm$/, "")}.packed.wasm`;
    const link = $("download");
    URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(new Blob([packed.wasm], { type: "application/wasm" }));
    link.download = name;
    link.textContent = `Download ${name} (${packed.wasm.length} bytes)`;
    link.hidden = false;
    $("report").textContent = packed.stderr + (await inspect(packed.wasm));
    $("status").textContent = `done in ${Math.round(performance.now() - started)} ms`;
  } catch (error) {
    $("report").textContent = error.message;
    $("status").textContent = "failed";
  } finally {
    $("pack").disabled = !program;
  }
});
