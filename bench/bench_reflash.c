/* bench_reflash.c - how much device work issue 12's planning saves, on one esp32sim
 * --realism unit with a flash timing preset, the unit arriving pre-filled with other
 * firmware (--prefill). Every figure is the wall time of one st_flash_unit call; the
 * ratios are taken within this one run. Runs, in order:
 *   base      fresh unit, the station before issue 12: every block, 0xFF sectors programmed
 *   line      fresh unit, the line's first try now: every block, 0xFF sectors erase-only
 *   changed   fresh unit, reflash changed (what asking a fresh unit costs)
 *   twice     the same firmware again on that unit, reflash changed
 *   block     one 64 KiB block of the app changed on the unit, reflash changed
 *   pad_base / pad_line   the same two for the padded profile (fresh units)
 * Prints one JSON object (times in seconds, ratios to base / pad_base).
 *
 * usage: bench_reflash --sim ESP32SIM --profile INI --pad-profile INI --timing typ|max|p32
 *                      [--baud N] [--cache-dir DIR]
 * Exit status 0 when every run verified, 1 otherwise, 2 usage/setup. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
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

static const char *g_sim, *g_timing;
static int g_baud = 1500000;

typedef struct sim {
    pid_t pid;
    char dir[64];
    char port[128];
} sim;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int sim_up(sim *s)
{
    snprintf(s->dir, sizeof s->dir, "/tmp/bench-reflash-XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    char opt[64], ready[128];
    snprintf(opt, sizeof opt, "1:timing=%s", g_timing);
    s->pid = fork();
    if (s->pid == 0) {
        execl(g_sim, g_sim, "--dir", s->dir, "--units", "1", "--realism", "--flash-files",
              "--prefill", "--quiet", "--unit-opt", opt, (char *)NULL);
        _exit(127);
    }
    snprintf(ready, sizeof ready, "%s/ready", s->dir);
    for (int i = 0; i < 1000 && access(ready, F_OK) != 0; i++)
        usleep(10000);
    snprintf(s->port, sizeof s->port, "%s/slot1", s->dir);
    return access(ready, F_OK) == 0 ? 0 : -1;
}

static void sim_down(sim *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_reflash: could not remove %s\n", s->dir);
}

/* One flash; adds {name: {s, bytes_raw, bytes_erased, streams, ...}} to out. */
static double run(json_t *out, const char *name, const sim *s, const st_fwset *fw,
                  st_reflash mode, bool program_erased, int *failures)
{
    st_flash_opts o = {.baud = g_baud, .stub_required = true, .reflash = mode,
                       .program_erased = program_erased};
    st_flash_report rep;
    st_err err;
    double t0 = now_s();
    int rc = st_flash_unit(s->port, fw, &o, &rep, &err);
    double t = now_s() - t0;
    json_t *r = json_pack("{s:f, s:b, s:I, s:I, s:I, s:i, s:i, s:i, s:f, s:f}", "s", t, "ok",
                          rc == 0, "bytes_raw", (json_int_t)rep.bytes_raw, "bytes_compressed",
                          (json_int_t)rep.bytes_compressed, "bytes_erased",
                          (json_int_t)rep.bytes_erased, "streams", rep.streams,
                          "regions_unchanged", rep.regions_unchanged, "blocks_changed",
                          rep.blocks_changed, "t_write", rep.t_write, "t_verify", rep.t_verify);
    if (rc != 0) {
        char line[800];
        st_err_format(&err, line, sizeof line);
        json_object_set_new(r, "error", json_string(line));
        (*failures)++;
    }
    json_object_set_new(out, name, r);
    fprintf(stderr, "bench_reflash %s %-9s %7.2f s %s\n", g_timing, name, t, rc ? "FAILED" : "ok");
    return t;
}

/* Overwrite one 64 KiB block of the unit's flash (the simulator maps the file shared). */
static int change_block(const sim *s, uint32_t addr)
{
    char p[128];
    snprintf(p, sizeof p, "%s/slot1.flash", s->dir);
    int fd = open(p, O_WRONLY);
    uint8_t junk[0x10000];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 29u + 3u);
    ssize_t n = fd >= 0 ? pwrite(fd, junk, sizeof junk, addr) : -1;
    if (fd >= 0)
        close(fd);
    return n == (ssize_t)sizeof junk ? 0 : -1;
}

