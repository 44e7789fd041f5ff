// wire_checks.mjs - checks over the SLIP conversation recorded by WireTap.
//
// esptool-js 0.5.7 never looks at status bytes (ESPLoader.checkCommand returns the value or
// the data without checking them) and accepts replies of any length, so a simulator error
// would go unnoticed by the client. These checks hold the simulator to the protocol doc
// instead: one reply per command with the opcode echoed (8 for SYNC), ROM replies with 4
// status bytes and stub replies with 2 (§2.2, §7.3), success status, SYNC value non-zero from
// the ROM and 0 from the stub (§3.2), OHAI right after the MEM_END reply (§7.2).

export const OPS = {
    0x02: "FLASH_BEGIN", 0x03: "FLASH_DATA", 0x04: "FLASH_END", 0x05: "MEM_BEGIN", 0x06: "MEM_END",
    0x07: "MEM_DATA", 0x08: "SYNC", 0x09: "WRITE_REG", 0x0a: "READ_REG", 0x0b: "SPI_SET_PARAMS",
    0x0d: "SPI_ATTACH", 0x0e: "READ_FLASH_SLOW", 0x0f: "CHANGE_BAUDRATE", 0x10: "FLASH_DEFL_BEGIN",
    0x11: "FLASH_DEFL_DATA", 0x12: "FLASH_DEFL_END", 0x13: "SPI_FLASH_MD5", 0x14: "GET_SECURITY_INFO",
    0xd0: "ERASE_FLASH", 0xd1: "ERASE_REGION", 0xd2: "READ_FLASH", 0xd3: "RUN_USER_CODE",
};

export const opName = (op) => OPS[op] || `op 0x${op.toString(16).padStart(2, "0")}`;
export const hex = (b, max = 48) => {
    const s = Buffer.from(b.slice(0, max)).toString("hex").replace(/(..)/g, "$1 ").trim();
    return b.length > max ? `${s} ...(${b.length} bytes)` : s;
};

const u16 = (b, o) => b[o] | (b[o + 1] << 8);
const u32 = (b, o) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;

export function isOhai(f) {
    return f.dir === "dev" && f.len === 4 && Buffer.from(f.bytes).toString("latin1") === "OHAI";
}

// Pair the recorded frames into exchanges: a host command and the device replies to it.
// Replies are matched first-in first-out by opcode, because esptool-js does not always wait
// for every reply before the next command (after "Invalid head of packet" on boot text it
// re-sends SYNC at once, and the 8 replies of both SYNCs then arrive together). Personality:
// ROM at the start and after a reset note, stub after an OHAI frame.
export function exchanges(frames) {
    const out = [];
    const queue = [];
    let personality = "rom";
    let last = null;
    let rf = null;
    for (const f of frames) {
        if (f.dir === "note") {
            if (f.label === "reset") { personality = "rom"; queue.length = 0; }
            continue;
        }
        if (f.dir === "host") {
            const b = f.bytes;
            if (f.len < 8 || b[0] !== 0x00) continue; // e.g. READ_FLASH acks
            rf = null;
            const x = { seq: f.seq, personality, op: b[1], size: u16(b, 2), req: f, want: b[1] === 0x08 ? 8 : 1,
                replies: [], stray: [], stream: [], ohai: false, ohaiEarly: false, unsupported: [] };
            // An opcode the ESP32 ROM does not know (§14): it answers with the previous reply's
            // header (op, value, repeat count) and status 01 05, not with this opcode.
            if (personality === "rom" && ROM_UNSUPPORTED.has(b[1])) x.want = 0;
            out.push(x);
            queue.push(x);
            last = x;
            continue;
        }
        if (isOhai(f)) {
            const memEnd = [...out].reverse().find((x) => x.op === 0x06);
            if (memEnd) { memEnd.ohai = true; memEnd.ohaiEarly = memEnd.replies.length === 0; }
            personality = "stub";
            continue;
        }
        if (rf) { // stub READ_FLASH stream (§3.6): data frames, then a 16-byte MD5 frame
            rf.x.stream.push(f);
            rf.got += f.len;
            if (rf.got > rf.need) rf = null;
            continue;
        }
        const op = f.bytes[0] === 0x01 && f.len >= 8 ? f.bytes[1] : -1;
        if (last && last.want === 0 && op >= 0 && f.len >= 10 && f.bytes[f.len - 4] === 0x01 &&
            f.bytes[f.len - 3] === 0x05) {
            last.unsupported.push(f);
            continue;
        }
        while (queue.length && (queue[0].op !== op || queue[0].replies.length >= queue[0].want)) queue.shift();
        if (queue.length) {
            const x = queue[0];
            x.replies.push(f);
            if (x.op === 0xd2 && x.personality === "stub") rf = { x, need: u32(x.req.bytes, 12), got: 0 };
        } else if (last) last.stray.push(f);
    }
    return out;
}

