/* test_engine_parts - the engine's pieces without units: the retry policy table, the USB
 * filter, slot naming (by-path links, sysfs USB paths, simulator folders and plug/unplug
 * diffing) and the events channel (ring, snapshot counters, record queue handshake). */
#define _GNU_SOURCE
#include "check.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "discovery.h"
#include "events.h"
#include "layout_learn.h"
#include "retry_policy.h"

static const int ladder[] = {1500000, 921600, 460800, 115200};

static void test_policy(void)
{
    st_retry_limits l;
    st_retry_limits_default(&l);
    CHECK_EQ_INT(l.max_tries, 3);
    st_retry_state s;

    /* 01 07 on MEM_DATA: re-upload the stub, then do without it; baud never changes. */
    st_retry_begin(&s);
    s.tries = 1;
    CHECK_EQ_INT(st_retry_next(&l, ladder, 4, ST_FC_STUB_RAM_CHECKSUM, &s), ST_RETRY_RESYNC);
    CHECK(!s.no_stub);
    s.tries = 2;
    CHECK_EQ_INT(st_retry_next(&l, ladder, 4, ST_FC_STUB_RAM_CHECKSUM, &s), ST_RETRY_ROM_ONLY);
    CHECK(s.no_stub);
    CHECK_EQ_INT(st_retry_baud(&s, ladder, 4), 1500000);
    s.tries = 3;
    CHECK_EQ_INT(st_retry_next(&l, ladder, 4, ST_FC_STUB_RAM_CHECKSUM, &s), ST_RETRY_GIVE_UP);

    /* link trouble walks down the ladder, never below min_baud */
    l.max_tries = 10;
    l.min_baud = 460800;
    st_retry_begin(&s);
    s.tries = 1;
    CHECK_EQ_INT(st_retry_next(&l, ladder, 4, ST_FC_PROTOCOL, &s), ST_RETRY_LOWER_BAUD);
    CHECK_EQ_INT(st_retry_baud(&s, ladder, 4), 921600);
    s.tries = 2;
    CHECK_EQ_INT(st_retry_next(&l, ladder, 4, ST_FC_PROTOCOL, &s), ST_RETRY_LOWER_BAUD);
    CHECK_EQ_INT(st_retry_baud(&s, ladder, 4), 460800);
    s.tries = 3; /* no rung left above min_baud: the next step of the row, ROM-only */
    CHECK_EQ_INT(st_retry_next(&l, ladder, 4, ST_FC_PROTOCOL, &s), ST_RETRY_ROM_ONLY);
    s.tries = 4;
    CHECK_EQ_INT(st_retry_next(&l, ladder, 4, ST_FC_PROTOCOL, &s), ST_RETRY_GIVE_UP);

    /* steps are counted per class: a different failure starts its own row */
    st_retry_begin(&s);
    s.tries = 1;
    CHECK_EQ_INT(st_retry_next(&l, ladder, 4, ST_FC_MD5_MISMATCH, &s), ST_RETRY_RESYNC);
    s.tries = 2;
    CHECK_EQ_INT(st_retry_next(&l, ladder, 4, ST_FC_FLASH_WRITE, &s), ST_RETRY_RESYNC);
    s.tries = 3;
    CHECK_EQ_INT(st_retry_next(&l, ladder, 4, ST_FC_FLASH_WRITE, &s), ST_RETRY_GIVE_UP);

    /* ROM-only can be forbidden */
    l.allow_rom_only = false;
    st_retry_begin(&s);
    s.tries = 1;
    CHECK_EQ_INT(st_retry_next(&l, ladder, 4, ST_FC_STUB_START, &s), ST_RETRY_RESYNC);
    s.tries = 2;
    CHECK_EQ_INT(st_retry_next(&l, ladder, 4, ST_FC_STUB_START, &s), ST_RETRY_GIVE_UP);

    /* permanent classes fail at once, whatever the limits */
    const st_fclass perm[] = {ST_FC_WRONG_CHIP, ST_FC_FLASH_TOO_SMALL, ST_FC_VANISHED,
                              ST_FC_CONFIG, ST_FC_INTERRUPTED};
    for (size_t i = 0; i < sizeof perm / sizeof perm[0]; i++) {
        st_retry_begin(&s);
        s.tries = 1;
        CHECK(st_retry_is_permanent(perm[i]));
        CHECK_EQ_INT(st_retry_next(&l, ladder, 4, perm[i], &s), ST_RETRY_GIVE_UP);
    }
    CHECK(!st_retry_is_permanent(ST_FC_NO_SYNC));

    /* the try limit wins over the table */
    st_retry_limits_default(&l);
    l.max_tries = 1;
    st_retry_begin(&s);
    s.tries = 1;
    CHECK_EQ_INT(st_retry_next(&l, ladder, 4, ST_FC_TIMEOUT, &s), ST_RETRY_GIVE_UP);
    CHECK_EQ_INT(st_retry_stub_attempts_per_try(), 1);
    CHECK_STR(st_retry_step_name(ST_RETRY_LOWER_BAUD), "lower_baud");
}

