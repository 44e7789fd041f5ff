/* recorder.h - the station's one database writer: a thread that takes record operations
 * from the events channel's queue, in order, and writes them through db/ (no SQL here).
 * It answers each BEGIN before the worker may touch the unit, completes attempts (which
 * bins failed units and resolves binned MACs that pass, in the same transaction), and
 * keeps the snapshot's retry-bin mirror in step with the store.
 *
 * Built outside stationcore (library stationrec): it links stationdb, and stationdb
 * links stationcore. */
#ifndef ST_RECORDER_H
#define ST_RECORDER_H

#include "db.h"
#include "err.h"
#include "events.h"

typedef struct st_recorder st_recorder;

/* Take ownership of an open writer handle (st_db_open succeeded: the store is writable
 * and crash leftovers are already marked interrupted), announce those leftovers as a
 * RECOVERED event, load the bin mirror and start the writer thread. On failure db is
 * closed. */
int st_recorder_start(st_events *ev, st_db *db, st_recorder **out, st_err *err);
/* Close the queue, write what is still queued, join the thread, close the database.
 * Call after the engine is done (no worker will push any more). Returns how many record
 * operations could not be written during the run. NULL is fine (0). */
int st_recorder_stop(st_recorder *r);

/* Write one record operation through db (the writer thread's own path, also used
 * directly by the repair bench, which has no line): BEGIN, UNIT, END (binning or
 * resolving as op->a says) or RETRY (op->a ends, op->then begins, one transaction).
 * *out (may be NULL) receives the attempt as written (for RETRY: the new try), with
 * its id. 0, or -1 with *err. */
int st_record_write(st_db *db, const st_rec_op *op, st_db_attempt *out, st_err *err);

/* The store's disk has room for at least ST_DB_ROOM_MIN_ATTEMPTS attempts: 0, else -1
 * with err saying how much is left and what to do. Checked before a line or the bench
 * starts flashing. */
int st_recorder_room_ok(st_db *db, st_err *err);
/* "disk low: 1.2 MB free on /var/lib/x, room for ~87 attempts" for a store at path. */
void st_recorder_space_text(const st_db_space_info *s, const char *path, char *out, size_t cap);

#endif
