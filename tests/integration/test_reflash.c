/* test_reflash - do less device work, proven on the simulator's flash and its per-sector
 * program counter (DIR/slotK.ops). The unit arrives pre-filled with other firmware (the
 * harness's pattern over the whole chip); after every flash the whole chip is compared
 * (flash_has_images): the images' sectors hold the images and every other byte still
 * holds the pattern.
 *
 * usage: test_reflash CASE ESP32SIM PROFILE_DIR
 *   unchanged  flash (reflash changed), then again: nothing programmed or erased the
 *              second time, every region still MD5-verified
 *   block      one 64 KiB block of the app changed on the unit: only that block rewritten
 *   all        reflash all on a unit that already holds the firmware: everything written
 *   retry      a try that failed (bitflip in the bootloader) is followed by a try that
 *              writes only the bootloader (the other regions are found right by MD5)
 *   erased     every all-0xFF sector of the images is erased, never programmed
 *   erase_mid  a 0xFF run ending on a 64 KiB boundary with data after it: the run is
 *              erased (never programmed) together with the next run's first sector, so
 *              its last block goes in one block erase; that sector is erased twice (once
 *              more by its own stream), nothing else more than once */
#include "sim_harness.h" /* first: it sets _GNU_SOURCE */
#include "check.h"

#define FLASH_SIZE (16u << 20)

static const char *g_sim, *g_dir;

static bool flash_file(const sim_proc *s, char *p, size_t cap)
{
    return snprintf(p, cap, "%s/slot1.flash", s->dir) < (int)cap;
}

/* A copy of the program counter (2 words per sector). */
static uint32_t *ops_snapshot(const sim_proc *s)
{
    uint32_t *o = calloc(FLASH_SIZE / 0x1000 * 2, sizeof *o);
    for (uint32_t k = 0; o && k < FLASH_SIZE / 0x1000; k++)
        if (!sim_sector_ops(s, 1, k, o + 2 * k)) {
            free(o);
            return NULL;
        }
    return o;
}

/* Sectors whose counters moved between two snapshots, outside [lo, hi): how many. */
static int ops_moved_outside(const uint32_t *a, const uint32_t *b, uint32_t lo, uint32_t hi)
{
    int n = 0;
    for (uint32_t k = 0; k < FLASH_SIZE / 0x1000; k++) {
        uint32_t addr = k * 0x1000;
        if (addr >= lo && addr < hi)
            continue;
        if (a[2 * k] != b[2 * k] || a[2 * k + 1] != b[2 * k + 1]) {
            if (n < 5)
                fprintf(stderr, "sector 0x%x: %u->%u programs, %u->%u erases\n", addr, a[2 * k],
                        b[2 * k], a[2 * k + 1], b[2 * k + 1]);
            n++;
        }
    }
    return n;
}

/* SPI_FLASH_MD5 commands the simulator has logged so far. */
static int md5_cmds(const sim_proc *s)
{
    int n = 0;
    for (const char *t = sim_log_text(s); (t = strstr(t, "SPI_FLASH_MD5")) != NULL; t++)
        n++;
    return n;
}

/* The MD5 commands of the flash since `before` equal `want`: the simulator logs from its
 * own process, so wait (at most 2 s) until at least that many are in, then a moment more
 * for any extra one. */
static bool md5_cmds_since(const sim_proc *s, int before, int want)
{
    for (int waited = 0; md5_cmds(s) - before < want && waited < 2000; waited += 20)
        harness_sleep_ms(20);
    harness_sleep_ms(100);
    int got = md5_cmds(s) - before;
    if (got != want)
        fprintf(stderr, "%d SPI_FLASH_MD5 commands, want %d\n", got, want);
    return got == want;
}

static int flash_once(const sim_proc *s, const st_fwset *fw, st_reflash mode, st_flash_report *rep,
                      st_err *err)
{
    char port[300];
    sim_port(s, 1, false, port, sizeof port);
    st_flash_opts o = {.reflash = mode, .log = harness_log};
    fprintf(stderr, "-- flash, reflash %s\n", st_reflash_name(mode));
    int rc = st_flash_unit(port, fw, &o, rep, err);
    if (rc != 0) {
        harness_print_err(err);
        sim_dump_log(s);
    }
    return rc;
}

typedef struct env {
    sim_proc s;
    st_fwset fw;
    bool up;
} env;

static bool env_up(env *e, const char *unit_opt)
{
    const char *args[] = {"--unit-opt", unit_opt ? unit_opt : "1:mac=24:0a:c4:12:34:56", NULL};
    memset(e, 0, sizeof *e);
    if (!CHECK(sim_start(&e->s, g_sim, args)))
        return false;
    e->up = true;
    return CHECK(load_fwset("demo", g_dir, &e->fw));
}

static void env_down(env *e)
{
    if (e->up)
        sim_stop(&e->s);
    st_fwset_free(&e->fw);
}