static void test_filter(void)
{
    st_usb_filter f;
    st_err err;
    st_usb_filter_default(&f);
    CHECK(st_usb_filter_match(&f, 0x10c4, 0xea60));
    CHECK(st_usb_filter_match(&f, 0x1a86, 0x55d4));
    CHECK(st_usb_filter_match(&f, 0x1a86, 0x7523));
    CHECK(st_usb_filter_match(&f, 0x0403, 0x6015));
    CHECK(st_usb_filter_match(&f, 0x303a, 0x1001));
    CHECK(!st_usb_filter_match(&f, 0x2341, 0x0043)); /* an Arduino is not a unit */
    CHECK_EQ_INT(st_usb_filter_parse("2341:0043,10C4:EA60", &f, &err), 0);
    CHECK_EQ_INT(f.n, 2);
    CHECK(st_usb_filter_match(&f, 0x2341, 0x0043));
    CHECK(!st_usb_filter_match(&f, 0x1a86, 0x55d4));
    CHECK_EQ_INT(st_usb_filter_parse("10c4:ea60,bogus", &f, &err), -1);
    CHECK_CONTAINS(err.msg, "bogus");
    CHECK_EQ_INT(f.n, 2); /* unchanged on error */
    CHECK_EQ_INT(st_usb_filter_parse("10c4:1ea60", &f, &err), -1);
    CHECK_EQ_INT(st_usb_filter_parse("", &f, &err), -1);
}

