/* db.h - the station's record store (SQLite): units by MAC, one row per flashing
 * attempt, the retry bin of units to reflash, audit, exports and statistics.
 * Only db/ speaks SQL; everything else sees these structs and functions.
 *
 * Conventions
 * - Every fallible function returns 0, or -1 with *err filled: cat ST_E_DB (ST_E_ARG for
 *   caller mistakes, ST_E_IO for export file errors), phase ST_PH_DB, fclass
 *   ST_FC_CONFIG, a message naming the database path and SQLite's own words, and an
 *   operator hint ("cannot write /x/station.db: disk full — free space on /x ...").
 * - Times are UTC milliseconds since the Unix epoch (int64) everywhere in the API and
 *   the tables; exports render them as ISO-8601 UTC with milliseconds
 *   ("2024-05-01T09:30:00.250Z"). A time argument of 0 means "now". These are labels
 *   (when): the wall clock is stepped by NTP. Durations (the *_ms lengths of an attempt
 *   and its phases, run_offset_ms) come from the station's monotonic clock.
 * - MACs are text "aa:bb:cc:dd:ee:ff" (lower case); "" means unknown. Inputs may be
 *   upper case, '-' separated or 12 bare hex digits: they are normalized.
 * - Strings are copied into fixed buffers and truncated to fit.
 *
 * Threads: a writer handle (st_db_open without read_only) belongs to ONE designated
 * writer thread; other threads or processes that want to read (dashboard, audit CLI)
 * open their own read-only handle (WAL lets them read while the writer writes). The
 * connection is opened SQLITE_OPEN_FULLMUTEX as a belt, not as a licence to share.
 * Only one writer per database file at a time: a second writer open fails with "in use
 * by another station process" (an flock on "<path>.lock", released by the kernel when
 * the owner dies, so crash recovery still runs on the next open). */
#ifndef ST_DB_H
#define ST_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

#define ST_DB_SCHEMA_VERSION 13 /* what this build creates / migrates to */
#define ST_DB_FLASH_STATUS_KNOWN (1u << 24)
#define ST_DB_MAX_IMAGES 16

typedef struct st_db st_db;

typedef enum {
    ST_DB_IN_PROGRESS = 0, /* begun, not finished (yet) */
    ST_DB_PASS,
    ST_DB_FAIL,
    ST_DB_INTERRUPTED, /* the station stopped (operator, crash, power loss) mid-attempt */
} st_db_outcome;

typedef enum { ST_DB_CSV, ST_DB_JSONL } st_db_format;

typedef struct st_db_opts {
    bool read_only;        /* reader handle: no lock, no migration, no recovery, no writes */
    int busy_timeout_ms;   /* 0 = 5000 */
    /* Test hook: >0 caps the file at this many pages (PRAGMA max_page_count), which
     * SQLite reports exactly like a full disk (SQLITE_FULL). */
    int max_page_count;
} st_db_opts;

typedef struct st_db_image {
    uint32_t offset;
    char sha256[65];       /* lower-case hex of the image file as shipped */
} st_db_image;

/* A `run --on-result` command that failed for an attempt (schema v12). */
typedef struct st_db_hook {
    char result[16];            /* "" none / succeeded, "exit", "signal", "timeout",
                                 * "spawn_failed" */
    int exit_code;              /* result "exit": its status (1..255) */
    int signal;                 /* result "signal": the signal that killed it */
    int64_t duration_ms;        /* how long it ran (monotonic) */
    char command[256];          /* the command line (sh -c) */
    char stderr_head[256];      /* the first bytes of its stderr, control characters made
                                 * spaces ("" when it wrote none) */
} st_db_hook;

/* One flashing attempt. The caller keeps one per attempt, fills it as the attempt goes
 * and hands the same struct to begin, set_unit and finish. Zero means "unknown" for
 * vid/pid/flash_id/flash_size; revision is recorded only when chip is non-empty. */
