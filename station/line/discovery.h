/* discovery.h - which units are plugged in, and where. Real USB bridges come from
 * libserialport (filtered by VID:PID, named by their /dev/serial/by-path link, else their
 * USB bus path); simulator units from a folder of stable symlinks slotK -> /dev/pts/M
 * (named by the symlink, the simulator's by-path link) with slotK.usb sidecars holding the
 * bridge identity (tests/sim). Slots are never named by ttyUSBn. */
#ifndef ST_DISCOVERY_H
#define ST_DISCOVERY_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define ST_USB_FILTER_MAX 32

typedef struct st_usb_filter {
    int n;
    struct { uint16_t vid, pid; } id[ST_USB_FILTER_MAX];
} st_usb_filter;

/* ESP bridges: CP210x 10c4:ea60, CH9102 1a86:55d4, CH340 1a86:7523, FTDI 0403:6001/6010/
 * 6014/6015, Espressif USB-Serial/JTAG 303a:1001. */
void st_usb_filter_default(st_usb_filter *f);
/* Parse "vid:pid,vid:pid" (hex) replacing f's contents; error names the bad entry. */
int st_usb_filter_parse(const char *spec, st_usb_filter *f, st_err *err);
bool st_usb_filter_match(const st_usb_filter *f, uint16_t vid, uint16_t pid);

/* One unit's port as seen by a scan. */
typedef struct st_found_port {
    char slot[64];        /* stable slot name: by-path link name (else USB path), sim symlink */
    char dev[256];        /* what to pass to st_port_open */
    char ident[320];      /* changes when a different unit / device node takes the slot */
    uint16_t vid, pid;
    char serial[64];      /* bridge serial number, "" if none */
    char bridge[32];
    char usb_path[64];
    int hub_port;         /* last number of usb_path ("1-1.3" -> 3), 0 when unknown */
    double appeared;      /* epoch seconds the port appeared (best known; a label) */
    bool bare;            /* a simulator port without its sidecar (identity unknown) yet */
} st_found_port;

typedef struct st_discovery_cfg {
    const char *sim_dir;      /* NULL: no simulator folder */
    bool scan_usb;            /* list real serial ports through libserialport */
    st_usb_filter filter;
    const char *bypath_dir;   /* NULL: /dev/serial/by-path */
} st_discovery_cfg;

typedef struct st_discovery st_discovery;

/* Start watching (inotify on the simulator folder when there is one). cfg is copied. */
int st_discovery_new(const st_discovery_cfg *cfg, st_discovery **out, st_err *err);
void st_discovery_free(st_discovery *d);
/* Wait up to timeout_ms (less when the folder changes), rescan, and report the ports that
 * arrived and left since the previous call (a slot whose identity changed is both).
 * Each list holds at most cap entries. Returns 0, or -1 when scanning is impossible. */
int st_discovery_poll(st_discovery *d, int timeout_ms, st_found_port *arrived, int *n_arrived,
                      st_found_port *left, int *n_left, int cap, st_err *err);

/* One scan without diffing; returns the count (at most cap). Sidecar-less simulator
 * ports are left out: only a poll, which watches them, takes one after its grace. */
int st_discovery_scan(const st_discovery_cfg *cfg, st_found_port *out, int cap);

/* Name of the link in bypath_dir that resolves to devnode, into out; -1 if none. */
int st_discovery_bypath_name(const char *bypath_dir, const char *devnode, char *out, int cap);
/* USB port path ("1-1.3") from a resolved sysfs device path; -1 if it has none. */
int st_discovery_usb_path_from_sysfs(const char *sysfs_path, char *out, int cap);

#endif
