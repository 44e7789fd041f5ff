/* test_port - the serial port layer (station/port/port.h) against a real pseudo-terminal pair
 * and a loopback TCP listener made here, plus the error paths (missing device, refused
 * connection, not a serial port, port already in use). */
#define _GNU_SOURCE /* posix_openpt, ptsname */
#include "check.h"
#include "port.h"
#include "slip.h"

#include <asm/ioctls.h>
#include <asm/termbits.h> /* termios2: the rate the kernel really has (no <termios.h> here) */
#include <sys/ioctl.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT_MS 5000 /* generous upper bound for data that is already on its way */

/* Read exactly n bytes from a raw fd (pty master, socket), waiting up to WAIT_MS per chunk. */
static size_t fd_read_all(int fd, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, WAIT_MS) <= 0)
            break;
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

static size_t port_read_all(st_port *p, uint8_t *buf, size_t n)
{
    size_t got = 0;
    st_err err;
    while (got < n) {
        ssize_t r = st_port_read(p, buf + got, n - got, WAIT_MS, &err);
        if (r <= 0) {
            if (r < 0)
                fprintf(stderr, "port read failed: %s\n", err.msg);
            break;
        }
        got += (size_t)r;
    }
    return got;
}

static bool write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fputs(text, f);
    return fclose(f) == 0;
}

static int open_master(char *slave, size_t cap)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 || !ptsname(m)) {
        perror("posix_openpt");
        if (m >= 0)
            close(m);
        return -1;
    }
    snprintf(slave, cap, "%s", ptsname(m));
    return m;
}

/* Output speed of a tty as the kernel holds it, -1 on failure. */
static long kernel_speed(int fd)
{
    struct termios2 t;
    return ioctl(fd, TCGETS2, &t) == 0 ? (long)t.c_ospeed : -1;
}

/* st_port_open(name) at 115200 that must succeed: the port, or NULL (a failed check, with
 * the error) after closing the test's far end `far`. */
static st_port *open_ok(const char *name, int far)
{
    st_port *p = NULL;
    st_err err;
    if (CHECK_EQ_INT(st_port_open(name, 115200, &p, &err), 0))
        return p;
    fprintf(stderr, "open %s: %s (%s)\n", name, err.msg, err.hint);
    close(far);
    return NULL;
}

/* st_port_open(name) that must be refused in phase open with category cat, naming the
 * port and leaving no port behind (the out pointer reset to NULL). err: for more checks. */
static void open_refused(const char *name, st_errcat cat, st_err *err)
{
    st_port *p = (st_port *)&p;
    CHECK_EQ_INT(st_port_open(name, 115200, &p, err), -1);
    CHECK(p == NULL);
    CHECK_EQ_INT(err->cat, cat);
    CHECK_EQ_INT(err->phase, ST_PH_OPEN);
    CHECK_CONTAINS(err->msg, name);
}

static void test_bridge_names(void)
{
    CHECK_STR(st_bridge_name(0x10c4, 0xea60), "CP2104");
    CHECK_STR(st_bridge_name(0x1a86, 0x55d4), "CH9102");
    CHECK_STR(st_bridge_name(0x1a86, 0x7523), "CH340");
    CHECK_STR(st_bridge_name(0x0403, 0x6001), "FTDI");
    CHECK_STR(st_bridge_name(0x0403, 0x6010), "FTDI");
    CHECK_STR(st_bridge_name(0x0403, 0x6014), "FTDI");
    CHECK_STR(st_bridge_name(0x0403, 0x6015), "FTDI");
    CHECK_STR(st_bridge_name(0x303a, 0x1001), "USB-JTAG");
    CHECK_STR(st_bridge_name(0x1234, 0x5678), "");
    CHECK_STR(st_bridge_name(0, 0), "");
}

/* A pty opened by its /dev/pts name, with no sidecar: termios backend, identity unknown. */
static void test_pty_direct(void)
{
    char slave[128];
    int m = open_master(slave, sizeof slave);
    if (!CHECK(m >= 0))
        return;
    st_port *p = open_ok(slave, m);
    if (!p)
        return;
    const st_port_info *in = st_port_describe(p);
    CHECK_EQ_INT(in->kind, ST_PORT_PTY);
    CHECK_STR(in->name, slave);
    CHECK_EQ_INT(in->vid, 0);
    CHECK_EQ_INT(in->pid, 0);
    CHECK_STR(in->bridge, "");
    CHECK(!in->has_modem_lines);
    CHECK_EQ_INT(st_port_get_baud(p), 115200);
    st_port_close(p);
    close(m);
}