typedef struct st_db_attempt {
    int64_t id;                 /* set by st_db_attempt_begin */
    char mac[18];               /* "" until detect has read it */
    char slot_name[64];         /* the slot: its stable name (by-path link name, simulator
                                 * "slotK"); "" at begin = "slot<slot>" */
    int slot;                   /* hub port number: a label only, two hubs share numbers */
    char port[256];             /* port name used (/dev/serial/by-path/..., socket://...) */
    char bridge[32];            /* bridge chip name ("CP2104"), "" when unknown */
    uint16_t vid, pid;          /* bridge USB VID:PID */
    char bridge_serial[64];     /* USB serial number, "" when the bridge has none */
    char chip[16];              /* "ESP32" */
    char package[24];           /* "ESP32-D0WD-V3" */
    char description[64];       /* "ESP32-D0WD-V3 (revision v3.0)" */
    int rev_major, rev_minor;
    uint32_t flash_id;          /* JEDEC RDID */
    uint32_t flash_size;        /* bytes */
    uint32_t flash_status;      /* flash status registers as read at detect: 0 unknown, else
                                 * ST_DB_FLASH_STATUS_KNOWN | SR1 | SR2 << 8 | SR3 << 16 */
    char profile[64];           /* profile name */
    st_db_image images[ST_DB_MAX_IMAGES];
    int nimages;
    int baud;
    uint64_t bytes_raw, bytes_compressed;
    int64_t connect_ms, stub_ms, write_ms, verify_ms, total_ms; /* durations */
    int try_no;                 /* 1 for the first try within the unit's session */
    st_db_outcome outcome;
    st_fclass fclass;           /* ST_FC_NONE on pass */
    st_phase phase;             /* where it failed (or got to) */
    uint8_t status[4];          /* device status bytes, nstatus of them (0, 2 or 4) */
    uint8_t nstatus;
    char detail[320];           /* what happened (st_err msg) */
    char hint[256];             /* what the operator should do */
    char host[64];              /* station host; "" at begin = gethostname() */
    char operator_name[64];     /* who flashed; "" at begin = the login name (never empty) */
    char station_version[32];   /* station software version; "" at begin = this build's
                                 * (st_who_version); "" read back: recorded before schema 9 */
    int64_t started_ms, ended_ms; /* ended_ms 0 while in progress / unknown */
    char serial[64];            /* serial given to the unit ("" none); set by
                                 * st_db_serial_assign, kept by finish when "" */
    char provision[512];        /* provisioned NVS values "key=value; ..." (secrets as
                                 * sha256:...), "" when the profile provisions nothing */
    char boot[12];              /* boot check: "" not run, "pass", "no_boot" */
    char boot_captured[160];    /* captured groups "version=1.2.3; ..." */
    char boot_console[1024];    /* last console lines when the check failed */
    /* Monotonic length of the attempt, begin to end (not ended_ms - started_ms, which a
     * clock step falsifies); 0 while in progress / unknown (cut short by a crash,
     * recorded before schema v5). */
    int64_t duration_ms;
    /* The station run (line start) the attempt belongs to: run_started_ms labels it and,
     * with host, names it; run_offset_ms is the monotonic time from the run's start to the
     * attempt's start, the time line `stats` measures throughput on. 0: unknown. */
    int64_t run_started_ms, run_offset_ms;
    int blocks_repaired;        /* blocks corrupted on the link (01 07 / C1) and resent; -1
                                 * unknown (rows recorded before schema 7) */
    bool mac_crc_bad;           /* the eFuse MAC failed its CRC: the MAC may be misread */
    st_db_hook hook;            /* the on-result command given this attempt's result, when it
                                 * failed (hook.result ""); written by st_db_attempt_hook */
    /* A repair-bench action other than a flash: "identify", "read", "erase", "unprotect";
     * "" = a flash (rows before schema 13 too). Set at begin. Such an attempt neither
     * bins nor resolves the unit, and statistics leave it out. */
    char action[16];
    char action_detail[320];    /* what the action did (set at finish) */
} st_db_attempt;

