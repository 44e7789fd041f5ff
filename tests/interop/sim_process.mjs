// sim_process.mjs - start one esp32sim in TCP mode for a test and stop it again.
// The unit's endpoint is read from DIR/slot1.tcp (socket://127.0.0.1:PORT), as the
// tests/sim/README.md describes; readiness is DIR/ready.

import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Ask the kernel for a free loopback port (small race with other tests; start() retries).
function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
    });
}

export class SimProcess {
    // exe: path of esp32sim; dir: scratch directory (recreated); unitOpts: ["pkg=d0wd-v3", ...]
    constructor({ exe, dir, unitOpts = [], extraArgs = [], log = console.log }) {
        this.exe = exe;
        this.dir = dir;
        this.unitOpts = unitOpts;
        this.extraArgs = extraArgs;
        this.log = log;
        this.child = null;
        this.exit = null;
        this.logPath = path.join(path.dirname(dir), path.basename(dir) + ".esp32sim.log");
    }

    get flashPath() { return path.join(this.dir, "slot1.flash"); }

    async start() {
        let lastErr = null;
        for (let attempt = 0; attempt < 3; attempt++) {
            try {
                return await this._startOnce(await freePort());
            } catch (e) {
                lastErr = e;
                this.log(`esp32sim start attempt ${attempt + 1} failed: ${e.message}`);
                await this.stop().catch(() => {});
            }
        }
        throw lastErr;
    }

    async _startOnce(basePort) {
        fs.rmSync(this.dir, { recursive: true, force: true });
        fs.mkdirSync(this.dir, { recursive: true });
        const args = ["--dir", this.dir, "--units", "1", "--tcp", String(basePort), "--flash-files", "--verbose"];
        for (const o of this.unitOpts) args.push("--unit-opt", `1:${o}`);
        args.push(...this.extraArgs);
        this.log(`starting: ${this.exe} ${args.join(" ")}`);
        const out = fs.openSync(this.logPath, "w");
        this.exit = null;
        this.child = spawn(this.exe, args, { stdio: ["ignore", out, out] });
        fs.closeSync(out);
        const child = this.child;
        // Never leave a simulator behind, whatever way this process ends.
        const reap = () => { if (!this.exit) { try { child.kill("SIGKILL"); } catch { /* gone */ } } };
        process.once("exit", reap);
        child.on("exit", (code, signal) => { this.exit = { code, signal }; process.off("exit", reap); });
        child.on("error", (e) => { this.exit = { error: e.message }; process.off("exit", reap); });
        const readyPath = path.join(this.dir, "ready");
        const tcpPath = path.join(this.dir, "slot1.tcp");
        const deadline = performance.now() + 10000; /* monotonic: a clock step moves no deadline */
        while (!fs.existsSync(readyPath)) {
            if (this.exit) throw new Error(`esp32sim exited early (${JSON.stringify(this.exit)}); log:\n${this.logTail()}`);
            if (performance.now() > deadline) throw new Error(`esp32sim not ready after 10 s; log:\n${this.logTail()}`);
            await sleep(20);
        }
        const url = fs.readFileSync(tcpPath, "utf8").trim();
        const m = /^socket:\/\/([0-9.]+):(\d+)$/.exec(url);
        if (!m) throw new Error(`unexpected ${tcpPath} content: ${JSON.stringify(url)}`);
        const port = Number(m[2]);
        if (port !== basePort) throw new Error(`${tcpPath} says port ${port}, expected --tcp ${basePort}`);
        return { host: m[1], port };
    }

    logTail(n = 40) {
        try {
            const lines = fs.readFileSync(this.logPath, "utf8").split("\n");
            return lines.slice(-n).join("\n");
        } catch { return "(no log)"; }
    }

    readLog() {
        try { return fs.readFileSync(this.logPath, "utf8"); } catch { return ""; }
    }

    // SIGTERM and wait; resolves to {code, signal} or null if it had to be killed.
    async stop(graceMs = 5000) {
        if (!this.child) return this.exit;
        const child = this.child;
        this.child = null;
        if (!this.exit) child.kill("SIGTERM");
        const deadline = performance.now() + graceMs;
        while (!this.exit && performance.now() < deadline) await sleep(20);
        if (!this.exit) {
            child.kill("SIGKILL");
            while (!this.exit) await sleep(20);
            return null;
        }
        return this.exit;
    }
}
