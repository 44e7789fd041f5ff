// esptooljs_rom_detect.mjs - esptool-js against the simulated ROM loader only (no stub):
// esptool-js 0.5.7 has no no-stub switch in main(), but its public API splits main() into
// detectChip() + chip info + runStub(); this test stops before runStub(), as esptool's
// --no-stub does, with a different unit variant than the stub test (ESP32-D0WDQ6 rev 1,
// 16 MB flash):
//   connect (DTR/RTS reset) + sync + magic; description, features, crystal, MAC;
//   ROM-form replies (SYNC value non-zero, READ_REG with 4 status bytes);
//   SPI_ATTACH + RDID; ROM SPI_FLASH_MD5 of a region and of nothing;
//   ROM CHANGE_BAUDRATE(921600, 0) through esptool-js's changeBaud(), then MD5 again.
//
// usage: node esptooljs_rom_detect.mjs --sim ESP32SIM --esptooljs NODE_MODULES/esptool-js
//            --stub-json STUB_JSON --work DIR [--tag SUBDIR] [--sim-args "--realism ..."]

import fs from "node:fs";
import { startRun, openLoader, checkRomMd5, le32, ESP_READ_REG, ESP_SPI_ATTACH, ESP_SPI_FLASH_MD5 } from "./interop_util.mjs";
import { md5hex } from "./test_images.mjs";
import { findExchanges, hex, u32 } from "./wire_checks.mjs";

const UNIT = { pkg: "d0wdq6", rev: "1.0", mac: "30:ae:a4:07:0d:64", flash: "16M" };
const EXPECT_DESC = "ESP32-D0WDQ6 (revision 1)";
const MD5_OF_NOTHING = "d41d8cd98f00b204e9800998ecf8427e";

const md5Req = (addr, len) => Buffer.concat([le32(addr), le32(len), le32(0), le32(0)]);

const run = await startRun({
    defaultTag: "rom_detect", unit: UNIT, deadlineMs: 40000,
    wireWhat: "reply count, size, status, SYNC value",
});
const { checks, sim } = run;
const { term, transport, loader } = await openLoader(run, 921600);
const port = run.port;
const flash = () => fs.readFileSync(sim.flashPath);

const det = await checks.step("detectChip('default_reset') (connect, sync, magic)", () => loader.detectChip("default_reset"));
if (!det.ok) await run.finish(1);
checks.eq(loader.chip.CHIP_NAME, "ESP32", "chip detected by magic 0x00F01D83");
checks.ok(term.has("Detecting chip type... ESP32"), "esptool-js printed \"Detecting chip type... ESP32\"");
checks.ok(port.resets >= 1, "connect went through a DTR/RTS reset (EN pulse)");
checks.ok(loader.syncStubDetected === false, "SYNC answered by the ROM (non-zero values)");
checks.ok(loader.IS_STUB === false, "no stub uploaded");

const desc = await checks.step("getChipDescription()", () => loader.chip.getChipDescription(loader));
checks.eq(desc.value, EXPECT_DESC, "chip description");
const feats = await checks.step("getChipFeatures()", () => loader.chip.getChipFeatures(loader));
checks.ok(Array.isArray(feats.value) && feats.value.join(",").startsWith("Wi-Fi, BT, Dual Core"), "features Wi-Fi, BT, Dual Core", JSON.stringify(feats.value));
const xtal = await checks.step("getCrystalFreq()", () => loader.chip.getCrystalFreq(loader));
checks.eq(xtal.value, 40, "crystal 40 MHz");
const mac = await checks.step("readMac()", () => loader.chip.readMac(loader));
checks.eq(mac.value, UNIT.mac, "MAC equals the unit's --unit-opt mac");

await checks.step("READ_REG reply in ROM form (4 status bytes)", async () => {
    const [val, data] = await loader.command(ESP_READ_REG, le32(0x40001000));
    if ((val >>> 0) !== 0x00f01d83) throw new Error(`magic 0x${(val >>> 0).toString(16)}`);
    if (data.length !== 4) throw new Error(`reply data [${hex(data)}] has ${data.length} bytes, ROM sends 4`);
});

// The ESP32 ROM needs SPI_ATTACH before flash access (doc §9); esptool-js never sends it, so
// send esptool's ROM form (hspi_arg 0 + 4 zero bytes) through esptool-js's command layer.
await checks.step("SPI_ATTACH(0) (8-byte ROM form)", () => loader.checkCommand("configure SPI flash pins", ESP_SPI_ATTACH, new Uint8Array(8)));
const kb = await checks.step("RDID through SPI registers (getFlashSize)", () => loader.getFlashSize());
checks.eq(kb.value, 16384, "esptool-js detects a 16MB flash");

async function romMd5(addr, len, tag) {
    const want = md5hex(flash().subarray(addr, addr + len));
    await checkRomMd5(checks, loader, addr, len, want, tag, `0x${addr.toString(16)}+0x${len.toString(16)}`);
}
await romMd5(0x3000, 0x1234, "");
const none = await checks.step("SPI_FLASH_MD5 of 0 bytes", () => loader.checkCommand("calculate md5sum", ESP_SPI_FLASH_MD5, md5Req(0x1000, 0)));
checks.eq(none.ok && none.value instanceof Uint8Array ? Buffer.from(none.value.slice(0, 32)).toString("latin1") : null, MD5_OF_NOTHING, "ROM MD5 of 0 bytes is the MD5 of nothing (doc §14)");

// ROM baud change: esptool-js sends CHANGE_BAUDRATE(new, 0) to the ROM and reopens the port.
await checks.step("changeBaud() to 921600 in ROM mode", () => loader.changeBaud());
const bauds = findExchanges(port.tap.frames, 0x0f);
checks.ok(bauds.length === 1 && u32(bauds[0].req.bytes, 8) === 921600 && u32(bauds[0].req.bytes, 12) === 0,
    "CHANGE_BAUDRATE(921600, 0) sent to the ROM and answered", bauds.length ? `[${hex(bauds[0].req.bytes)}]` : "not sent");
checks.eq(port.baudHistory, [115200, 921600], "port reopened at 921600");
await romMd5(0x0, 0x10000, "after baud change: ");
checks.ok(loader.IS_STUB === false, "still the ROM loader at the end");

await transport.disconnect().catch(() => {});
await run.finish(0);
