/* cli_read.c - `station read --port P --offset O --size S -o FILE` (or --all): back up a
 * unit's flash through the stub (repair.h st_repair_read), progress on stderr, written
 * to FILE.part and renamed to FILE only once its MD5 matched the stub's digest and the
 * unit's SPI_FLASH_MD5 of the range; an existing FILE is left alone unless --force.
 * Recorded like `station flash` (action read). Exit 0 done and recorded, 1 the read
 * failed (no FILE left), 2 usage, 3 records. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_repair.h"

#define PROG "station read"

static int usage(FILE *out)
{
    fprintf(out, "usage: " PROG " --port PATH --profile NAME (--offset O --size S | --all)\n"
                 "                    -o FILE [--force] [--db PATH | --no-record] [--operator N]\n"
                 "  back up the flash through the flasher stub, MD5-checked against the unit\n"
                 "  --offset, --size  the range (0x10000, 65536, 64K, 4M)\n"
                 "  --all           the whole flash the unit reports (JEDEC ID)\n"
                 "  -o FILE         where the copy goes (FILE.part until it is proved)\n"
                 "  --force         replace an existing FILE\n" ST_CLI_REPAIR_USAGE);
    return out == stdout ? 0 : 2;
}

typedef struct job {
    const st_cli_repair *r;
    uint32_t off, len;
    bool all;
    const char *file;
    char part[4096];
    int fd;
    int last_pct;
    uint32_t got_off, got_len;
    uint8_t md5[16];
} job;

static int sink(void *user, const uint8_t *data, size_t n, st_err *err)
{
    job *j = user;
    while (n > 0) {
        ssize_t w = write(j->fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return st_err_set(err, ST_E_IO, ST_PH_WRITE, "cannot write %s: %s", j->part,
                              w < 0 ? strerror(errno) : "nothing written");
        data += w;
        n -= (size_t)w;
    }
    return 0;
}

static void progress(void *user, uint64_t done, uint64_t total)
{
    job *j = user;
    int pct = total ? (int)(done * 100 / total) : 100;
    if (pct / 5 != j->last_pct / 5 || (pct == 100 && j->last_pct != 100)) {
        fprintf(stderr, "  read %3d%% (%llu / %llu bytes)\n", pct, (unsigned long long)done,
                (unsigned long long)total);
        j->last_pct = pct;
    }
}

static int work(void *user, const st_flash_opts *o, st_flash_report *rep, char *did, size_t cap,
                st_err *err)
{
    job *j = user;
    int rc = st_repair_read(j->r->port, o, &j->r->link, j->off, j->len, j->all, sink, progress, j,
                            rep, &j->got_off, &j->got_len, j->md5, err);
    if (rc == 0 && (fsync(j->fd) < 0 || close(j->fd) < 0)) {
        j->fd = -1;
        rc = st_err_set(err, ST_E_IO, ST_PH_WRITE, "cannot write %s: %s", j->part, strerror(errno));
    } else if (rc == 0) {
        j->fd = -1;
        if (rename(j->part, j->file) < 0)
            rc = st_err_set(err, ST_E_IO, ST_PH_WRITE, "cannot rename %s to %s: %s", j->part,
                            j->file, strerror(errno));
    }
    if (rc == 0) {
        char hex[33];
        for (int i = 0; i < 16; i++)
            snprintf(hex + 2 * i, 3, "%02x", j->md5[i]);
        snprintf(did, cap, "read 0x%x+0x%x to %s, MD5 %s (matches the unit)", j->got_off, j->got_len,
                 j->file, hex);
    } else {
        snprintf(did, cap, "read of %s to %s failed, no file left", j->all ? "the whole flash" : "a range",
                 j->file);
    }
    return rc;
}

int st_cli_read(int argc, char **argv)
{
    static const struct option longopts[] = {
        ST_CLI_REPAIR_LONGOPTS,           {"offset", required_argument, 0, 'O'},
        {"size", required_argument, 0, 'S'}, {"all", no_argument, 0, 'A'},
        {"output", required_argument, 0, 'o'}, {"force", no_argument, 0, 'f'},
        {0, 0, 0, 0},
    };
    st_cli_repair r = {.prog = PROG, .action = "read"};
    job j = {.r = &r, .fd = -1, .last_pct = -1};
    bool have_off = false, have_size = false, force = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:ho:f", longopts, NULL)) != -1) {
        int t = st_cli_repair_opt(&r, c, optarg);
        if (t < 0)
            return 2;
        if (t)
            continue;
        switch (c) {
        case 'O':
            if (st_cli_repair_u32(&r, "--offset", optarg, &j.off) < 0)
                return 2;
            have_off = true;
            break;
        case 'S':
            if (st_cli_repair_u32(&r, "--size", optarg, &j.len) < 0)
                return 2;
            have_size = true;
            break;
        case 'A': j.all = true; break;
        case 'o': j.file = optarg; break;
        case 'f': force = true; break;
        case 'h': return usage(stdout);
        default: return usage(stderr);
        }
    }
    if (optind != argc)
        return usage(stderr);
    if (j.all == (have_off || have_size) || (!j.all && !(have_off && have_size))) {
        fprintf(stderr, PROG ": give --offset O --size S, or --all (not both)\n");
        return 2;
    }
    if (!j.all && j.len == 0) {
        fprintf(stderr, PROG ": --size 0 reads nothing: give the number of bytes to read\n");
        return 2;
    }
    if (!j.file || !*j.file) {
        fprintf(stderr, PROG ": -o FILE is required (where the copy goes)\n");
        return 2;
    }
    struct stat st;
    if (!force && stat(j.file, &st) == 0) {
        fprintf(stderr, PROG ": %s exists: refusing to overwrite it (--force replaces it)\n", j.file);
        return 2;
    }
    if (snprintf(j.part, sizeof j.part, "%s.part", j.file) >= (int)sizeof j.part) {
        fprintf(stderr, PROG ": the file name is too long\n");
        return 2;
    }
    int status = st_cli_repair_setup(&r, true);
    if (status)
        return status;
    j.fd = open(j.part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (j.fd < 0) {
        fprintf(stderr, PROG ": cannot create %s: %s\n", j.part, strerror(errno));
        st_cli_repair_done(&r);
        return 2;
    }
    st_flash_report rep;
    st_bench_result res;
    char did[320];
    status = st_cli_repair_run(&r, work, &j, &rep, did, sizeof did, &res);
    if (j.fd >= 0)
        close(j.fd);
    if (res.verified) {
        printf("%s\n", did);
    } else {
        unlink(j.part); /* never leave bytes that are not proved the unit's */
        fprintf(stderr, PROG ": nothing written to %s\n", j.file);
    }
    st_cli_repair_done(&r);
    return status;
}
