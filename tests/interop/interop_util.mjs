// interop_util.mjs - shared plumbing of the esptool-js interop tests: command line,
// loading the pinned esptool-js, a capturing terminal, and a small assertion recorder that
// keeps going after a failed check so one run reports every disagreement.

import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

export function parseArgs(argv) {
    const a = {};
    for (let i = 0; i < argv.length; i++) {
        const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(argv[i]);
        if (!m) throw new Error(`bad argument ${argv[i]}`);
        a[m[1]] = m[2] !== undefined ? m[2] : argv[++i];
    }
    // optional: --sim-args "--realism ..." (extra esp32sim options), --tag NAME (work subfolder)
    for (const k of ["sim", "esptooljs", "stub-json", "work"]) {
        if (!a[k]) throw new Error(`missing --${k}`);
    }
    return a;
}

// lib/ (the package's "main") imports its stub JSON files without an import attribute, which
// Node rejects (ERR_IMPORT_ASSERTION_TYPE_MISSING); bundle.js is the same release built into
// one ES module with the stubs inlined, and needs no resolution of other packages.
export async function loadEsptoolJs(dir) {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    const mod = await import(pathToFileURL(path.join(dir, "bundle.js")).href);
    return { mod, version: pkg.version };
}

// IEspLoaderTerminal that records what esptool-js prints (and echoes it).
export function captureTerminal(prefix = "esptool-js | ") {
    const t = {
        lines: [],
        partial: "",
        clean() {},
        write(s) { this.partial += s; },
        writeLine(s) {
            const line = this.partial + s;
            this.partial = "";
            this.lines.push(line);
            process.stdout.write(prefix + line.replace(/\r?\n/g, " ") + "\n");
        },
        has(re) { return this.lines.some((l) => (re instanceof RegExp ? re.test(l) : l.includes(re))); },
        count(re) { return this.lines.filter((l) => (re instanceof RegExp ? re.test(l) : l.includes(re))).length; },
    };
    return t;
}

export class Checks {
    constructor() { this.failed = []; this.passed = 0; }
    ok(cond, what, detail = "") {
        if (cond) { this.passed++; console.log(`ok   - ${what}`); }
        else { this.failed.push(`${what}${detail ? ": " + detail : ""}`); console.log(`FAIL - ${what}${detail ? ": " + detail : ""}`); }
        return !!cond;
    }
    eq(actual, expected, what) {
        const same = JSON.stringify(actual) === JSON.stringify(expected);
        return this.ok(same, what, same ? "" : `got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
    }
    // Runs a step; an exception is a failed check and the step's name says where it stopped.
    async step(what, fn) {
        try {
            const v = await fn();
            console.log(`ok   - ${what}`);
            this.passed++;
            return { ok: true, value: v };
        } catch (e) {
            this.failed.push(`${what}: threw ${e && e.message ? e.message : e}`);
            console.log(`FAIL - ${what}: threw ${e && e.stack ? e.stack : e}`);
            return { ok: false, error: e };
        }
    }
    summary() {
        console.log(`\n${this.passed} checks passed, ${this.failed.length} failed`);
        for (const f of this.failed) console.log(`  FAILED: ${f}`);
        return this.failed.length === 0 ? 0 : 1;
    }
}

// Whole-test deadline: a hung read in the client must fail the test, not CTest's timeout.
export function deadline(ms, onExpire) {
    const t = setTimeout(() => { onExpire(); }, ms);
    t.unref();
    return t;
}

// esptool-js 0.5.7's Transport.read() calls trace() for every chunk whatever its tracing
// flag says, which floods the test log; send those lines to a file in the work folder.
export function traceToFile(transport, file) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const out = fs.createWriteStream(file, { flags: "a" });
    transport.trace = (msg) => { out.write(msg + "\n"); };
    return out;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
