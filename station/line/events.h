/* events.h - the one channel between the line's threads: a locked state (slots, counters,
 * event ring, retry-bin mirror) that workers update and readers copy out as an
 * st_line_view, plus the queue of record operations the recorder thread (the only
 * database writer) consumes. Workers never print and never touch the database. */
#ifndef ST_EVENTS_H
#define ST_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "flash_unit.h"
#include "layout.h"
#include "line_view.h"
#include "profile.h"

typedef enum {
    ST_EV_INFO = 0,
    ST_EV_ATTACH,      /* a port appeared in a slot */
    ST_EV_DETACH,      /* the port disappeared */
    ST_EV_WORKER,      /* a worker started for the unit in a slot */
    ST_EV_TRY,         /* a try begins (attempt recorded) */
    ST_EV_PHASE,       /* the try moved to another phase */
    ST_EV_PASS,        /* unit flashed and verified */
    ST_EV_TRY_FAIL,    /* one try failed (a retry may follow) */
    ST_EV_RETRY,       /* retrying in place with an escalation step */
    ST_EV_FAIL,        /* the unit failed for good */
    ST_EV_BINNED,      /* the unit is in the retry bin */
    ST_EV_RESOLVED,    /* a binned MAC passed: its bin entry is resolved */
    ST_EV_INTERRUPTED, /* a try was cut short by a stop */
    ST_EV_REFUSED,     /* not flashed: the attempt could not be recorded */
    ST_EV_RECOVERED,   /* attempts left unfinished by a crash, marked interrupted */
    ST_EV_LINE,        /* line-level change: pause, resume, profile, stop */
    ST_EV_UNRECORDED,  /* the unit verified but its end record failed: not a PASS */
    ST_EV_CENTRAL,     /* shipping to the central store: offline, back online, refused */
    ST_EV_HOOK,        /* a per-result command (run --on-result) failed; see st_event.hook */
    ST_EV_KIND_COUNT
} st_ev_kind;

/* What a unit event (try, pass, try_fail, fail, interrupted, binned) knows of the unit
 * and its try, for scripts (`station run --json`, docs/events.md); plain data. */
typedef struct st_event_unit {
    int64_t attempt_id;          /* the attempt's record id (`station export`'s "id"), 0 none */
    int try_no;                  /* 1-based try of this unit in its slot */
    char port[256];              /* stable port path (by-path link / simulator symlink) */
    char bridge[32], usb_serial[64];
    uint16_t vid, pid;
    bool chip_known;
    st_chip_info chip;           /* MAC, chip, package, revision, flash, when chip_known */
    int baud;                    /* baud requested (try) / used (result) */
    bool used_stub;
    uint64_t bytes_raw, bytes_compressed;
    int regions_verified;
    double t_connect, t_stub, t_write, t_verify, t_total; /* seconds */
    char profile[64];
    int n_images;
    uint32_t img_offset[ST_MAX_IMAGES];
    char img_sha256[ST_MAX_IMAGES][65];
    st_err err;                  /* failure detail (cat NONE on pass / at a try's start) */
    char serial[64];             /* the serial provisioning gave the unit ("" none yet) */
    char app_version[64];        /* the boot check's captured "version" ("" none) */
} st_event_unit;

/* How a per-result command ended (ST_EV_HOOK). */
typedef enum {
    ST_HOOK_OK = 0, ST_HOOK_EXIT, ST_HOOK_SIGNAL, ST_HOOK_TIMEOUT, ST_HOOK_SPAWN_FAILED
} st_hook_result;

typedef struct st_event_hook {
    st_hook_result result;
    int exit_code, signal;
    double duration_s;
    uint64_t for_seq;            /* seq of the unit event the command ran for */
    char command[256];
    char stderr_head[256];       /* the first bytes of its stderr, control characters made
                                  * spaces ("" none) */
} st_event_hook;

