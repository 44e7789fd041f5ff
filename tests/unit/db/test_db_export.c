/* test_db_export.c - attempts and bin entries exported as CSV and JSON lines, read back
 * field by field: quoting of awkward text, time range limits, nulls for unknowns, and
 * a failing output file reported as an error. */
#include "check.h"
#include "test_db_support.h"
#include "who.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define T0 1714555800250LL /* 2024-05-01T09:30:00.250Z */
#define AWKWARD "md5 differs, region 0x10000: \"expected\" 3f..\r\nsecond line"

/* Read one RFC 4180 record from *p into fields (strdup'ed); returns the count. */
static int csv_record(const char **p, char **fields, int max)
{
    int n = 0;
    const char *s = *p;
    if (!*s)
        return 0;
    for (;;) {
        char *out = malloc(strlen(s) + 1), *o = out;
        if (*s == '"') {
            s++;
            for (;;) {
                if (*s == '"' && s[1] == '"') {
                    *o++ = '"';
                    s += 2;
                } else if (*s == '"') {
                    s++;
                    break;
                } else if (!*s) {
                    break;
                } else {
                    *o++ = *s++;
                }
            }
        } else {
            while (*s && *s != ',' && *s != '\r' && *s != '\n')
                *o++ = *s++;
        }
        *o = '\0';
        if (n < max)
            fields[n++] = out;
        else
            free(out);
        if (*s == ',') {
            s++;
            continue;
        }
        if (*s == '\r')
            s++;
        if (*s == '\n')
            s++;
        break;
    }
    *p = s;
    return n;
}

static const char *field(char **hdr, char **row, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(hdr[i], name))
            return row[i];
    return "(missing column)";
}

static char *export_to_string(st_db *db, st_db_format fmt, int64_t from, int64_t to, bool bin)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    st_err err;
    int rc = bin ? st_db_bin_export(db, f, fmt, true, &err) : st_db_export_attempts(db, f, fmt, from, to, &err);
    if (rc < 0)
        tdb_print_err("export", &err);
    CHECK_EQ_INT(rc, 0);
    fclose(f);
    return buf;
}

static void fill(st_db *db)
{
    st_err err;
    st_db_attempt a;
    /* attempt 1: failed, everything known, awkward detail text */
    tdb_full_attempt(&a, "24:0a:c4:01:02:03", 2, T0);
    a.run_started_ms = T0 - 60000; /* the run began a minute earlier */
    a.run_offset_ms = 59990;
    CHECK_EQ_INT(st_db_attempt_begin(db, &a, &err), 0);
    a.outcome = ST_DB_FAIL;
    a.fclass = ST_FC_MD5_MISMATCH;
    a.phase = ST_PH_VERIFY;
    a.status[0] = 0x01;
    a.status[1] = 0xc1;
    a.nstatus = 2;
    snprintf(a.detail, sizeof a.detail, "%s", AWKWARD);
    snprintf(a.hint, sizeof a.hint, "retry, then set aside");
    a.ended_ms = T0 + 10500;
    a.duration_ms = 10490; /* monotonic: the labels' difference is not the duration */
    CHECK_EQ_INT(st_db_attempt_finish(db, &a, true, &err), 0);
    /* attempt 2: nothing read from the unit, still in progress, an hour later */
    memset(&a, 0, sizeof a);
    a.slot = 3;
    a.try_no = 1;
    snprintf(a.port, sizeof a.port, "socket://127.0.0.1:4000");
    a.started_ms = T0 + 3600000;
    CHECK_EQ_INT(st_db_attempt_begin(db, &a, &err), 0);
    /* attempt 3: a day later, outside the range below */
    CHECK(tdb_attempt(db, "24:0a:c4:01:02:04", 1, 1, T0 + 86400000, ST_DB_PASS, ST_FC_NONE, "CH340", true) > 0);
}

