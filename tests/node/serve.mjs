// A tiny static file server for the browser tests and for trying
// examples/browser by hand. Listens on 127.0.0.1 only.
//
//   node serve.mjs DIR [PORT]      (PORT 0 or none: any free port)
//
// Prints `serving DIR at http://127.0.0.1:PORT/` and serves until killed.
// `serve(dir)` does the same for a script (tests/node/browser.mjs).

import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".wasm": "application/wasm",
};

/**
 * Serves `dir` on 127.0.0.1:`port`; resolves to `{ url, close() }`. With
 * `isolated` (the default) every response says the page is cross-origin
 * isolated (COOP `same-origin`, COEP `require-corp`), which threads in a
 * page need (`SharedArrayBuffer`); `isolated: false` leaves that out.
 */
export async function serve(dir, port = 0, { isolated = true } = {}) {
  const headers = isolated
    ? { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" }
    : {};
  const root = resolve(dir);
  const server = createServer(async (request, response) => {
    try {
      const path = decodeURIComponent(new URL(request.url, "http://x").pathname);
      let file = resolve(join(root, path));
      if (file !== root && !file.startsWith(root + sep)) {
        return send(response, 403, "text/plain", "outside the served folder\n", headers);
      }
      if ((await stat(file)).isDirectory()) file = join(file, "index.html");
      const body = await readFile(file);
      send(response, 200, TYPES[extname(file)] ?? "application/octet-stream", body, headers);
    } catch {
      send(response, 404, "text/plain", "not found\n", headers);
    }
  });
  await new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", done);
  });
  const url = `http://127.0.0.1:${server.address().port}/`;
  return { url, close: () => new Promise((done) => server.close(done)) };
}

function send(response, status, type, body, headers) {
  response.writeHead(status, { ...headers, "content-type": type, "cache-control": "no-store" });
  response.end(body);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [dir, port] = process.argv.slice(2);
  if (dir === undefined) {
    console.error("usage: node serve.mjs DIR [PORT]");
    process.exit(2);
  }
  const { url } = await serve(dir, Number(port ?? 0));
  console.log(`serving ${resolve(dir)} at ${url}`);
}
