/* sim_harness.h - for integration and fault tests: run esp32sim in a fresh temporary
 * folder (--flash-files --prefill: every unit's flash arrives holding sim_pattern_byte,
 * not erased), wait until it is ready, stop it and clean up; load a profile the way the
 * station does; compare a unit's WHOLE flash with what it must be after a flash (the
 * images, the rest of their last sectors erased, the pattern everywhere else), or check
 * that a range was left untouched. Header-only (static functions): one test program =
 * one translation unit. */
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

#include <openssl/evp.h>

#include "../sim/sim_pattern.h"
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
    argv[n++] = "--prefill"; /* so that a write outside the regions shows (flash_has_images) */
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

/* The first line of DIR/slotK.<ext> ("socket://..." for tcp, "rfc2217://..." for
 * rfc2217), "" when there is none. */
static inline void sim_port_url(const sim_proc *s, int slot, const char *ext, char *out,
                                size_t cap)
{
    char p[300];
    snprintf(p, sizeof p, "%s/slot%d.%s", s->dir, slot, ext);
    out[0] = 0;
    FILE *f = fopen(p, "r");
    if (f) {
        if (fgets(out, (int)cap, f))
            out[strcspn(out, "\r\n")] = 0;
        fclose(f);
    }
}

/* DIR/slotK (the PTY) or the contents of DIR/slotK.tcp (socket://...). */
static inline void sim_port(const sim_proc *s, int slot, bool tcp, char *out, size_t cap)
{
    if (!tcp) {
        snprintf(out, cap, "%s/slot%d", s->dir, slot);
        return;
    }
    sim_port_url(s, slot, "tcp", out, cap);
}

/* Write DIR/NAME.bin (len bytes of app) and DIR/NAME.ini: an esp32 profile with that one
 * image at 0x10000, the given stub and baud; *ini gets the profile's path. */
