/* io_shim.c - an LD_PRELOAD library for the record tests: it makes the disk under the
 * station's database slow, full or read-only, or kills the station right after a
 * chosen commit became durable. Only files whose path contains $SHIM_PATH are touched;
 * everything else passes straight through.
 *
 *   SHIM_PATH=TEXT           files concerned (e.g. the database's file name)
 *   SHIM_SYNC_DELAY_MS=N     every fsync/fdatasync of such a file takes N ms longer
 *   SHIM_SYNC_LOG=FILE       after each sync of the write-ahead log ("-wal"), FILE holds
 *                            how many there have been (a test counts commits with it)
 *   SHIM_KILL_AFTER_SYNC=K   SIGKILL the process once the K-th WAL sync has returned:
 *                            the K-th durable point is the last thing that happened
 *   SHIM_FAIL_ON=TEXT        from the first write of a block containing TEXT on, every
 *                            write, sync and truncate of such a file fails (sticky:
 *                            the disk is full)
 *   SHIM_FAIL_AFTER_SYNC=K   the same, from the first write after the K-th WAL sync
 *   SHIM_ERRNO=ENOSPC|EROFS|EIO  the error those calls fail with (default ENOSPC)
 *   SHIM_DISK_DB=PATH, SHIM_DISK_BYTES=N  a disk of N bytes holding only the database
 *                            PATH and its side files (-wal, -shm, -journal, .reserve,
 *                            .lock): a write that would grow them past N fails with
 *                            ENOSPC, statvfs of PATH's folder reports what is left. Read
 *                            at every call: a test may shrink the disk as it goes. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static atomic_int g_syncs;
static atomic_int g_failing;

static const char *env(const char *k)
{
    const char *v = getenv(k);
    return v && *v ? v : NULL;
}

/* 1 for a file of the database, 2 for its write-ahead log, 0 for anything else. */
static int target(int fd)
{
    const char *want = env("SHIM_PATH");
    if (!want || fd < 0)
        return 0;
    char link[64], path[1024];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0)
        return 0;
    path[n] = '\0';
    if (!strstr(path, want))
        return 0;
    return n > 4 && strcmp(path + n - 4, "-wal") == 0 ? 2 : 1;
}

static int fail_errno(void)
{
    const char *e = env("SHIM_ERRNO");
    if (e && !strcmp(e, "EROFS"))
        return EROFS;
    if (e && !strcmp(e, "EIO"))
        return EIO;
    return ENOSPC;
}

/* ---- the small disk ---- */

static long long disk_limit(void)
{
    const char *v = env("SHIM_DISK_BYTES");
    return v && env("SHIM_DISK_DB") ? atoll(v) : -1;
}