static void case_unchanged(void)
{
    env e;
    st_flash_report rep;
    st_err err;
    if (env_up(&e, NULL) && CHECK_EQ_INT(flash_once(&e.s, &e.fw, ST_REFLASH_CHANGED, &rep, &err), 0)) {
        CHECK_EQ_INT(rep.regions_unchanged, 0);
        CHECK_EQ_INT(rep.regions_verified, e.fw.n);
        CHECK(flash_has_images(&e.s, 1, &e.fw));
        uint32_t *before = ops_snapshot(&e.s);
        CHECK(before != NULL);
        int md5_before = md5_cmds(&e.s);
        if (CHECK_EQ_INT(flash_once(&e.s, &e.fw, ST_REFLASH_CHANGED, &rep, &err), 0) && before) {
            CHECK_EQ_INT(rep.regions_unchanged, e.fw.n);
            /* one MD5 per 64 KiB block and nothing else: no region MD5 ahead of the
             * blocks, no second read at the end */
            CHECK(rep.blocks_compared > e.fw.n);
            CHECK(md5_cmds_since(&e.s, md5_before, rep.blocks_compared));
            CHECK_EQ_INT(rep.regions_verified, e.fw.n);
            /* the block digests that found each region unchanged are its proof: no
             * region is read a second time */
            CHECK_EQ_INT(rep.regions_proved_at_check, e.fw.n);
            CHECK_EQ_INT(rep.bytes_raw, 0);
            CHECK_EQ_INT(rep.bytes_erased, 0);
            CHECK_EQ_INT(rep.streams, 0);
            uint32_t *after = ops_snapshot(&e.s);
            CHECK(after && ops_moved_outside(before, after, 0, 0) == 0);
            free(after);
            CHECK(flash_has_images(&e.s, 1, &e.fw));
        }
        free(before);
    }
    env_down(&e);
}

static void case_block(void)
{
    env e;
    st_flash_report rep;
    st_err err;
    if (env_up(&e, NULL) && CHECK_EQ_INT(flash_once(&e.s, &e.fw, ST_REFLASH_ALL, &rep, &err), 0)) {
        /* One block of the app (0x10000..) differs on the unit. */
        const uint32_t blk = 0x40000;
        char p[300];
        flash_file(&e.s, p, sizeof p);
        FILE *f = fopen(p, "r+b");
        uint8_t junk[0x10000];
        for (size_t i = 0; i < sizeof junk; i++)
            junk[i] = (uint8_t)(i * 13u + 5u);
        CHECK(f && fseek(f, blk, SEEK_SET) == 0 && fwrite(junk, 1, sizeof junk, f) == sizeof junk);
        if (f)
            fclose(f);
        uint32_t *before = ops_snapshot(&e.s);
        int md5_before = md5_cmds(&e.s);
        if (CHECK_EQ_INT(flash_once(&e.s, &e.fw, ST_REFLASH_CHANGED, &rep, &err), 0) && before) {
            CHECK_EQ_INT(rep.regions_unchanged, e.fw.n - 1);
            CHECK_EQ_INT(rep.blocks_changed, 1);
            /* the blocks once each, then the written region's final MD5 */
            CHECK(md5_cmds_since(&e.s, md5_before, rep.blocks_compared + 1));
            CHECK(rep.blocks_compared > 1);
            CHECK_EQ_INT(rep.streams, 1);
            CHECK_EQ_INT(rep.bytes_raw, 0x10000);
            CHECK(rep.bytes_compressed > 0 && rep.bytes_compressed < 0x10000);
            CHECK_EQ_INT(rep.regions_verified, e.fw.n);
            /* the written region gets its final per-region MD5 after the write */
            CHECK_EQ_INT(rep.regions_proved_at_check, e.fw.n - 1);
            uint32_t *after = ops_snapshot(&e.s);
            CHECK(after && ops_moved_outside(before, after, blk, blk + 0x10000) == 0);
            /* inside the block: erased once, every page programmed */
            for (uint32_t k = blk / 0x1000; after && k < (blk + 0x10000) / 0x1000; k++) {
                CHECK_EQ_INT(after[2 * k + 1] - before[2 * k + 1], 1);
                CHECK_EQ_INT(after[2 * k] - before[2 * k], 16);
            }
            free(after);
            CHECK(flash_has_images(&e.s, 1, &e.fw));
        }
        free(before);
    }
    env_down(&e);
}

static void case_all(void)
{
    env e;
    st_flash_report rep;
    st_err err;
    if (env_up(&e, NULL) && CHECK_EQ_INT(flash_once(&e.s, &e.fw, ST_REFLASH_CHANGED, &rep, &err), 0) &&
        CHECK_EQ_INT(flash_once(&e.s, &e.fw, ST_REFLASH_ALL, &rep, &err), 0)) {
        uint64_t written, zbytes, erased;
        fw_write_cost(&e.fw, &written, &zbytes, &erased);
        CHECK_EQ_INT(rep.regions_unchanged, 0);
        CHECK_EQ_INT(rep.blocks_compared, 0);
        CHECK_EQ_INT(rep.bytes_raw, written);
        CHECK_EQ_INT(rep.bytes_erased, erased);
        CHECK(flash_has_images(&e.s, 1, &e.fw));
    }
    env_down(&e);
}

