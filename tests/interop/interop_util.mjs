// interop_util.mjs - shared plumbing of the esptool-js interop tests: command line,
// loading the pinned esptool-js, a capturing terminal, a small assertion recorder that
// keeps going after a failed check so one run reports every disagreement, and the frame of
// one test run (startRun / openLoader: simulator, deadline, wire checks, orderly finish).

import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { SimProcess } from "./sim_process.mjs";
import { SimSerialPort } from "./sim_serial_port.mjs";
import { checkConversation, groupProblems } from "./wire_checks.mjs";

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

export const le32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; };
export const ESP_READ_REG = 0x0a, ESP_SPI_ATTACH = 0x0d, ESP_SPI_FLASH_MD5 = 0x13;

export const ESPTOOLJS_VERSION = "0.5.7";

// One interop run against one simulated unit: the command line, the checks, the simulator
// (work subfolder --tag or defaultTag, the unit's options), the whole-test deadline, and
// run.finish(code): wire conformance of every recorded frame ("(wireWhat)" names what was
// checked), port unplugged, simulator stopped, then atFinish(run) for the test's own
// closing checks, the simulator's log tail, and exit (never returns). Loads esptool-js
// (run.ejs) and checks that it is the pinned release.
export async function startRun({ defaultTag, unit, deadlineMs, wireWhat, atFinish = () => {} }) {
    const args = parseArgs(process.argv.slice(2));
    const checks = new Checks();
    const sim = new SimProcess({
        exe: args.sim,
        dir: path.join(args.work, args.tag || defaultTag),
        unitOpts: Object.entries(unit).map(([k, v]) => `${k}=${v}`),
        extraArgs: args["sim-args"] ? args["sim-args"].split(" ").filter(Boolean) : [],
    });
    const run = { args, checks, sim, port: null, ejs: null };
    let finishing = false;
    run.finish = async (code) => {
        if (finishing) return new Promise(() => {}); // the first caller exits the process
        finishing = true;
        if (run.port) {
            const problems = checkConversation(run.port.tap.frames);
            for (const g of groupProblems(problems)) {
                checks.ok(false, `wire: ${g.kind}`, `${g.count}x, first: ${g.first}`);
                for (const t of g.texts.slice(1, 4)) console.log(`       also: ${t}`);
            }
            if (problems.length === 0) checks.ok(true, `wire: all ${run.port.tap.frames.length} recorded frames conform (${wireWhat})`);
            console.log(`text the unit sent outside SLIP frames: ${JSON.stringify(run.port.tap.rawText().slice(0, 300))}`);
            await run.port.unplug();
        }
        const exit = await sim.stop();
        console.log(`esp32sim exit: ${JSON.stringify(exit)}`);
        checks.ok(exit !== null, "esp32sim stopped on SIGTERM");
        atFinish(run);
        console.log(`--- esp32sim log (tail) ---\n${sim.logTail(25)}\n---`);
        process.exit(checks.summary() || code);
    };
    process.on("unhandledRejection", (e) => {
        checks.ok(false, "no unhandled error", e && e.stack ? e.stack : String(e));
        run.finish(1);
    });
    deadline(deadlineMs, () => {
        checks.ok(false, `test finished within ${deadlineMs / 1000} s`, "deadline hit (a client read hung?)");
        run.finish(1);
    });
    const { mod, version } = await loadEsptoolJs(args.esptooljs);
    // --expect-version: the second pin (esptool-js 0.7.0 through its npm alias)
    checks.eq(version, args["expect-version"] || ESPTOOLJS_VERSION, "installed esptool-js is the pinned release");
    run.ejs = mod;
    return run;
}

// Start the run's simulator (a failed start finishes the run), open run.port (with its
// wire tap) on its unit and put esptool-js on it (newLoader).
export async function openLoader(run, baudrate) {
    let ep;
    try {
        ep = await run.sim.start();
    } catch (e) {
        run.checks.ok(false, "esp32sim started", e.message);
        await run.finish(1);
    }
    run.port = new SimSerialPort({ ...ep, log: (l) => console.log(`port | ${l}`) });
    return newLoader(run, baudrate);
}

// A fresh esptool-js on run.port: a capturing terminal (lines echoed behind prefix), a
// transport whose trace goes to a file, and an ESPLoader at baudrate (ROM rate 115200).
export function newLoader(run, baudrate, prefix = undefined) {
    const term = captureTerminal(prefix);
    const transport = new run.ejs.Transport(run.port, false);
    traceToFile(transport, run.sim.dir + ".trace.log");
    const loader = new run.ejs.ESPLoader({ transport, baudrate, romBaudrate: 115200, terminal: term });
    return { term, transport, loader };
}

// SPI_FLASH_MD5(addr, len) answered by the ROM loader, whose digest is 32 ASCII hex digits.
// esptool-js 0.5.7's flashMd5sum() assumes the stub's raw digest, so on a ROM it hex-encodes
// the first 16 digits: assert exactly that, then the whole answer through checkCommand().
// want: the test's own MD5 (hex); label: what the checks call the region.
export async function checkRomMd5(checks, loader, addr, len, want, tag, label) {
    const where = `0x${addr.toString(16)}, 0x${len.toString(16)}`;
    const r = await checks.step(`${tag}ROM flashMd5sum(${where})`, () => loader.flashMd5sum(addr, len));
    checks.eq(r.value, Buffer.from(want.slice(0, 16), "latin1").toString("hex"),
        `${tag}ROM MD5 as esptool-js derives it (hex of the first 16 ASCII digits)`);
    const req = Buffer.concat([le32(addr), le32(len), le32(0), le32(0)]);
    const full = await checks.step(`${tag}ROM SPI_FLASH_MD5(${where}) via checkCommand`,
        () => loader.checkCommand("calculate md5sum", ESP_SPI_FLASH_MD5, req));
    const d = full.ok && full.value instanceof Uint8Array ? full.value : new Uint8Array(0);
    checks.eq(Buffer.from(d.slice(0, 32)).toString("latin1"), want,
        `${tag}ROM MD5 of ${label} = 32 lowercase ASCII hex digits of the test's MD5`);
}
