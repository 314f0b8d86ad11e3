// The wasm-bindgen page's script: `pkg/demo.js` is what `wasm-bindgen
// --target web --out-dir pkg --out-name demo` wrote for the merged module
// (`demo.wasm`: bindgen-guest + demo-app, `--single-memory=guest-first`).
// Its functions are the guest's `#[wasm_bindgen]` ones.
import init, { list_dir, read_file, run, write_file } from "./pkg/demo.js";

const $ = (id) => document.getElementById(id);
const status = (text) => {
  $("status").textContent = text;
};
const decoder = new TextDecoder();

try {
  const wasmUrl = new URL("./pkg/demo_bg.wasm", import.meta.url);
  const response = await fetch(wasmUrl);
  if (!response.ok) throw new Error(`${wasmUrl}: HTTP ${response.status}`);
  const module = await WebAssembly.compile(await response.arrayBuffer());
  const imports = WebAssembly.Module.imports(module);
  $("module").textContent = wasmUrl.pathname.split("/").pop();
  // The imports left are wasm-bindgen's own, which its JavaScript gives.
  $("imports").textContent = imports.length === 0 ? "none"
    : [...new Set(imports.map((i) => i.module))].join(", ");
  const memories = WebAssembly.Module.exports(module).filter((e) => e.kind === "memory");
  await init({ module_or_path: module });
  $("memory-mode").textContent = `${memories.length} memory, / holds ${list_dir("/").join(", ")}`;
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

$("run").addEventListener("click", () => {
  $("run").disabled = true;
  status("running…");
  try {
    const path = $("file-path").value.trim();
    if (path) write_file(path, new TextEncoder().encode($("file-content").value));
    const outcome = run(["demo-app", ...splitArgs($("args").value)], []);
    $("exit-code").textContent = String(outcome.exitCode);
    $("stdout").textContent = decoder.decode(outcome.stdout);
    $("stderr").textContent = decoder.decode(outcome.stderr);
    outcome.free();
    try {
      $("written").textContent = decoder.decode(read_file("/out/notes.txt"));
    } catch (errno) {
      $("written").textContent = `error: ${errno}`;
    }
    status("done");
  } catch (error) {
    status(`failed: ${error}`);
  } finally {
    $("run").disabled = false;
  }
});