static void touch(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_naming(const char *tmp)
{
    char dev[300], byp[300], link[400], out[128];
    snprintf(dev, sizeof dev, "%s/ttyUSB7", tmp);
    touch(dev, "");
    snprintf(byp, sizeof byp, "%s/by-path", tmp);
    mkdir(byp, 0755);
    snprintf(link, sizeof link, "%s/pci-0000:00:14.0-usb-0:1.3:1.0-port0", byp);
    CHECK_EQ_INT(symlink("../ttyUSB7", link), 0);
    snprintf(link, sizeof link, "%s/pci-0000:00:14.0-usb-0:1.4:1.0-port0", byp);
    CHECK_EQ_INT(symlink("../ttyUSB8", link), 0); /* another (absent) device */
    CHECK_EQ_INT(st_discovery_bypath_name(byp, dev, out, sizeof out), 0);
    CHECK_STR(out, "pci-0000:00:14.0-usb-0:1.3:1.0-port0");
    snprintf(dev, sizeof dev, "%s/ttyUSB9", tmp);
    touch(dev, "");
    CHECK_EQ_INT(st_discovery_bypath_name(byp, dev, out, sizeof out), -1);

    CHECK_EQ_INT(st_discovery_usb_path_from_sysfs(
                     "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.3/1-1.3:1.0/ttyUSB0/tty/ttyUSB0",
                     out, sizeof out), 0);
    CHECK_STR(out, "1-1.3");
    CHECK_EQ_INT(st_discovery_usb_path_from_sysfs(
                     "/sys/devices/pci0000:00/0000:00:14.0/usb3/3-2/3-2:1.0", out, sizeof out), 0);
    CHECK_STR(out, "3-2");
    CHECK_EQ_INT(st_discovery_usb_path_from_sysfs("/sys/devices/platform/serial8250/tty/ttyS0", out,
                                                  sizeof out), -1);
}

/* A simulator folder: slotK -> a character device, slotK.usb sidecar. */
static void sim_slot(const char *dir, int k, const char *vidpid_lines, int path_k)
{
    char link[300], side[310], text[200];
    snprintf(link, sizeof link, "%s/slot%d", dir, k);
    snprintf(side, sizeof side, "%s.usb", link);
    snprintf(text, sizeof text, "%sserial=SIM%d\npath=1-1.%d\nbridge=CP2104\n", vidpid_lines, k, path_k);
    touch(side, text);
    unlink(link);
    CHECK_EQ_INT(symlink("/dev/null", link), 0);
}

static const st_found_port *find(const st_found_port *v, int n, const char *slot)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i].slot, slot))
            return &v[i];
    return NULL;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_sim_discovery(const char *tmp)
{
    char dir[300], p[400];
    snprintf(dir, sizeof dir, "%s/sim", tmp);
    mkdir(dir, 0755);
    sim_slot(dir, 1, "vid=10c4\npid=ea60\n", 1);
    sim_slot(dir, 2, "vid=1a86\npid=55d4\n", 2);
    sim_slot(dir, 3, "vid=2341\npid=0043\n", 3); /* not an ESP bridge: filtered out */
    snprintf(p, sizeof p, "%s/slot4", dir);
    CHECK_EQ_INT(symlink("/nonexistent/pts/9", p), 0); /* dangling: going away */
    snprintf(p, sizeof p, "%s/slot5", dir);
    CHECK_EQ_INT(symlink("/dev/null", p), 0); /* no sidecar yet: not taken yet */
    snprintf(p, sizeof p, "%s/slot1.flash", dir);
    touch(p, "x");

    st_discovery_cfg cfg = {.sim_dir = dir};
    st_usb_filter_default(&cfg.filter);
    st_found_port v[16];
    int n = st_discovery_scan(&cfg, v, 16);
    CHECK_EQ_INT(n, 2);
    const st_found_port *s1 = find(v, n, "slot1"), *s2 = find(v, n, "slot2");
    if (CHECK(s1 && s2)) {
        CHECK_EQ_INT(s1->vid, 0x10c4);
        CHECK_EQ_INT(s1->pid, 0xea60);
        CHECK_STR(s1->serial, "SIM1");
        CHECK_STR(s1->usb_path, "1-1.1");
        CHECK_EQ_INT(s1->hub_port, 1);
        snprintf(p, sizeof p, "%s/slot1", dir);
        CHECK_STR(s1->dev, p);
        CHECK(s1->appeared > 1e9);
        CHECK_EQ_INT(s2->pid, 0x55d4);
    }

    st_discovery *d;
    st_err err;
    st_found_port arr[16], left[16];
    int na, nl;
    if (!CHECK_EQ_INT(st_discovery_new(&cfg, &d, &err), 0))
        return;
    CHECK_EQ_INT(st_discovery_poll(d, 0, arr, &na, left, &nl, 16, &err), 0);
    CHECK_EQ_INT(na, 2);
    CHECK_EQ_INT(nl, 0);
    CHECK_EQ_INT(st_discovery_poll(d, 0, arr, &na, left, &nl, 16, &err), 0);
    CHECK_EQ_INT(na + nl, 0); /* nothing changed */

    /* unplug slot 2 */
    snprintf(p, sizeof p, "%s/slot2", dir);
    unlink(p);
    CHECK_EQ_INT(st_discovery_poll(d, 50, arr, &na, left, &nl, 16, &err), 0);
    CHECK_EQ_INT(na, 0);
    if (CHECK_EQ_INT(nl, 1))
        CHECK_STR(left[0].slot, "slot2");

    /* a new unit takes slot 1 between two polls: seen as leave + arrive */
    sleep_ms(20); /* a different link time */
    sim_slot(dir, 1, "vid=10c4\npid=ea60\n", 1);
    CHECK_EQ_INT(st_discovery_poll(d, 50, arr, &na, left, &nl, 16, &err), 0);
    if (CHECK_EQ_INT(na, 1) && CHECK_EQ_INT(nl, 1)) {
        CHECK_STR(arr[0].slot, "slot1");
        CHECK_STR(left[0].slot, "slot1");
        CHECK(strcmp(arr[0].ident, left[0].ident) != 0);
    }
    st_discovery_free(d);
}

/* ---- events ---- */

typedef struct {
    st_events *ev;
    int served;
} recorder_stub;