static long long size_of(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

static long long disk_used(void)
{
    static const char *const side[] = {"", "-wal", "-shm", "-journal", ".reserve", ".lock", NULL};
    const char *db = env("SHIM_DISK_DB");
    long long used = 0;
    for (int i = 0; db && side[i]; i++) {
        char p[1200];
        snprintf(p, sizeof p, "%s%s", db, side[i]);
        used += size_of(p);
    }
    return used;
}

/* A write of n bytes at off (-1: the file position) to fd would overflow the disk. */
static bool overflows(int fd, size_t n, off_t off)
{
    long long lim = disk_limit();
    if (lim < 0)
        return false;
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return false;
    if (off < 0)
        off = lseek(fd, 0, SEEK_CUR);
    long long grow = (long long)off + (long long)n - (long long)sb.st_size;
    return grow > 0 && disk_used() + grow > lim;
}

static bool is_disk_dir(const char *path)
{
    const char *db = env("SHIM_DISK_DB");
    if (!db || disk_limit() < 0)
        return false;
    const char *slash = strrchr(db, '/');
    size_t n = slash ? (size_t)(slash - db) : 0;
    size_t pl = strlen(path);
    while (pl > 1 && path[pl - 1] == '/')
        pl--;
    return pl == n && strncmp(path, db, n) == 0;
}

/* statvfs and statvfs64 differ only in their struct's type */
#define FAKE_STATVFS(v, blk)                                                   \
    do {                                                                       \
        long long left_ = disk_limit() - disk_used();                          \
        (v)->f_bsize = (v)->f_frsize = 4096;                                   \
        (v)->f_blocks = (blk)(disk_limit() / 4096);                            \
        (v)->f_bfree = (v)->f_bavail = (blk)((left_ > 0 ? left_ : 0) / 4096);  \
    } while (0)

int statvfs(const char *path, struct statvfs *v)
{
    static int (*real)(const char *, struct statvfs *);
    if (!real)
        real = (int (*)(const char *, struct statvfs *))dlsym(RTLD_NEXT, "statvfs");
    int rc = real(path, v);
    if (rc == 0 && is_disk_dir(path))
        FAKE_STATVFS(v, fsblkcnt_t);
    return rc;
}

int statvfs64(const char *path, struct statvfs64 *v)
{
    static int (*real)(const char *, struct statvfs64 *);
    if (!real)
        real = (int (*)(const char *, struct statvfs64 *))dlsym(RTLD_NEXT, "statvfs64");
    int rc = real(path, v);
    if (rc == 0 && is_disk_dir(path))
        FAKE_STATVFS(v, fsblkcnt64_t);
    return rc;
}

/* Decide before a write/sync of a target file whether it fails; sets errno. */
static bool failing(const void *buf, size_t len)
{
    if (!atomic_load(&g_failing)) {
        const char *on = env("SHIM_FAIL_ON");
        const char *after = env("SHIM_FAIL_AFTER_SYNC");
        if (on && buf && memmem(buf, len, on, strlen(on)))
            atomic_store(&g_failing, 1);
        if (after && atomic_load(&g_syncs) >= atoi(after))
            atomic_store(&g_failing, 1);
    }
    if (atomic_load(&g_failing)) {
        errno = fail_errno();
        return true;
    }
    return false;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void after_sync(int kind)
{
    if (kind != 2)
        return;
    int n = atomic_fetch_add(&g_syncs, 1) + 1;
    const char *log = env("SHIM_SYNC_LOG");
    if (log) {
        static ssize_t (*real_write)(int, const void *, size_t);
        if (!real_write)
            real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            char b[32];
            int l = snprintf(b, sizeof b, "%d\n", n);
            if (real_write(fd, b, (size_t)l) < 0) {
            }
            close(fd);
        }
    }
    const char *kill_at = env("SHIM_KILL_AFTER_SYNC");
    if (kill_at && n >= atoi(kill_at))
        kill(getpid(), SIGKILL);
}

typedef int (*sync_fn)(int);

static int do_sync(const char *name, int fd)
{
    static sync_fn real_fsync, real_fdatasync;
    sync_fn *slot = !strcmp(name, "fsync") ? &real_fsync : &real_fdatasync;
    if (!*slot)
        *slot = (sync_fn)dlsym(RTLD_NEXT, name);
    int kind = target(fd);
    if (kind && failing(NULL, 0))
        return -1;
    const char *d = env("SHIM_SYNC_DELAY_MS");
    if (kind && d)
        sleep_ms(atol(d));
    int rc = (*slot)(fd);
    if (rc == 0)
        after_sync(kind);
    return rc;
}

int fsync(int fd)
{
    return do_sync("fsync", fd);
}

int fdatasync(int fd)
{
    return do_sync("fdatasync", fd);
}

/* A write of n bytes at off (-1: the file position) to fd fails as a failing or full disk
 * would make it fail (errno set). */
static bool write_refused(int fd, const void *buf, size_t n, off_t off)
{
    if (target(fd) && failing(buf, n))
        return true;
    if (target(fd) && overflows(fd, n, off)) {
        errno = ENOSPC;
        return true;
    }
    return false;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (!real)
        real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    if (write_refused(fd, buf, n, -1))
        return -1;
    return real(fd, buf, n);
}

typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);

static ssize_t do_pwrite(const char *name, int fd, const void *buf, size_t n, off_t off)
{
    static pwrite_fn real_pwrite, real_pwrite64;
    pwrite_fn *slot = !strcmp(name, "pwrite") ? &real_pwrite : &real_pwrite64;
    if (!*slot)
        *slot = (pwrite_fn)dlsym(RTLD_NEXT, name);
    if (write_refused(fd, buf, n, off))
        return -1;
    return (*slot)(fd, buf, n, off);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    return do_pwrite("pwrite", fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    return do_pwrite("pwrite64", fd, buf, n, off);
}

int ftruncate(int fd, off_t len)
{
    static int (*real)(int, off_t);
    if (!real)
        real = (int (*)(int, off_t))dlsym(RTLD_NEXT, "ftruncate");
    if (target(fd) && failing(NULL, 0))
        return -1;
    if (target(fd) && len > 0 && overflows(fd, 0, len)) {
        errno = ENOSPC;
        return -1;
    }
    return real(fd, len);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
    static int (*real)(int, int, off_t, off_t);
    if (!real)
        real = (int (*)(int, int, off_t, off_t))dlsym(RTLD_NEXT, "fallocate");
    if (target(fd) && failing(NULL, 0))
        return -1;
    return real(fd, mode, off, len);
}
