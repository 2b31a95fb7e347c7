// Minimal declarations of the few Node built-ins this package uses. The package has no
// dependency but `typescript` (so no @types/node); these cover only what is called here.
// This file is not emitted: nothing in the public API refers to it.

/** The directory of the running module (CommonJS). */
declare const __dirname: string;

declare const process: {
  argv: string[];
  env: Record<string, string | undefined>;
  exitCode: number | undefined;
  exit(code?: number): never;
  pid: number;
  stdin: unknown;
  stdout: { write(chunk: string, cb?: (err?: Error | null) => void): boolean };
  stderr: { write(chunk: string): boolean };
  on(event: string, listener: (...args: any[]) => void): unknown;
};

declare module "node:readline" {
  interface Interface {
    on(event: "line", listener: (line: string) => void): this;
    on(event: "close", listener: () => void): this;
    close(): void;
  }
  function createInterface(options: { input: unknown; crlfDelay?: number; terminal?: boolean }): Interface;
}

declare module "node:test" {
  interface TestContext {
    skip(message?: string): void;
    diagnostic(message: string): void;
  }
  type TestFn = (t: TestContext) => void | Promise<void>;
  interface TestOptions {
    skip?: boolean | string;
    timeout?: number;
    concurrency?: number | boolean;
  }
  function test(name: string, fn: TestFn): Promise<void>;
  function test(name: string, options: TestOptions, fn: TestFn): Promise<void>;
  function describe(name: string, fn: () => void | Promise<void>): Promise<void>;
  function describe(name: string, options: TestOptions, fn: () => void | Promise<void>): Promise<void>;
  function it(name: string, fn: TestFn): Promise<void>;
  function before(fn: () => void | Promise<void>, options?: { timeout?: number }): void;
  function after(fn: () => void | Promise<void>, options?: { timeout?: number }): void;
  export { test, describe, it, before, after };
}

declare module "node:assert/strict" {
  function ok(value: unknown, message?: string): asserts value;
  function equal<T>(actual: unknown, expected: T, message?: string): asserts actual is T;
  function notEqual(actual: unknown, expected: unknown, message?: string): void;
  function deepEqual<T>(actual: unknown, expected: T, message?: string): asserts actual is T;
  function match(value: string, regExp: RegExp, message?: string): void;
  function throws(block: () => unknown, error?: unknown, message?: string): void;
  function rejects(block: Promise<unknown> | (() => Promise<unknown>), error?: unknown, message?: string): Promise<void>;
  function fail(message?: string): never;
  export { ok, equal, notEqual, deepEqual, match, throws, rejects, fail };
}

declare module "node:child_process" {
  interface ChildProcess {
    pid?: number;
    exitCode: number | null;
    kill(signal?: string): boolean;
    on(event: "exit", listener: (code: number | null, signal: string | null) => void): this;
    stdout: { on(event: "data", listener: (chunk: unknown) => void): void } | null;
    stderr: { on(event: "data", listener: (chunk: unknown) => void): void } | null;
  }
  function spawn(command: string, args: string[], options?: { stdio?: unknown; env?: Record<string, string | undefined> }): ChildProcess;
  export { spawn, ChildProcess };
}

declare module "node:fs" {
  function mkdtempSync(prefix: string): string;
  function rmSync(path: string, options?: { recursive?: boolean; force?: boolean }): void;
  function existsSync(path: string): boolean;
  function readFileSync(path: string, encoding: "utf8"): string;
  function readdirSync(path: string): string[];
  export { mkdtempSync, rmSync, existsSync, readFileSync, readdirSync };
}

declare module "node:os" {
  function tmpdir(): string;
  export { tmpdir };
}

declare module "node:path" {
  function join(...parts: string[]): string;
  export { join };
}
