// esptooljs_flash.mjs - flash one image onto one esp32sim unit (--realism) with the pinned
// esptool-js, the way a web flasher does: main() (reset, sync, detect, stub, baud change),
// then writeFlash() compressed with its MD5 check. Prints one JSON object; records the
// whole conversation in the benchmark's capture format (capture.h) for bench_floor.
//
// The simulator process, the Web Serial adapter and the esptool-js loader come from the
// interop harness (tests/interop), imported as they are; this file only adds timing and
// the capture (by wrapping the adapter's wire tap).
//
// usage: node esptooljs_flash.mjs --sim ESP32SIM --esptooljs DIR --work DIR --baud N
//            --image FILE --offset N --capture FILE [--unit-opt KEY=VALUE]...

import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { loadEsptoolJs } from "../tests/interop/interop_util.mjs";
import { SimProcess } from "../tests/interop/sim_process.mjs";
import { SimSerialPort } from "../tests/interop/sim_serial_port.mjs";

function parse(argv) {
    const a = { "unit-opt": [] };
    for (let i = 0; i < argv.length; i += 2) {
        const k = argv[i].replace(/^--/, "");
        if (k === "unit-opt") a[k].push(argv[i + 1]);
        else a[k] = argv[i + 1];
    }
    for (const k of ["sim", "esptooljs", "work", "baud", "image", "offset", "capture"]) {
        if (a[k] === undefined) throw new Error(`missing --${k}`);
    }
    return a;
}

// The capture (bench/capture.h): kind, float64 seconds, uint32 length, bytes.
class Capture {
    constructor() { this.parts = [Buffer.from("BENCHCAP1\n")]; this.t0 = process.hrtime.bigint(); }
    now() { return Number(process.hrtime.bigint() - this.t0) / 1e9; }
    add(kind, bytes = new Uint8Array(0)) {
        const h = Buffer.alloc(13);
        h[0] = kind.charCodeAt(0);
        h.writeDoubleLE(this.now(), 1);
        h.writeUInt32LE(bytes.length, 9);
        this.parts.push(h, Buffer.from(bytes));
    }
    save(file) { fs.writeFileSync(file, Buffer.concat(this.parts)); }
}

const args = parse(process.argv.slice(2));
const baud = Number(args.baud);
const offset = Number(args.offset);
const image = fs.readFileSync(args.image);
const result = { host: "esptool-js", baud, ok: false };
const sim = new SimProcess({
    exe: args.sim,
    dir: path.join(args.work, `esptooljs-${baud}`),
    unitOpts: args["unit-opt"],
    extraArgs: ["--realism"],
    log: () => {},
});

let code = 1;
try {
    const { mod: ejs, version } = await loadEsptoolJs(args.esptooljs);
    result.version = version;
    const ep = await sim.start();
    const port = new SimSerialPort({ ...ep });
    const cap = new Capture();
    // Every byte both ways, and every (re)connection, into the capture as well.
    const tapHost = port.tap.host.bind(port.tap), tapDev = port.tap.dev.bind(port.tap);
    let tDeflBegin = null; // first FLASH_DEFL_BEGIN: esptool-js done preparing the image
    port.tap.host = (b) => {
        if (tDeflBegin === null && b.length > 2 && b[0] === 0xc0 && b[1] === 0x00 && b[2] === 0x10) tDeflBegin = cap.now();
        cap.add("o", b);
        tapHost(b);
    };
    port.tap.dev = (b) => { cap.add("i", b); tapDev(b); };
    const connect = port._connect.bind(port);
    port._connect = async () => { await connect(); cap.add("c"); };

    const lines = [];
    const terminal = { clean() {}, write(s) { lines.push(s); }, writeLine(s) { lines.push(s); } };
    const transport = new ejs.Transport(port, false);
    transport.trace = () => {}; // 0.5.7 traces every read even with tracing off (to console)
    const loader = new ejs.ESPLoader({ transport, baudrate: baud, romBaudrate: 115200, terminal });

    const t0 = cap.now();
    await loader.main("default_reset");
    const tMain = cap.now();
    let md5 = null;
    await loader.writeFlash({
        fileArray: [{ data: image.toString("latin1"), address: offset }],
        flashSize: "keep", flashMode: "keep", flashFreq: "keep",
        eraseAll: false, compress: true,
        calculateMD5Hash: (img) => (md5 = crypto.createHash("md5").update(Buffer.from(img, "latin1")).digest("hex")),
    });
    const tEnd = cap.now();
    await transport.disconnect().catch(() => {});
    await port.unplug();

    const flash = fs.readFileSync(sim.flashPath);
    const landed = flash.subarray(offset, offset + image.length).equals(image);
    result.ok = landed && lines.some((l) => l.includes("Hash of data verified."));
    result.md5 = md5;
    result.flash_matches = landed;
    result.wall_s = tEnd - t0;
    result.t_main_s = tMain - t0;
    result.t_write_s = tEnd - tMain;
    // Inside writeFlash before the first FLASH_DEFL_BEGIN: padding, MD5, pako deflate -9.
    result.t_prepare_s = tDeflBegin === null ? null : tDeflBegin - tMain;
    const wrote = lines.find((l) => /^Wrote \d+ bytes/.test(l));
    result.esptool_says = wrote || null;
    const m = wrote && /\((\d+) compressed\)/.exec(wrote);
    result.zlen = m ? Number(m[1]) : null;
    cap.save(args.capture);
    code = result.ok ? 0 : 1;
} catch (e) {
    result.error = String(e && e.message ? e.message : e);
} finally {
    await sim.stop().catch(() => {});
}
process.stdout.write(JSON.stringify(result, null, 1) + "\n");
process.exit(code);
