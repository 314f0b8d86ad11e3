// Headless Chromium for the browser tests: the system's Chromium
// (`$WASI_VIRT_CHROMIUM`, default /usr/bin/chromium) with a fresh profile
// and every background connection off, on a page of DIR served on
// 127.0.0.1 (serve.mjs); every request not to that server is aborted, so
// nothing reaches the internet.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { serve } from "./serve.mjs";

export const TIMEOUT_MS = 60_000;

/**
 * Opens PAGE of DIR (`serve` options: `isolated`); calls `use(tab)` and
 * resolves to what it returns, then closes everything. Console errors,
 * page errors and aborted requests are pushed onto `errors`.
 */
export async function withPage(dir, page, serveOptions, errors, use) {
  const server = await serve(dir, 0, serveOptions);
  const profile = await mkdtemp(join(tmpdir(), "wasi-virt-chromium-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.WASI_VIRT_CHROMIUM || "/usr/bin/chromium",
      headless: true,
      timeout: TIMEOUT_MS,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
      ],
    });
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(server.url)) return route.continue();
      errors.push(`blocked a request to ${url}`);
      return route.abort();
    });
    const tab = context.pages()[0] ?? (await context.newPage());
    tab.setDefaultTimeout(TIMEOUT_MS);
    tab.on("console", (message) => {
      if (message.type() === "error") errors.push(`console: ${message.text()}`);
    });
    tab.on("pageerror", (error) => errors.push(`page: ${error.message}`));
    await tab.goto(new URL(page, server.url).href);
    return await use(tab);
  } finally {
    await context?.close().catch(() => {});
    await server.close();
    await rm(profile, { recursive: true, force: true });
  }
}