static void test_pty(const char *dir)
{
    char slave[128], link[512], sidecar[520];
    int m = open_master(slave, sizeof slave);
    if (!CHECK(m >= 0))
        return;
    snprintf(link, sizeof link, "%s/slot1", dir);
    snprintf(sidecar, sizeof sidecar, "%s.usb", link);
    CHECK_EQ_INT(symlink(slave, link), 0);
    /* No bridge= line: the name must come from the VID:PID table. */
    CHECK(write_file(sidecar, "vid=10c4\npid=ea60\nserial=SIM0042\npath=1-1.3\n"));

    st_port *p = open_ok(link, m);
    if (!p)
        return;
    st_err err;
    const st_port_info *in = st_port_describe(p);
    CHECK_EQ_INT(in->kind, ST_PORT_PTY);
    CHECK_STR(in->name, link);
    CHECK_EQ_INT(in->vid, 0x10c4);
    CHECK_EQ_INT(in->pid, 0xea60);
    CHECK_STR(in->serial, "SIM0042");
    CHECK_STR(in->usb_path, "1-1.3");
    CHECK_STR(in->bridge, "CP2104");
    CHECK(!in->has_modem_lines);

    /* No modem lines: succeeds and does nothing. */
    CHECK_EQ_INT(st_port_set_lines(p, true, false, &err), 0);
    CHECK_EQ_INT(st_port_set_lines(p, false, true, &err), 0);

    /* A second descriptor on the slave shows the kernel's view, and later tells when
     * bytes have arrived without consuming them. */
    int watch = open(slave, O_RDONLY | O_NOCTTY | O_NONBLOCK);
    CHECK(watch >= 0);
    CHECK_EQ_INT(kernel_speed(watch), 115200);

    /* Non-standard and standard rates. */
    const int rates[] = {1500000, 250000, 750000, 921600, 115200};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        if (!CHECK_EQ_INT(st_port_set_baud(p, rates[i], &err), 0))
            fprintf(stderr, "set_baud %d: %s\n", rates[i], err.msg);
        CHECK_EQ_INT(st_port_get_baud(p), rates[i]);
        CHECK_EQ_INT(kernel_speed(watch), rates[i]);
    }
    CHECK_EQ_INT(st_port_set_baud(p, 0, &err), -1);
    CHECK_EQ_INT(err.cat, ST_E_ARG);
    CHECK_EQ_INT(st_port_get_baud(p), 115200);

    /* A second open of the same port is refused while the first holds it. */
    open_refused(link, ST_E_IO, &err);
    CHECK_CONTAINS(err.hint, "another program");

    /* Station -> device: a SLIP frame with bytes that need escaping, one write. */
    uint8_t payload[1500], frame[SLIP_ENCODED_MAX(1500)], got[sizeof frame];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 31);
    size_t fn = slip_encode(payload, sizeof payload, frame);
    CHECK_EQ_INT(st_port_write(p, frame, fn, &err), 0);
    CHECK_EQ_INT(fd_read_all(m, got, fn), fn);
    CHECK_MEM(got, frame, fn);
    CHECK_EQ_INT(st_port_bytes_out(p), fn);
    CHECK_EQ_INT(st_port_write(p, frame, 0, &err), 0);
    CHECK_EQ_INT(st_port_bytes_out(p), fn);

    /* Device -> station. */
    uint8_t reply[300], in_buf[300];
    for (size_t i = 0; i < sizeof reply; i++)
        reply[i] = (uint8_t)(0xFF - i);
    CHECK_EQ_INT(write(m, reply, sizeof reply), (ssize_t)sizeof reply);
    CHECK_EQ_INT(port_read_all(p, in_buf, sizeof reply), sizeof reply);
    CHECK_MEM(in_buf, reply, sizeof reply);
    CHECK_EQ_INT(st_port_bytes_in(p), sizeof reply);

    /* A read takes what is there up to cap and leaves the rest for the next read. */
    struct pollfd wp = {.fd = watch, .events = POLLIN};
    CHECK_EQ_INT(write(m, "0123456789", 10), 10);
    CHECK_EQ_INT(poll(&wp, 1, WAIT_MS), 1);
    CHECK_EQ_INT(st_port_read(p, in_buf, 4, WAIT_MS, &err), 4);
    CHECK_MEM(in_buf, "0123", 4);
    CHECK_EQ_INT(st_port_read(p, in_buf, sizeof in_buf, WAIT_MS, &err), 6);
    CHECK_MEM(in_buf, "456789", 6);

    /* Nothing pending: the read times out with 0. */
    CHECK_EQ_INT(st_port_read(p, in_buf, sizeof in_buf, 50, &err), 0);

    /* flush_input discards what arrived but was not read. */
    CHECK_EQ_INT(write(m, "boot log garbage", 16), 16);
    CHECK_EQ_INT(poll(&wp, 1, WAIT_MS), 1);
    st_port_flush_input(p);
    CHECK_EQ_INT(poll(&wp, 1, 0), 0);
    CHECK_EQ_INT(st_port_read(p, in_buf, sizeof in_buf, 50, &err), 0);
    close(watch);

    /* The device stops reading: a write that cannot complete times out. */
    CHECK_EQ_INT(st_port_set_baud(p, 3000000, &err), 0); /* keeps the 2 s + n/baud wait short */
    uint64_t out_before = st_port_bytes_out(p);
    size_t big_n = 128 * 1024; /* far more than a pty buffers (about 15 KiB) */
    uint8_t *big = calloc(1, big_n);
    if (CHECK(big != NULL)) {
        CHECK_EQ_INT(st_port_write(p, big, big_n, &err), -1);
        CHECK_EQ_INT(err.cat, ST_E_TIMEOUT);
        CHECK_EQ_INT(err.fclass, ST_FC_TIMEOUT);
        CHECK_CONTAINS(err.msg, link);
        CHECK(err.hint[0] != 0);
        CHECK_EQ_INT(st_port_bytes_out(p), out_before);
        free(big);
    }

    /* The device vanishes (the simulator closes the master): -1, ST_E_GONE. */
    close(m);
    ssize_t r = st_port_read(p, in_buf, sizeof in_buf, WAIT_MS, &err);
    CHECK_EQ_INT(r, -1);
    CHECK_EQ_INT(err.cat, ST_E_GONE);
    CHECK_EQ_INT(err.fclass, ST_FC_VANISHED);
    CHECK_EQ_INT(err.phase, ST_PH_NONE);
    CHECK_CONTAINS(err.msg, link);
    CHECK(err.hint[0] != 0);
    CHECK_EQ_INT(st_port_write(p, "x", 1, &err), -1);
    CHECK_EQ_INT(err.cat, ST_E_GONE);
    st_port_close(p);
    unlink(sidecar);
    unlink(link);
}

