// The page's script: loads the merged program through the module that
// `wasi-virt merge --js demo.js` wrote, then runs it on each click.
// `?wasm=other.wasm` loads another merged module with the same wrapper
// (the tests load the single-memory output that way).
import { defaultUrl, instantiate } from "./demo.js";

const $ = (id) => document.getElementById(id);
const status = (text) => {
  $("status").textContent = text;
};

const params = new URLSearchParams(location.search);
const wasmUrl = params.has("wasm") ? new URL(params.get("wasm"), location.href) : defaultUrl;

let app;
try {
  const response = await fetch(wasmUrl);
  if (!response.ok) throw new Error(`${wasmUrl}: HTTP ${response.status}`);
  const module = await WebAssembly.compile(await response.arrayBuffer());
  const imports = WebAssembly.Module.imports(module);
  $("module").textContent = wasmUrl.pathname.split("/").pop();
  $("imports").textContent = imports.length === 0 ? "none" : imports.map((i) => `${i.module}::${i.name}`).join(", ");
  app = await instantiate(module);
  $("memory-mode").textContent = "wasi_virt_memory_base" in app.exports
    ? `single memory (guest at ${app.memoryBase})`
    : "multi-memory";
  $("run").disabled = false;
  status("ready");
} catch (error) {
  status(`cannot load the program: ${error}`);
  throw error;
}

// "a 'b c' d" → ["a", "b c", "d"]
function splitArgs(text) {
  const args = [];
  for (const m of text.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) {
    args.push(m[1] ?? m[2] ?? m[3]);
  }
  return args;
}

$("run").addEventListener("click", async () => {
  $("run").disabled = true;
  status("running…");
  try {
    const path = $("file-path").value.trim();
    if (path) await app.fs.writeFile(path, $("file-content").value);
    const result = await app.run({ args: ["demo-app", ...splitArgs($("args").value)] });
    $("exit-code").textContent = String(result.exitCode);
    $("stdout").textContent = result.stdoutText;
    $("stderr").textContent = result.stderrText + (result.trap ? `\n(trap: ${result.trap})` : "");
    status("done");
  } catch (error) {
    status(`failed: ${error}`);
  } finally {
    $("run").disabled = false;
  }
});
