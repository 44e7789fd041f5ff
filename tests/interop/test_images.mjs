// test_images.mjs - deterministic image set for the multi-region write: a bootloader at
// 0x1000, a partition table at 0x8000 and a >1 MB app at 0x10000. Half of the app is
// pseudo-random (so the deflate stream spans dozens of 16 KiB blocks), half is text-like.
// The app length is deliberately not a multiple of 4: esptool-js pads each file to 4 bytes
// with 0xFF before writing, and the flash comparison checks that too.

import crypto from "node:crypto";

// xorshift32: reproducible bytes without a seed file.
function prng(seed) {
    let s = seed >>> 0 || 1;
    return () => {
        s ^= s << 13; s >>>= 0;
        s ^= s >>> 17;
        s ^= s << 5; s >>>= 0;
        return s;
    };
}

function randomBytes(n, seed) {
    const r = prng(seed);
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i += 4) {
        const v = r();
        for (let k = 0; k < 4 && i + k < n; k++) b[i + k] = (v >>> (8 * k)) & 0xff;
    }
    return b;
}

// ESP32 app/bootloader image: common header (magic, segment count, flash mode DIO,
// size 4MB | freq 40m, entry) + extended header (chip id 0) + segments + checksum footer.
function espImage({ entry, segments, seed }) {
    const parts = [];
    const hdr = Buffer.alloc(24);
    hdr[0] = 0xe9;
    hdr[1] = segments.length;
    hdr[2] = 0x02;
    hdr[3] = 0x20;
    hdr.writeUInt32LE(entry, 4);
    hdr[8] = 0xee; // WP pin: not used
    hdr.writeUInt16LE(0x0000, 12); // chip id ESP32
    parts.push(hdr);
    let chk = 0xef;
    segments.forEach(([addr, len], i) => {
        const sh = Buffer.alloc(8);
        sh.writeUInt32LE(addr, 0);
        sh.writeUInt32LE(len, 4);
        const data = randomBytes(len, seed + i);
        for (const b of data) chk ^= b;
        parts.push(sh, data);
    });
    let img = Buffer.concat(parts);
    const pad = 15 - (img.length % 16);
    img = Buffer.concat([img, Buffer.alloc(pad, 0), Buffer.from([chk])]);
    return img;
}

function partitionTable() {
    const entries = [
        // type, subtype, offset, size, label
        [0x01, 0x02, 0x9000, 0x5000, "nvs"],
        [0x01, 0x00, 0xe000, 0x2000, "otadata"],
        [0x00, 0x10, 0x10000, 0x300000, "app0"],
        [0x01, 0x82, 0x310000, 0xf0000, "spiffs"],
    ];
    const bufs = entries.map(([type, sub, off, size, label]) => {
        const e = Buffer.alloc(32, 0);
        e.writeUInt16LE(0x50aa, 0);
        e[2] = type;
        e[3] = sub;
        e.writeUInt32LE(off, 4);
        e.writeUInt32LE(size, 8);
        e.write(label, 12, "ascii");
        return e;
    });
    const body = Buffer.concat(bufs);
    const md5e = Buffer.alloc(32, 0xff);
    md5e.writeUInt16LE(0xebeb, 0);
    crypto.createHash("md5").update(body).digest().copy(md5e, 16);
    const table = Buffer.alloc(0xc00, 0xff);
    Buffer.concat([body, md5e]).copy(table, 0);
    return table;
}

function appImage(total) {
    const img = espImage({ entry: 0x400d1234, seed: 0x5eed, segments: [[0x3f400020, 0x9000], [0x400d0020, total >> 1]] });
    const text = Buffer.from("flashstation interop test: esptool-js -> esp32sim, deflate-friendly text. ".repeat(4096));
    const out = Buffer.alloc(total);
    img.copy(out, 0, 0, Math.min(img.length, total));
    let o = Math.min(img.length, total);
    while (o < total) o += text.copy(out, o, 0, Math.min(text.length, total - o));
    return out;
}

export function buildImageSet() {
    const files = [
        { name: "bootloader", address: 0x1000, data: espImage({ entry: 0x40080400, seed: 0xb007, segments: [[0x3fff0030, 0x1a00], [0x40078000, 0x3c00], [0x40080400, 0xc00]] }) },
        { name: "partitions", address: 0x8000, data: partitionTable() },
        { name: "app", address: 0x10000, data: appImage(1234567) },
    ];
    return files;
}

// What esptool-js writes for a file: the data padded to 4 bytes with 0xFF.
export function padTo4(buf) {
    const r = buf.length % 4;
    return r === 0 ? buf : Buffer.concat([buf, Buffer.alloc(4 - r, 0xff)]);
}

export const md5hex = (buf) => crypto.createHash("md5").update(buf).digest("hex");
