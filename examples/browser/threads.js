// The threads demo: runs threads-app's rayon workload on 1 and on 2
// threads, then 8 threads appending to files, and shows the folder the
// program left (read through the module's `app.fs`, between runs).
// Expects threads-app.js and threads-app.wasm beside it:
//
//   wasi-virt pack threads-app.wasm -o threads-app.wasm --dir /tmp --js threads-app.js

const show = (id, text) => {
  document.getElementById(id).textContent = text;
};

try {
  show("isolated", String(globalThis.crossOriginIsolated === true));
  const { instantiate } = await import("./threads-app.js");
  // A threads program runs once per instance (as once per process).
  const work = async (threads) => {
    const app = await instantiate(undefined, { threads: 2 });
    const result = await app.run({ args: ["threads-app", "work", String(threads)] });
    if (result.exitCode !== 0) throw new Error(`work ${threads}: exit ${result.exitCode} ${result.stderrText}`);
    return { line: result.stdoutText.trim(), ms: Number(/(\d+) ms/.exec(result.stdoutText)[1]) };
  };
  show("status", "running rayon on 1 thread…");
  const one = await work(1);
  show("one", one.line);
  show("status", "running rayon on 2 threads…");
  const two = await work(2);
  show("two", two.line);
  show("speedup", `${(one.ms / two.ms).toFixed(2)}×`);

  show("status", "running 8 threads that append to files…");
  const app = await instantiate(undefined, { threads: 8 });
  const result = await app.run({ args: ["threads-app", "append"] });
  show("exit-code", String(result.exitCode));
  show("stdout", result.stdoutText);
  const names = await app.fs.readdir("/tmp");
  const sizes = [];
  for (const name of names) {
    const text = await app.fs.readFile(`/tmp/${name}`, "utf8");
    sizes.push(`${name}: ${text.split("\n").length - 1} lines, first "${text.split("\n")[0]}"`);
  }
  show("files", sizes.join("\n"));
  show("status", "done");
} catch (error) {
  show("status", `failed: ${error.message}`);
}