static int listener(int *port, bool do_listen)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
        (do_listen && listen(s, 1) != 0) || getsockname(s, (struct sockaddr *)&a, &len) != 0) {
        perror("listener");
        if (s >= 0)
            close(s);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return s;
}

static void test_tcp(void)
{
    int port = 0;
    int ls = listener(&port, true);
    if (!CHECK(ls >= 0))
        return;
    char name[64];
    snprintf(name, sizeof name, "socket://127.0.0.1:%d", port);
    st_port *p = open_ok(name, ls);
    if (!p)
        return;
    st_err err;
    int c = accept(ls, NULL, NULL);
    CHECK(c >= 0);
    const st_port_info *in = st_port_describe(p);
    CHECK_EQ_INT(in->kind, ST_PORT_TCP);
    CHECK_STR(in->name, name);
    CHECK(!in->has_modem_lines);
    CHECK_EQ_INT(st_port_set_baud(p, 921600, &err), 0);
    CHECK_EQ_INT(st_port_get_baud(p), 921600);
    CHECK_EQ_INT(st_port_set_lines(p, true, true, &err), 0);

    uint8_t payload[64], frame[SLIP_ENCODED_MAX(64)], got[sizeof frame];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(0xC0 + i);
    size_t fn = slip_encode(payload, sizeof payload, frame);
    CHECK_EQ_INT(st_port_write(p, frame, fn, &err), 0);
    CHECK_EQ_INT(fd_read_all(c, got, fn), fn);
    CHECK_MEM(got, frame, fn);
    CHECK_EQ_INT(st_port_bytes_out(p), fn);

    uint8_t reply[500], in_buf[500];
    for (size_t i = 0; i < sizeof reply; i++)
        reply[i] = (uint8_t)(i ^ 0x5A);
    CHECK_EQ_INT(send(c, reply, sizeof reply, 0), (ssize_t)sizeof reply);
    CHECK_EQ_INT(port_read_all(p, in_buf, sizeof reply), sizeof reply);
    CHECK_MEM(in_buf, reply, sizeof reply);
    CHECK_EQ_INT(st_port_bytes_in(p), sizeof reply);

    CHECK_EQ_INT(st_port_read(p, in_buf, sizeof in_buf, 50, &err), 0);

    /* One loopback segment arrives whole: once its first byte is read, the rest is queued. */
    CHECK_EQ_INT(send(c, "junkjunkjunk", 12, 0), 12);
    CHECK_EQ_INT(st_port_read(p, in_buf, 1, WAIT_MS, &err), 1);
    st_port_flush_input(p);
    CHECK_EQ_INT(st_port_read(p, in_buf, sizeof in_buf, 50, &err), 0);

    /* The far end goes away. */
    close(c);
    CHECK_EQ_INT(st_port_read(p, in_buf, sizeof in_buf, WAIT_MS, &err), -1);
    CHECK_EQ_INT(err.cat, ST_E_GONE);
    CHECK_EQ_INT(err.fclass, ST_FC_VANISHED);
    CHECK_CONTAINS(err.msg, name);
    st_port_close(p);
    close(ls);

    /* Bound but not listening: connection refused, with a clear message. */
    int bs = listener(&port, false);
    if (CHECK(bs >= 0)) {
        snprintf(name, sizeof name, "socket://127.0.0.1:%d", port);
        open_refused(name, ST_E_IO, &err);
        CHECK_EQ_INT(err.sys_errno, ECONNREFUSED);
        CHECK_CONTAINS(err.msg, "refused");
        CHECK_CONTAINS(err.hint, "listening");
        close(bs);
    }

    const char *bad[] = {"socket://127.0.0.1", "socket://:4000", "socket://host:99999",
                         "socket://host:12ab", "socket://[::1:4000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(st_port_open(bad[i], 115200, &p, &err), -1);
        CHECK_EQ_INT(err.cat, ST_E_ARG);
        CHECK_CONTAINS(err.msg, bad[i]);
    }
}

