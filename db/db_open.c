/* db_open.c - finding, opening, proving writable, migrating and closing the database.
 *
 * Why synchronous=FULL and not NORMAL: in WAL mode NORMAL skips the fsync at commit, so a
 * power cut can silently drop the last few committed transactions, e.g. the 'pass' of a
 * unit that then leaves the line with no record. FULL costs one WAL fsync per commit;
 * the station commits a handful of times per attempt and an attempt takes seconds, so
 * the price is invisible while the guarantee (a returned 0 is on disk) is the point. */
#include "db_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define DB_PROBE_BYTES 65536 /* headroom proven at open: room for dozens of attempts */

int st_db_default_path(char *buf, size_t cap, st_err *err)
{
    const char *env = getenv("STATION_DB");
    int n;
    if (env && *env) {
        n = snprintf(buf, cap, "%s", env);
    } else {
        const char *xdg = getenv("XDG_DATA_HOME");
        if (xdg && xdg[0] == '/') { /* the XDG spec says to ignore relative values */
            n = snprintf(buf, cap, "%s/flashstation/station.db", xdg);
        } else {
            const char *home = getenv("HOME");
            if (!home || !*home) {
                struct passwd pw, *res = NULL;
                char pwbuf[4096];
                if (getpwuid_r(getuid(), &pw, pwbuf, sizeof pwbuf, &res) == 0 && res)
                    home = res->pw_dir;
            }
            if (!home || !*home) {
                st_err_set(err, ST_E_ARG, ST_PH_DB,
                           "no place for the database: STATION_DB, XDG_DATA_HOME and HOME are unset");
                return st_err_hint(err, "set STATION_DB to the database file to use");
            }
            n = snprintf(buf, cap, "%s/.local/share/flashstation/station.db", home);
        }
    }
    if (n < 0 || (size_t)n >= cap) {
        st_err_set(err, ST_E_ARG, ST_PH_DB, "database path too long (%d bytes)", n);
        return st_err_hint(err, "set STATION_DB to a shorter path");
    }
    return 0;
}

/* mkdir -p of path's parent folder. */
static int make_parents(const char *path, st_err *err)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
                int e = errno;
                st_err_set(err, ST_E_DB, ST_PH_DB, "cannot create the folder %s for the database %s: %s",
                           dir, path, strerror(e));
                err->sys_errno = e;
                err->fclass = ST_FC_CONFIG;
                return st_err_hint(err, "create the folder by hand with write access for the station's "
                                        "user, or set STATION_DB to a writable place");
            }
            *p = c;
            if (c == '\0')
                break;
        }
    }
    struct stat sb;
    if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
        st_err_set(err, ST_E_DB, ST_PH_DB, "cannot use %s for the database %s: not a folder", dir, path);
        err->fclass = ST_FC_CONFIG;
        return st_err_hint(err, "set STATION_DB to a path inside a folder");
    }
    return 0;
}

/* One writer per file: an advisory lock the kernel drops when the holder dies, so a
 * crashed station never blocks its own restart, while a second live station (or a
 * second handle in this process) cannot mark the first one's attempts interrupted. */
static int take_writer_lock(st_db *db, st_err *err)
{
    char lp[PATH_MAX + 8];
    snprintf(lp, sizeof lp, "%s.lock", db->path);
    int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        st_err_set(err, ST_E_DB, ST_PH_DB, "cannot write %s: cannot create the lock file %s: %s",
                   db->path, lp, strerror(e));
        err->sys_errno = e;
        err->fclass = ST_FC_CONFIG;
        return st_err_hint(err, "make the database folder writable for the station's user, or set "
                                "STATION_DB to a writable place");
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        char owner[32] = "";
        ssize_t n = pread(fd, owner, sizeof owner - 1, 0);
        owner[n > 0 ? n : 0] = '\0';
        owner[strcspn(owner, "\n")] = '\0';
        close(fd);
        st_err_set(err, ST_E_DB, ST_PH_DB, "database %s is in use by another station process%s%s%s",
                   db->path, *owner ? " (pid " : "", owner, *owner ? ")" : "");
        err->sys_errno = e;
        err->fclass = ST_FC_CONFIG;
        return st_err_hint(err, "stop the other station, or give this one its own database with "
                                "STATION_DB");
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) < 0) {
        /* the pid is only a courtesy for the message above */
    }
    db->lock_fd = fd;
    return 0;
}