typedef struct st_db_unit {
    char mac[18];
    int64_t first_seen_ms, last_seen_ms;
    char chip[16], package[24], description[64];
    int rev_major, rev_minor;
    uint32_t flash_id, flash_size;
} st_db_unit;

/* A unit waiting to be reflashed. Keyed by MAC (one open entry per MAC), or by slot name
 * and time for a unit whose MAC could not be read. Resolved entries are kept. */
typedef struct st_db_bin_entry {
    int64_t id;
    char mac[18];               /* "" when the unit's MAC was never read */
    char slot_name[64];         /* as in st_db_attempt ("" = "slot<slot>") */
    int slot;
    char port[256];
    st_fclass fclass;
    st_phase phase;
    uint8_t status[4];
    uint8_t nstatus;
    char detail[320];
    char hint[256];
    uint16_t vid, pid;          /* bridge it failed on */
    int attempts;               /* failed attempts so far */
    int64_t first_fail_ms, last_fail_ms;
    int64_t last_attempt_id;    /* 0 when added by hand */
    int64_t resolved_ms;        /* 0 while open */
    int64_t resolved_by;        /* passing attempt id; 0 if open or resolved by hand */
    /* Closed by hand (st_db_bin_close: scrapped, sent back): why, who, on which station
     * host; resolved_ms is when. All "" for an entry a pass resolved or still open. */
    char closed_reason[256];
    char closed_by[64];
    char closed_host[64];
} st_db_bin_entry;

typedef struct st_db_stats {
    int64_t attempts;           /* finished attempts started in the range */
    int64_t passes, fails, interrupted;
    int64_t attempts_no_mac;    /* of those, attempts whose MAC was never read */
    int64_t units_tried;        /* distinct MACs with a finished attempt */
    int64_t units_passed;       /* distinct MACs with a pass */
    int64_t units_first_try;    /* distinct MACs whose first finished attempt in the range
                                 * passed (a unit binned and reflashed later is not one) */
    double yield;               /* final yield: units_passed / units_tried (0 when none) */
    double first_pass_yield;    /* units_first_try / units_tried (0 when none tried) */
    double active_hours;        /* per station run, first start to last end of the attempts
                                 * counted on its monotonic clock, summed over the runs
                                 * (rows without one: wall-clock first start to last end) */
    double units_per_hour;      /* units_passed / active_hours (0 when no span) */
} st_db_stats;

/* ---- opening ---------------------------------------------------------------------- */

/* Where the database lives: $STATION_DB if set and non-empty, else
 * $XDG_DATA_HOME/flashstation/station.db (XDG_DATA_HOME absolute), else
 * ~/.local/share/flashstation/station.db. */
int st_db_default_path(char *buf, size_t cap, st_err *err);

/* Open (creating it and its parent folders) the database at path (NULL = default path).
 * Writer handles: take the single-writer lock, set WAL, synchronous=FULL, busy timeout,
 * foreign keys; migrate the schema step by step (each step one transaction); prove the
 * file can be written (read-only file, read-only folder or full disk fail here, because
 * the station must not flash without records); then mark every attempt left in
 * progress by a crash as 'interrupted' and put its unit in the retry bin. opts may be
 * NULL. On failure *out is NULL and nothing is left open. */
int st_db_open(const char *path, const st_db_opts *opts, st_db **out, st_err *err);
/* Close and free (statements finalized, an open batch rolled back, lock released);
 * NULL is fine. */
void st_db_close(st_db *db);
const char *st_db_path(const st_db *db);
/* Number of attempts st_db_open found unfinished and marked interrupted. */
int st_db_recovered(const st_db *db);
/* Schema version of the open file (PRAGMA user_version). */
int st_db_schema_version(st_db *db, int *version, st_err *err);
/* PRAGMA integrity_check and foreign_key_check: 0 when both are clean, else -1 with the
 * first problems in err->msg. */
