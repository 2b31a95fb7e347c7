// Time comes from the client's one clock: no file of the library but src/clock.ts reads the system
// clock, sets a timer of its own or starts work off the event loop (a worker, a child process), as
// the Java build's ArchitectureTest holds the recipes and watches to theirs. The check reads the
// sources with the TypeScript compiler (the build's own), so comments and strings are not code.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as ts from "typescript";

const SRC = join(__dirname, "..", "..", "..", "src");

/** The one file that may do what the check forbids. */
const CLOCK = "clock.ts";
/**
 * Files the check leaves out, each with its reason: what a program that uses the client does (as
 * the Python and Go clients' drivers and examples live outside their library's package).
 */
const LEFT_OUT: Record<string, string> = {
  "conformance-driver.ts": "the conformance suite's driver, a program that uses the client (its log's timestamps, its own pauses)",
};

/** The global timers: `setTimeout(...)` is the system's, `clock.setTimeout(...)` the client's. */
const TIMERS = new Set(["setTimeout", "setInterval", "setImmediate", "clearTimeout", "clearInterval", "clearImmediate"]);
/** `X.y` that reads the system clock or sets a timer. */
const MEMBERS: Record<string, string[]> = {
  Date: ["now"],
  performance: ["now", "timeOrigin"],
  process: ["hrtime", "uptime"],
  AbortSignal: ["timeout"],
  globalThis: [...TIMERS],
  global: [...TIMERS],
};
/** Modules that give timers or work off the event loop. */
const MODULES = new Set(["timers", "timers/promises", "worker_threads", "child_process", "cluster"]);

/** Each use in `source` of what only the clock may use, as "file:line what". */
export function findings(source: string, file: string): string[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const report = (node: ts.Node, what: string) =>
    found.push(`${file}:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1} ${what}`);
  const moduleName = (text: string) => text.replace(/^node:/, "");
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && TIMERS.has(node.text) && !isMemberName(node)) {
      report(node, `the global ${node.text}`);
    } else if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
      const members = MEMBERS[node.expression.text];
      if (members?.includes(node.name.text)) report(node, `${node.expression.text}.${node.name.text}`);
    } else if (ts.isNewExpression(node) && ts.isIdentifier(node.expression)) {
      if (node.expression.text === "Date" && (node.arguments?.length ?? 0) === 0) report(node, "new Date()");
      if (node.expression.text === "Worker") report(node, "new Worker");
    } else if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      if (MODULES.has(moduleName(node.moduleSpecifier.text))) report(node, `import ${node.moduleSpecifier.text}`);
    } else if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "require") {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteral(arg) && MODULES.has(moduleName(arg.text))) report(node, `require ${arg.text}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** Whether `id` names a member (`clock.setTimeout`, `{ setTimeout: … }`, `setTimeout(): …;`), not the global. */
function isMemberName(id: ts.Identifier): boolean {
  const p = id.parent;
  return (
    (ts.isPropertyAccessExpression(p) && p.name === id) ||
    ((ts.isPropertyAssignment(p) || ts.isMethodDeclaration(p) || ts.isMethodSignature(p) || ts.isPropertySignature(p) || ts.isPropertyDeclaration(p)) &&
      p.name === id)
  );
}

function sources(): Map<string, string> {
  const files = readdirSync(SRC).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
  return new Map(files.map((f) => [f, readFileSync(join(SRC, f), "utf8")]));
}

test("only clock.ts reads the system clock or sets a timer of its own", () => {
  const files = sources();
  assert.ok(files.has("client.ts") && files.has(CLOCK));
  for (const left of Object.keys(LEFT_OUT)) assert.ok(files.has(left), `${left} is left out, but there is no such file`);
  const found = [...files].filter(([f]) => f !== CLOCK && !(f in LEFT_OUT)).flatMap(([f, s]) => findings(s, f));
  assert.deepEqual(found, [], "read time and set timers through the client's clock (transport.clock, session.clock)");
});

test("the check sees the clock's own reads and timers, were they anywhere else", () => {
  const found = findings(sources().get(CLOCK)!, "elsewhere.ts");
  for (const what of ["Date.now", "the global setTimeout", "the global clearTimeout"]) {
    assert.ok(found.some((f) => f.endsWith(what)), `${what} in ${found}`);
  }
});

test("each way of breaking the rule is caught; a member of the same name is not", () => {
  const planted: Record<string, string> = {
    "const t = Date.now();": "Date.now",
    "const d = new Date();": "new Date()",
    "const p = performance.now();": "performance.now",
    "const h = process.hrtime.bigint();": "process.hrtime",
    "setTimeout(() => {}, 5);": "the global setTimeout",
    "const i = setInterval(() => {}, 5);": "the global setInterval",
    "setImmediate(() => {});": "the global setImmediate",
    "globalThis.setTimeout(() => {}, 5);": "globalThis.setTimeout",
    "const s = AbortSignal.timeout(5);": "AbortSignal.timeout",
    'import { setTimeout as wait } from "node:timers/promises";': "import node:timers/promises",
    'import { Worker } from "worker_threads";': "import worker_threads",
    'const cp = require("node:child_process");': "require node:child_process",
    "const w = new Worker(file);": "new Worker",
  };
  for (const [source, what] of Object.entries(planted)) {
    const found = findings(source, "planted.ts");
    assert.ok(found.some((f) => f.endsWith(what)), `${source}: ${found}`);
  }
  const fine = [
    "clock.setTimeout(() => {}, 5); clock.clearTimeout(t); const n = clock.now();",
    "const c = { setTimeout: (f: () => void) => f(), now: () => 0 };",
    "interface C { setTimeout(fn: () => void, ms: number): unknown }",
    "const d = new Date(0); // setTimeout( Date.now() in a comment",
    'const s = "setTimeout(Date.now())";',
  ];
  for (const source of fine) assert.deepEqual(findings(source, "fine.ts"), [], source);
});
