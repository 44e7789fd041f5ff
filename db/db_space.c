/* db_space.c - the database on a small or full disk: free space as the station needs
 * it (statvfs), the space reserve that lets a full disk still checkpoint, and the
 * checkpoint that hands the WAL's space back when a write found the disk full.
 *
 * Why a reserve: a checkpoint copies the WAL's pages into the database file, which may
 * have to grow first; on a disk that is full to the last block that fails too, and the
 * WAL (holding committed records) can then never shrink. "<path>.reserve" keeps
 * DB_RESERVE_BYTES aside while there is room; the first write that finds the disk full
 * gives it up, checkpoints and truncates the WAL, so the records are all in the main
 * file, readable and exportable, and the station says the disk is full. */
#include "db_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define DB_RESERVE_BYTES (256 * 1024)

static void reserve_path(const st_db *db, char *out, size_t cap)
{
    snprintf(out, cap, "%s.reserve", db->path);
}

static int64_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

static int64_t disk_free(const st_db *db)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", db->path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    struct statvfs v;
    if (statvfs(dir, &v) != 0)
        return -1;
    return (int64_t)v.f_bavail * (int64_t)v.f_frsize;
}

void db_reserve_keep(st_db *db)
{
    if (db->read_only)
        return;
    char rp[PATH_MAX + 16];
    reserve_path(db, rp, sizeof rp);
    if (file_size(rp) >= DB_RESERVE_BYTES)
        return;
    int64_t free_b = disk_free(db);
    if (free_b >= 0 && free_b < 4 * (int64_t)DB_RESERVE_BYTES)
        return; /* too tight already: the reserve would only bring the full disk closer */
    int fd = open(rp, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    static const char zero[8192];
    bool ok = true;
    for (off_t off = 0; ok && off < DB_RESERVE_BYTES; off += (off_t)sizeof zero)
        ok = pwrite(fd, zero, sizeof zero, off) == (ssize_t)sizeof zero;
    if (ok)
        ok = fsync(fd) == 0;
    close(fd);
    if (!ok)
        unlink(rp); /* a half reserve is no reserve */
}

static int checkpoint(st_db *db)
{
    int rc = sqlite3_wal_checkpoint_v2(db->h, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    return rc == SQLITE_OK ? 0 : -1;
}

int db_make_room(st_db *db)
{
    if (db->read_only || !sqlite3_get_autocommit(db->h))
        return -1;
    if (checkpoint(db) == 0)
        return 0;
    char rp[PATH_MAX + 16];
    reserve_path(db, rp, sizeof rp);
    if (unlink(rp) != 0)
        return -1;
    return checkpoint(db);
}

bool db_retry_after_full(st_db *db)
{
    if (db->last_rc != SQLITE_FULL || db->nested > 0 || db->in_batch || !sqlite3_get_autocommit(db->h))
        return false;
    return db_make_room(db) == 0;
}

int st_db_space(st_db *db, st_db_space_info *s, st_err *err)
{
    memset(s, 0, sizeof *s);
    char p[PATH_MAX + 16];
    s->db_bytes = file_size(db->path);
    snprintf(p, sizeof p, "%s-wal", db->path);
    s->wal_bytes = file_size(p);
    reserve_path(db, p, sizeof p);
    s->reserve = file_size(p) >= DB_RESERVE_BYTES;
    s->free_bytes = disk_free(db);
    if (s->free_bytes < 0) {
        int e = errno;
        st_err_set(err, ST_E_DB, ST_PH_DB, "cannot tell the free space of the disk holding %s: %s",
                   db->path, strerror(e));
        err->sys_errno = e;
        err->fclass = ST_FC_CONFIG;
        return st_err_hint(err, "check that the database folder exists and is readable");
    }
    /* room the next attempts need: the WAL may grow to its bound before a checkpoint
     * gives it back, each attempt adds to the file for good */
    int64_t usable = s->free_bytes - (ST_DB_WAL_BOUND_BYTES - s->wal_bytes);
    s->attempts_room = usable > 0 ? usable / ST_DB_BYTES_PER_ATTEMPT : 0;
    return 0;
}