int st_db_check_integrity(st_db *db, st_err *err);

/* Every write function is one transaction of its own: it lands whole or not at all.
 * A batch groups many of them into one commit (bulk import, benchmarks); each write
 * inside still succeeds or fails on its own (savepoints) and commit makes them durable.
 * If SQLite had to abandon the batch (full disk, I/O error), commit says so. */
int st_db_tx_begin(st_db *db, st_err *err);
int st_db_tx_commit(st_db *db, st_err *err);
void st_db_tx_rollback(st_db *db);

/* ---- attempts and units ----------------------------------------------------------- */

/* Record the start of an attempt (outcome in_progress). Sets a->id, a->outcome, and
 * a->started_ms, a->host, a->operator_name, a->station_version and a->slot_name when
 * they were 0 / "". Records the unit when
 * a->mac is known. Call it before touching the unit: without this row the station must
 * not flash. */
int st_db_attempt_begin(st_db *db, st_db_attempt *a, st_err *err);
/* The unit's identity became known (detect ran after connect): store a->mac, chip,
 * package, description, revision, flash id/size (and phase when set) on the in-progress
 * attempt a->id, and record the unit. Fails if the attempt is no longer in progress. */
int st_db_attempt_set_unit(st_db *db, const st_db_attempt *a, st_err *err);
/* Complete attempt a->id with every field of a (a->outcome pass, fail or interrupted;
 * identity fields left empty keep what set_unit stored; ended_ms 0 = now, written back).
 * In the same transaction: a pass resolves the unit's open bin entry (by MAC; by slot
 * name for a MAC-less entry when try_no > 1, i.e. the same unit retried); a fail or
 * interrupted outcome with bin_on_fail adds the unit to the retry bin or updates its
 * entry. Fails, changing nothing, if the attempt is not in progress. */
int st_db_attempt_finish(st_db *db, st_db_attempt *a, bool bin_on_fail, st_err *err);
/* A failed try that will be retried: finish `done` (outcome fail, no bin entry) and
 * begin `next` in ONE transaction, so that at every instant the unit has either an
 * attempt in progress (a crash leaves it to recovery, which bins the unit) or a final
 * outcome. next starts with the unit's identity as stored for done (MAC, chip,
 * package, description, revision, flash id/size) when it carries none of its own; its
 * other fields and results are as for st_db_attempt_begin. On failure nothing changed
 * (done stays in progress) and next->id is 0. */
int st_db_attempt_retry(st_db *db, st_db_attempt *done, st_db_attempt *next, st_err *err);
/* The on-result command given finished attempt id's result failed: record h on the
 * attempt (replacing an earlier record; stderr cleaned of control characters here too).
 * Fails with ST_E_ARG, changing nothing, when h->result is not one of the four or the
 * attempt does not exist or is still in progress. */
int st_db_attempt_hook(st_db *db, int64_t id, const st_db_hook *h, st_err *err);
/* Read attempt id into *a. */
int st_db_attempt_get(st_db *db, int64_t id, st_db_attempt *a, st_err *err);
/* Read the unit with this MAC; *found false (and 0 returned) when it was never seen. */
int st_db_unit_get(st_db *db, const char *mac, st_db_unit *u, bool *found, st_err *err);

/* ---- serial numbers -------------------------------------------------------------- */

typedef struct st_db_serial {
    int64_t id;
    char profile[64];
    int64_t seq;                /* 1, 2, 3 ... per profile */
    char serial[64];            /* the formatted serial */
    char mac[18];
    int64_t attempt_id;         /* the attempt it was allocated in */
    int64_t allocated_ms;
    char reason[16];            /* "first" or "new_serial" */
    int64_t retired_ms;         /* 0 while current */
} st_db_serial;

/* Formats serial number seq (allocated at now_ms) into out; 0, or -1 if it cannot. */
typedef int (*st_db_serial_fmt)(void *user, int64_t seq, int64_t now_ms, char *out, size_t cap);

