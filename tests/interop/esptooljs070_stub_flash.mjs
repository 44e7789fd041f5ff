// esptooljs070_stub_flash.mjs - esptool-js 0.7.0 (the second pin, npm alias esptool-js-0.7.0),
// which uploads Espressif's esp-flasher-stub, against one esp32sim unit:
//   1. main(): connect (classic DTR/RTS reset) + sync, detect (0.7.0 sends GET_SECURITY_INFO
//      to the ROM first), chip description and MAC, upload of its own ESP32 stub: the unit
//      must recognise the esp-flasher-stub and behave as it; CHANGE_BAUDRATE to 921600
//   2. compressed multi-region write (Uint8Array files, the 0.7 API) with esptool-js's MD5
//      check; the whole flash file compared with what it must be
//   3. flashMd5sum() reads from the stub
// usage: node esptooljs070_stub_flash.mjs --sim ESP32SIM --esptooljs NODE_MODULES/esptool-js-0.7.0
//        --stub-json .../stub_flasher/esp32.json --work DIR --expect-version 0.7.0 [--tag NAME]

import fs from "node:fs";
import { startRun, openLoader, le32, ESP_READ_REG } from "./interop_util.mjs";
import { buildImageSet, padTo4, md5hex } from "./test_images.mjs";
import { findExchanges, hex, u32 } from "./wire_checks.mjs";

const UNIT = { pkg: "d0wd-v3", rev: "3.0", mac: "24:0a:c4:5e:a7:32", flash: "4M" };
const FLASH_BYTES = 4 * 1024 * 1024;
const BAUD = 921600;

const run = await startRun({
    defaultTag: "stub_flash_070", unit: UNIT, deadlineMs: 60000,
    wireWhat: "reply count, size, status, SYNC value, OHAI, ROM answers to unknown opcodes",
    atFinish: ({ checks, sim }) => {
        const simLog = sim.readLog();
        checks.ok(/esp-flasher-stub \(esptool-js 0\.7\.0\)/.test(simLog),
            "sim log: the unit recognised the esp-flasher-stub by its text and runs as it");
        checks.ok(/stub baud -> 921600/.test(simLog), "sim log: the unit's UART runs at 921600");
    },
});
const { args, checks, sim, ejs } = run;

const stubJson = JSON.parse(fs.readFileSync(args["stub-json"], "utf8"));
checks.eq([stubJson.text_start, stubJson.entry, stubJson.data_start, stubJson.bss_start],
    [0x400a8000, 0x400a902c, 0x3ffded6c, 0x3ffcc000],
    "esptool-js 0.7.0's ESP32 stub JSON: text 0x400A8000, entry 0x400A902C, data 0x3FFDED6C, bss_start 0x3FFCC000");

const { term, transport, loader } = await openLoader(run, BAUD);
const port = run.port;
const flashBefore = fs.readFileSync(sim.flashPath);

const mainRes = await checks.step("esptool-js main('default_reset') completes", () => loader.main("default_reset"));
if (!mainRes.ok) await run.finish(1);
checks.ok(/^ESP32-D0WD-V3/.test(mainRes.value), "1. chip description returned by main()", mainRes.value);
checks.ok(term.has(`MAC: ${UNIT.mac}`), `1. esptool-js printed "MAC: ${UNIT.mac}"`);
checks.ok(port.resets >= 1, "1. connect went through a DTR/RTS reset");
checks.ok(loader.IS_STUB === true, "1. esptool-js runs its stub (IS_STUB after OHAI)");
const memBegins = findExchanges(port.tap.frames, 0x05).map((x) => [u32(x.req.bytes, 8), u32(x.req.bytes, 20)]);
checks.eq(memBegins.map((m) => m[1]), [stubJson.text_start, stubJson.data_start],
    "1. MEM_BEGIN text then data at the esp-flasher-stub's addresses");
await checks.step("1. READ_REG answered by the stub (2 status bytes)", async () => {
    const [val, data] = await loader.command(ESP_READ_REG, le32(0x40001000));
    if ((val >>> 0) !== 0x00f01d83) throw new Error(`magic 0x${(val >>> 0).toString(16)}`);
    if (data.length !== 2) throw new Error(`reply data [${hex(data)}] has ${data.length} bytes`);
});
const bauds = findExchanges(port.tap.frames, 0x0f);
checks.ok(bauds.length === 1 && u32(bauds[0].req.bytes, 8) === BAUD && bauds[0].personality === "stub",
    "1. CHANGE_BAUDRATE(921600, ...) sent to the stub and answered");

const files = buildImageSet();
const wr = await checks.step("2. writeFlash (compress, MD5 check, flash params keep)", () => loader.writeFlash({
    fileArray: files.map((f) => ({ data: new Uint8Array(f.data), address: f.address })),
    flashSize: "keep", flashMode: "keep", flashFreq: "keep",
    eraseAll: false, compress: true,
    calculateMD5Hash: (image) => md5hex(Buffer.from(image)),
}));
checks.ok(wr.ok && term.count("Hash of data verified.") === files.length, "2. esptool-js verified all three MD5s");
const expected = Buffer.from(flashBefore);
for (const f of files) {
    const data = padTo4(f.data);
    const s0 = f.address & ~0xfff, s1 = (f.address + data.length + 0xfff) & ~0xfff;
    expected.fill(0xff, s0, s1);
    data.copy(expected, f.address);
}
const flashAfter = fs.readFileSync(sim.flashPath);
let diff = -1;
for (let i = 0; i < FLASH_BYTES; i++) if (flashAfter[i] !== expected[i]) { diff = i; break; }
checks.ok(diff < 0, "2. whole flash file = images + erased sector tails + untouched rest",
    diff >= 0 ? `first difference at 0x${diff.toString(16)}: flash ${hex(flashAfter.subarray(diff, diff + 16))} expected ${hex(expected.subarray(diff, diff + 16))}` : "");

for (const [addr, len] of [[0x10000 + 0x1235, 0x54321], [0x1000, 0xf100]]) {
    const r = await checks.step(`3. flashMd5sum(0x${addr.toString(16)}, 0x${len.toString(16)})`, () => loader.flashMd5sum(addr, len));
    checks.eq(r.value, md5hex(expected.subarray(addr, addr + len)), `3. MD5 of 0x${addr.toString(16)}+0x${len.toString(16)}`);
}
await transport.disconnect().catch(() => {});
await run.finish(0);
