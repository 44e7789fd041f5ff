/* sim_harness.h - for integration and fault tests: run esp32sim in a fresh temporary
 * folder (--flash-files), wait until it is ready, stop it and clean up; load a profile
 * the way the station does; compare a unit's flash file with the images byte for byte.
 * Header-only (static functions): one test program = one translation unit. */
#ifndef TEST_SIM_HARNESS_H
#define TEST_SIM_HARNESS_H

/* Include this first (before any system header): nftw needs _GNU_SOURCE. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "flash_unit.h"
#include "image.h"
#include "profile.h"

typedef struct sim_proc {
    pid_t pid;
    char dir[256];
} sim_proc;

static inline void harness_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static inline int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

/* Print the simulator's log (stdout+stderr) to stderr, for a failing test. */
static inline void sim_dump_log(const sim_proc *s)
{
    char p[300];
    snprintf(p, sizeof p, "%s/sim.log", s->dir);
    FILE *f = fopen(p, "r");
    if (!f)
        return;
    /* The last 300 lines: the end is where things went wrong. */
    static char ring[300][256];
    long n = 0;
    while (fgets(ring[n % 300], sizeof ring[0], f))
        n++;
    fclose(f);
    fprintf(stderr, "---- esp32sim log (%s), last lines ----\n", p);
    for (long i = n > 300 ? n - 300 : 0; i < n; i++)
        fputs(ring[i % 300], stderr);
    fprintf(stderr, "---- end of log ----\n");
}

/* Start `exe --dir TMP --flash-files [args...]` (args NULL-terminated) and wait for
 * TMP/ready. Returns true when it is up. */
static inline bool sim_start(sim_proc *s, const char *exe, const char *const *args)
{
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/st-flash-XXXXXX");
    if (!mkdtemp(s->dir)) {
        perror("mkdtemp");
        return false;
    }
    const char *argv[64];
    int n = 0;
    argv[n++] = exe;
    argv[n++] = "--dir";
    argv[n++] = s->dir;
    argv[n++] = "--flash-files";
    argv[n++] = "--quiet";
    argv[n++] = "-v"; /* one line per command in sim.log, shown when a test fails */
    for (int i = 0; args && args[i] && n < 62; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    char logp[300];
    snprintf(logp, sizeof logp, "%s/sim.log", s->dir);
    s->pid = fork();
    if (s->pid < 0)
        return false;
    if (s->pid == 0) {
        int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    char ready[300];
    snprintf(ready, sizeof ready, "%s/ready", s->dir);
    for (int i = 0; i < 1500; i++) { /* 15 s */
        if (access(ready, F_OK) == 0)
            return true;
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            fprintf(stderr, "esp32sim exited before it was ready (status %d)\n", st);
            s->pid = 0;
            sim_dump_log(s);
            return false;
        }
        harness_sleep_ms(10);
    }
    fprintf(stderr, "esp32sim not ready after 15 s\n");
    sim_dump_log(s);
    return false;
}

/* SIGTERM, wait (SIGKILL after 5 s), remove the folder. */
static inline void sim_stop(sim_proc *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int st;
        bool done = false;
        for (int i = 0; i < 500 && !done; i++) {
            if (waitpid(s->pid, &st, WNOHANG) == s->pid)
                done = true;
            else
                harness_sleep_ms(10);
        }
        if (!done) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &st, 0);
        }
        s->pid = 0;
    }
    if (s->dir[0])
        nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    s->dir[0] = 0;
}

/* DIR/slotK (the PTY) or the contents of DIR/slotK.tcp (socket://...). */
static inline void sim_port(const sim_proc *s, int slot, bool tcp, char *out, size_t cap)
{
    if (!tcp) {
        snprintf(out, cap, "%s/slot%d", s->dir, slot);
        return;
    }
    char p[300];
    snprintf(p, sizeof p, "%s/slot%d.tcp", s->dir, slot);
    out[0] = 0;
    FILE *f = fopen(p, "r");
    if (f) {
        if (fgets(out, (int)cap, f))
            out[strcspn(out, "\r\n")] = 0;
        fclose(f);
    }
}

/* Resolve, load and prepare a profile as `station flash` does. */
static inline bool load_fwset(const char *name, const char *dirs, st_fwset *fw)
{
    st_err err;
    char path[ST_PATH_MAX];
    static st_profile prof;
    if (st_profile_resolve(name, dirs, path, sizeof path, &err) < 0 ||
        st_profile_load(path, &prof, &err) < 0 || st_fwset_prepare(&prof, NULL, fw, &err) < 0) {
        char line[800];
        st_err_format(&err, line, sizeof line);
        fprintf(stderr, "profile %s: %s\n", name, line);
        return false;
    }
    return true;
}

/* Every image's landing bytes are in DIR/slotK.flash at its offset. */
static inline bool flash_has_images(const sim_proc *s, int slot, const st_fwset *fw)
{
    char p[300];
    snprintf(p, sizeof p, "%s/slot%d.flash", s->dir, slot);
    FILE *f = fopen(p, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", p);
        return false;
    }
    bool ok = true;
    for (int i = 0; i < fw->n && ok; i++) {
        const st_image *img = &fw->img[i];
        uint8_t *buf = malloc(img->len);
        if (!buf || fseek(f, img->offset, SEEK_SET) != 0 || fread(buf, 1, img->len, f) != img->len) {
            fprintf(stderr, "cannot read %zu bytes at 0x%x of %s\n", img->len, img->offset, p);
            ok = false;
        } else {
            for (size_t k = 0; k < img->len; k++) {
                if (buf[k] != img->data[k]) {
                    fprintf(stderr, "flash differs at 0x%zx (image %s +0x%zx): %02x != %02x\n",
                            (size_t)img->offset + k, img->path, k, buf[k], img->data[k]);
                    ok = false;
                    break;
                }
            }
        }
        free(buf);
    }
    fclose(f);
    return ok;
}

/* Bytes [off, off+len) of DIR/slotK.flash are all 0xFF (never written nor erased). */
static inline bool flash_is_erased(const sim_proc *s, int slot, uint32_t off, uint32_t len)
{
    char p[300];
    snprintf(p, sizeof p, "%s/slot%d.flash", s->dir, slot);
    FILE *f = fopen(p, "rb");
    if (!f || fseek(f, off, SEEK_SET) != 0) {
        if (f)
            fclose(f);
        return false;
    }
    bool ok = true;
    for (uint32_t i = 0; i < len && ok; i++) {
        int c = fgetc(f);
        if (c != 0xFF) {
            fprintf(stderr, "flash at 0x%x is %02x, expected erased\n", off + i, c);
            ok = false;
        }
    }
    fclose(f);
    return ok;
}

/* The simulator's log so far (its -v lines), NUL-terminated in a static buffer. */
static inline const char *sim_log_text(const sim_proc *s)
{
    static char text[1 << 20];
    char p[300];
    snprintf(p, sizeof p, "%s/sim.log", s->dir);
    FILE *f = fopen(p, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = 0;
    if (f)
        fclose(f);
    return text;
}

/* Log lines of the flash into stderr (seen with ctest --output-on-failure). */
static inline void harness_log(void *user, const char *line)
{
    (void)user;
    fprintf(stderr, "  | %s\n", line);
}

static inline void harness_print_err(const st_err *e)
{
    char line[800];
    st_err_format(e, line, sizeof line);
    fprintf(stderr, "flash error: %s [class %s, phase %s]\n  hint: %s\n", line,
            st_fclass_name(e->fclass), st_phase_name(e->phase), e->hint);
}

#endif