/* The unit's serial for profile, in one transaction with the in-progress attempt
 * attempt_id: the MAC's current serial when it has one (a re-flash keeps it), else, or
 * when new_serial, the profile's next number (max + 1: never reused, never skipped; a
 * replaced serial is kept as retired). The serial is stored on the attempt row too.
 * *allocated tells whether a new number was taken. Fails, changing nothing, when the
 * attempt is not in progress or fmt fails. */
int st_db_serial_assign(st_db *db, int64_t attempt_id, const char *profile, const char *mac,
                        bool new_serial, st_db_serial_fmt fmt, void *user, st_db_serial *out,
                        bool *allocated, st_err *err);
/* The MAC's current serial for profile; *found false when it has none. */
int st_db_serial_get(st_db *db, const char *profile, const char *mac, st_db_serial *out,
                     bool *found, st_err *err);
/* The number the profile's next allocation would take (1 for a new profile). */
int st_db_serial_next(st_db *db, const char *profile, int64_t *next, st_err *err);
/* Every serial row of a profile (retired ones included), by seq. */
typedef int (*st_db_serial_fn)(void *user, const st_db_serial *s);
int st_db_serial_list(st_db *db, const char *profile, st_db_serial_fn fn, void *user, st_err *err);

/* ---- retry bin -------------------------------------------------------------------- */

/* Record a failure in the bin by hand: with e->mac, create the MAC's open entry or update
 * it (latest class/phase/status/hint/detail/bridge/slot, last_fail, attempts =
 * max(e->attempts, previous + 1)); without a MAC, always a new entry for e->slot_name.
 * first/last_fail 0 = now. *id (may be NULL) receives the entry id. */
int st_db_bin_add(st_db *db, const st_db_bin_entry *e, int64_t *id, st_err *err);
/* Mark entry id resolved at now, by attempt resolved_by (0 = by hand). Entries are never
 * deleted. Fails if it does not exist or is already resolved. */
int st_db_bin_resolve(st_db *db, int64_t id, int64_t resolved_by, st_err *err);
/* Close the open entry of mac by hand (the unit was scrapped or sent back): resolved now,
 * with reason (required: non-blank), operator_name ("" = unknown) and this station's host
 * recorded on the entry, which leaves the open bin (and ships, so the central bin drops it
 * too). The closed entry goes into *out (may be NULL). Fails with ST_E_ARG, changing
 * nothing, when mac is malformed, the reason is blank, or mac has no open entry. */
int st_db_bin_close(st_db *db, const char *mac, const char *reason, const char *operator_name,
                    st_db_bin_entry *out, st_err *err);

/* Per-row callbacks: return 0 to go on, non-zero to stop early (the call still returns 0).
 * A callback may read through the same handle (listings use statements of their own). */
typedef int (*st_db_bin_fn)(void *user, const st_db_bin_entry *e);
typedef int (*st_db_attempt_fn)(void *user, const st_db_attempt *a);
/* History callback: exactly one of a and b is non-NULL. */
typedef int (*st_db_history_fn)(void *user, const st_db_attempt *a, const st_db_bin_entry *b);

/* Open entries (plus resolved ones when include_resolved), newest failure first. */
int st_db_bin_list(st_db *db, bool include_resolved, st_db_bin_fn fn, void *user, st_err *err);
/* Same rows as st_db_bin_list, written as CSV (with header) or JSON lines. */
int st_db_bin_export(st_db *db, FILE *f, st_db_format fmt, bool include_resolved, st_err *err);

/* ---- audit, export, statistics ---------------------------------------------------- */

/* A MAC's whole history, newest first: its attempts (by start time) and its bin entries
 * (by their latest event: resolution, else last failure), merged. Uses the (mac,
 * started_ms) index: milliseconds on a million attempts. */
int st_db_audit(st_db *db, const char *mac, st_db_history_fn fn, void *user, st_err *err);