/* Answers BEGINs with increasing ids, counts everything, until the queue closes. */
static void *stub_recorder(void *arg)
{
    recorder_stub *r = arg;
    st_rec_op *op;
    int64_t next_id = 100;
    while ((op = st_events_rec_pop(r->ev, 100)) || !st_events_rec_drained(r->ev)) {
        if (!op)
            continue;
        if (op->kind == ST_REC_BEGIN)
            st_events_rec_complete(r->ev, op->reply, 0, next_id++, NULL);
        r->served++;
        free(op);
    }
    return NULL;
}

typedef struct {
    st_events *ev;
    int n;
    int64_t ids[50];
} caller;

static void *begin_caller(void *arg)
{
    caller *c = arg;
    for (int i = 0; i < c->n; i++) {
        st_rec_reply reply;
        st_rec_op *op = calloc(1, sizeof *op);
        op->kind = ST_REC_BEGIN;
        op->reply = &reply;
        c->ids[i] = st_events_rec_call(c->ev, op) == 0 ? reply.id : -1;
        st_rec_op *end = calloc(1, sizeof *end);
        end->kind = ST_REC_END;
        st_events_rec_push(c->ev, end);
    }
    return NULL;
}

static void test_events(void)
{
    st_events *ev;
    st_err err;
    if (!CHECK_EQ_INT(st_events_new(&ev, &err), 0))
        return;
    /* ring: 1100 events, a reader from 0 learns it lost the oldest */
    for (int i = 0; i < 1100; i++)
        st_events_post(ev, ST_EV_INFO, "slotA", NULL, 0, ST_PH_NONE, ST_FC_NONE, "event %d", i);
    static st_event buf[2000];
    uint64_t lost = 0;
    int n = st_events_since(ev, 0, buf, 2000, &lost);
    CHECK_EQ_INT(n, 1024);
    CHECK_EQ_INT(lost, 76);
    CHECK_EQ_INT(buf[0].seq, 77);
    CHECK_STR(buf[n - 1].text, "event 1099");
    CHECK_EQ_INT(st_events_since(ev, 1098, buf, 10, &lost), 2);
    CHECK_EQ_INT(lost, 0);
    CHECK(!st_events_wait(ev, 1100, 10));
    CHECK(st_events_wait(ev, 1099, 10));

    /* slots and counters */
    int a = st_events_slot(ev, "slot1"), b = st_events_slot(ev, "slot2");
    CHECK_EQ_INT(a, 0);
    CHECK_EQ_INT(b, 1);
    CHECK_EQ_INT(st_events_slot(ev, "slot1"), 0);
    st_events_slot_attach(ev, a, "/x/slot1", "CP2104", 0x10c4, 0xea60);
    st_events_slot_attach(ev, b, "/x/slot2", "CH9102", 0x1a86, 0x55d4);
    st_events_slot_try(ev, a, 1, 921600);
    st_events_slot_progress(ev, a, ST_PH_WRITE, 0, 1000);
    static st_line_view v;
    st_events_snapshot(ev, &v);
    CHECK_EQ_INT(v.nslots, 2);
    CHECK_EQ_INT(v.in_flight, 2);
    CHECK_EQ_INT(v.slots[0].phase, ST_PH_WRITE);
    CHECK_EQ_INT(v.slots[0].total, 1000);
    CHECK_EQ_INT(v.nevents, ST_VIEW_EVENTS);
    CHECK_STR(v.events[ST_VIEW_EVENTS - 1].text, "event 1099");
    st_events_slot_chip(ev, a, "24:0a:c4:00:00:01", "ESP32-D0WD-V3 (revision v3.0)", 0x1840ef, 921600);
    st_events_slot_result(ev, a, ST_SLOT_PASS, NULL);
    st_events_unit_done(ev, a, true);
    st_err fe;
    st_err_set(&fe, ST_E_CHIP, ST_PH_DETECT, "wrong chip");
    fe.fclass = ST_FC_WRONG_CHIP;
    st_events_slot_result(ev, b, ST_SLOT_FAIL, &fe);
    st_events_unit_done(ev, b, false);
    st_bin_view bins[2] = {{.mac = "", .slot = "slot2", .fclass = ST_FC_WRONG_CHIP, .attempts = 1}};
    st_events_bin_replace(ev, bins, 1, 7, 2);
    st_events_set_flags(ev, true, false, true);
    st_events_snapshot(ev, &v);
    CHECK_EQ_INT(v.passed, 1);
    CHECK_EQ_INT(v.failed, 1);
    CHECK_EQ_INT(v.in_flight, 0);
    CHECK(v.yield > 0.49 && v.yield < 0.51);
    CHECK_STR(v.slots[0].mac, "24:0a:c4:00:00:01");
    CHECK_EQ_INT(v.slots[0].units_done, 1);
    CHECK_EQ_INT(v.slots[1].fclass, ST_FC_WRONG_CHIP);
    CHECK_CONTAINS(v.slots[1].error, "wrong chip");
    CHECK_STR(v.slots[1].hint, st_fclass_hint(ST_FC_WRONG_CHIP));
    CHECK_EQ_INT(v.in_bin, 7);
    CHECK_EQ_INT(v.bin_elsewhere, 2);
    CHECK_EQ_INT(v.nbin, 1);
    CHECK(v.paused && v.locked && !v.stopping);

    /* the shipper's answer on the bin elsewhere: a changed answer asks the recorder to
     * reload the mirror (one ST_REC_BIN op, no reply), the same answer does not; an entry
     * that failed here again since is waiting again */
    st_bin_elsewhere ew = {.id = 5, .last_fail_ms = 1000, .passed_ms = 2000, .mac = "24:0a:c4:00:00:05",
                           .station = "st-2"};
    CHECK_EQ_INT(st_events_set_bin_elsewhere(ev, &ew, 1), 0);
    CHECK(st_events_bin_elsewhere(ev, 5, 1000));
    CHECK(!st_events_bin_elsewhere(ev, 5, 3000));
    CHECK(!st_events_bin_elsewhere(ev, 6, 1000));
    st_rec_op *bop = st_events_rec_pop(ev, 100);
    CHECK(bop && bop->kind == ST_REC_BIN && !bop->reply);
    free(bop);
    CHECK_EQ_INT(st_events_set_bin_elsewhere(ev, &ew, 1), 0);
    CHECK(st_events_rec_pop(ev, 20) == NULL);
    CHECK_EQ_INT(st_events_set_bin_elsewhere(ev, NULL, 0), 0);
    CHECK(!st_events_bin_elsewhere(ev, 5, 1000));
    bop = st_events_rec_pop(ev, 100);
    CHECK(bop && bop->kind == ST_REC_BIN);
    free(bop);
    st_events_slot_detach(ev, a);
    st_events_snapshot(ev, &v);
    CHECK_EQ_INT(v.slots[0].state, ST_SLOT_EMPTY);
    CHECK_EQ_INT(v.slots[0].units_done, 1); /* kept across units */

    /* record queue: two callers wait for their BEGIN replies; all ops reach the recorder */
    recorder_stub rs = {.ev = ev};
    caller c1 = {.ev = ev, .n = 20}, c2 = {.ev = ev, .n = 20};
    pthread_t tr, t1, t2;
    pthread_create(&tr, NULL, stub_recorder, &rs);
    pthread_create(&t1, NULL, begin_caller, &c1);
    pthread_create(&t2, NULL, begin_caller, &c2);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    st_events_rec_close(ev);
    pthread_join(tr, NULL);
    CHECK_EQ_INT(rs.served, 80);
    bool distinct = true;
    for (int i = 0; i < 20; i++)
        for (int j = 0; j < 20; j++)
            distinct &= c1.ids[i] >= 100 && c1.ids[i] != c2.ids[j];
    CHECK(distinct);
    /* after close: a caller is answered at once with a failure, never left waiting */
    st_rec_reply reply;
    st_rec_op *op = calloc(1, sizeof *op);
    op->kind = ST_REC_BEGIN;
    op->reply = &reply;
    CHECK_EQ_INT(st_events_rec_call(ev, op), -1);
    CHECK_EQ_INT(reply.err.cat, ST_E_DB);
    CHECK(st_events_rec_drained(ev));

    st_flash_report rep = {0};
    char mac[18];
    CHECK(!st_report_mac(&rep, mac));
    rep.chip_known = true; /* another chip family: no MAC read */
    CHECK(!st_report_mac(&rep, mac));
    CHECK_STR(mac, "");
    rep.chip.mac[0] = 0x24;
    CHECK(st_report_mac(&rep, mac));
    CHECK_STR(mac, "24:00:00:00:00:00");
    st_events_free(ev);
}