/* One event; plain data. */
typedef struct st_event {
    uint64_t seq;          /* 1, 2, 3 ... in order of publication */
    double t;              /* seconds since the line started (monotonic: st_events_clock) */
    double wall;           /* epoch seconds (st_wall_now): when, as a label only */
    st_ev_kind kind;
    char slot[64];
    char mac[18];
    int attempt;           /* try number within the unit, 0 if n/a */
    st_phase phase;
    st_fclass fclass;
    double appeared;       /* ST_EV_ATTACH/WORKER: epoch seconds the port appeared */
    char label[16];        /* the slot's layout label ("A1"), "" without a layout */
    char text[512];        /* room for a central store error with its hint (shipper.c) */
    bool has_unit;         /* unit is filled (unit events only) */
    st_event_unit unit;
    st_event_hook hook;    /* ST_EV_HOOK only */
} st_event;

/* Stable lower-case name ("attach", "pass", ...). */
const char *st_ev_kind_name(st_ev_kind k);

/* ---- record operations (worker -> recorder) ---- */

typedef enum {
    ST_REC_BEGIN = 1,  /* a try starts: write the in-progress row, reply with its id */
    ST_REC_UNIT,       /* the unit's identity (MAC, chip, flash) became known mid-try */
    ST_REC_END,        /* the try ended: complete the row (and bin / resolve) */
    ST_REC_RETRY,      /* a failed try will be retried: complete its row and write the next
                        * try's in-progress row in one transaction, reply with its id */
    ST_REC_SERIAL,     /* the unit needs its serial: keep or allocate it (a.serial_fmt,
                        * a.new_serial) on attempt a.id in one transaction, reply with it */
    ST_REC_BIN,        /* what is known of the bin elsewhere changed (st_events_set_bin_elsewhere):
                        * reload the retry-bin mirror; writes nothing, no reply */
    ST_REC_HOOK,       /* the on-result command for finished attempt a.id failed (op->hook):
                        * record it on the attempt; no reply */
} st_rec_kind;

typedef enum { ST_OUT_RUNNING = 0, ST_OUT_PASS, ST_OUT_FAIL, ST_OUT_INTERRUPTED } st_outcome;
const char *st_outcome_name(st_outcome o);

/* Everything recorded about one try; BEGIN uses the identity part, UNIT adds the chip,
 * END the rest. */
typedef struct st_rec_attempt {
    int64_t id;                  /* from BEGIN's reply; UNIT and END refer to it */
    int slot_no;                 /* hub port number (USB path's last number), else the
                                  * slot's 1-based position in this run */
    char slot[64];               /* stable slot name */
    char label[16];              /* the slot's layout label ("A1"), "" without a layout */
    char port[256];              /* stable port path (by-path link / simulator symlink) */
    char bridge[32], usb_serial[64];
    uint16_t vid, pid;
    char profile[64];
    int n_images;
    uint32_t img_offset[ST_MAX_IMAGES];
    char img_sha256[ST_MAX_IMAGES][65];
    int try_no;                  /* 1-based try of this unit in this slot */
    int baud;                    /* requested (BEGIN) / used (END) */
    bool no_stub;
    char operator_name[64], host[64];
    double started, ended;       /* epoch seconds (labels: when the try began and ended) */
    double run_started;          /* epoch seconds the line started (st_events_started) */
    double run_offset;           /* BEGIN: st_events_clock() when the try began */
    double duration;             /* END: monotonic seconds the try took */
    st_outcome outcome;
    bool bin_on_fail;            /* END: the unit failed for good, put it in the retry bin */
    st_flash_report rep;         /* UNIT, END: as far as the try got */
    st_err err;                  /* END: failure detail (cat NONE on pass) */
    char serial_fmt[64];         /* SERIAL: the profile's serial format */
    bool new_serial;             /* SERIAL: replace the unit's serial (--new-serial) */
    char serial[64];             /* END: the serial the unit got ("" none) */
    char provision[512];         /* END: provisioned values (secrets as sha256:...) */
    char action[16];             /* BEGIN: a repair-bench action other than a flash
                                  * ("identify", "read", "erase", "unprotect"); "" flash */
    char action_detail[320];     /* END: what the action did */
} st_rec_attempt;

