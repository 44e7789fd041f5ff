#!/usr/bin/python3
"""esp32sim --rfc2217 against an independent client: pyserial's rfc2217:// (the one esptool
uses). Usage: rfc2217_pyserial.py ESP32SIM. Fails loudly (never skips) when pyserial is
missing: packaging/deps.sh installs python3-serial.

Checks: pyserial's negotiation and settings complete (it raises on a missing or differing
answer); opening resets nothing; a baud change is answered with the new rate; pyserial's
own DTR/RTS changes (one acknowledged SET-CONTROL at a time, each wait polled in 50 ms
steps) are too slow for the auto-reset circuit, so esptool's classic sequence over a
plain RFC 2217 server boots the app (esptool issue #383, the reason esptool ships
esp_rfc2217_server); an RTS pulse (esptool's hard reset) boots the app."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import serial  # python3-serial

failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures += 1


def read_for(port, seconds):
    end = time.monotonic() + seconds
    data = b""
    while time.monotonic() < end:
        data += port.read(4096)
    return data


def main():
    sim = sys.argv[1]
    work = tempfile.mkdtemp(prefix="st-rfc2217-py-")
    base = 27000 + os.getpid() % 20000
    log = open(os.path.join(work, "sim.log"), "w")
    proc = subprocess.Popen([sim, "--dir", work + "/d", "--rfc2217", str(base), "-v"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(500):
            if os.path.exists(work + "/d/ready"):
                break
            time.sleep(0.01)
        url = open(work + "/d/slot1.rfc2217").read().strip()
        check(url == "rfc2217://127.0.0.1:%d" % base, "sidecar names the URL: " + url)
        port = serial.serial_for_url(url, baudrate=115200, timeout=0.05)
        check(True, "pyserial negotiated COM-PORT-OPTION and 8N1 at 115200")
        check(read_for(port, 0.3) == b"", "opening the port reset nothing (no boot text)")
        port.baudrate = 921600
        check(port.baudrate == 921600, "SET-BAUDRATE 921600 answered with 921600")
        port.baudrate = 115200

        # esptool's ClassicReset as pyserial performs it over RFC 2217.
        t0 = time.monotonic()
        port.dtr = False
        port.rts = True
        time.sleep(0.1)
        port.dtr = True
        port.rts = False
        time.sleep(0.05)
        port.dtr = False
        took = time.monotonic() - t0
        text = read_for(port, 0.3)
        check(took > 0.15 + 0.1, "each pyserial line change waits for its answer (%.0f ms)" % (took * 1000))
        check(b"boot:0x13 (SPI_FAST_FLASH_BOOT)" in text and b"waiting for download" not in text,
              "classic sequence with acknowledged single changes boots the app: %r" % text[:90])

        # esptool's HardReset: RTS pulse with DTR released.
        port.rts = True
        time.sleep(0.1)
        port.rts = False
        text = read_for(port, 0.3)
        check(b"rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)" in text,
              "RTS pulse: the app boots: %r" % text[:90])
        port.close()
        time.sleep(0.1)
        slog = open(work + "/sim.log").read()
        check("DTR=1 RTS=1: EN high, GPIO0 high" in slog,
              "the simulator saw the (DTR, RTS) = (1, 1) step between the two changes")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        if failures:
            sys.stdout.write(open(os.path.join(work, "sim.log")).read())
        shutil.rmtree(work, ignore_errors=True)
    print("rfc2217_pyserial: %s" % ("FAILED" if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
