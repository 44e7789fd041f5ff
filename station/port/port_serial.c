/* port_serial.c - libserialport backend for real USB-serial bridges (/dev/ttyUSB*,
 * /dev/ttyACM*, /dev/serial/by-path/...). Writes go through sp_blocking_write (one call
 * per frame); reads poll() the port's descriptor through the shared fd helpers. */
#include "port_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

/* Fill err from a libserialport failure: the OS error and its hint when there is one,
 * with libserialport's own message in the text. Returns -1. */
static int sp_fail(st_port *p, st_err *err, st_phase ph, enum sp_return r, const char *what)
{
    if (r == SP_ERR_FAIL) {
        int e = sp_last_error_code();
        char *m = sp_last_error_message();
        st_port_sys_err(p, err, ph, e ? e : EIO, what);
        if (err && m) {
            size_t n = strlen(m);
            while (n && (m[n - 1] == '\n' || m[n - 1] == '\r'))
                m[--n] = 0;
            snprintf(err->msg, sizeof err->msg, "%s: %s failed: %s (libserialport)",
                     p->info.name, what, m);
        }
        if (m)
            sp_free_error_message(m);
        return -1;
    }
    st_errcat cat = r == SP_ERR_MEM ? ST_E_NOMEM : r == SP_ERR_ARG ? ST_E_ARG : ST_E_IO;
    st_err_set(err, cat, ph, "%s: %s failed: libserialport %s", p->info.name, what,
               r == SP_ERR_SUPP  ? "does not support this operation"
               : r == SP_ERR_MEM ? "ran out of memory"
                                 : "rejected the arguments");
    if (err)
        err->fclass = ST_FC_IO;
    return st_err_hint(err, "check that %s is a serial port and the bridge supports this setting",
                       p->info.name);
}

static int ser_write(st_port *p, const uint8_t *buf, size_t n, st_err *err)
{
    int timeout = st_port_write_timeout_ms(p, n);
    enum sp_return r = sp_blocking_write(p->sp, buf, n, (unsigned)timeout);
    if (r < 0) {
        if (r == SP_ERR_FAIL) {
            int e = sp_last_error_code();
            return st_port_sys_err(p, err, ST_PH_NONE, e ? e : EIO, "write");
        }
        return sp_fail(p, err, ST_PH_NONE, r, "write");
    }
    if ((size_t)r < n) {
        st_err_set(err, ST_E_TIMEOUT, ST_PH_NONE,
                   "%s: write timed out after %d ms with %d of %zu bytes sent", p->info.name,
                   timeout, (int)r, n);
        if (err) {
            err->fclass = ST_FC_TIMEOUT;
            err->sys_errno = ETIMEDOUT;
        }
        return st_err_hint(err, "the port does not take data (flow control stuck, or the bridge "
                                "hung): reseat the cable");
    }
    return 0;
}

static int ser_set_baud(st_port *p, int baud, st_err *err)
{
    char what[48];
    snprintf(what, sizeof what, "setting %d baud", baud);
    enum sp_return r = sp_set_baudrate(p->sp, baud);
    /* Older libserialport builds only know the standard rates. */
    if (r != SP_OK && st_tty_set_baud(p->fd, baud) != 0 && errno != ERANGE)
        return sp_fail(p, err, ST_PH_NONE, r, what);
    int actual = baud;
    if (st_tty_check_baud(p->fd, baud, &actual) == 0)
        return 0;
    return st_port_baud_refused(p, err, baud, actual, ERANGE, "bridge");
}

static int ser_set_lines(st_port *p, bool dtr, bool rts, st_err *err)
{
    /* One TIOCMSET for both lines: esptool-style reset sequences need DTR and RTS to
     * change together, which two sp_set_dtr/sp_set_rts calls cannot guarantee. */
    if (st_tty_set_lines(p->fd, dtr, rts) == 0)
        return 0;
    enum sp_return r = sp_set_dtr(p->sp, dtr ? SP_DTR_ON : SP_DTR_OFF);
    if (r == SP_OK)
        r = sp_set_rts(p->sp, rts ? SP_RTS_ON : SP_RTS_OFF);
    return r == SP_OK ? 0 : sp_fail(p, err, ST_PH_NONE, r, "setting DTR/RTS");
}

static void ser_flush_input(st_port *p)
{
    sp_flush(p->sp, SP_BUF_INPUT);
}

