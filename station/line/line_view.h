/* line_view.h - the one channel from the engine to anything that shows the line (the
 * ncurses dashboard, the line printer, JSON lines): a plain-data snapshot copied under
 * the engine's lock. Readers own their copy; nothing in it points into engine memory. */
#ifndef ST_LINE_VIEW_H
#define ST_LINE_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define ST_MAX_SLOTS 64
#define ST_VIEW_EVENTS 64   /* most recent events kept in a snapshot */
#define ST_VIEW_BIN 32      /* most recent open retry-bin entries kept in a snapshot */

typedef enum {
    ST_SLOT_EMPTY = 0,   /* nothing plugged in */
    ST_SLOT_BUSY,        /* a worker is flashing the unit */
    ST_SLOT_RETRYING,    /* between tries of the same unit */
    ST_SLOT_PASS,        /* done and verified; waiting for unplug */
    ST_SLOT_FAIL,        /* failed for good (in the retry bin); waiting for unplug */
    ST_SLOT_PAUSED,      /* unit present, new units are paused */
    ST_SLOT_UNRECORDED,  /* verified, but its record could not be written: "PASS — NOT
                          * RECORDED" in the alarm colour; the unit must be kept apart */
} st_slot_state;

typedef struct st_slot_view {
    char name[64];           /* stable slot name (USB path or simulator slot) */
    char label[16];          /* its label from the line layout file ("A1"), "" none */
    bool placed;             /* the layout file gives it a grid position: */
    int row, col;            /* 0-based (A1 = 0,0), only when placed */
    char port[256];          /* device node in use */
    char bridge[32];         /* "CP2104", "CH9102", ... */
    uint16_t vid, pid;
    st_slot_state state;
    st_phase phase;
    uint64_t done, total;    /* bytes of the current phase's work */
    double rate_bps;         /* bytes per second, current write */
    double eta_s;            /* seconds left, <0 unknown */
    char mac[18];            /* "" until read */
    char chip[64];           /* "ESP32-D0WD-V3 (revision v3.0)" */
    uint32_t flash_id;
    int attempt;             /* 1-based try number for the unit in the slot */
    int baud;
    int blocks_repaired;     /* corrupted blocks resent in the unit's last try (link health) */
    bool mac_crc_bad;        /* the eFuse MAC failed its CRC: the MAC may be misread */
    st_fclass fclass;        /* final or last failure class */
    char error[320];         /* last error, formatted (phase, command, status bytes) */
    char hint[256];
    double elapsed_s;        /* since the unit was plugged in */
    uint64_t units_done;     /* units finished in this slot since start */
    char serial[64];         /* provisioning: the unit's serial, "" none */
    char boot[160];          /* boot check of the last try: "" not run, "pass version=1.4.2",
                              * "no_boot (brownout)" */
    char console[1024];      /* no_boot: the last console lines, '\n'-separated */
} st_slot_view;

typedef struct st_event_view {
    uint64_t seq;            /* increasing; lets readers print only new events */
    double t;                /* seconds since the engine started */
    double wall;             /* when it happened, epoch seconds: fixed for the event's life */
    char slot[64];
    char label[16];          /* the slot's layout label, "" none */
    char text[256];
} st_event_view;

typedef struct st_bin_view {
    char mac[18];            /* "" when no MAC could be read */
    char slot[64];
    st_fclass fclass;
    st_phase phase;
    int attempts;
    char hint[256];
} st_bin_view;

/* Shipping to the factory's central store (station/line/shipper.h). */
typedef struct st_central_view {
    bool configured;         /* a central store is set up for this station */
    bool online;             /* the last contact worked */
    int64_t offline_since_ms;/* UTC ms of the first failed contact in a row (0 online) */
    uint64_t waiting;        /* local records not yet in the central store */
    char text[160];          /* the header's line: "central: offline since 10:42, 37 records waiting" */
} st_central_view;

typedef struct st_line_view {
    char profile[64];
    char digests[128];       /* short digests of the images: "bl 1a2b3c4d pt ... app ..." */
    int baud;
    bool paused, stopping, locked;
    bool records_broken;     /* a record could not be written: the line takes no new units */
    char records_error[256]; /* why (the store's error), "" while records are fine */
    char disk_warning[160];  /* "disk low: ..." when the store's disk is filling up, else "" */
    int grid_rows, grid_cols;/* the layout file's fixture extent (0, 0: no layout file) */
    int nslots;              /* with a layout file, every position is a slot from the start */
    st_slot_view slots[ST_MAX_SLOTS]; /* placed slots first, by position (A1, A2, .., B1);
                                       * then the rest in the order of their physical place:
                                       * natural order of the name (slot2 < slot10, hub port
                                       * by hub port) */
    uint64_t passed, failed, in_bin, in_flight;
    double yield;            /* passed / (passed + failed), 0..1; 0 when nothing finished */
    double units_per_hour;
    double uptime_s;
    int nevents;             /* events[0] is the oldest kept */
    st_event_view events[ST_VIEW_EVENTS];
    int nbin;
    st_bin_view bin[ST_VIEW_BIN];
    uint64_t bin_elsewhere;  /* open entries here whose unit passed on another station since
                              * (the central store says so): not waiting, not in in_bin */
    st_central_view central;
} st_line_view;

#endif