static void test_csv(st_db *db)
{
    char *out = export_to_string(db, ST_DB_CSV, T0, T0 + 86400000, false);
    if (!CHECK(out != NULL))
        return;
    const char *p = out;
    char *hdr[64], *r1[64], *r2[64], *r3[64];
    int nh = csv_record(&p, hdr, 64);
    int n1 = csv_record(&p, r1, 64);
    int n2 = csv_record(&p, r2, 64);
    int n3 = csv_record(&p, r3, 64);
    CHECK_EQ_INT(nh, 55);
    /* new columns go last: positional readers keep working */
    CHECK_STR(hdr[34], "slot_name");
    CHECK_STR(hdr[35], "serial");
    CHECK_STR(hdr[39], "boot_console");
    CHECK_STR(hdr[40], "duration_ms");
    CHECK_STR(hdr[41], "run_started");
    CHECK_STR(hdr[42], "run_offset_ms");
    CHECK_STR(hdr[43], "blocks_repaired");
    CHECK_STR(hdr[44], "mac_crc_bad");
    CHECK_STR(hdr[45], "flash_status");
    CHECK_STR(hdr[46], "station_version");
    CHECK_STR(hdr[47], "hook_result");
    CHECK_STR(hdr[52], "hook_stderr");
    CHECK_STR(hdr[53], "action");
    CHECK_STR(hdr[54], "action_detail");
    CHECK_EQ_INT(n1, nh);
    CHECK_EQ_INT(n2, nh);
    CHECK_EQ_INT(n3, 0); /* the next day's attempt is outside [from, to) */
    CHECK_STR(hdr[0], "id");
    if (n1 == nh) {
        CHECK_STR(field(hdr, r1, nh, "id"), "1");
        CHECK_STR(field(hdr, r1, nh, "mac"), "24:0a:c4:01:02:03");
        CHECK_STR(field(hdr, r1, nh, "slot"), "2");
        CHECK_STR(field(hdr, r1, nh, "slot_name"), "pci-0000:00:14.0-usb-0:1.2:1.0-port0");
        CHECK_STR(field(hdr, r1, nh, "vid_pid"), "10c4:ea60");
        CHECK_STR(field(hdr, r1, nh, "bridge"), "CP2104");
        CHECK_STR(field(hdr, r1, nh, "revision"), "v3.0");
        CHECK_STR(field(hdr, r1, nh, "flash_id"), "0x164020");
        CHECK_STR(field(hdr, r1, nh, "flash_size"), "16777216");
        CHECK_CONTAINS(field(hdr, r1, nh, "images"), "0x1000=0123456789abcdef");
        CHECK_CONTAINS(field(hdr, r1, nh, "images"), ";0x10000=");
        CHECK_STR(field(hdr, r1, nh, "outcome"), "fail");
        CHECK_STR(field(hdr, r1, nh, "fclass"), "md5_mismatch");
        CHECK_STR(field(hdr, r1, nh, "phase"), "verify");
        CHECK_STR(field(hdr, r1, nh, "status"), "01c1");
        CHECK_STR(field(hdr, r1, nh, "detail"), AWKWARD);
        CHECK_STR(field(hdr, r1, nh, "operator"), "maria");
        CHECK_STR(field(hdr, r1, nh, "started"), "2024-05-01T09:30:00.250Z");
        CHECK_STR(field(hdr, r1, nh, "ended"), "2024-05-01T09:30:10.750Z");
        CHECK_STR(field(hdr, r1, nh, "total_ms"), "10500");
        CHECK_STR(field(hdr, r1, nh, "duration_ms"), "10490");
        CHECK_STR(field(hdr, r1, nh, "run_started"), "2024-05-01T09:29:00.250Z");
        CHECK_STR(field(hdr, r1, nh, "run_offset_ms"), "59990");
        /* who and what flashed it: the station's version with every attempt */
        CHECK_STR(field(hdr, r1, nh, "station_version"), st_who_version());
    }
    if (n2 == nh) {
        CHECK_STR(field(hdr, r2, nh, "mac"), "");
        CHECK_STR(field(hdr, r2, nh, "outcome"), "in_progress");
        CHECK_STR(field(hdr, r2, nh, "revision"), "");
        CHECK_STR(field(hdr, r2, nh, "ended"), "");
        CHECK_STR(field(hdr, r2, nh, "port"), "socket://127.0.0.1:4000");
        CHECK_STR(field(hdr, r2, nh, "slot_name"), "slot3");
        CHECK_STR(field(hdr, r2, nh, "duration_ms"), ""); /* unknown while in progress */
        CHECK_STR(field(hdr, r2, nh, "run_started"), "");
        CHECK_STR(field(hdr, r2, nh, "run_offset_ms"), "");
        /* begun with no operator and no host: the login name and the host, never "" */
        CHECK(*field(hdr, r2, nh, "operator") != '\0');
        CHECK(*field(hdr, r2, nh, "host") != '\0');
        CHECK_STR(field(hdr, r2, nh, "station_version"), st_who_version());
    }
    for (int i = 0; i < nh; i++)
        free(hdr[i]);
    for (int i = 0; i < n1; i++)
        free(r1[i]);
    for (int i = 0; i < n2; i++)
        free(r2[i]);
    free(out);

    /* an empty range still writes the header */
    out = export_to_string(db, ST_DB_CSV, 1, 2, false);
    CHECK(out && strncmp(out, "id,mac,slot,", strlen("id,mac,slot,")) == 0);
    CHECK(out && strchr(out, '\n') == out + strlen(out) - 1);
    free(out);
}