static int load(const char *path, const char *cache, st_fwset *fw)
{
    st_profile *p = calloc(1, sizeof *p);
    st_err err;
    int rc = p && st_profile_load(path, p, &err) == 0 && st_fwset_prepare(p, cache, fw, &err) == 0
                 ? 0 : -1;
    if (rc) {
        char line[800];
        st_err_format(&err, line, sizeof line);
        fprintf(stderr, "bench_reflash: %s: %s\n", path, line);
    }
    free(p);
    return rc;
}

static double get_s(json_t *o, const char *k)
{
    return json_real_value(json_object_get(json_object_get(o, k), "s"));
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"sim", required_argument, 0, 's'},     {"profile", required_argument, 0, 'p'},
        {"pad-profile", required_argument, 0, 'q'}, {"timing", required_argument, 0, 't'},
        {"baud", required_argument, 0, 'b'},    {"cache-dir", required_argument, 0, 'c'},
        {0, 0, 0, 0},
    };
    const char *prof = NULL, *pad = NULL, *cache = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 's': g_sim = optarg; break;
        case 'p': prof = optarg; break;
        case 'q': pad = optarg; break;
        case 't': g_timing = optarg; break;
        case 'b': g_baud = atoi(optarg); break;
        case 'c': cache = optarg; break;
        default: return 2;
        }
    }
    if (!g_sim || !prof || !pad || !g_timing || g_baud <= 0) {
        fprintf(stderr, "usage: bench_reflash --sim ESP32SIM --profile INI --pad-profile INI "
                        "--timing typ|max|p32 [--baud N] [--cache-dir DIR]\n");
        return 2;
    }
    static st_fwset fw, fwp;
    if (load(prof, cache, &fw) || load(pad, cache, &fwp))
        return 2;
    json_t *runs = json_object();
    int failures = 0;
    sim s;
    /* fresh units: one simulator each, so every one arrives holding the pattern */
    if (sim_up(&s) == 0) {
        run(runs, "base", &s, &fw, ST_REFLASH_ALL, true, &failures);
    } else {
        failures++;
    }
    sim_down(&s);
    if (sim_up(&s) == 0) {
        run(runs, "line", &s, &fw, ST_REFLASH_ALL, false, &failures);
        run(runs, "twice", &s, &fw, ST_REFLASH_CHANGED, false, &failures);
        uint32_t app = fw.img[fw.n - 1].offset;
        if (change_block(&s, app + 0x100000) == 0)
            run(runs, "block", &s, &fw, ST_REFLASH_CHANGED, false, &failures);
        else
            failures++;
    } else {
        failures++;
    }
    sim_down(&s);
    if (sim_up(&s) == 0)
        run(runs, "changed", &s, &fw, ST_REFLASH_CHANGED, false, &failures);
    sim_down(&s);
    if (sim_up(&s) == 0)
        run(runs, "pad_base", &s, &fwp, ST_REFLASH_ALL, true, &failures);
    sim_down(&s);
    if (sim_up(&s) == 0)
        run(runs, "pad_line", &s, &fwp, ST_REFLASH_ALL, false, &failures);
    sim_down(&s);

    double base = get_s(runs, "base"), pbase = get_s(runs, "pad_base");
    json_t *ratios = json_pack("{s:f, s:f, s:f, s:f, s:f}", "fresh", get_s(runs, "line") / base,
                               "fresh_padded", get_s(runs, "pad_line") / pbase, "twice",
                               get_s(runs, "twice") / base, "one_block",
                               get_s(runs, "block") / base, "fresh_changed",
                               get_s(runs, "changed") / base);
    json_t *o = json_pack("{s:s, s:i, s:o, s:o}", "timing", g_timing, "baud", g_baud, "runs", runs,
                          "ratios", ratios);
    json_dumpf(o, stdout, JSON_INDENT(1));
    putchar('\n');
    json_decref(o);
    st_fwset_free(&fw);
    st_fwset_free(&fwp);
    return failures ? 1 : 0;
}
