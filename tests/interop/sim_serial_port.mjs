// sim_serial_port.mjs - a Web Serial-like SerialPort over esp32sim's TCP port, so that
// esptool-js's Transport (lib/webserial.js) can drive a simulated unit from Node.
//
// What esptool-js 0.5.7's Transport uses, and how it is modelled here:
//   open({baudRate,...}) / close()      port open state and host baud (TCP carries no baud)
//   readable / writable                 WHATWG streams, as in Web Serial: after the readable
//                                       is cancelled (Transport.flushInput / disconnect) the
//                                       getter hands out a fresh stream while the port is open
//   setSignals({dataTerminalReady, requestToSend})
//                                       DTR/RTS drive a modelled auto-reset circuit (below)
//   getInfo()                           USB identity of the CP2104 bridge the sim reports
//
// The TCP connection stands for the USB cable, not for the open file handle: closing and
// reopening the port (esptool-js does that for every baud change) keeps the connection, as a
// real bridge keeps the chip powered and un-reset. The connection is dropped only for a reset
// (EN low) or by unplug(); esp32sim treats the hang-up as the reset a station does with
// DTR/RTS and puts the unit back into the ROM loader.
//
// Auto-reset circuit of Espressif boards (two transistors): EN low iff RTS asserted and DTR
// not; GPIO0 low iff DTR asserted and RTS not; with both asserted neither pin is pulled and
// the RC on EN holds its level, so EN keeps its previous state.
//
// Every byte in both directions also goes through a passive SLIP tap (WireTap) so the test can
// assert on, and report, exactly what esptool-js sent and what the simulator answered.

import net from "node:net";

export class WireTap {
    constructor() {
        this.frames = []; // {dir: "host"|"dev", seq, bytes (decoded SLIP payload), len}
        this.seq = 0;
        this.devInFrame = false;
        this.devEsc = false;
        this.devBuf = [];
        this.devRawOutside = []; // bytes the device sent outside frames (banner text)
        this.keepBytes = 96; // only the head of long frames is kept
    }

    _push(dir, bytes) {
        this.frames.push({ dir, seq: this.seq++, len: bytes.length, bytes: bytes.slice(0, this.keepBytes) });
    }

    // Host writes are whole SLIP frames (Transport.write calls slipWriter per packet) but
    // readFlash acks are frames too, so decode generically.
    host(chunk) {
        let inFrame = false, esc = false, buf = [];
        for (const b of chunk) {
            if (b === 0xc0) {
                if (inFrame && buf.length) this._push("host", Uint8Array.from(buf));
                inFrame = true; buf = []; continue;
            }
            if (!inFrame) continue;
            if (esc) { buf.push(b === 0xdc ? 0xc0 : b === 0xdd ? 0xdb : b); esc = false; }
            else if (b === 0xdb) esc = true;
            else buf.push(b);
        }
    }

    dev(chunk) {
        for (const b of chunk) {
            if (b === 0xc0) {
                if (this.devInFrame && this.devBuf.length) {
                    this._push("dev", Uint8Array.from(this.devBuf));
                    this.devInFrame = false;
                } else {
                    this.devInFrame = true; // empty C0 C0 pairs re-open a frame, like esptool
                }
                this.devBuf = [];
                continue;
            }
            if (!this.devInFrame) { this.devRawOutside.push(b); continue; }
            if (this.devEsc) { this.devBuf.push(b === 0xdc ? 0xc0 : b === 0xdd ? 0xdb : b); this.devEsc = false; }
            else if (b === 0xdb) this.devEsc = true;
            else this.devBuf.push(b);
        }
    }

    // A marker in the frame list, e.g. "reset" (the unit is back in its ROM loader).
    note(label) { this.frames.push({ dir: "note", seq: this.seq++, label, len: 0, bytes: new Uint8Array(0) }); }

    mark() { return this.seq; }
    since(mark) { return this.frames.filter((f) => f.seq >= mark); }
    rawText() { return Buffer.from(this.devRawOutside).toString("latin1"); }
}

export class SimSerialPort {
    // host/port: the unit's TCP endpoint (DIR/slotK.tcp); log: optional (line) => void
    constructor({ host, port, log = () => {}, usbVendorId = 0x10c4, usbProductId = 0xea60 }) {
        this.host = host;
        this.port = port;
        this.log = log;
        this.info = { usbVendorId, usbProductId };
        this.tap = new WireTap();
        this.sock = null;
        this.isOpen = false;
        this.baudRate = 0;
        this.baudHistory = [];
        this.dtr = false;
        this.rts = false;
        this.enLow = false;
        this.resets = 0; // EN pulses that reached the unit (reconnects)
        this._readable = null;
        this._ctrl = null;
        this._writable = null;
    }

    getInfo() { return { ...this.info }; }

    // Connect the link. esp32sim serves one host at a time and closes a connection that
    // arrives while it still holds the previous one (it may not have seen our hang-up yet),
    // so a connection closed before any byte arrived is retried. An accepted connection
    // starts with the unit's boot text; we wait for it (or a short quiet period).
    async _connect() {
        for (let attempt = 0; ; attempt++) {
            const r = await this._connectOnce();
            if (r === "ok") return;
            this.log("link closed at once (esp32sim still held the previous one): retrying");
            if (attempt >= 40) throw new Error(`esp32sim refused the connection ${attempt + 1} times`);
            await new Promise((res) => setTimeout(res, 25));
        }
    }