const ROM_UNSUPPORTED = new Set([0x14, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4]);

function expectedDataLen(op, personality) {
    if (op === 0x13) return personality === "rom" ? 32 : 16;
    return 0;
}

// Returns the disagreements (empty = the device behaved per the doc), each
// {kind: "<op> (<personality>): <what>", text: full detail with the bytes}.
export function checkConversation(frames, { allowFailures = () => false } = {}) {
    const problems = [];
    let x = null;
    const add = (what, text) => problems.push({ kind: `${opName(x.op)} (${x.personality}): ${what}`, text });
    for (x of exchanges(frames)) {
        const name = opName(x.op);
        const where = `#${x.seq} ${name} (${x.personality}) request [${hex(x.req.bytes, 24)}]`;
        if (x.replies.length !== x.want) {
            add("reply count", `${where}: got ${x.replies.length} replies with opcode 0x${x.op.toString(16)}, expected ${x.want}`);
        }
        for (const r of x.stray) add("unexpected frame", `${where}: unexpected frame after it [${hex(r.bytes)}]`);
        if (x.want === 0 && x.unsupported.length === 0)
            add("unsupported opcode answer", `${where}: the ROM answers an unknown opcode with the previous header and 01 05 (§14); nothing came`);
        const statusLen = x.personality === "rom" ? 4 : 2;
        const dataLen = expectedDataLen(x.op, x.personality);
        for (const r of x.replies) {
            const b = r.bytes;
            const size = u16(b, 2);
            const value = u32(b, 4);
            if (size !== r.len - 8) add("size field", `${where}: reply size field ${size} but ${r.len - 8} data bytes [${hex(b)}]`);
            if (size !== dataLen + statusLen) {
                add("reply length", `${where}: reply [${hex(b)}] has size ${size}, expected ${dataLen + statusLen} ` +
                    `(${x.personality === "rom" ? "ROM: data + 4 status bytes" : "stub: data + 2 status bytes"}, doc §2.2/§7.3)`);
            }
            const st = b.length > 8 + dataLen ? b[8 + dataLen] : undefined;
            if (st !== 0 && !allowFailures(x)) {
                add("failure status", `${where}: reply [${hex(b)}] reports failure, status byte 0 = ${st === undefined ? "missing" : "0x" + st.toString(16)}`);
            }
            if (x.op === 0x08) {
                const asked = u32(x.req.bytes, 8);
                if (x.personality === "rom" && value === 0) add("SYNC value", `${where}: ROM SYNC reply value 0 (doc §3.2/§14: non-zero; the client would think a stub runs) [${hex(b)}]`);
                else if (x.personality === "rom" && value !== asked) add("SYNC value", `${where}: ROM SYNC reply value 0x${value.toString(16)}, the ROM echoes the request's first payload word 0x${asked.toString(16)} (doc §14) [${hex(b)}]`);
                if (x.personality === "stub" && value !== 0) add("SYNC value", `${where}: stub SYNC reply value 0x${value.toString(16)}, expected 0 (doc §3.2) [${hex(b)}]`);
            }
        }
        if (x.op === 0xd2 && x.personality === "stub" && x.replies.length) {
            const len = u32(x.req.bytes, 8 + 4), pkt = u32(x.req.bytes, 8 + 8);
            const data = x.stream.slice(0, -1), md5 = x.stream[x.stream.length - 1];
            const total = data.reduce((n, f) => n + f.len, 0);
            const short = data.slice(0, -1).filter((f) => f.len !== pkt);
            if (total !== len) add("READ_FLASH stream", `${where}: streamed ${total} data bytes, asked ${len}`);
            if (short.length) add("READ_FLASH stream", `${where}: ${short.length} non-final data frames not ${pkt} bytes (first ${short[0].len}); esptool fails with "Corrupt data" (§3.6)`);
            if (!md5 || md5.len !== 16) add("READ_FLASH stream", `${where}: no 16-byte MD5 frame after the data (§3.6)`);
        }
        if (x.op === 0x06 && x.ohaiEarly) {
            add("OHAI order", `${where}: OHAI arrived before the MEM_END reply (doc §7.2: reply first, then OHAI)`);
        }
    }
    return problems;
}

// Group problems by kind: [{kind, count, first (text), texts}].
export function groupProblems(problems) {
    const m = new Map();
    for (const p of problems) {
        if (!m.has(p.kind)) m.set(p.kind, { kind: p.kind, count: 0, first: p.text, texts: [] });
        const g = m.get(p.kind);
        g.count++;
        g.texts.push(p.text);
    }
    return [...m.values()];
}

// All exchanges with a given opcode (for targeted assertions).
export function findExchanges(frames, op) {
    return exchanges(frames).filter((x) => x.op === op);
}

export { u16, u32 };
