// bench.mjs - the whole benchmark (see README.md): one 4 MiB unit at several bauds by the
// station and by esptool-js on esp32sim --realism, the station's engine with 1..32 units
// in parallel, the record store's audit figure; prints the tables with PASS/MISS per
// target and writes them as CSV and Markdown under BUILD/bench/results/.
//
// usage: node bench/bench.mjs BUILD_DIR [--bauds 1500000,921600,115200] [--units 1,8,16,32]
//                                       [--engine-baud 1500000] [--skip-audit]
// Targets are reported, never asserted: the exit status is 0 when every run completed
// (flashed and verified), 1 otherwise.

import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const SRC = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const IMAGE_OFFSET = 0x10000;
const IMAGE_LEN = 4 * 1024 * 1024;
const UNIT_OPTS = ["flash=16M"];

function parseArgs(argv) {
    const a = { bauds: "1500000,921600,115200", units: "1,8,16,32", "engine-baud": "1500000" };
    const rest = [];
    for (let i = 0; i < argv.length; i++) {
        const m = /^--([a-z-]+)$/.exec(argv[i]);
        if (m && m[1] === "skip-audit") a.skipAudit = true;
        else if (m) a[m[1]] = argv[++i];
        else rest.push(argv[i]);
    }
    a.build = path.resolve(rest[0] || path.join(SRC, "build"));
    a.bauds = a.bauds.split(",").map(Number);
    a.units = a.units.split(",").map(Number);
    a.engineBaud = Number(a["engine-baud"]);
    return a;
}

const args = parseArgs(process.argv.slice(2));
const B = args.build;
const P = {
    sim: path.join(B, "tests/sim/esp32sim"),
    station: path.join(B, "station/station"),
    gen: path.join(B, "bench/bench_gen_image"),
    flash: path.join(B, "bench/bench_flash"),
    floor: path.join(B, "bench/bench_floor"),
    sizes: path.join(B, "bench/bench_sizes"),
    rusage: path.join(B, "bench/bench_rusage"),
    audit: path.join(B, "db/bench_audit"),
    ejsPrefix: path.join(B, "tests/interop"),
};
P.ejsDir = path.join(P.ejsPrefix, "node_modules/esptool-js");
P.ejsStub = path.join(P.ejsDir, "lib/targets/stub_flasher/stub_flasher_32.json");
const WORK = path.join(B, "bench/work");
const RESULTS = path.join(B, "bench/results");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const problems = []; // runs that did not complete: reported at the end, exit status 1

function log(s) { process.stdout.write(s + "\n"); }

// Run a program; resolves {code, out, err}. Output is kept (and optionally saved).
function run(cmd, argv, { save } = {}) {
    return new Promise((resolve) => {
        const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
        let out = "", err = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (err += d));
        child.on("error", (e) => resolve({ code: 127, out, err: err + String(e) }));
        child.on("close", (code, sig) => {
            if (save) fs.writeFileSync(save, out + (err ? `\n--- stderr ---\n${err}` : ""));
            resolve({ code: code === null ? 128 : code, sig, out, err });
        });
    });
}

function jsonOf(text) {
    const i = text.indexOf("{");
    try { return i < 0 ? null : JSON.parse(text.slice(i, text.lastIndexOf("}") + 1)); } catch { return null; }
}

// esp32sim with PTY units (the station's path) and --realism; stop() ends it.
async function startSim(dir, units) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const argv = ["--dir", dir, "--units", String(units), "--realism", "--quiet"];
    for (let k = 1; k <= units; k++) for (const o of UNIT_OPTS) argv.push("--unit-opt", `${k}:${o}`);
    const logFd = fs.openSync(dir + ".esp32sim.log", "w");
    const child = spawn(P.sim, argv, { stdio: ["ignore", logFd, logFd] });
    fs.closeSync(logFd);
    let exited = null;
    child.on("exit", (c, s) => (exited = { c, s }));
    const deadline = performance.now() + 30000;
    while (!fs.existsSync(path.join(dir, "ready"))) {
        if (exited || performance.now() > deadline) throw new Error(`esp32sim did not start (see ${dir}.esp32sim.log)`);
        await sleep(20);
    }
    return {
        async stop() {
            if (!exited) child.kill("SIGTERM");
            for (let i = 0; i < 250 && !exited; i++) await sleep(20);
            if (!exited) child.kill("SIGKILL");
        },
    };
}