static int set_pragmas(st_db *db, const st_db_opts *o, st_err *err)
{
    sqlite3_extended_result_codes(db->h, 1);
    sqlite3_busy_timeout(db->h, o->busy_timeout_ms > 0 ? o->busy_timeout_ms : 5000);
    if (db_exec(db, "PRAGMA foreign_keys = ON", "cannot open", err) < 0)
        return -1;
    if (db->read_only)
        return db_exec(db, "PRAGMA query_only = ON", "cannot open", err);

    sqlite3_stmt *s = db_prepare(db, "PRAGMA journal_mode = WAL", err);
    if (!s)
        return -1;
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        db_fail(db, err, rc, "cannot open");
        sqlite3_finalize(s);
        return -1;
    }
    char mode[16];
    db_col_text(s, 0, mode, sizeof mode);
    sqlite3_finalize(s);
    if (strcmp(mode, "wal") != 0) {
        st_err_set(err, ST_E_DB, ST_PH_DB, "cannot use %s: its file system does not support WAL mode "
                                           "(journal mode stayed '%s')", db->path, mode);
        err->fclass = ST_FC_CONFIG;
        return st_err_hint(err, "put the database on a local disk (not a network share) with STATION_DB");
    }
    /* A bounded WAL (db.h): checkpoint often, and truncate it back after each reset, so
     * it never takes a small disk (the default, 1000 pages and no limit, filled a 2 MB
     * file system after 38 attempts) */
    char wal[96];
    snprintf(wal, sizeof wal, "PRAGMA wal_autocheckpoint = %d", ST_DB_WAL_CHECKPOINT_PAGES);
    char lim[96];
    snprintf(lim, sizeof lim, "PRAGMA journal_size_limit = %d", ST_DB_WAL_BOUND_BYTES);
    if (db_exec(db, "PRAGMA synchronous = FULL", "cannot open", err) < 0 ||
        db_exec(db, wal, "cannot open", err) < 0 || db_exec(db, lim, "cannot open", err) < 0 ||
        db_exec(db, "PRAGMA cache_size = -16384", "cannot open", err) < 0)
        return -1;
    if (o->max_page_count > 0) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA max_page_count = %d", o->max_page_count);
        if (db_exec(db, sql, "cannot open", err) < 0)
            return -1;
    }
    return 0;
}

/* Run one write statement (with :n / :v bound) inside the caller's savepoint. */
static int probe_step(st_db *db, const char *sql, int64_t n, const char *v, st_err *err)
{
    sqlite3_stmt *s = db_prepare(db, sql, err);
    if (!s)
        return -1;
    db_bind_i64(s, ":n", n);
    db_bind_text(s, ":v", v);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : db_fail(db, err, rc, "cannot write");
}

/* Commit a real write with headroom, then give the room back (it stays in the file as
 * free pages for the next records). A read-only file, folder or mount, or a full disk,
 * fail here rather than on the first unit. Two transactions: the probe must reach the
 * disk (commit) to prove anything. */
static int prove_writable(st_db *db, st_err *err)
{
    char when[32], stamp[128];
    st_db_format_time(st_db_now_ms(), when, sizeof when);
    snprintf(stamp, sizeof stamp, "%s %s pid %ld", when, db->host, (long)getpid());

    if (db_wbegin(db, err) < 0)
        return -1;
    if (probe_step(db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('write_probe', zeroblob(:n))",
                   DB_PROBE_BYTES, NULL, err) < 0 ||
        db_wcommit(db, err) < 0)
        goto fail;
    if (db_wbegin(db, err) < 0)
        return -1;
    if (probe_step(db, "DELETE FROM meta WHERE key = 'write_probe'", 0, NULL, err) < 0 ||
        probe_step(db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('last_open', :v)", 0, stamp,
                   err) < 0 ||
        db_wcommit(db, err) < 0)
        goto fail;
    return 0;
fail:
    db_wrollback(db);
    return -1;
}

static int check_reader_schema(st_db *db, st_err *err)
{
    int v;
    if (st_db_schema_version(db, &v, err) < 0)
        return -1;
    if (v == ST_DB_SCHEMA_VERSION)
        return 0;
    if (v == 0)
        st_err_set(err, ST_E_DB, ST_PH_DB, "no station database at %s (empty file)", db->path);
    else
        st_err_set(err, ST_E_DB, ST_PH_DB, "database %s has schema version %d, this program reads %d",
                   db->path, v, ST_DB_SCHEMA_VERSION);
    err->fclass = ST_FC_CONFIG;
    return st_err_hint(err, v < ST_DB_SCHEMA_VERSION
                                ? "start the station on it once (it migrates the file), or check STATION_DB"
                                : "use the station software that wrote this file, or upgrade this one");
}