static void test_jsonl(st_db *db)
{
    char *out = export_to_string(db, ST_DB_JSONL, 0, 0, false); /* everything */
    if (!CHECK(out != NULL))
        return;
    int lines = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        if (!CHECK(json_is_object(o))) {
            fprintf(stderr, "bad JSON line %d: %s (%s)\n", lines, line, je.text);
            continue;
        }
        lines++;
        if (lines == 1) {
            CHECK_EQ_INT(json_integer_value(json_object_get(o, "id")), 1);
            CHECK_STR(json_string_value(json_object_get(o, "mac")), "24:0a:c4:01:02:03");
            CHECK_STR(json_string_value(json_object_get(o, "slot_name")), "pci-0000:00:14.0-usb-0:1.2:1.0-port0");
            CHECK_EQ_INT(json_integer_value(json_object_get(o, "slot")), 2);
            CHECK_STR(json_string_value(json_object_get(o, "detail")), AWKWARD);
            CHECK_STR(json_string_value(json_object_get(o, "fclass")), "md5_mismatch");
            CHECK_STR(json_string_value(json_object_get(o, "status")), "01c1");
            CHECK_STR(json_string_value(json_object_get(o, "started")), "2024-05-01T09:30:00.250Z");
            CHECK_EQ_INT(json_integer_value(json_object_get(o, "bytes_raw")), 1234567);
            CHECK_EQ_INT(json_integer_value(json_object_get(o, "baud")), 1500000);
            CHECK_EQ_INT(json_integer_value(json_object_get(o, "duration_ms")), 10490);
            CHECK_EQ_INT(json_integer_value(json_object_get(o, "run_offset_ms")), 59990);
            json_t *imgs = json_object_get(o, "images");
            CHECK_EQ_INT(json_array_size(imgs), 3);
            CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(imgs, 1), "offset")), 0x8000);
            CHECK_EQ_INT(strlen(json_string_value(json_object_get(json_array_get(imgs, 1), "sha256")) ?: ""), 64);
        } else if (lines == 2) {
            CHECK(json_is_null(json_object_get(o, "mac")));
            CHECK_STR(json_string_value(json_object_get(o, "slot_name")), "slot3");
            CHECK(json_is_null(json_object_get(o, "ended")));
            CHECK(json_is_null(json_object_get(o, "fclass")));
            CHECK_STR(json_string_value(json_object_get(o, "outcome")), "in_progress");
            CHECK_EQ_INT(json_array_size(json_object_get(o, "images")), 0);
        } else if (lines == 3) {
            CHECK_STR(json_string_value(json_object_get(o, "outcome")), "pass");
            CHECK_STR(json_string_value(json_object_get(o, "bridge")), "CH340");
        }
        json_decref(o);
    }
    CHECK_EQ_INT(lines, 3);
    free(out);
}

static void test_bin_export(st_db *db)
{
    char *out = export_to_string(db, ST_DB_JSONL, 0, 0, true);
    if (!CHECK(out != NULL))
        return;
    json_t *o = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
    if (CHECK(json_is_object(o))) {
        CHECK_STR(json_string_value(json_object_get(o, "mac")), "24:0a:c4:01:02:03");
        CHECK_STR(json_string_value(json_object_get(o, "fclass")), "md5_mismatch");
        CHECK_STR(json_string_value(json_object_get(o, "vid_pid")), "10c4:ea60");
        CHECK_STR(json_string_value(json_object_get(o, "slot_name")), "pci-0000:00:14.0-usb-0:1.2:1.0-port0");
        CHECK_EQ_INT(json_integer_value(json_object_get(o, "attempts")), 1);
        CHECK_STR(json_string_value(json_object_get(o, "last_fail")), "2024-05-01T09:30:10.750Z");
        CHECK(json_is_null(json_object_get(o, "resolved")));
    }
    json_decref(o);
    free(out);
    out = export_to_string(db, ST_DB_CSV, 0, 0, true);
    static const char bin_head[] = "id,mac,slot,port,fclass,phase,status,detail,hint,vid_pid,attempts,";
    CHECK(out && strncmp(out, bin_head, strlen(bin_head)) == 0);
    CHECK(out && strstr(out, ",md5_mismatch,verify,01c1,") != NULL);
    CHECK(out && strstr(out, ",resolved,resolved_by,slot_name,closed_reason,closed_by,closed_host\r\n") != NULL);
    CHECK(out && strstr(out, ",pci-0000:00:14.0-usb-0:1.2:1.0-port0,,,\r\n") != NULL); /* not closed */
    free(out);
}