async function ensureTools() {
    const missing = ["sim", "station", "gen", "flash", "floor", "sizes", "rusage"].filter((k) => !fs.existsSync(P[k]));
    if (missing.length) throw new Error(`not built in ${B}: ${missing.map((k) => P[k]).join(", ")} (cmake --build ${B} -j2)`);
    if (!fs.existsSync(P.ejsStub)) {
        const cm = fs.readFileSync(path.join(SRC, "tests/interop/esptooljs_paths.cmake"), "utf8");
        const version = /set\(ST_ESPTOOLJS_VERSION\s+([^)\s]+)\)/.exec(cm)[1];
        log(`esptool-js ${version} not installed in ${P.ejsPrefix}: running the interop fixture (npm ci)`);
        const r = await run("sh", [path.join(SRC, "tests/interop/setup_esptooljs.sh"), P.ejsPrefix, version]);
        if (r.code !== 0 || !fs.existsSync(P.ejsStub)) throw new Error(`esptool-js install failed:\n${r.out}${r.err}`);
    }
}

// ---- single unit ---------------------------------------------------------------------------

// c: {key, label, profile, image, baud}; files in WORK are named after c.key.
async function oursSingle(c) {
    const dir = path.join(WORK, `ours-${c.key}`);
    const sim = await startSim(dir, 1);
    const cap = path.join(WORK, `ours-${c.key}.cap`);
    let r;
    try {
        r = await run(P.flash, ["--port", path.join(dir, "slot1"), "--profile", c.profile,
            "--baud", String(c.baud), "--cache-dir", path.join(WORK, "cache"), "--capture", cap],
        { save: path.join(WORK, `ours-${c.key}.json`) });
    } finally {
        await sim.stop();
    }
    const j = jsonOf(r.out);
    if (!j || !j.ok) problems.push(`station, ${c.label}: ${j ? j.error : r.err.trim() || "no output"}`);
    return j || { ok: false, error: r.err.trim() };
}

async function theirsSingle(c) {
    const cap = path.join(WORK, `esptooljs-${c.key}.cap`);
    const argv = [path.join(SRC, "bench/esptooljs_flash.mjs"), "--sim", P.sim, "--esptooljs", P.ejsDir,
        "--work", path.join(WORK, `esptooljs-${c.key}`), "--baud", String(c.baud), "--image", c.image,
        "--offset", String(IMAGE_OFFSET), "--capture", cap];
    for (const o of UNIT_OPTS) argv.push("--unit-opt", o);
    const r = await run(process.execPath, argv, { save: path.join(WORK, `esptooljs-${c.key}.json`) });
    const j = jsonOf(r.out) || { ok: false, error: r.err.trim() };
    if (!j.ok) problems.push(`esptool-js, ${c.label}: ${j.error || "not verified"}`);
    if (fs.existsSync(cap)) {
        const f = await run(P.floor, [cap]);
        j.wire = jsonOf(f.out);
    }
    return j;
}

// ---- engine, N units in parallel ----------------------------------------------------------