int st_db_open(const char *path, const st_db_opts *opts, st_db **out, st_err *err)
{
    *out = NULL;
    st_db_opts o = {0};
    if (opts)
        o = *opts;
    st_db *db = calloc(1, sizeof *db);
    if (!db) {
        st_err_set(err, ST_E_NOMEM, ST_PH_DB, "out of memory opening the database");
        return -1;
    }
    db->lock_fd = -1;
    db->read_only = o.read_only;
    if (gethostname(db->host, sizeof db->host) < 0)
        db->host[0] = '\0';
    db->host[sizeof db->host - 1] = '\0';

    if (path && *path) {
        if (strlen(path) >= sizeof db->path) {
            free(db);
            st_err_set(err, ST_E_ARG, ST_PH_DB, "database path too long (%zu bytes)", strlen(path));
            return st_err_hint(err, "use a shorter path");
        }
        snprintf(db->path, sizeof db->path, "%s", path);
    } else if (st_db_default_path(db->path, sizeof db->path, err) < 0) {
        free(db);
        return -1;
    }

    if (!db->read_only && (make_parents(db->path, err) < 0 || take_writer_lock(db, err) < 0))
        goto fail;

    int flags = SQLITE_OPEN_FULLMUTEX |
                (db->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    int rc = sqlite3_open_v2(db->path, &db->h, flags, NULL);
    if (rc != SQLITE_OK) {
        if (db->read_only && (rc & 0xff) == SQLITE_CANTOPEN) {
            st_err_set(err, ST_E_DB, ST_PH_DB, "no station database at %s (%s)", db->path,
                       db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
            err->fclass = ST_FC_CONFIG;
            st_err_hint(err, "check STATION_DB, or run the station once to create it");
        } else {
            db_fail(db, err, rc, "cannot open");
        }
        goto fail;
    }
    /* SQLite falls back to read-only when the file is not writable for us */
    if (!db->read_only && sqlite3_db_readonly(db->h, "main") == 1) {
        db_fail(db, err, SQLITE_READONLY, "cannot write");
        goto fail;
    }
    if (set_pragmas(db, &o, err) < 0)
        goto fail;
    if (db->read_only) {
        if (check_reader_schema(db, err) < 0)
            goto fail;
    } else {
        /* a full disk: checkpoint first (the WAL's records go into the file, the WAL
         * shrinks), then prove the room again; still full, the open fails, saying so */
        sqlite3_wal_checkpoint_v2(db->h, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        int prc = db_migrate(db, err);
        if (prc == 0)
            prc = prove_writable(db, err);
        if (prc < 0 && db_retry_after_full(db))
            prc = prove_writable(db, err);
        if (prc < 0 || db_recover(db, err) < 0)
            goto fail;
        db_reserve_keep(db);
    }
    *out = db;
    return 0;
fail:
    st_db_close(db);
    return -1;
}

void st_db_close(st_db *db)
{
    if (!db)
        return;
    if (db->h) {
        st_db_tx_rollback(db);
        for (int i = 0; i < S_COUNT; i++)
            sqlite3_finalize(db->st[i]);
        sqlite3_close(db->h);
    }
    if (db->lock_fd >= 0)
        close(db->lock_fd); /* releases the flock; the file stays (unlinking would race) */
    free(db);
}

const char *st_db_path(const st_db *db)
{
    return db->path;
}

int st_db_recovered(const st_db *db)
{
    return db->recovered;
}

int st_db_check_integrity(st_db *db, st_err *err)
{
    char problems[sizeof err->msg] = "";
    size_t used = 0;
    int nproblems = 0;
    static const char *const checks[] = {"PRAGMA integrity_check(20)", "PRAGMA foreign_key_check"};
    for (int c = 0; c < 2; c++) {
        sqlite3_stmt *s = db_prepare(db, checks[c], err);
        if (!s)
            return -1;
        int rc;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            char line[200];
            if (c == 0) {
                db_col_text(s, 0, line, sizeof line);
                if (strcmp(line, "ok") == 0)
                    continue;
            } else {
                char table[64], parent[64];
                db_col_text(s, 0, table, sizeof table);
                db_col_text(s, 2, parent, sizeof parent);
                snprintf(line, sizeof line, "%s row %lld refers to a missing %s row", table,
                         (long long)sqlite3_column_int64(s, 1), parent);
            }
            nproblems++;
            if (used < sizeof problems - 1)
                used += (size_t)snprintf(problems + used, sizeof problems - used, "%s%s",
                                         used ? "; " : "", line);
        }
        sqlite3_finalize(s);
        if (rc != SQLITE_DONE)
            return db_fail(db, err, rc, "cannot check");
    }
    if (!nproblems)
        return 0;
    st_err_set(err, ST_E_DB, ST_PH_DB, "database %s failed its integrity check (%d problem%s): %s",
               db->path, nproblems, nproblems == 1 ? "" : "s", problems);
    err->fclass = ST_FC_CONFIG;
    return st_err_hint(err, "copy the file aside now, then restore from backup or start a new database");
}