/* Slot names come and go (a hub moved to another port): the table recycles slots that
 * are empty and idle; only ST_MAX_SLOTS units attached at once are refused. */
static void test_slot_recycling(void)
{
    st_events *ev;
    st_err err;
    if (!CHECK_EQ_INT(st_events_new(&ev, &err), 0))
        return;
    char name[32];
    for (int k = 0; k < ST_MAX_SLOTS; k++) {
        snprintf(name, sizeof name, "hubA-port%d", k);
        int i = st_events_slot(ev, name);
        CHECK_EQ_INT(i, k);
        st_events_slot_attach(ev, i, name, "CP2104", 0x10c4, 0xea60);
        st_events_slot_detach(ev, i);
    }
    /* 64 names seen, none attached: a new name takes the slot empty the longest */
    int i = st_events_slot(ev, "hubB-port0");
    CHECK_EQ_INT(i, 0);
    int j = st_events_slot(ev, "hubB-port1"); /* slot 0 is held now: the next oldest */
    CHECK_EQ_INT(j, 1);
    CHECK_EQ_INT(st_events_slot(ev, "hubA-port5"), 5); /* a known name keeps its slot */
    static st_line_view v;
    st_events_snapshot(ev, &v);
    CHECK_EQ_INT(v.nslots, ST_MAX_SLOTS);
    /* The snapshot lists slots in physical-place order (line_view.h): find it by name. */
    int b0 = -1;
    for (int k = 0; k < v.nslots; k++)
        if (strcmp(v.slots[k].name, "hubB-port0") == 0)
            b0 = k;
    CHECK(b0 >= 0);
    if (b0 >= 0)
        CHECK_EQ_INT(v.slots[b0].units_done, 0);
    int a0 = 0;
    for (int k = 0; k < v.nslots; k++)
        a0 += strcmp(v.slots[k].name, "hubA-port0") == 0;
    CHECK_EQ_INT(a0, 0); /* its slot was recycled */
    /* every slot held by an attached unit: then, and only then, a new name is refused */
    for (int k = 0; k < ST_MAX_SLOTS; k++) {
        snprintf(name, sizeof name, "hubC-port%d", k);
        int s = st_events_slot(ev, name);
        if (s >= 0)
            st_events_slot_attach(ev, s, name, "CP2104", 0x10c4, 0xea60);
    }
    CHECK_EQ_INT(st_events_slot(ev, "one-too-many"), -1);
    st_events_slot_detach(ev, 7);
    CHECK_EQ_INT(st_events_slot(ev, "one-too-many"), 7);
    st_events_free(ev);
}