static void case_retry(void)
{
    env e;
    st_flash_report rep;
    st_err err;
    if (env_up(&e, "1:fault=bitflip:1")) {
        /* the first try writes everything (the line's first try) and fails its MD5 */
        CHECK(flash_once(&e.s, &e.fw, ST_REFLASH_ALL, &rep, &err) != 0);
        CHECK_STR(st_fclass_name(err.fclass), "md5_mismatch");
        CHECK_EQ_INT(rep.regions_verified, e.fw.n - 1);
        /* the retry resumes: regions right on the unit are checked by MD5, not rewritten */
        if (CHECK_EQ_INT(flash_once(&e.s, &e.fw, ST_REFLASH_CHANGED, &rep, &err), 0)) {
            CHECK_EQ_INT(rep.regions_unchanged, e.fw.n - 1);
            CHECK_EQ_INT(rep.bytes_raw, e.fw.img[0].len);
            CHECK_EQ_INT(rep.regions_verified, e.fw.n);
            CHECK_EQ_INT(rep.regions_proved_at_check, e.fw.n - 1);
            CHECK(flash_has_images(&e.s, 1, &e.fw));
        }
    }
    env_down(&e);
}

static void case_erased(void)
{
    env e;
    st_flash_report rep;
    st_err err;
    if (env_up(&e, NULL) && CHECK_EQ_INT(flash_once(&e.s, &e.fw, ST_REFLASH_ALL, &rep, &err), 0)) {
        uint64_t written, zbytes, erased;
        fw_write_cost(&e.fw, &written, &zbytes, &erased);
        CHECK(erased > 0); /* the demo app ends in 0xFF sectors */
        CHECK_EQ_INT(rep.bytes_erased, erased);
        CHECK(rep.erases >= 1);
        CHECK(erase_only_never_programmed(&e.s, 1, &e.fw));
        CHECK(flash_has_images(&e.s, 1, &e.fw)); /* ... and they were erased: the pattern is gone */
    }
    env_down(&e);
}


/* An image at 0x10000: 128 KiB of data, 128 KiB of 0xFF (flash 0x30000..0x50000), 64 KiB
 * of data; its profile next to it (the demo profile's stub). */
#define MID_FF 0x20000u
#define MID_FF_END 0x40000u
#define MID_LEN 0x50000u
static bool write_mid_profile(const char *dir, char *ini, size_t cap)
{
    static uint8_t app[MID_LEN];
    uint32_t x = 777;
    for (uint32_t i = 0; i < MID_LEN; i++) {
        x = x * 1103515245u + 12345u;
        app[i] = i >= MID_FF && i < MID_FF_END ? 0xFF : (uint8_t)(x >> 24);
    }
    char stub[600];
    snprintf(stub, sizeof stub, "%s/demo/stub.json", g_dir);
    return write_app_profile(dir, "mid", app, sizeof app, stub, 921600, ini, cap);
}

static void case_erase_mid(void)
{
    env e;
    memset(&e, 0, sizeof e);
    const char *args[] = {"--unit-opt", "1:mac=24:0a:c4:12:34:57", NULL};
    char ini[700];
    if (!CHECK(sim_start(&e.s, g_sim, args)))
        return;
    e.up = true;
    st_flash_report rep;
    st_err err;
    if (CHECK(write_mid_profile(e.s.dir, ini, sizeof ini)) && CHECK(load_fwset(ini, "", &e.fw)) &&
        CHECK_EQ_INT(flash_once(&e.s, &e.fw, ST_REFLASH_ALL, &rep, &err), 0)) {
        CHECK_EQ_INT(rep.bytes_erased, MID_FF_END - MID_FF);
        CHECK_EQ_INT(rep.streams, 2);
        CHECK(erase_only_never_programmed(&e.s, 1, &e.fw));
        CHECK(flash_has_images(&e.s, 1, &e.fw));
        uint32_t *o = ops_snapshot(&e.s);
        const uint32_t next = 0x10000 + MID_FF_END; /* the next run's first sector */
        for (uint32_t a = 0x10000; o && a < 0x10000 + MID_LEN; a += 0x1000) {
            uint32_t k = a / 0x1000, want = a == next ? 2 : 1;
            if (o[2 * k + 1] != want)
                fprintf(stderr, "sector 0x%x: %u erases, want %u\n", a, o[2 * k + 1], want);
            CHECK_EQ_INT(o[2 * k + 1], want);
        }
        free(o);
    }
    env_down(&e);
}

static const check_case cases[] = {
    {"unchanged", case_unchanged}, {"block", case_block}, {"all", case_all},
    {"retry", case_retry},         {"erased", case_erased},     {"erase_mid", case_erase_mid},
};

int main(int argc, char **argv)
{
    if (!CHECK_ARGS(argc, argv, "ESP32SIM PROFILE_DIR", &g_sim, &g_dir))
        return 2;
    return CHECK_RUN_CASE(argv[1], cases);
}