static void test_open_errors(const char *dir)
{
    st_port *p = NULL;
    st_err err;
    open_refused("/dev/ttyUSB99", ST_E_GONE, &err);
    CHECK_EQ_INT(err.sys_errno, ENOENT);
    CHECK_CONTAINS(err.msg, strerror(ENOENT));
    CHECK(err.hint[0] != 0);

    /* A character device that is not a tty. */
    CHECK_EQ_INT(st_port_open("/dev/null", 115200, &p, &err), -1);
    CHECK_CONTAINS(err.msg, "/dev/null");
    CHECK_CONTAINS(err.hint, "not a serial port");

    /* A regular file. */
    char file[512];
    snprintf(file, sizeof file, "%s/plain", dir);
    CHECK(write_file(file, "hello"));
    CHECK_EQ_INT(st_port_open(file, 115200, &p, &err), -1);
    CHECK_CONTAINS(err.msg, file);
    CHECK(err.hint[0] != 0);
    unlink(file);

    CHECK_EQ_INT(st_port_open(NULL, 115200, &p, &err), -1);
    CHECK_EQ_INT(err.cat, ST_E_ARG);
    CHECK_EQ_INT(st_port_open("/dev/ttyUSB0", 0, &p, &err), -1);
    CHECK_EQ_INT(err.cat, ST_E_ARG);

    /* NULL-safe accessors. */
    st_port_close(NULL);
    CHECK(st_port_describe(NULL) == NULL);
    CHECK_EQ_INT(st_port_bytes_in(NULL), 0);
}

int main(void)
{
    char dir[] = "/tmp/test_port.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_bridge_names();
    test_pty_direct();
    test_pty(dir);
    test_tcp();
    test_open_errors(dir);
    rmdir(dir);
    return check_summary("test_port");
}
