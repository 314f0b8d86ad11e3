import type { RunResult as CliRun } from "./wasm/wasi-virt.js";

/** Bytes, as the functions take them. */
export type Bytes = ArrayBuffer | ArrayBufferView;

/** A folder for `pack`: relative paths (`"css/site.css"`) to contents or folders. */
export type Folder =
  | { [path: string]: Bytes | string | Blob | Symlink | Folder }
  | Map<string, Bytes | string | Blob | Symlink | Folder>;

/** A symlink in a `Folder`, holding its target's text as given. */
export declare class Symlink {
  constructor(target: string);
  readonly target: string;
}

/** `new Symlink(target)`. */
export declare function symlink(target: string): Symlink;

/** What `pack` and `merge` give. */
export interface Output {
  /** The module, byte for byte what the native CLI writes for the same inputs. */
  wasm: Uint8Array;
  /** The `--js` module, when asked for. */
  js?: string;
  /** Its `.d.ts`. */
  dts?: string;
  /** Warnings, and what `-v` prints. */
  stderr: string;
}

/** Options both `pack` and `merge` take. */
export interface OutputOptions {
  /** The output's file name (the `--js` module loads it by that name). Default `out.wasm`. */
  output?: string;
  /** Also write the `--js` module: `true` (named after `output`) or its file name. */
  js?: boolean | string;
  /** Any other flags, as on the command line: `["--clock", "host", "-v"]`. */
  flags?: string[];
}

/** What `pack` takes beside the program. */
export interface PackOptions extends OutputOptions {
  /** The program's file name: argv[0] by default, and the name in messages. Default `app.wasm`. */
  name?: string;
  /** Mounts: guest path (`"/"`, `"/data"`) to its files, or `null` for an empty writable folder. */
  dirs?: Record<string, Folder | null> | Map<string, Folder | null>;
  /** Guest paths of `dirs` that are mounted read-only (`GUEST=HOST:ro`). */
  readOnly?: string[];
  /** The environment: `{ KEY: "value" }` or `["KEY=value"]`. */
  env?: Record<string, string> | string[];
  /** Arguments after argv[0]. */
  args?: string[];
  /** argv[0]. Default: `name`. */
  argv0?: string;
}

/** What `merge` takes beside the guest and targets. */
export interface MergeOptions extends OutputOptions {
  /** The guest's file name, in messages. Default `guest.wasm`. */
  guestName?: string;
}

/** A command that failed: `message` is its `error:` text. */
export declare class CliError extends Error {
  /** The CLI's exit code (1 for an error, 2 for bad usage). */
  exitCode: number;
  /** Everything it printed on stderr. */
  stderr: string;
}

/** `wasi-virt pack`: the program `app` with the built-in guest. */
export declare function pack(app: Bytes | Blob, options?: PackOptions): Promise<Output>;

/**
 * `wasi-virt merge`: a guest and its targets: one module's bytes, an array,
 * or file names to bytes (a file's stem names its target: `my-app.wasm` is `my_app`).
 */
export declare function merge(
  guest: Bytes | Blob,
  targets: Bytes | Blob | Array<Bytes | Blob> | Record<string, Bytes | Blob>,
  options?: MergeOptions,
): Promise<Output>;

/** `wasi-virt inspect`: text, or with `{ json: true }` the parsed JSON. */
export declare function inspect(module: Bytes | Blob, options?: { json?: false }): Promise<string>;
export declare function inspect(module: Bytes | Blob, options: { json: true }): Promise<unknown>;

/** A file, folder or symlink to put into the CLI's filesystem before a `run`. */
export type Entry = { file: Bytes | string } | { dir: true } | { symlink: string };

/** How one `run` ended: the CLI's exit code and output, and the files asked for. */
export interface RunResult extends CliRun {
  /** The `outputs` asked for that are files after the run, by path. */
  outputs: Map<string, Uint8Array>;
}

/**
 * Any `wasi-virt` command (`["pack", "app.wasm", "-o", "out.wasm"]`) on a
 * filesystem of its own: `entries` put in first (absolute paths), `outputs`
 * read back after, `cwd` its working directory.
 */
export declare function run(
  args: string[],
  options?: { cwd?: string; env?: Record<string, string>; entries?: Array<[string, Entry]>; outputs?: string[] },
): Promise<RunResult>;