/* One record at a time (audit, retry-bin): the export's keys, plus a leading "kind". */
static void test_write_one(st_db *db)
{
    st_err err;
    st_db_attempt a;
    if (!CHECK_EQ_INT(st_db_attempt_get(db, 1, &a, &err), 0))
        return;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK_EQ_INT(st_db_write_attempt(f, ST_DB_JSONL, &a, "attempt", false, &err), 0);
    fclose(f);
    CHECK(buf && strncmp(buf, "{\"kind\":\"attempt\",\"id\":1,", 25) == 0);
    json_t *one = json_loads(buf, 0, NULL);
    free(buf);
    char *all = export_to_string(db, ST_DB_JSONL, 0, 0, false);
    json_t *first = json_loads(all, JSON_DISABLE_EOF_CHECK, NULL);
    free(all);
    if (CHECK(json_is_object(one) && json_is_object(first))) {
        CHECK_STR(json_string_value(json_object_get(one, "slot_name")), "pci-0000:00:14.0-usb-0:1.2:1.0-port0");
        json_object_del(one, "kind");
        CHECK(json_equal(one, first));
    }
    json_decref(one);
    json_decref(first);

    /* CSV: header then the row; a NULL record is the header alone; JSON lines have none */
    f = open_memstream(&buf, &len);
    CHECK_EQ_INT(st_db_write_attempt(f, ST_DB_CSV, &a, NULL, true, &err), 0);
    CHECK_EQ_INT(st_db_write_bin(f, ST_DB_CSV, NULL, "bin", true, &err), 0);
    CHECK_EQ_INT(st_db_write_bin(f, ST_DB_JSONL, NULL, NULL, true, &err), 0);
    fclose(f);
    const char *p = buf;
    char *hdr[64], *row[64], *bh[64], *more[64];
    int nh = csv_record(&p, hdr, 64), nr = csv_record(&p, row, 64), nb = csv_record(&p, bh, 64);
    CHECK_EQ_INT(csv_record(&p, more, 64), 0);
    CHECK_EQ_INT(nh, 55);
    CHECK_EQ_INT(nr, nh);
    if (nr == nh) {
        CHECK_STR(field(hdr, row, nh, "mac"), "24:0a:c4:01:02:03");
        CHECK_STR(field(hdr, row, nh, "slot_name"), "pci-0000:00:14.0-usb-0:1.2:1.0-port0");
    }
    CHECK_EQ_INT(nb, 21);
    if (nb == 21) {
        CHECK_STR(bh[0], "kind");
        CHECK_STR(bh[1], "id");
        CHECK_STR(bh[17], "slot_name");
        CHECK_STR(bh[18], "closed_reason");
        CHECK_STR(bh[20], "closed_host");
    }
    for (int i = 0; i < nh; i++)
        free(hdr[i]);
    for (int i = 0; i < nr; i++)
        free(row[i]);
    for (int i = 0; i < nb; i++)
        free(bh[i]);
    free(buf);
}

static void test_write_failure(st_db *db)
{
    FILE *f = fopen("/dev/full", "w");
    if (!CHECK(f != NULL))
        return;
    st_err err;
    CHECK_EQ_INT(st_db_export_attempts(db, f, ST_DB_CSV, 0, 0, &err), -1);
    CHECK_EQ_INT(err.cat, ST_E_IO);
    CHECK_CONTAINS(err.msg, "cannot write the export");
    fclose(f);
}

int main(void)
{
    char dir[256], path[512];
    st_db *db = tdb_fresh(dir, path);
    if (CHECK(db != NULL)) {
        fill(db);
        test_csv(db);
        test_jsonl(db);
        test_bin_export(db);
        test_write_one(db);
        test_write_failure(db);
        st_db_close(db);
    }
    tdb_rmdir(dir);
    return check_summary("db_export");
}