async function engineRun(profile, n) {
    const dir = path.join(WORK, `engine-${n}`);
    const sim = await startSim(dir, n);
    const ru = path.join(WORK, `engine-${n}.rusage.json`);
    const db = path.join(WORK, `engine-${n}.db`);
    for (const s of ["", "-wal", "-shm"]) fs.rmSync(db + s, { force: true });
    let r;
    try {
        r = await run(P.rusage, [ru, "--", P.station, "run", "--profile", profile, "--sim-dir", dir,
            "--headless", "--json", "--db", db, "--exit-after", String(n), "--cache-dir", path.join(WORK, "cache")],
        { save: path.join(WORK, `engine-${n}.events.jsonl`) });
    } finally {
        await sim.stop();
    }
    const usage = fs.existsSync(ru) ? JSON.parse(fs.readFileSync(ru, "utf8")) : null;
    const events = r.out.split("\n").filter((l) => l.startsWith("{")).map((l) => { try { return JSON.parse(l); } catch { return null; } }).filter(Boolean);
    const summary = events.find((e) => e.event === "summary") || {};
    const passes = events.filter((e) => e.event === "pass");
    const unitTimes = passes.map((e) => Number((/ in ([0-9.]+) s/.exec(e.text) || [])[1])).filter((x) => x > 0);
    const res = { n, usage, passed: summary.passed ?? passes.length, failed: summary.failed ?? null, unitTimes, code: r.code };
    if (r.code !== 0 || res.passed !== n) problems.push(`engine with ${n} units: ${res.passed}/${n} passed, exit ${r.code}${r.err ? ": " + r.err.trim().split("\n").slice(-2).join(" ") : ""}`);
    return res;
}

// ---- figures and tables --------------------------------------------------------------------

const f1 = (x) => (x === null || x === undefined || Number.isNaN(x) ? "-" : x.toFixed(1));
const f2 = (x) => (x === null || x === undefined || Number.isNaN(x) ? "-" : x.toFixed(2));
const f3 = (x) => (x === null || x === undefined || Number.isNaN(x) ? "-" : x.toFixed(3));
const mark = (ok) => (ok === null ? "n/a" : ok ? "PASS" : "MISS");

function table(headers, rows) {
    const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
    const line = (r) => r.map((c, i) => String(c).padStart(w[i])).join("  ");
    return [line(headers), w.map((x) => "-".repeat(x)).join("  "), ...rows.map(line)].join("\n");
}

