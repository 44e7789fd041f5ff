// esptooljs_stub_flash.mjs - esptool-js (pinned, from npm) against one esp32sim unit:
//   1. connect (classic DTR/RTS reset) + sync, chip description and MAC as esptool-js prints them
//   2. upload of esptool-js's own ESP32 stub; the unit must switch to the stub personality
//   3. CHANGE_BAUDRATE to 921600 (esptool-js closes and reopens the port at the new rate)
//   4. compressed multi-region write with esptool-js's MD5 verification; flash file compared
//      byte for byte with the images
//   5. flashMd5sum() of two regions against MD5s computed here; readFlash() (stub READ_FLASH
//      streaming) of two regions, data and closing MD5 frame
//   6. reset, reconnect through the ROM loader without the stub, ROM-form replies, ROM MD5
// Every SLIP frame is recorded and checked against the protocol doc at the end (wire_checks).
//
// usage: node esptooljs_stub_flash.mjs --sim ESP32SIM --esptooljs NODE_MODULES/esptool-js
//            --stub-json STUB_JSON --work DIR [--tag SUBDIR] [--sim-args "--realism ..."]

import fs from "node:fs";
import { startRun, openLoader, newLoader, checkRomMd5, le32, ESP_READ_REG, ESP_SPI_ATTACH } from "./interop_util.mjs";
import { buildImageSet, padTo4, md5hex } from "./test_images.mjs";
import { findExchanges, hex, u32 } from "./wire_checks.mjs";

const UNIT = { pkg: "d0wd-v3", rev: "3.0", mac: "24:0a:c4:5e:a7:31", flash: "4M" };
const EXPECT_DESC = "ESP32-D0WD-V3 (revision 3)";
const FLASH_BYTES = 4 * 1024 * 1024;
const BAUD = 921600;

const run = await startRun({
    defaultTag: "stub_flash", unit: UNIT, deadlineMs: 50000,
    wireWhat: "reply count, size, status, SYNC value, OHAI",
    // The simulator's own view (its --verbose log): stub personality and the new rate.
    atFinish: ({ checks, sim }) => {
        const simLog = sim.readLog();
        checks.ok(/stub running \(OHAI sent\)/.test(simLog), "sim log: the unit switched to its stub personality");
        const m = /stub baud -> (\d+)/.exec(simLog);
        checks.ok(m && Math.abs(Number(m[1]) - BAUD) / BAUD < 0.03, "sim log: the unit's UART runs at ~921600 after CHANGE_BAUDRATE",
            m ? `unit rate ${m[1]}` : "no 'stub baud ->' line");
    },
});
const { args, checks, sim, ejs } = run;

// The station's test will load the stub from ST_ESPTOOLJS_STUB_JSON: it must be the very
// stub esptool-js uploads.
const stubJson = JSON.parse(fs.readFileSync(args["stub-json"], "utf8"));
const stub = await ejs.getStubJsonByChipName("ESP32");
checks.ok(stub && ["entry", "text", "text_start", "data", "data_start"].every((k) => stub[k] === stubJson[k]),
    `ST_ESPTOOLJS_STUB_JSON (${args["stub-json"]}) is the stub esptool-js uploads`);

const { term, transport, loader } = await openLoader(run, BAUD);
const port = run.port;
const flashBefore = fs.readFileSync(sim.flashPath);
checks.eq(flashBefore.length, FLASH_BYTES, "slot1.flash has the configured flash size (4 MiB)");

// --- 1-3: esptool-js main(): reset+sync, detect, chip info, stub upload, baud change ----------
const mainRes = await checks.step("esptool-js main('default_reset') completes", () => loader.main("default_reset"));
if (!mainRes.ok) await run.finish(1);

checks.eq(mainRes.value, EXPECT_DESC, "1. chip description returned by main()");
checks.ok(term.has(`Chip is ${EXPECT_DESC}`), `1. esptool-js printed "Chip is ${EXPECT_DESC}"`);
checks.ok(term.has(`MAC: ${UNIT.mac}`), `1. esptool-js printed "MAC: ${UNIT.mac}"`);
checks.eq(await loader.chip.readMac(loader), UNIT.mac, "1. readMac() equals the unit's --unit-opt mac");
checks.ok(term.has("Crystal is 40MHz"), "1. crystal 40MHz (UART_CLKDIV at 115200)");
checks.ok(term.has(/^Features: Wi-Fi, BT, Dual Core/), "1. features Wi-Fi, BT, Dual Core");
checks.eq(loader.chip.CHIP_NAME, "ESP32", "1. chip detected by magic 0x00F01D83");
checks.ok(port.resets >= 1, "1. connect went through a DTR/RTS reset (EN pulse)");
const syncs = findExchanges(port.tap.frames, 0x08);
checks.ok(syncs.length >= 1 && syncs[0].personality === "rom" &&
    syncs[0].replies.filter((r) => r.bytes[1] === 0x08).every((r) => u32(r.bytes, 4) !== 0),
"1. ROM SYNC replies carry a non-zero value");

