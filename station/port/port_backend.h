/* port_backend.h - internal to station/port*.c: the table each backend (termios,
 * libserialport, TCP) fills in, the port object they share, and the helpers port.c
 * provides so that every backend reads, times out and reports errors the same way.
 * Not for use outside the port layer: everything else goes through port.h. */
#ifndef ST_PORT_BACKEND_H
#define ST_PORT_BACKEND_H

#include "port.h"

struct st_port_ops {
    /* Optional (NULL: st_port_fd_read): up to cap bytes of the device's data within
     * timeout_ms, for backends whose stream carries more than data (RFC 2217's Telnet
     * commands). Same returns as st_port_fd_read. */
    ssize_t (*read)(st_port *p, void *buf, size_t cap, int timeout_ms, st_err *err);
    /* Send all n (> 0) bytes, one system call per frame where possible; 0 or -1 with err
     * (phase ST_PH_NONE). */
    int (*write)(st_port *p, const uint8_t *buf, size_t n, st_err *err);
    /* Apply a new rate; p->baud is updated by port.c after success. */
    int (*set_baud)(st_port *p, int baud, st_err *err);
    /* Only called when p->info.has_modem_lines. */
    int (*set_lines)(st_port *p, bool dtr, bool rts, st_err *err);
    void (*flush_input)(st_port *p);
    /* Release everything the backend opened, including p->fd; not p itself. */
    void (*close)(st_port *p);
};

struct st_port {
    const struct st_port_ops *ops;
    st_port_info info;
    int fd;              /* pollable descriptor (all backends have one); -1 when closed */
    int baud;
    bool is_socket;      /* fd is a socket: send() with MSG_NOSIGNAL instead of write() */
    uint64_t bytes_out, bytes_in;
    void *sp;            /* struct sp_port * of the libserialport backend, else NULL */
    void *rfc;           /* RFC 2217 session state of port_rfc2217.c, else NULL */
};

/* Backends. p->info.name is set and p->fd is -1 on entry; on success p->ops, p->fd,
 * p->baud and the backend's part of p->info are set. On failure everything the backend
 * opened is released and err is filled (phase ST_PH_OPEN). */
int st_port_open_termios(st_port *p, int baud, bool is_pty, st_err *err);
int st_port_open_serial(st_port *p, int baud, st_err *err);
int st_port_open_tcp(st_port *p, int baud, st_err *err);
int st_port_open_rfc2217(st_port *p, int baud, st_err *err);
/* Connect p->fd to the "<scheme>HOST:PORT" in p->info.name (bounded connect, TCP_NODELAY,
 * p->is_socket set); 0 or -1 with err naming the address (phase ST_PH_OPEN). */
int st_port_tcp_connect(st_port *p, const char *scheme, st_err *err);

/* True when name (after following symlinks) is the slave side of a pseudo-terminal. */
bool st_port_name_is_pty(const char *name);

/* Fill err from an OS failure of `what` on p (errno e): category and failure class by
 * errno (EIO/ENXIO/ENODEV/EPIPE/ECONNRESET -> gone, EACCES -> permissions hint, EBUSY
 * -> busy hint, ...), message naming the port and strerror(e). Returns -1. */
int st_port_sys_err(const st_port *p, st_err *err, st_phase ph, int e, const char *what);
/* The device is gone (hang-up, end of file): ST_E_GONE / ST_FC_VANISHED. Returns -1. */
int st_port_gone(const st_port *p, st_err *err, int e, const char *why);
/* The driver settled at `actual` instead of the requested baud: ST_E_IO / ST_FC_BAUD_CHANGE
 * with sys_errno e, naming the device ("bridge", "serial port") in message and hint.
 * Returns -1. */
int st_port_baud_refused(const st_port *p, st_err *err, int baud, int actual, int e,
                         const char *device);

/* poll() + one read() of whatever is available up to cap on p->fd: count, 0 on timeout,
 * -1 with err (ST_E_GONE on hang-up/EOF/EIO). */
ssize_t st_port_fd_read(st_port *p, void *buf, size_t cap, int timeout_ms, st_err *err);
/* Write all n bytes to p->fd: one write() when the kernel takes it, else poll(POLLOUT) and
 * continue, within st_port_write_timeout_ms(); ST_E_TIMEOUT past that. */
int st_port_fd_write(st_port *p, const uint8_t *buf, size_t n, st_err *err);
/* Generous time for n bytes at p->baud: 2 s plus 10 bits per byte. */
int st_port_write_timeout_ms(const st_port *p, size_t n);
/* Read and discard whatever is immediately readable on p->fd (bounded). */
void st_port_fd_drain(st_port *p);

/* tty helpers shared by the termios and libserialport backends. */
/* True when TIOCMGET works (real UART bridges; false on pseudo-terminals). */
bool st_tty_has_modem_lines(int fd);
/* Set DTR and RTS together with one TIOCMSET so a reset sequence sees both edges at
 * once; 0 or -1 with errno. */
int st_tty_set_lines(int fd, bool dtr, bool rts);
/* Set input and output speed to any integer rate (termios2/BOTHER on Linux); 0 or -1
 * with errno (ERANGE: the driver settled more than 3 % away from the request). Lives in
 * port_baud_linux.c because <asm/termbits.h> clashes with <termios.h>. */
int st_tty_set_baud(int fd, int baud);
/* Compare the rate the driver reports with baud: 0 when within 3 % (or unknown), -1 with
 * errno ERANGE otherwise; *actual (optional) gets the driver's rate. */
int st_tty_check_baud(int fd, int baud, int *actual);
/* Take an advisory exclusive lock (flock) so two stations or esptool never share a port;
 * 0 or -1 with errno (EBUSY when another process holds it). */
int st_tty_lock(int fd);
/* Fill vid/pid/serial/usb_path/bridge of a PTY from the simulator's "<name>.usb" file;
 * leaves them empty when there is none. */
void st_port_read_sidecar(st_port_info *info);
/* Linux: physical USB port path ("1-1.3") of a tty device from sysfs; false if unknown. */
bool st_tty_usb_path(const char *dev_path, char *out, size_t cap);

#endif