static void ser_close(st_port *p)
{
    if (p->sp) {
        sp_close(p->sp); /* closes p->fd */
        sp_free_port(p->sp);
    }
    p->sp = NULL;
    p->fd = -1;
}

static const struct st_port_ops serial_ops = {
    .write = ser_write,
    .set_baud = ser_set_baud,
    .set_lines = ser_set_lines,
    .flush_input = ser_flush_input,
    .close = ser_close,
};

static void fill_usb_info(st_port *p)
{
    st_port_info *in = &p->info;
    if (sp_get_port_transport(p->sp) != SP_TRANSPORT_USB)
        return;
    int vid = 0, pid = 0, bus = 0, addr = 0;
    if (sp_get_port_usb_vid_pid(p->sp, &vid, &pid) == SP_OK) {
        in->vid = (uint16_t)vid;
        in->pid = (uint16_t)pid;
    }
    const char *serial = sp_get_port_usb_serial(p->sp);
    if (serial)
        snprintf(in->serial, sizeof in->serial, "%s", serial);
    /* The physical port path names the slot on the hub; bus-address changes on every
     * replug, so it is only the fallback. */
    if (!st_tty_usb_path(in->name, in->usb_path, sizeof in->usb_path) &&
        sp_get_port_usb_bus_address(p->sp, &bus, &addr) == SP_OK)
        snprintf(in->usb_path, sizeof in->usb_path, "bus%d-dev%d", bus, addr);
    snprintf(in->bridge, sizeof in->bridge, "%s", st_bridge_name(in->vid, in->pid));
}

static int configure(st_port *p, int baud, st_err *err)
{
    enum sp_return r;
    if ((r = sp_set_bits(p->sp, 8)) != SP_OK)
        return sp_fail(p, err, ST_PH_OPEN, r, "setting 8 data bits");
    if ((r = sp_set_parity(p->sp, SP_PARITY_NONE)) != SP_OK)
        return sp_fail(p, err, ST_PH_OPEN, r, "setting no parity");
    if ((r = sp_set_stopbits(p->sp, 1)) != SP_OK)
        return sp_fail(p, err, ST_PH_OPEN, r, "setting 1 stop bit");
    if ((r = sp_set_flowcontrol(p->sp, SP_FLOWCONTROL_NONE)) != SP_OK)
        return sp_fail(p, err, ST_PH_OPEN, r, "disabling flow control");
    return ser_set_baud(p, baud, err); /* st_port_open marks the phase */
}

int st_port_open_serial(st_port *p, int baud, st_err *err)
{
    struct stat st;
    if (stat(p->info.name, &st) != 0)
        return st_port_sys_err(p, err, ST_PH_OPEN, errno, "open");
    if (!S_ISCHR(st.st_mode)) {
        st_port_sys_err(p, err, ST_PH_OPEN, ENOTTY, "opening as a serial port");
        return st_err_hint(err, "%s is not a device: check the port name "
                                "(ls -l /dev/serial/by-path/)", p->info.name);
    }
    struct sp_port *sp = NULL;
    if (sp_get_port_by_name(p->info.name, &sp) != SP_OK)
        /* libserialport only knows ports with a sysfs entry it understands; any other
         * tty still works through plain termios. */
        return st_port_open_termios(p, baud, false, err);
    p->sp = sp;
    enum sp_return r = sp_open(sp, SP_MODE_READ_WRITE);
    if (r != SP_OK) {
        sp_fail(p, err, ST_PH_OPEN, r, "open");
        sp_free_port(sp);
        p->sp = NULL;
        return -1;
    }
    int fd = -1;
    if ((r = sp_get_port_handle(sp, &fd)) != SP_OK || fd < 0) {
        sp_fail(p, err, ST_PH_OPEN, r != SP_OK ? r : SP_ERR_SUPP, "getting the descriptor");
        goto fail;
    }
    p->fd = fd;
    if (st_tty_lock(fd) != 0) {
        st_port_sys_err(p, err, ST_PH_OPEN, errno, "locking");
        goto fail;
    }
    /* poll() does the waiting; a read must never block. */
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
        st_port_sys_err(p, err, ST_PH_OPEN, errno, "making the descriptor non-blocking");
        goto fail;
    }
    p->ops = &serial_ops;
    if (configure(p, baud, err) != 0)
        goto fail;
    p->baud = baud;
    p->info.has_modem_lines = st_tty_has_modem_lines(fd);
    fill_usb_info(p);
    return 0;
fail:
    ser_close(p);
    p->ops = NULL;
    return -1;
}
