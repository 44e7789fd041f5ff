/* port.h - one serial-port interface, four backends chosen by the port's name:
 *   "socket://HOST:PORT"            raw TCP (ser2net, emulated chips, the simulator)
 *   "rfc2217://HOST:PORT"           RFC 2217 serial server (ser2net telnet mode, pyserial's
 *                                   and esptool's servers): baud, DTR and RTS reach the unit
 *   a pseudo-terminal (/dev/pts/N, or a symlink to one)   POSIX termios
 *   anything else (/dev/ttyUSB0, /dev/serial/by-path/...) libserialport
 * Writes go out one frame per system call; reads are buffered by the caller. */
#ifndef ST_PORT_H
#define ST_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

typedef enum { ST_PORT_USB, ST_PORT_PTY, ST_PORT_TCP, ST_PORT_RFC2217 } st_port_kind;

/* What we know of the port and the USB bridge behind it. */
typedef struct st_port_info {
    char name[256];        /* as given to st_port_open */
    st_port_kind kind;
    uint16_t vid, pid;     /* 0 when unknown */
    char serial[64];       /* USB serial number, "" when the bridge has none */
    char usb_path[64];     /* USB bus path, e.g. "1-1.3" ("" when unknown) */
    char bridge[32];       /* "CP2104", "CH9102", "CH340", "FTDI", "USB-JTAG", "" */
    bool has_modem_lines;  /* DTR/RTS can reset the unit */
} st_port_info;

typedef struct st_port st_port;

/* Open `name` at `baud`, 8N1, no flow control. For pseudo-terminals, a sidecar file
 * "<name>.usb" (lines "vid=10c4", "pid=ea60", "serial=...", "path=1-1.3") written by
 * the simulator supplies the bridge identity a real USB port would have. */
int st_port_open(const char *name, int baud, st_port **out, st_err *err);
/* Close and free; NULL is fine. */
void st_port_close(st_port *p);
/* Write all n bytes in one system call where possible (one frame per call). */
int st_port_write(st_port *p, const void *buf, size_t n, st_err *err);
/* Read up to cap bytes, waiting at most timeout_ms for the first byte. Returns the
 * count (>0), 0 on timeout, or -1 with err (ST_E_GONE when the device vanished). */
ssize_t st_port_read(st_port *p, void *buf, size_t cap, int timeout_ms, st_err *err);
/* Change the baud rate (non-standard rates such as 250000/750000/1500000 included). */
int st_port_set_baud(st_port *p, int baud, st_err *err);
int st_port_get_baud(const st_port *p);
/* Set DTR/RTS (true = asserted). Ports without modem lines succeed and do nothing. */
int st_port_set_lines(st_port *p, bool dtr, bool rts, st_err *err);
/* Discard bytes received but not yet read. */
void st_port_flush_input(st_port *p);
const st_port_info *st_port_describe(const st_port *p);
/* Total bytes written/read since open (for wire-usage figures). */
uint64_t st_port_bytes_out(const st_port *p);
uint64_t st_port_bytes_in(const st_port *p);

/* Bridge name for a VID:PID ("CP2104" for 10c4:ea60 ...), "" when unknown. */
const char *st_bridge_name(uint16_t vid, uint16_t pid);

#endif