    _connectOnce() {
        this.tap.devInFrame = false; // a new link starts outside any frame
        this.tap.devEsc = false;
        this.tap.devBuf = [];
        return new Promise((resolve, reject) => {
            const s = net.createConnection({ host: this.host, port: this.port });
            let settled = false, quiet = null;
            const settle = (v) => { if (!settled) { settled = true; clearTimeout(quiet); resolve(v); } };
            s.on("error", (e) => {
                if (!settled) { settled = true; clearTimeout(quiet); s.destroy(); reject(e); }
                else this.log(`tcp error: ${e.message}`);
            });
            s.once("connect", () => {
                s.setNoDelay(true);
                this.sock = s;
                quiet = setTimeout(() => settle("ok"), 300);
            });
            s.on("data", (d) => { settle("ok"); this._onData(d); });
            s.on("close", () => {
                if (!settled) { if (this.sock === s) this.sock = null; settle("refused"); return; }
                if (this.sock === s) { this.sock = null; this._fatal(new Error("unit disconnected")); }
            });
        });
    }

    _drop() {
        const s = this.sock;
        this.sock = null;
        if (s) s.destroy();
    }

    _onData(d) {
        const chunk = new Uint8Array(d.buffer, d.byteOffset, d.length).slice();
        this.tap.dev(chunk);
        // Bytes arriving while the port is closed are lost, as with a closed tty; while it is
        // open they queue in the current readable (a new one if the last was cancelled).
        if (!this.isOpen) return;
        if (!this._ctrl) this.readable; // eslint-disable-line no-unused-expressions
        this._ctrl.enqueue(chunk);
    }

    _fatal(err) {
        if (this._ctrl) { try { this._ctrl.error(err); } catch { /* already closed */ } }
        this._ctrl = null;
        this._readable = null;
    }

    get readable() {
        if (!this.isOpen) return null;
        if (!this._readable) {
            const self = this;
            let myCtrl = null;
            this._readable = new ReadableStream({
                start(c) { myCtrl = c; self._ctrl = c; },
                cancel() {
                    // Web Serial: a cancelled readable is discarded with its queued bytes;
                    // the getter creates a new one.
                    if (self._ctrl === myCtrl) { self._ctrl = null; self._readable = null; }
                },
            }, { highWaterMark: 1 << 30, size: (c) => c.byteLength });
        }
        return this._readable;
    }

    get writable() {
        if (!this.isOpen) return null;
        if (!this._writable) {
            this._writable = new WritableStream({
                write: (chunk) => new Promise((resolve, reject) => {
                    if (!this.sock) { reject(new Error("unit not connected")); return; }
                    const bytes = chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk);
                    this.tap.host(bytes);
                    this.sock.write(bytes, (e) => (e ? reject(e) : resolve()));
                }),
            });
        }
        return this._writable;
    }

    async open(options = {}) {
        if (this.isOpen) throw new Error("InvalidStateError: port already open");
        if (!options.baudRate) throw new TypeError("baudRate required");
        if (!this.sock) await this._connect();
        this.baudRate = options.baudRate;
        this.baudHistory.push(options.baudRate);
        this.isOpen = true;
        this.log(`port open @${options.baudRate}`);
    }

    async close() {
        if (!this.isOpen) throw new Error("InvalidStateError: port not open");
        if (this._readable && this._readable.locked) throw new TypeError("Cannot cancel a locked stream");
        if (this._writable && this._writable.locked) throw new TypeError("Cannot close a locked stream");
        if (this._readable) await this._readable.cancel().catch(() => {});
        if (this._writable) await this._writable.close().catch(() => {});
        this._readable = null;
        this._ctrl = null;
        this._writable = null;
        this.isOpen = false;
        this.log("port closed (link kept)");
    }

    async setSignals(sig = {}) {
        if (!this.isOpen) throw new Error("InvalidStateError: port not open");
        if (typeof sig.dataTerminalReady === "boolean") this.dtr = sig.dataTerminalReady;
        if (typeof sig.requestToSend === "boolean") this.rts = sig.requestToSend;
        let en = this.enLow;
        if (this.rts && !this.dtr) en = true;
        else if (!this.rts) en = false;
        const io0Low = this.dtr && !this.rts;
        if (en && !this.enLow) {
            this.enLow = true;
            this.log("EN low: unit held in reset (link dropped)");
            this._drop();
        } else if (!en && this.enLow) {
            this.enLow = false;
            this.resets++;
            this.tap.note("reset");
            this.log(`EN high with GPIO0 ${io0Low ? "low: download boot" : "high: normal boot (sim always boots the loader)"}`);
            await this._connect();
        }
    }

    // End of test: the cable is pulled.
    async unplug() {
        if (this.isOpen) {
            this._readable = null;
            this._ctrl = null;
            this._writable = null;
            this.isOpen = false;
        }
        this._drop();
    }
}
