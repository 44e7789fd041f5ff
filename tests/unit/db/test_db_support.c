/* test_db_support.c - fixtures shared by the db_* unit tests. */
#include "test_db_support.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void tdb_mkdir(char *dir)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, 256, "%s/test_db.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(2);
    }
}

void tdb_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
            tdb_rmdir(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

char *tdb_path(char *buf, const char *dir, const char *name)
{
    snprintf(buf, 512, "%s/%s", dir, name);
    return buf;
}

void tdb_print_err(const char *what, const st_err *e)
{
    char line[800];
    st_err_format(e, line, sizeof line);
    fprintf(stderr, "%s: %s\n  hint: %s\n", what, line, e->hint);
}

st_db *tdb_open(const char *path)
{
    st_db *db;
    st_err err;
    if (st_db_open(path, NULL, &db, &err) < 0) {
        tdb_print_err("st_db_open", &err);
        return NULL;
    }
    return db;
}

st_db *tdb_fresh(char *dir, char *path)
{
    tdb_mkdir(dir);
    return tdb_open(tdb_path(path, dir, "station.db"));
}

void tdb_full_attempt(st_db_attempt *a, const char *mac, int slot, int64_t started_ms)
{
    memset(a, 0, sizeof *a);
    snprintf(a->mac, sizeof a->mac, "%s", mac);
    a->slot = slot;
    snprintf(a->slot_name, sizeof a->slot_name, "pci-0000:00:14.0-usb-0:1.%d:1.0-port0", slot);
    snprintf(a->port, sizeof a->port, "/dev/serial/by-path/%s", a->slot_name);
    snprintf(a->bridge, sizeof a->bridge, "CP2104");
    a->vid = 0x10c4;
    a->pid = 0xea60;
    snprintf(a->bridge_serial, sizeof a->bridge_serial, "01A2B3C4");
    snprintf(a->chip, sizeof a->chip, "ESP32");
    snprintf(a->package, sizeof a->package, "ESP32-D0WD-V3");
    snprintf(a->description, sizeof a->description, "ESP32-D0WD-V3 (revision v3.0)");
    a->rev_major = 3;
    a->rev_minor = 0;
    a->flash_id = 0x164020;
    a->flash_size = 16u << 20;
    snprintf(a->profile, sizeof a->profile, "core2-factory");
    a->nimages = 3;
    a->images[0].offset = 0x1000;
    a->images[1].offset = 0x8000;
    a->images[2].offset = 0x10000;
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 64; k++)
            a->images[i].sha256[k] = "0123456789abcdef"[(k + i * 5) % 16];
    a->baud = 1500000;
    a->bytes_raw = 1234567;
    a->bytes_compressed = 654321;
    a->connect_ms = 812;
    a->stub_ms = 95;
    a->write_ms = 9100;
    a->verify_ms = 420;
    a->total_ms = 10500;
    a->try_no = 2;
    a->phase = ST_PH_CONNECT;
    snprintf(a->host, sizeof a->host, "station-7");
    snprintf(a->operator_name, sizeof a->operator_name, "maria");
    a->started_ms = started_ms;
}

int64_t tdb_attempt(st_db *db, const char *mac, int slot, int try_no, int64_t started_ms,
                    st_db_outcome outcome, st_fclass fc, const char *bridge, bool bin_on_fail)
{
    return tdb_attempt_in(db, "", mac, slot, try_no, started_ms, outcome, fc, bridge, bin_on_fail);
}

int64_t tdb_attempt_in(st_db *db, const char *slot_name, const char *mac, int slot, int try_no,
                       int64_t started_ms, st_db_outcome outcome, st_fclass fc, const char *bridge,
                       bool bin_on_fail)
{
    st_db_attempt a;
    memset(&a, 0, sizeof a);
    snprintf(a.mac, sizeof a.mac, "%s", mac);
    snprintf(a.slot_name, sizeof a.slot_name, "%s", slot_name);
    a.slot = slot;
    snprintf(a.port, sizeof a.port, "/dev/ttyUSB%d", slot);
    snprintf(a.bridge, sizeof a.bridge, "%s", bridge ? bridge : "");
    a.vid = 0x10c4;
    a.pid = 0xea60;
    a.try_no = try_no;
    a.started_ms = started_ms;
    st_err err;
    if (st_db_attempt_begin(db, &a, &err) < 0) {
        tdb_print_err("begin", &err);
        return -1;
    }
    a.outcome = outcome;
    a.fclass = fc;
    if (outcome != ST_DB_PASS) {
        a.phase = ST_PH_STUB;
        snprintf(a.detail, sizeof a.detail, "failed: %s", st_fclass_name(fc));
    }
    a.ended_ms = started_ms + 10000;
    if (st_db_attempt_finish(db, &a, bin_on_fail, &err) < 0) {
        tdb_print_err("finish", &err);
        return -1;
    }
    return a.id;
}

const char *tdb_query(const char *path, const char *sql, char *buf, size_t cap)
{
    sqlite3 *h;
    snprintf(buf, cap, "(error)");
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(h);
        return buf;
    }
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(h, sql, -1, &s, NULL) == SQLITE_OK) {
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            snprintf(buf, cap, "%s", sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0) : "(null)");
        else if (rc == SQLITE_DONE)
            snprintf(buf, cap, "(no row)");
        else
            fprintf(stderr, "tdb_query %s: %s\n", sql, sqlite3_errmsg(h));
        sqlite3_finalize(s);
    } else {
        fprintf(stderr, "tdb_query %s: %s\n", sql, sqlite3_errmsg(h));
    }
    sqlite3_close(h);
    return buf;
}

int tdb_exec(const char *path, const char *sql)
{
    sqlite3 *h;
    char *msg = NULL;
    if (sqlite3_open(path, &h) != SQLITE_OK) {
        sqlite3_close(h);
        return -1;
    }
    int rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "tdb_exec: %s\n", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    sqlite3_close(h);
    return rc == SQLITE_OK ? 0 : -1;
}