/* The units an auditor asks about: by MAC, whole or as a label prints its end, or by
 * serial number. */
typedef struct st_db_unit_query {
    char mac[18];               /* a whole MAC "aa:bb:cc:dd:ee:ff", or with suffix the last
                                 * 1..5 bytes "5a:40:01"; "" with a serial */
    bool suffix;                /* mac is the end of the MACs to find */
    char serial[64];            /* non-empty: units flashed through a USB bridge with this
                                 * serial number, or given this serial by the station */
} st_db_unit_query;
/* What an auditor types for a unit: a whole MAC (as st_db_mac_normalize takes it) or its
 * last 1..5 bytes as printed on a label ("5a:40:01", "5A-40-01", "5a4001"), into *q (its
 * serial cleared). -1 (ST_E_ARG) when it is neither. */
int st_db_unit_query_parse(const char *text, st_db_unit_query *q, st_err *err);
/* Called before each unit's rows: its MAC, or "" for the attempts that matched a serial
 * but never read a MAC. Return non-zero to stop. */
typedef int (*st_db_mac_fn)(void *user, const char *mac);
/* Every unit q names (in MAC order), each with its history as st_db_audit gives it,
 * limited to [from_ms, to_ms) (attempts by start, bin entries by their latest event;
 * to_ms <= 0: no upper bound): unit(user, mac) and then the unit's rows. A unit with no
 * row in the range is left out. With a serial, its attempts that never read a MAC (and
 * their bin entries) come last, under unit(user, ""). The serial and MAC lookups use
 * indexes; a MAC suffix reads the units table once. */
int st_db_audit_query(st_db *db, const st_db_unit_query *q, int64_t from_ms, int64_t to_ms,
                      st_db_mac_fn unit, st_db_history_fn fn, void *user, st_err *err);
/* Attempts started in [from_ms, to_ms) (to_ms <= 0: no upper bound), oldest first. */
int st_db_attempts_range(st_db *db, int64_t from_ms, int64_t to_ms, st_db_attempt_fn fn,
                         void *user, st_err *err);
/* The same attempts to f as CSV (header row, RFC 4180 quoting) or JSON lines (one object
 * per line). Column/key names are those of st_db_attempt (operator for operator_name,
 * vid_pid "10c4:ea60", status hex "01070000", images [{"offset":..,"sha256":..}],
 * started/ended ISO-8601); slot_name comes last, so CSV readers that count columns from
 * before it existed still work. Write failures on f come back as ST_E_IO. */
int st_db_export_attempts(st_db *db, FILE *f, st_db_format fmt, int64_t from_ms, int64_t to_ms,
                          st_err *err);

/* One attempt, or one bin entry, to f in the exports' form: a CSV row (after the header
 * row when header) or one JSON object on a line. kind non-NULL adds a leading "kind"
 * column/key with that value (the audit's merged history). A NULL record writes the CSV
 * header alone (nothing in JSON lines). Write failures on f come back as ST_E_IO. */
int st_db_write_attempt(FILE *f, st_db_format fmt, const st_db_attempt *a, const char *kind,
                        bool header, st_err *err);
int st_db_write_bin(FILE *f, st_db_format fmt, const st_db_bin_entry *e, const char *kind, bool header,
                    st_err *err);

/* Yield and throughput over finished attempts started in [from_ms, to_ms). */
int st_db_stats_summary(st_db *db, int64_t from_ms, int64_t to_ms, st_db_stats *s, st_err *err);
/* Failed and interrupted attempts per (bridge chip, failure class), by bridge then most
 * frequent first: how many attempts, how many units (distinct MACs) they were, and how
 * many of the attempts never read a MAC (those count as attempts, not as units). bridge
 * is the bridge name, else "vvvv:pppp", else "unknown". */
typedef int (*st_db_class_fn)(void *user, const char *bridge, st_fclass fclass, int64_t count,
                              int64_t units, int64_t no_mac);