checks.ok(loader.IS_STUB === true, "2. esptool-js runs its stub (IS_STUB after OHAI)");
const memBegins = findExchanges(port.tap.frames, 0x05).map((x) => [u32(x.req.bytes, 8), u32(x.req.bytes, 20)]);
checks.eq(memBegins, [[stub.decodedText.length, stub.text_start], [stub.decodedData.length, stub.data_start]],
    "2. MEM_BEGIN text then data, with the stub's sizes and addresses");
const memEnd = findExchanges(port.tap.frames, 0x06);
checks.ok(memEnd.length === 1 && memEnd[0].ohai && u32(memEnd[0].req.bytes, 12) === stub.entry,
    "2. MEM_END(0, entry) answered, then OHAI");
await checks.step("2. SYNC to the stub: 8 replies, all with value 0 (stub form)", async () => {
    await loader.sync();
    if (!loader.syncStubDetected) throw new Error("esptool-js did not see the stub's SYNC signature (value 0 in all 8 replies)");
});
await checks.step("2. READ_REG reply in stub form (2 status bytes)", async () => {
    const [val, data] = await loader.command(ESP_READ_REG, le32(0x40001000));
    if ((val >>> 0) !== 0x00f01d83) throw new Error(`magic 0x${(val >>> 0).toString(16)}`);
    if (data.length !== 2) throw new Error(`reply data [${hex(data)}] has ${data.length} bytes, stub sends 2`);
});

const bauds = findExchanges(port.tap.frames, 0x0f);
checks.ok(bauds.length === 1 && u32(bauds[0].req.bytes, 8) === BAUD && u32(bauds[0].req.bytes, 12) === 115200 &&
    bauds[0].personality === "stub", "3. CHANGE_BAUDRATE(921600, 115200) sent to the stub and answered");
checks.eq(port.baudHistory, [115200, BAUD], "3. port reopened at 921600");
checks.eq(transport.baudrate, BAUD, "3. esptool-js transport runs at 921600");
const kb = await checks.step("3. RDID through SPI registers at the new rate", () => loader.getFlashSize());
checks.eq(kb.value, 4096, "3. esptool-js detects a 4MB flash");

// --- 4: compressed multi-region write with MD5 verification ----------------------------------
const files = buildImageSet();
const md5Calls = [];
const writeMark = port.tap.mark();
const wr = await checks.step("4. writeFlash (compress, MD5 check, flash params keep)", () => loader.writeFlash({
    fileArray: files.map((f) => ({ data: f.data.toString("latin1"), address: f.address })),
    flashSize: "keep", flashMode: "keep", flashFreq: "keep",
    eraseAll: false, compress: true,
    calculateMD5Hash: (image) => { const h = md5hex(Buffer.from(image, "latin1")); md5Calls.push(h); return h; },
}));
checks.eq(md5Calls, files.map((f) => md5hex(padTo4(f.data))), "4. esptool-js hashed each (4-byte padded, unpatched) file");
checks.eq(term.count("Hash of data verified."), files.length, "4. esptool-js verified all three MD5s");
const wframes = port.tap.since(writeMark);
const begins = findExchanges(wframes, 0x10).map((x) => [u32(x.req.bytes, 8), u32(x.req.bytes, 16), u32(x.req.bytes, 20), x.req.len - 8]);
checks.eq(begins, files.map((f) => [padTo4(f.data).length, 0x4000, f.address, 16]), "4. FLASH_DEFL_BEGIN(size, blocks, 0x4000, offset) per file, 16-byte payload");
const datas = findExchanges(wframes, 0x11);
checks.ok(datas.length > 40, `4. ${datas.length} FLASH_DEFL_DATA blocks sent`);