/* A layout file's positions are slots from the start (empty, labelled, placed, never
 * recycled); events of a slot carry its label; the snapshot lists placed slots by
 * position, then the others by place; a unit's arrival keeps the label. */
static void test_layout_slots(const char *tmp)
{
    char path[256];
    snprintf(path, sizeof path, "%s/layout.ini", tmp);
    touch(path, "[B2]\nplace = hub-port1\nlabel = LEFT\n[A1]\nplace = /dev/serial/by-path/hub-port9\n");
    st_layout L;
    st_err err;
    if (!CHECK_EQ_INT(st_layout_load(path, &L, &err), 0)) {
        fprintf(stderr, "  %s\n", err.msg);
        return;
    }
    CHECK_EQ_INT(L.n, 2);
    CHECK_EQ_INT(L.rows, 2);
    CHECK_EQ_INT(L.cols, 2);
    CHECK_STR(L.p[1].place, "hub-port9"); /* a path is reduced to its link name */
    CHECK_STR(L.p[1].label, "A1");        /* no label: the position */
    CHECK(st_layout_find(&L, "hub-port1") == &L.p[0]);
    CHECK(st_layout_find(&L, "other") == NULL);
    int r = -1, c = -1;
    CHECK_EQ_INT(st_layout_parse_pos("d8", &r, &c), 0);
    CHECK(r == 3 && c == 7);
    CHECK_EQ_INT(st_layout_parse_pos("E1", &r, &c), -1);
    CHECK_EQ_INT(st_layout_parse_pos("A0", &r, &c), -1);
    CHECK_EQ_INT(st_layout_parse_pos("A10", &r, &c), -1);
    /* Saved and read back: the same positions, places and labels. */
    char saved[300];
    snprintf(saved, sizeof saved, "%s/saved.ini", tmp);
    CHECK_EQ_INT(st_layout_save(&L, saved, &err), 0);
    st_layout L2;
    CHECK_EQ_INT(st_layout_load(saved, &L2, &err), 0);
    CHECK_EQ_INT(L2.n, 2);
    const st_layout_place *b2 = st_layout_at(&L2, 1, 1);
    CHECK(b2 && strcmp(b2->place, "hub-port1") == 0 && strcmp(b2->label, "LEFT") == 0);

    st_events *ev;
    if (!CHECK_EQ_INT(st_events_new(&ev, &err), 0))
        return;
    st_events_set_layout(ev, &L);
    static st_line_view v;
    st_events_snapshot(ev, &v);
    CHECK_EQ_INT(v.nslots, 2);
    CHECK(v.grid_rows == 2 && v.grid_cols == 2);
    CHECK_STR(v.slots[0].name, "hub-port9"); /* A1 before B2 */
    CHECK(v.slots[0].placed && v.slots[0].row == 0 && v.slots[0].col == 0);
    CHECK_EQ_INT(v.slots[0].state, ST_SLOT_EMPTY);
    CHECK_STR(v.slots[1].label, "LEFT");
    /* a place the layout does not name comes after the placed ones, unlabelled */
    int other = st_events_slot(ev, "hub-port0");
    int left = st_events_slot(ev, "hub-port1");
    st_events_slot_attach(ev, left, "/dev/x", "CP2104", 0x10c4, 0xea60);
    st_events_post(ev, ST_EV_INFO, "hub-port1", NULL, 0, ST_PH_NONE, ST_FC_NONE, "hello");
    st_events_post(ev, ST_EV_INFO, "hub-port0", NULL, 0, ST_PH_NONE, ST_FC_NONE, "other");
    st_events_snapshot(ev, &v);
    CHECK_EQ_INT(v.nslots, 3);
    CHECK_STR(v.slots[2].name, "hub-port0");
    CHECK(!v.slots[2].placed && v.slots[2].label[0] == '\0');
    CHECK_STR(v.slots[1].label, "LEFT"); /* attached: still labelled and placed */
    CHECK(v.slots[1].placed && v.slots[1].row == 1 && v.slots[1].col == 1);
    CHECK_STR(v.events[v.nevents - 2].label, "LEFT");
    CHECK_STR(v.events[v.nevents - 1].label, "");
    char lab[16];
    st_events_slot_label(ev, left, lab, sizeof lab);
    CHECK_STR(lab, "LEFT");
    st_events_slot_label(ev, other, lab, sizeof lab);
    CHECK_STR(lab, "");
    /* Positions are never recycled, however many other names come and go. */
    char name[32];
    for (int k = 0; k < 3 * ST_MAX_SLOTS; k++) {
        snprintf(name, sizeof name, "churn%d", k);
        int i = st_events_slot(ev, name);
        if (i >= 0)
            st_events_slot_detach(ev, i);
    }
    st_events_snapshot(ev, &v);
    int placed = 0;
    for (int k = 0; k < v.nslots; k++)
        placed += v.slots[k].placed;
    CHECK_EQ_INT(placed, 2);
    st_events_free(ev);
}