int st_db_stats_classes(st_db *db, int64_t from_ms, int64_t to_ms, st_db_class_fn fn, void *user,
                        st_err *err);
/* Units passed and attempts finished per clock hour (UTC, by start time), oldest hour
 * first; hours without attempts are skipped. */
typedef int (*st_db_hour_fn)(void *user, int64_t hour_start_ms, int64_t units_passed,
                             int64_t attempts);
int st_db_stats_hourly(st_db *db, int64_t from_ms, int64_t to_ms, st_db_hour_fn fn, void *user,
                       st_err *err);
/* Finished attempts per slot (by slot name): how many, passed, and failed or interrupted
 * (a slot that fails more than its neighbours points at its cable, hub or pogo pins). */
typedef int (*st_db_slot_fn)(void *user, const char *slot_name, int64_t attempts, int64_t passes,
                             int64_t failures);
int st_db_stats_slots(st_db *db, int64_t from_ms, int64_t to_ms, st_db_slot_fn fn, void *user,
                      st_err *err);
/* Link repairs (blocks corrupted on the way and resent) per bridge (by_slot false; named
 * as st_db_stats_classes does) or per slot name (by_slot true), over finished attempts
 * that recorded them: attempts counted, how many needed a repair, blocks repaired in all.
 * A bridge or slot that needs them often points at its cable or hub. */
typedef int (*st_db_repair_fn)(void *user, const char *key, int64_t attempts,
                               int64_t attempts_repaired, int64_t blocks_repaired);
int st_db_stats_repairs(st_db *db, int64_t from_ms, int64_t to_ms, bool by_slot, st_db_repair_fn fn,
                        void *user, st_err *err);

/* ---- disk space ------------------------------------------------------------------- */

/* The WAL is checkpointed every ST_DB_WAL_CHECKPOINT_PAGES pages and truncated back to at
 * most ST_DB_WAL_BOUND_BYTES, so it can never take a small disk. A write that finds the
 * disk full checkpoints (giving up the space reserve "<path>.reserve" when it must) and
 * tries once more; opening a store on a full disk checkpoints it the same way, so its
 * records stay readable and exportable even when the open must then refuse. */
#define ST_DB_WAL_CHECKPOINT_PAGES 128
#define ST_DB_WAL_BOUND_BYTES (1024 * 1024)
/* What one attempt costs on disk (its row, the unit, indexes; measured ~3 KiB, with
 * margin): for the room estimate. */
#define ST_DB_BYTES_PER_ATTEMPT 8192
/* Below this many attempts of room the station warns (dashboard header, events); below
 * the minimum it does not start flashing. */
#define ST_DB_ROOM_WARN_ATTEMPTS 2000
#define ST_DB_ROOM_MIN_ATTEMPTS 16

typedef struct st_db_space_info {
    int64_t free_bytes;        /* statvfs: bytes available to the station's user */
    int64_t db_bytes, wal_bytes;
    bool reserve;              /* the space reserve is in place */
    int64_t attempts_room;     /* attempts that still fit, WAL bound kept aside */
} st_db_space_info;

/* Free space of the disk holding the store and what it still holds room for. */
int st_db_space(st_db *db, st_db_space_info *s, st_err *err);

/* ---- small helpers ---------------------------------------------------------------- */

int64_t st_db_now_ms(void);
/* ISO-8601 UTC with milliseconds into buf (>= 25 bytes); "" for 0. */
void st_db_format_time(int64_t ms, char *buf, size_t cap);
/* Normalize a MAC to "aa:bb:cc:dd:ee:ff" into out (>= 18 bytes); -1 (err ST_E_ARG) if it
 * is not 6 hex bytes. */
int st_db_mac_normalize(const char *in, char *out, st_err *err);
const char *st_db_outcome_name(st_db_outcome o);     /* "pass", "in_progress", ... */
st_db_outcome st_db_outcome_from_name(const char *s); /* unknown -> ST_DB_IN_PROGRESS */

#endif
