/* db_fill.h - fill an attempt record from what the engine already has (port, chip,
 * firmware set, flash report, error), so the engine does not copy field by field.
 * Pure copies: no database access. */
#ifndef ST_DB_FILL_H
#define ST_DB_FILL_H

#include "chip.h"
#include "db.h"
#include "flash_unit.h"
#include "image.h"
#include "port.h"

/* Engine seconds (clock readings, durations) as record milliseconds, rounded; 0 for <= 0. */
int64_t st_db_ms(double seconds);
/* Port name, bridge name, VID:PID and USB serial. */
void st_db_attempt_set_port(st_db_attempt *a, const st_port_info *p);
/* MAC, chip, package, description, revision, flash id and size. */
void st_db_attempt_set_chip(st_db_attempt *a, const st_chip_info *c);
/* Profile name and each image's offset and SHA-256. */
void st_db_attempt_set_fw(st_db_attempt *a, const st_fwset *fw);
/* The report's bytes sent (raw and compressed) and phase durations (seconds in the
 * report, milliseconds in the record). */
void st_db_attempt_set_counts(st_db_attempt *a, const st_flash_report *r);
/* Everything the flash report knows: port (when named), chip (when chip_known), baud and
 * st_db_attempt_set_counts. */
void st_db_attempt_set_report(st_db_attempt *a, const st_flash_report *r);
/* Failure class, phase, status bytes, detail (st_err_format's one line) and hint (the
 * error's own, else the class's). */
void st_db_attempt_set_err(st_db_attempt *a, const st_err *e);

#endif