/* Fill e->unit (and has_unit) from a try's record: identity, report, error. */
void st_event_set_unit(st_event *e, const st_rec_attempt *a);

/* The unit's MAC from a try's report into out (>= 18 bytes): true when the try read one
 * (a chip of another family reports no MAC: out is then ""). */
bool st_report_mac(const st_flash_report *rep, char *out);

/* Filled by the recorder when the operation was written (or failed to be). */
typedef struct st_rec_reply {
    bool done;
    int rc;                      /* 0 written, -1 failed (err) */
    int64_t id;                  /* BEGIN: the attempt id */
    char serial[64];             /* SERIAL: the unit's serial */
    st_err err;
} st_rec_reply;

typedef struct st_rec_op {
    st_rec_kind kind;
    st_rec_attempt a;
    st_rec_attempt then;         /* RETRY: the try that follows a (BEGIN's part) */
    st_event_hook hook;          /* HOOK: how the command ended */
    st_rec_reply *reply;         /* non-NULL: the sender waits for it */
    struct st_rec_op *next;
} st_rec_op;

/* ---- the channel ---- */

typedef struct st_events st_events;

/* Create the channel; its clock starts now. */
int st_events_new(st_events **out, st_err *err);
/* Monotonic seconds since the channel was created (the line started): the time base of
 * st_event.t and of st_rec_attempt.run_offset. */
double st_events_clock(const st_events *ev);
/* Epoch seconds when the channel was created: labels the line's run. */
double st_events_started(const st_events *ev);
/* Free; the queue must be drained and no thread may use it any more. */
void st_events_free(st_events *ev);