/* `station layout learn`'s walk: the positions, and what each plugged place does. */
static void test_layout_learn(void)
{
    st_err err;
    st_learn_pos pos[ST_LAYOUT_MAX];
    int n;
    CHECK_EQ_INT(st_learn_grid("A..D", "1..8", pos, &n, &err), 0);
    CHECK_EQ_INT(n, 32);
    CHECK(pos[8].row == 1 && pos[8].col == 0); /* row by row: the 9th is B1 */
    CHECK_EQ_INT(st_learn_grid("b-c", "3", pos, &n, &err), 0);
    CHECK(n == 2 && pos[0].row == 1 && pos[1].row == 2 && pos[1].col == 2);
    CHECK_EQ_INT(st_learn_grid("A..E", "1..8", pos, &n, &err), -1);
    CHECK_CONTAINS(err.msg, "--rows 'A..E'");
    CHECK_EQ_INT(st_learn_grid("A", "0..2", pos, &n, &err), -1);
    CHECK_CONTAINS(err.msg, "--cols '0..2'");
    CHECK_EQ_INT(st_learn_grid("D..A", "1", pos, &n, &err), -1);
    CHECK_EQ_INT(st_learn_list("B2, a1,C8", pos, &n, &err), 0);
    CHECK(n == 3 && pos[0].row == 1 && pos[1].row == 0 && pos[2].col == 7);
    CHECK_EQ_INT(st_learn_list("A1,A1", pos, &n, &err), -1);
    CHECK_CONTAINS(err.msg, "A1 is given twice");
    CHECK_EQ_INT(st_learn_list(" , ", pos, &n, &err), -1);

    /* old file: A1 slot9 "LEFT", A2 slot1, A3 slot5, C3 slot7 "KEEP"; walk A1, A2, A3 */
    static st_layout old;
    memset(&old, 0, sizeof old);
    st_layout_set(&old, 0, 0, "slot9", "LEFT");
    st_layout_set(&old, 0, 1, "slot1", NULL);
    st_layout_set(&old, 0, 2, "/dev/serial/by-path/slot5", NULL);
    st_layout_set(&old, 2, 2, "slot7", "KEEP");
    CHECK_EQ_INT(st_learn_list("A1,A2,A3", pos, &n, &err), 0);
    static st_learn l;
    st_learn_start(&l, &old, pos, n);
    char cur[4], taken[4] = "", note[128];
    st_learn_current(&l, cur);
    CHECK_STR(cur, "A1");
    CHECK_STR(st_learn_current_label(&l), "LEFT");
    CHECK_EQ_INT(st_learn_assign(&l, "slot7", taken), -1); /* C3's, not walked */
    CHECK_STR(taken, "C3");
    /* A3's old place, A3 still to come: taken here, A3 then needs its own */
    CHECK_EQ_INT(st_learn_assign(&l, "/dev/serial/by-path/slot5", taken), 0);
    st_learn_current(&l, cur);
    CHECK_STR(cur, "A2");
    CHECK_EQ_INT(st_learn_assign(&l, "slot5", taken), -1); /* A1 has it now */
    CHECK_STR(taken, "A1");
    st_learn_skip(&l, note, sizeof note);
    CHECK_STR(note, "keeps slot1 from the file");
    CHECK_EQ_INT(st_learn_assign(&l, "slot1", taken), -1); /* A2 was skipped: decided */
    CHECK_STR(taken, "A2");
    st_learn_skip(&l, note, sizeof note);
    CHECK_STR(note, "left out (its place in the file went to A1)");
    CHECK(st_learn_done(&l));
    CHECK_EQ_INT(l.n_learned, 1);
    CHECK_EQ_INT(l.L.n, 3);
    const st_layout_place *p = st_layout_at(&l.L, 0, 0);
    CHECK(p && !strcmp(p->place, "slot5") && !strcmp(p->label, "LEFT"));
    p = st_layout_at(&l.L, 0, 1);
    CHECK(p && !strcmp(p->place, "slot1"));
    CHECK(st_layout_at(&l.L, 0, 2) == NULL);
    p = st_layout_at(&l.L, 2, 2);
    CHECK(p && !strcmp(p->place, "slot7") && !strcmp(p->label, "KEEP"));
    CHECK_EQ_INT(st_learn_assign(&l, "slot3", taken), -1); /* done: nothing asked */

    /* no old file; the same place twice is refused; q keeps the rest unasked */
    CHECK_EQ_INT(st_learn_grid("A", "1..3", pos, &n, &err), 0);
    st_learn_start(&l, NULL, pos, n);
    CHECK_STR(st_learn_current_label(&l), "A1");
    CHECK_EQ_INT(st_learn_assign(&l, "slot2", taken), 0);
    CHECK_EQ_INT(st_learn_assign(&l, "slot2", taken), -1);
    CHECK_STR(taken, "A1");
    st_learn_finish(&l);
    CHECK(st_learn_done(&l));
    CHECK_EQ_INT(l.L.n, 1);
}

int main(void)
{
    char tmp[] = "/tmp/st-engparts-XXXXXX";
    if (!mkdtemp(tmp))
        return 2;
    test_policy();
    test_filter();
    test_naming(tmp);
    test_sim_discovery(tmp);
    test_events();
    test_slot_recycling();
    test_layout_slots(tmp);
    test_layout_learn();
    char cmd[100];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp);
    return check_summary("engine_parts");
}