static inline bool write_app_profile(const char *dir, const char *name, const uint8_t *app,
                                     size_t len, const char *stub, int baud, char *ini,
                                     size_t cap)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(app, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = false;
    uint8_t sha[32];
    EVP_Digest(app, len, sha, NULL, EVP_sha256(), NULL);
    char shx[65];
    for (int i = 0; i < 32; i++)
        snprintf(shx + 2 * i, 3, "%02x", sha[i]);
    snprintf(ini, cap, "%s/%s.ini", dir, name);
    f = fopen(ini, "w");
    if (!f)
        return false;
    fprintf(f, "[profile]\nname = %s\nchip = esp32\nflash_mode = dio\nflash_freq = 80m\n"
               "flash_size = 16MB\nbaud = %d\nstub = %s\n\n"
               "[image]\noffset = 0x10000\nfile = %s.bin\nsha256 = %s\n",
            name, baud, stub, name, shx);
    return fclose(f) == 0 && ok;
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

/* DIR/slotK.flash read whole into a malloc'ed buffer (*size bytes), or NULL. */
static inline uint8_t *flash_file_load(const sim_proc *s, int slot, size_t *size)
{
    char p[300];
    snprintf(p, sizeof p, "%s/slot%d.flash", s->dir, slot);
    FILE *f = fopen(p, "rb");
    struct stat st;
    uint8_t *buf = NULL;
    if (f && fstat(fileno(f), &st) == 0 && st.st_size > 0) {
        buf = malloc((size_t)st.st_size);
        if (buf && fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
            free(buf);
            buf = NULL;
        }
        *size = (size_t)st.st_size;
    }
    if (!buf)
        fprintf(stderr, "cannot read %s\n", p);
    if (f)
        fclose(f);
    return buf;
}

#define FLASH_OUTSIDE_WHAT "outside every region (fill pattern)"

/* What byte a must hold after fw was flashed onto a pre-filled unit: the image's byte
 * inside an image, 0xFF in the rest of the sectors an image touches (erase is per 4 KiB
 * sector), the fill pattern everywhere else. *what names the area for a message. */
static inline uint8_t flash_expected(const st_fwset *fw, size_t a, const char **what)
{
    for (int i = 0; i < fw->n; i++) {
        const st_image *img = &fw->img[i];
        size_t lo = img->offset & ~(size_t)0xFFF;
        size_t hi = ((size_t)img->offset + img->len + 0xFFF) & ~(size_t)0xFFF;
        if (a < lo || a >= hi)
            continue;
        if (a >= img->offset && a < img->offset + img->len) {
            *what = img->path;
            return img->data[a - img->offset];
        }
        *what = "erased rest of an image's sector";
        return 0xFF;
    }
    *what = FLASH_OUTSIDE_WHAT;
    return sim_pattern_byte((uint32_t)a);
}

/* DIR/slotK.flash against flash_expected for fw: the whole flash, or (outside_only) only
 * the bytes outside the sectors the images occupy. Reports the first difference of each
 * area and the count of differing bytes. */
static inline bool flash_matches(const sim_proc *s, int slot, const st_fwset *fw,
                                 bool outside_only)
{
    size_t size = 0;
    uint8_t *buf = flash_file_load(s, slot, &size);
    if (!buf)
        return false;
    size_t bad = 0;
    const char *last_what = NULL;
    for (size_t a = 0; a < size; a++) {
        const char *what;
        uint8_t want = flash_expected(fw, a, &what);
        if (buf[a] == want || (outside_only && strcmp(what, FLASH_OUTSIDE_WHAT)))
            continue;
        if (bad++ == 0 || what != last_what)
            fprintf(stderr, "slot%d flash differs at 0x%zx (%s): %02x, must be %02x\n", slot, a,
                    what, buf[a], want);
        last_what = what;
    }
    if (bad)
        fprintf(stderr, "slot%d: %zu bytes of the %zu-byte flash differ from what the flash "
                "must %s\n", slot, bad, size, outside_only ? "keep outside the regions" : "leave");
    free(buf);
    return bad == 0;
}

/* The WHOLE of DIR/slotK.flash is what flashing fw must leave on a unit that arrived
 * pre-filled (sim_start's --prefill): every image's landing bytes at its offset, and not
 * one byte changed outside the sectors the images occupy. */
static inline bool flash_has_images(const sim_proc *s, int slot, const st_fwset *fw)
{
    return flash_matches(s, slot, fw, false);
}

/* Every byte of DIR/slotK.flash outside the sectors fw's images occupy still holds the
 * fill pattern: what a failed attempt must leave too (a failure may leave its regions
 * half-written, never anything else changed). */
static inline bool flash_outside_untouched(const sim_proc *s, int slot, const st_fwset *fw)
{
    return flash_matches(s, slot, fw, true);
}

/* Bytes [off, off+len) of DIR/slotK.flash still hold the fill pattern (never erased nor
 * written since the unit arrived). */
static inline bool flash_untouched(const sim_proc *s, int slot, uint32_t off, uint32_t len)
{
    size_t size = 0;
    uint8_t *buf = flash_file_load(s, slot, &size);
    if (!buf)
        return false;
    bool ok = (size_t)off + len <= size;
    for (uint32_t i = 0; ok && i < len; i++) {
        if (buf[off + i] != sim_pattern_byte(off + i)) {
            fprintf(stderr, "slot%d flash at 0x%x is %02x: changed (the pattern there is %02x)\n",
                    slot, off + i, buf[off + i], sim_pattern_byte(off + i));
            ok = false;
        }
    }
    free(buf);
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

/* The unit's program counter for one 4 KiB sector (DIR/slotK.ops): out[0] page-program
 * commands, out[1] erases. false when unreadable. */
static inline bool sim_sector_ops(const sim_proc *s, int slot, uint32_t sector, uint32_t out[2])
{
    char p[300];
    snprintf(p, sizeof p, "%s/slot%d.ops", s->dir, slot);
    FILE *f = fopen(p, "rb");
    uint8_t b[8];
    bool ok = f && fseek(f, (long)sector * 8, SEEK_SET) == 0 && fread(b, 1, 8, f) == 8;
    if (f)
        fclose(f);
    if (ok) {
        out[0] = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        out[1] = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
    }
    return ok;
}

/* What flashing fw costs when every block is written: bytes programmed through streams
 * (the written runs), compressed bytes sent, bytes only erased (0xFF sectors, whole). */
static inline void fw_write_cost(const st_fwset *fw, uint64_t *written, uint64_t *zbytes,
                                 uint64_t *erased)
{
    *written = *zbytes = *erased = 0;
    for (int i = 0; i < fw->n; i++) {
        const st_image *im = &fw->img[i];
        for (int r = 0; r < im->nruns; r++) {
            const st_image_run *run = &im->runs[r];
            if (run->erase_only) {
                *erased += (run->len + 0xFFFu) & ~0xFFFu;
            } else {
                *written += run->len;
                *zbytes += run->piece ? run->piece->zlen : im->zlen;
            }
        }
    }
}

/* Every sector of fw's erase-only runs was erased and never programmed (the unit's
 * program counter; counts since the unit arrived). */
static inline bool erase_only_never_programmed(const sim_proc *s, int slot, const st_fwset *fw)
{
    bool ok = true;
    for (int i = 0; i < fw->n; i++) {
        const st_image *im = &fw->img[i];
        for (int r = 0; r < im->nruns; r++) {
            const st_image_run *run = &im->runs[r];
            if (!run->erase_only)
                continue;
            for (uint32_t a = im->offset + run->off; a < im->offset + run->off + run->len;
                 a += 0x1000) {
                uint32_t ops[2] = {0, 0};
                if (!sim_sector_ops(s, slot, a / 0x1000, ops) || ops[0] != 0 || ops[1] == 0) {
                    fprintf(stderr, "0xFF sector 0x%x of %s: %u program commands, %u erases\n", a,
                            im->path, ops[0], ops[1]);
                    ok = false;
                }
            }
        }
    }
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

/* Until the simulator's log holds `text` (it logs from its own process, a moment after
 * the station is done), at most timeout_ms. */
static inline bool sim_log_wait(const sim_proc *s, const char *text, int timeout_ms)
{
    for (int waited = 0;; waited += 20) {
        if (strstr(sim_log_text(s), text))
            return true;
        if (waited >= timeout_ms)
            return false;
        harness_sleep_ms(20);
    }
}

/* OUTDIR/NAME.ini (its path in out): PROFDIR/demo.ini named NAME, its image files made
 * absolute, its stub line `stub = STUB` (STUB may go on with further lines, such as
 * "x.json\nstub_kind = esp-flasher-stub"). */
static inline bool demo_profile_with_stub(const char *profdir, const char *outdir, const char *name,
                                          const char *stub, char *out, size_t cap)
{
    char src[600], line[1024];
    snprintf(src, sizeof src, "%s/demo.ini", profdir);
    snprintf(out, cap, "%s/%s.ini", outdir, name);
    FILE *in = fopen(src, "r"), *o = fopen(out, "w");
    if (!in || !o) {
        if (in)
            fclose(in);
        if (o)
            fclose(o);
        return false;
    }
    while (fgets(line, sizeof line, in)) {
        if (!strncmp(line, "stub = ", 7))
            fprintf(o, "stub = %s\n", stub);
        else if (!strncmp(line, "file = ", 7))
            fprintf(o, "file = %s/%s", profdir, line + 7);
        else if (!strncmp(line, "name = ", 7))
            fprintf(o, "name = %s\n", name);
        else
            fputs(line, o);
    }
    fclose(in);
    return fclose(o) == 0;
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