/* Publish an event (printf text); returns its seq. slot may be NULL. */
uint64_t st_events_post(st_events *ev, st_ev_kind kind, const char *slot, const char *mac,
                        int attempt, st_phase phase, st_fclass fclass, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
/* Publish a unit event: slot and try from a, e.unit filled from a (st_event_set_unit). */
uint64_t st_events_post_unit(st_events *ev, st_ev_kind kind, const st_rec_attempt *a,
                             const char *mac, st_phase phase, st_fclass fclass, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
/* Set e->text (printf; cut to fit). */
void st_event_text(st_event *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Publish a prepared event (seq, t, wall are filled in); returns its seq. */
uint64_t st_events_publish(st_events *ev, st_event *e);
/* Copy up to cap events with seq > after, oldest first. *lost (may be NULL) gets how many
 * were overwritten in the ring before they could be read. Returns the count. */
int st_events_since(st_events *ev, uint64_t after, st_event *out, int cap, uint64_t *lost);
/* Block up to timeout_ms for an event with seq > after; true when there is one. */
bool st_events_wait(st_events *ev, uint64_t after, int timeout_ms);

/* Line-level fields of the snapshot. */
void st_events_set_line(st_events *ev, const char *profile, const char *digests, int baud);
void st_events_set_flags(st_events *ev, bool paused, bool stopping, bool locked);
/* A record could not be written (why: the store's error): shown in the header, the line
 * takes no new units. Sticky for the life of the channel. */
void st_events_set_records_broken(st_events *ev, const char *why);
/* The store's disk is filling up (text for the header), or "" / NULL when it is not. */
void st_events_set_disk_warning(st_events *ev, const char *text);

/* The line layout file: every position becomes a slot now (shown EMPTY with its label,
 * never recycled), the snapshot carries the fixture's extent, and every event of a
 * slot gets its label. Call before the line starts. */
void st_events_set_layout(st_events *ev, const st_layout *L);
/* The label of slot i into out ("" when it has none). */
void st_events_slot_label(st_events *ev, int i, char *out, size_t cap);

/* Slots: the index for a slot name, held for its unit until st_events_slot_detach (an
 * unplugged slot shows EMPTY). When ST_MAX_SLOTS names are in the table, a new name
 * takes over the slot that has been empty and not held the longest; -1 only when all
 * ST_MAX_SLOTS are held (that many units attached at once). */
int st_events_slot(st_events *ev, const char *name);
/* A unit was plugged into slot i. */
void st_events_slot_attach(st_events *ev, int i, const char *port, const char *bridge,
                           uint16_t vid, uint16_t pid);
void st_events_slot_state(st_events *ev, int i, st_slot_state s);
/* A try begins: attempt number and requested baud; clears progress. */
void st_events_slot_try(st_events *ev, int i, int attempt, int baud);
/* Progress from the loader: phase, bytes done/total (rate and ETA derived for writes). */
void st_events_slot_progress(st_events *ev, int i, st_phase ph, uint64_t done, uint64_t total);
/* What was learned about the unit (MAC, chip description, flash id, baud in use). */
void st_events_slot_chip(st_events *ev, int i, const char *mac, const char *chip,
                         uint32_t flash_id, int baud);
/* Link health of the unit's last try: blocks repaired (resent after a corruption) and
 * whether its eFuse MAC failed the CRC check. */
void st_events_slot_link(st_events *ev, int i, int blocks_repaired, bool mac_crc_bad);
/* The try ended: slot state (PASS, FAIL, RETRYING) and last error (NULL on pass). */
void st_events_slot_result(st_events *ev, int i, st_slot_state s, const st_err *e);
/* After a try: the unit's serial ("" none) and its boot check (NULL or not run: cleared). */
void st_events_slot_after(st_events *ev, int i, const char *serial, const st_boot_result *b);
/* The unit finished for good in slot i: counts towards passed or failed. */
void st_events_unit_done(st_events *ev, int i, bool passed);
/* Unit left slot i. */
void st_events_slot_detach(st_events *ev, int i);

/* The shipper's state for the snapshot's header (copied). */
void st_events_set_central(st_events *ev, const st_central_view *c);
/* Retry-bin mirror (the recorder refreshes it from the store after every bin change):
 * the newest entries waiting here, newest first, the number waiting, and how many open
 * entries are not waiting because their unit passed on another station since. */
void st_events_bin_replace(st_events *ev, const st_bin_view *b, int n, uint64_t total, uint64_t elsewhere);

/* A local open bin entry whose unit passed on another station after the entry's last
 * failure (the shipper asks the central store; plain data). */
typedef struct st_bin_elsewhere {
    int64_t id;              /* the local bin entry */
    int64_t last_fail_ms;    /* its last failure when the central store was asked */
    int64_t passed_ms;       /* the pass, in this station's clock */
    char mac[18];
    char station[64];        /* where it passed */
} st_bin_elsewhere;

/* The shipper's latest answer (copied, replacing the previous one; the cache the line's
 * bin view uses, kept while the central store is away). When it differs from the
 * previous one the recorder is asked to reload the mirror (an ST_REC_BIN op). Returns
 * -1 when out of memory (the previous answer stays). */
int st_events_set_bin_elsewhere(st_events *ev, const st_bin_elsewhere *e, int n);
/* True when local bin entry id, last failed at last_fail_ms, passed on another station
 * by the latest answer (a later failure here makes it wait again). */
bool st_events_bin_elsewhere(st_events *ev, int64_t id, int64_t last_fail_ms);

/* Copy the whole state out (the only way readers see it). */
void st_events_snapshot(st_events *ev, st_line_view *out);

/* Record queue. push takes a heap op (ownership moves to the queue). */
void st_events_rec_push(st_events *ev, st_rec_op *op);
/* Push op and wait for its reply; returns reply->rc. op must carry reply. */
int st_events_rec_call(st_events *ev, st_rec_op *op);
/* Recorder side: next op, waiting up to timeout_ms; NULL on timeout or when the queue
 * is closed and empty. The caller owns the op (free() it after complete). */
st_rec_op *st_events_rec_pop(st_events *ev, int timeout_ms);
/* Recorder side: fill the sender's reply and wake it. */
void st_events_rec_complete(st_events *ev, st_rec_reply *r, int rc, int64_t id, const st_err *e);
/* No more pushes will come: pop returns NULL once empty. Pushes after close are answered
 * at once with a failure. */
void st_events_rec_close(st_events *ev);
/* True once closed and empty. */
bool st_events_rec_drained(st_events *ev);

#endif