function markdown(headers, rows) {
    return [`| ${headers.join(" | ")} |`, `|${headers.map(() => "---").join("|")}|`,
        ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

function csv(headers, rows) {
    const q = (v) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
    return [headers, ...rows].map((r) => r.map(q).join(",")).join("\n") + "\n";
}

async function main() {
    const t0 = performance.now();
    await ensureTools();
    fs.rmSync(WORK, { recursive: true, force: true });
    fs.mkdirSync(WORK, { recursive: true });
    fs.mkdirSync(RESULTS, { recursive: true });

    // Image, profile (the station flashes with esptool-js's own stub), sizes.
    const data = path.join(WORK, "data");
    const bauds = [args.engineBaud, ...[921600, 460800, 115200].filter((b) => b < args.engineBaud)].join(", ");
    const g = await run(P.gen, [data, P.ejsStub, bauds]);
    if (g.code !== 0) throw new Error(`bench_gen_image failed: ${g.err}`);
    const sha = Object.fromEntries(g.out.trim().split("\n").map((l) => l.split(/\s+/)).map(([h, f]) => [f.replace(".bin", ""), h]));
    const sha256 = sha.bench4m;
    const main4m = { profile: path.join(data, "bench4m.ini"), image: path.join(data, "bench4m.bin") };
    const pad4m = { profile: path.join(data, "bench4m_pad.ini"), image: path.join(data, "bench4m_pad.bin") };
    const profile = main4m.profile;
    const cold = jsonOf((await run(P.sizes, [main4m.profile, path.join(WORK, "cache")])).out);
    const coldPad = jsonOf((await run(P.sizes, [pad4m.profile, path.join(WORK, "cache")])).out);
    const sz = cold.images[0], szPad = coldPad.images[0];
    log(`image: ${IMAGE_LEN} bytes at 0x${IMAGE_OFFSET.toString(16)}, sha256 ${sha256}`);
    log(`compressed: libdeflate level 12 ${sz.zlen} bytes (${f1(100 * sz.zlen / sz.len)} %, ${f2(cold.prepare_s)} s once per profile), zlib level 9 ${sz.zlen_zlib9} bytes (${f1(100 * sz.zlen_zlib9 / sz.len)} %)`);
    log(`padded image (2 MiB code + 2 MiB 0xFF): sha256 ${sha.bench4m_pad}, libdeflate level 12 ${szPad.zlen} bytes, zlib level 9 ${szPad.zlen_zlib9} bytes\n`);

    // Fast rows first on a quiet machine; the line-rate-bound 115200 rows and the CPU-bound
    // audit benchmark share the end (they barely compete: one waits on the line, one computes).
    const cases = args.bauds.map((b) => ({ key: String(b), label: `${b}`, baud: b, ...main4m }));
    const padCase = { key: `pad-${args.engineBaud}`, label: `${args.engineBaud} padded`, baud: args.engineBaud, pad: true, ...pad4m };
    const single = {};
    const both = async (c) => {
        log(`single unit, ${c.label}: station ...`);
        const ours = await oursSingle(c);
        log(`single unit, ${c.label}: esptool-js ...`);
        single[c.key] = { c, ours, theirs: await theirsSingle(c) };
    };
    const fast = cases.filter((c) => c.baud > 115200), slow = cases.filter((c) => c.baud <= 115200);
    for (const c of fast) await both(c);
    await both(padCase);
    const engine = [];
    for (const n of args.units) {
        log(`engine: ${n} unit(s) in parallel @ ${args.engineBaud} ...`);
        engine.push(await engineRun(profile, n));
    }
    const auditSrc = fs.existsSync(path.join(SRC, "db/bench_audit.c")) && !args.skipAudit;
    if (args.skipAudit) log("audit benchmark: skipped (--skip-audit)");
    const slowWhat = [...slow.map((c) => `single unit, ${c.label}: station and esptool-js`), ...(auditSrc ? ["audit benchmark"] : [])];
    if (slowWhat.length) log(`${slowWhat.join(", ")} (concurrently) ...`);
    const slowRuns = slow.map(async (c) => {
        const [ours, theirs] = await Promise.all([oursSingle(c), theirsSingle(c)]);
        single[c.key] = { c, ours, theirs };
    });
    let audit = null;
    if (auditSrc) {
        if (!fs.existsSync(P.audit)) {
            problems.push(`db/bench_audit.c exists but ${P.audit} is not built`);
        } else {
            const r = await run(P.audit, [], { save: path.join(WORK, "bench_audit.txt") });
            const m = /median ([0-9.]+) p99 ([0-9.]+) max ([0-9.]+)/.exec(r.out);
            const fill = /fill: ([0-9.]+) s/.exec(r.out);
            const head = /bench_audit: (\d+) attempts across (\d+) MACs/.exec(r.out);
            audit = m ? { median: +m[1], p99: +m[2], max: +m[3], fill: fill ? +fill[1] : null,
                attempts: head ? +head[1] : null, macs: head ? +head[2] : null } : null;
            if (r.code !== 0 || !audit) problems.push(`bench_audit failed (exit ${r.code}): ${r.err.trim()}`);
        }
    }
    await Promise.all(slowRuns);
    const order = [...cases.map((c) => c.key), padCase.key];

    // ---- single-unit table
    const sHead = ["baud", "host", "wall s", "wire out B", "wire in B", "eff kbit/s", "floor s", "wall/floor",
        "floor(min) s", "wall/floor(min)", "ours/theirs", "targets"];
    const sRows = [];
    const targets = [];
    for (const key of order) {
        const { c, ours, theirs } = single[key];
        const baud = c.baud;
        const ow = ours.ok ? ours.wall_s : NaN, tw = theirs.ok ? theirs.wall_s : NaN;
        const ratio = ours.ok && ours.wire ? ow / ours.wire.floor_s : NaN;
        const vs = ow / tw;
        const floorTarget = baud >= 921600 && !c.pad ? ratio <= 1.10 : null;
        const fasterTarget = ours.ok && theirs.ok ? vs <= 1.0 : false;
        const tgt = [];
        if (floorTarget !== null) tgt.push(`floor<=1.10 ${mark(floorTarget)}`);
        tgt.push(`<=esptool-js ${mark(fasterTarget)}`);
        sRows.push([c.label, "station", ours.ok ? f2(ow) : "FAILED", ours.report ? ours.report.wire_out : "-",
            ours.report ? ours.report.wire_in : "-", f1(IMAGE_LEN * 8 / ow / 1000), ours.wire ? f2(ours.wire.floor_s) : "-",
            f3(ratio), ours.wire ? f2(ours.wire.floor_min_s) : "-", ours.wire ? f3(ow / ours.wire.floor_min_s) : "-",
            f3(vs), tgt.join(", ")]);
        sRows.push([c.label, "esptool-js", theirs.ok ? f2(tw) : "FAILED", theirs.wire ? theirs.wire.out_bytes : "-",
            theirs.wire ? theirs.wire.in_bytes : "-", f1(IMAGE_LEN * 8 / tw / 1000), theirs.wire ? f2(theirs.wire.floor_s) : "-",
            theirs.wire ? f3(tw / theirs.wire.floor_s) : "-", theirs.wire ? f2(theirs.wire.floor_min_s) : "-",
            theirs.wire ? f3(tw / theirs.wire.floor_min_s) : "-", "", ""]);
        if (floorTarget !== null) targets.push([`ratio to floor <= 1.10 @ ${c.label}`, f3(ratio), mark(floorTarget)]);
        targets.push([`station <= esptool-js time @ ${c.label}`,
            ours.ok ? `${f2(ow)} s vs ${f2(tw)} s (x${f3(vs)})` : `station FAILED (${ours.fclass || ours.error}) vs ${f2(tw)} s`, mark(fasterTarget)]);
    }
    for (const [what, z] of [["4 MiB image", sz], ["padded image", szPad]]) {
        targets.push([`fewer wire bytes than zlib -9, ${what}`, `${z.zlen} vs ${z.zlen_zlib9} (${f1(100 * (z.zlen / z.zlen_zlib9 - 1))} %)`, mark(z.zlen < z.zlen_zlib9)]);
    }

    // ---- wire discipline (the station's port system calls, from the tap)
    const wHead = ["baud", "frames", "write()", "short", "EAGAIN", "write()/frame", "read()", "1-byte read() asked/got",
        "bytes/read", "ACK->next block ms (med/p95/max)", "data phase wire busy %", "device work s", "max block work s"];
    const wRows = order.filter((k) => single[k].ours.tap && single[k].ours.wire).map((k) => {
        const o = single[k].ours, t = o.tap, w = o.wire;
        return [single[k].c.label, w.frames_out, t.writes, t.writes_short, t.writes_eagain, f2(t.writes / w.frames_out), t.reads,
            `${t.reads_cap1}/${t.reads_got1}`, f1(w.in_bytes / Math.max(1, t.reads - t.reads_empty)),
            `${f3(w.turn_med_ms)}/${f3(w.turn_p95_ms)}/${f3(w.turn_max_ms)}`,
            f1(100 * w.data_wire_s / w.data_span_s), f2(w.dev_data_s), f2(w.dev_max_block_s)];
    });

    // ---- engine table
    const base = engine.find((e) => e.n === 1);
    const t1 = base && base.usage ? base.usage.wall_s : NaN;
    const rss1 = base && base.usage ? base.usage.maxrss_kb : NaN;
    const eHead = ["units", "passed", "wall s", "efficiency", "station CPU s", "CPU % core/unit", "ru_maxrss MB",
        "RSS growth/unit MB", "unit flash s (mean)", "targets"];
    const eRows = engine.map((e) => {
        const u = e.usage || {};
        const eff = t1 / u.wall_s; // N x T1 / T(N) / N
        const cpu = u.user_s + u.sys_s;
        const cpuPct = 100 * cpu / u.wall_s / e.n;
        const growth = e.n > 1 ? (u.maxrss_kb - rss1) / (e.n - 1) / 1024 : NaN;
        const mean = e.unitTimes.length ? e.unitTimes.reduce((x, y) => x + y, 0) / e.unitTimes.length : NaN;
        const tg = [`CPU<2% ${mark(cpuPct < 2)}`];
        if (e.n === Math.max(...args.units)) tg.unshift(`eff>=0.90 ${mark(eff >= 0.9)}`);
        if (e.n > 1) tg.push(`RSS<1MB ${mark(growth < 1)}`);
        if (e.n === Math.max(...args.units)) {
            targets.push([`parallel efficiency >= 0.90 with ${e.n} units`, f3(eff), mark(eff >= 0.9)]);
            targets.push([`station CPU < 2 % of a core per unit (${e.n} units)`, `${f3(cpuPct)} %`, mark(cpuPct < 2)]);
            targets.push([`RSS growth per unit < 1 MB (${e.n} units)`, `${f3(growth)} MB`, mark(growth < 1)]);
        }
        return [e.n, `${e.passed}/${e.n}`, f2(u.wall_s), f3(eff), f2(cpu), f3(cpuPct), f1(u.maxrss_kb / 1024),
            e.n > 1 ? f3(growth) : "-", f2(mean), tg.join(", ")];
    });

    const aHead = ["attempts", "MACs", "fill s", "audit MAC median ms", "p99 ms", "max ms"];
    const aRows = args.skipAudit ? [["skipped (--skip-audit)", "", "", "", "", ""]] : audit ? [[audit.attempts, audit.macs, f1(audit.fill), f3(audit.median), f3(audit.p99), f3(audit.max)]] : [];

    const when = new Date().toISOString().replace(/\..*/, "Z");
    const env = `${when}, ${(await run("uname", ["-srm"])).out.trim()}, ${(await run("nproc", [])).out.trim()} cores, node ${process.versions.node}, esptool-js ${single[order[0]].theirs.version || "?"}`;
    const intro = `image: 4 MiB at 0x10000, code-like with 512 KiB of 0xFF padding (sha256 ${sha256.slice(0, 16)}...): ` +
        `libdeflate-12 ${sz.zlen} B vs zlib-9 ${sz.zlen_zlib9} B; "padded": its first 2 MiB, then 0xFF to 4 MiB ` +
        `(sha256 ${sha.bench4m_pad.slice(0, 16)}...): ${szPad.zlen} B vs ${szPad.zlen_zlib9} B. ` +
        "esp32sim --realism, stub mode (esptool-js's stub for both hosts).";
    const sections = [
        ["Single unit (4 MiB image, stub, esp32sim --realism)", sHead, sRows],
        ["Station wire discipline (system calls on the port, from bench_flash's tap)", wHead, wRows],
        [`Engine: N units in parallel (station run --headless, ${args.engineBaud} baud)`, eHead, eRows],
        ["Record store: audit on a filled database (db/bench_audit)", aHead, aRows],
        ["Targets", ["target", "measured", "result"], targets],
    ];
    log("");
    log(env);
    log(intro + "\n");
    for (const [title, h, rows] of sections) {
        log(`== ${title}`);
        log(rows.length ? table(h, rows) : "(not run)");
        log("");
    }
    const stamp = when.replace(/[-:]/g, "");
    const names = ["single_unit", "wire", "engine", "audit", "targets"];
    sections.forEach(([, h, rows], i) => fs.writeFileSync(path.join(RESULTS, `${names[i]}-${stamp}.csv`), csv(h, rows)));
    const md = [`Run: ${env}`, "", intro, "",
        ...sections.flatMap(([title, h, rows]) => [`### ${title}`, "", rows.length ? markdown(h, rows) : "(not run)", ""])].join("\n");
    fs.writeFileSync(path.join(RESULTS, `results-${stamp}.md`), md);
    fs.writeFileSync(path.join(RESULTS, "latest.md"), md);
    fs.writeFileSync(path.join(RESULTS, `raw-${stamp}.json`), JSON.stringify({ env, sha, sizes: cold, sizesPad: coldPad, single, engine, audit }, null, 1));
    log(`written: ${RESULTS}/{${names.join(",")}}-${stamp}.csv, results-${stamp}.md (also latest.md), raw-${stamp}.json`);
    log(`total ${f1((performance.now() - t0) / 1000)} s`);
    if (problems.length) {
        log(`\nINCOMPLETE RUNS (${problems.length}):`);
        for (const p of problems) log(`  ${p}`);
        return 1;
    }
    return 0;
}

main().then((c) => process.exit(c), (e) => { process.stderr.write(`bench: ${e.stack || e}\n`); process.exit(2); });