// Expected flash: untouched outside the written 4 KiB sectors, erased (0xFF) in them, then data.
const expected = Buffer.from(flashBefore);
for (const f of files) {
    const data = padTo4(f.data);
    const s0 = f.address & ~0xfff, s1 = (f.address + data.length + 0xfff) & ~0xfff;
    expected.fill(0xff, s0, s1);
    data.copy(expected, f.address);
}
const flashAfter = fs.readFileSync(sim.flashPath);
for (const f of files) {
    const data = padTo4(f.data);
    const got = flashAfter.subarray(f.address, f.address + data.length);
    let firstDiff = -1, nDiff = 0;
    for (let i = 0; i < data.length; i++) if (got[i] !== data[i]) { if (firstDiff < 0) firstDiff = i; nDiff++; }
    checks.ok(nDiff === 0, `4. flash at 0x${f.address.toString(16)} equals ${f.name} (${data.length} bytes)`,
        nDiff ? `${nDiff} bytes differ, first at +0x${firstDiff.toString(16)}: flash ${hex(got.subarray(firstDiff, firstDiff + 16))} vs image ${hex(data.subarray(firstDiff, firstDiff + 16))}` : "");
}
let outside = -1;
for (let i = 0; i < FLASH_BYTES; i++) if (flashAfter[i] !== expected[i]) { outside = i; break; }
checks.ok(outside < 0, "4. whole flash file = images + erased sector tails + untouched rest",
    outside >= 0 ? `first difference at 0x${outside.toString(16)}: flash ${hex(flashAfter.subarray(outside, outside + 16))} expected ${hex(expected.subarray(outside, outside + 16))}` : "");

// --- 5: flash MD5 reads by esptool-js -----------------------------------------------------------
for (const [addr, len, what] of [[0x10000 + 0x1235, 0x54321, "inside the app, unaligned"], [0x1000, 0xf100, "bootloader .. partition table .. app start"]]) {
    const want = md5hex(expected.subarray(addr, addr + len));
    const r = await checks.step(`5. flashMd5sum(0x${addr.toString(16)}, 0x${len.toString(16)}) (${what})`, () => loader.flashMd5sum(addr, len));
    checks.eq(r.value, want, `5. MD5 of 0x${addr.toString(16)}+0x${len.toString(16)} equals the test's MD5`);
}

// --- 5b: READ_FLASH streaming (stub 0xD2, esptool-js packet 0x1000, 1024 in flight) --------
for (const [addr, len] of [[0x8000, 0xc00], [0x10000 + 0x777, 0x9abc]]) {
    const want = expected.subarray(addr, addr + len);
    const r = await checks.step(`5b. readFlash(0x${addr.toString(16)}, 0x${len.toString(16)})`, () => loader.readFlash(addr, len));
    const got = r.ok ? Buffer.from(r.value) : Buffer.alloc(0);
    checks.ok(got.equals(want), `5b. readFlash data equals flash 0x${addr.toString(16)}+0x${len.toString(16)}`,
        `got ${got.length} bytes${got.length ? ", first " + hex(got.subarray(0, 16)) : ""}`);
    // esptool-js leaves the stream's closing MD5 frame unread; take it through its transport.
    const m = await checks.step("5b. READ_FLASH closing frame read", async () => (await transport.read(3000).next()).value);
    checks.eq(m.ok && m.value ? Buffer.from(m.value).toString("hex") : null, md5hex(want), "5b. READ_FLASH closing frame = raw MD5 of the data");
}

// --- 6: back to the ROM loader (reset), no stub -------------------------------------------------
await checks.step("6. esptool-js disconnects", () => transport.disconnect());
const { transport: transport2, loader: rom } = newLoader(run, 115200, "esptool-js(rom) | ");
const resetsBefore = port.resets;
const det = await checks.step("6. detectChip('default_reset') through the ROM loader", () => rom.detectChip("default_reset"));
if (det.ok) {
    checks.ok(port.resets > resetsBefore, "6. reconnect reset the unit (EN pulse)");
    checks.ok(rom.syncStubDetected === false, "6. SYNC answered by the ROM (non-zero values), not a stale stub");
    checks.eq(await rom.chip.getChipDescription(rom), EXPECT_DESC, "6. ROM: chip description");
    checks.eq(await rom.chip.readMac(rom), UNIT.mac, "6. ROM: MAC");
    checks.ok(rom.IS_STUB === false, "6. esptool-js stays in ROM mode (no runStub)");
    await checks.step("6. READ_REG reply in ROM form (4 status bytes)", async () => {
        const [, data] = await rom.command(ESP_READ_REG, le32(0x40001000));
        if (data.length !== 4) throw new Error(`reply data [${hex(data)}] has ${data.length} bytes, ROM sends 4`);
    });
    // esptool-js never attaches the flash; the ESP32 ROM needs it (doc §9), so send it the way
    // esptool does for the ROM (hspi_arg 0 + 4 zero bytes) through esptool-js's command layer.
    await checks.step("6. SPI_ATTACH(0) (8-byte ROM form)", () => rom.checkCommand("configure SPI flash pins", ESP_SPI_ATTACH, new Uint8Array(8)));
    const pt = files[1];
    const want = md5hex(expected.subarray(pt.address, pt.address + pt.data.length));
    await checkRomMd5(checks, rom, pt.address, pt.data.length, want, "6. ", "the partition table");
}
await transport2.disconnect().catch(() => {});
await run.finish(0);
