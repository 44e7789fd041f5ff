/* retry_policy.c - the retry policy as one table: for each failure class, whether it is
 * permanent and which escalation steps to try, in order. */
#include "retry_policy.h"

#include <string.h>

#define MAX_STEPS 4

typedef struct {
    st_fclass fclass;
    bool permanent;
    st_retry_step steps[MAX_STEPS]; /* tried in order; unused entries are GIVE_UP */
} policy_row;

#define RESYNC ST_RETRY_RESYNC
#define LOWER ST_RETRY_LOWER_BAUD
#define ROM ST_RETRY_ROM_ONLY

/* Why each row is what it is:
 * - no_sync: the loader already reset and synced several times; one more full try
 *   covers a unit that was still booting, then the operator must look at it.
 * - stub_ram_checksum (01 07 on MEM_DATA) happens at 115200 before any baud change, so a
 *   lower baud cannot help: upload the stub again, then avoid the stub altogether.
 * - link-quality classes (inflate, protocol, baud_change) step down the baud ladder.
 * - flash-side classes (flash_write, blank_readback, md5_mismatch) get one clean retry;
 *   md5 may also be a link problem, so it then lowers the baud.
 * - wrong_chip, flash_too_small, vanished, config, interrupted, write_protected: retrying cannot change
 *   the outcome (or the unit is no longer there). */
static const policy_row policy[] = {
    {ST_FC_NO_SYNC, false, {RESYNC}},
    {ST_FC_STUB_RAM_CHECKSUM, false, {RESYNC, ROM}},
    {ST_FC_STUB_START, false, {RESYNC, ROM}},
    {ST_FC_BAUD_CHANGE, false, {LOWER, LOWER, LOWER, ROM}},
    {ST_FC_FLASH_WRITE, false, {RESYNC}},
    {ST_FC_INFLATE, false, {LOWER, LOWER}},
    {ST_FC_MD5_MISMATCH, false, {RESYNC, LOWER}},
    {ST_FC_BLANK_READBACK, false, {RESYNC}},
    {ST_FC_TIMEOUT, false, {RESYNC, LOWER}},
    {ST_FC_PROTOCOL, false, {LOWER, LOWER, ROM}},
    {ST_FC_IO, false, {RESYNC}},
    {ST_FC_NONE, false, {RESYNC}}, /* unclassified: one plain retry */
    {ST_FC_WRONG_CHIP, true, {0}},
    {ST_FC_FLASH_TOO_SMALL, true, {0}},
    {ST_FC_VANISHED, true, {0}},
    {ST_FC_CONFIG, true, {0}},
    {ST_FC_INTERRUPTED, true, {0}},
    {ST_FC_WRITE_PROTECTED, true, {0}}, /* a repair-bench job (--unprotect) */
};

/* no_boot, by what the console showed (err.boot). The flash verified, so writing the same
 * bytes again fixes only what was not about the bytes:
 * - silent: the reset may not have taken, or the unit missed it: one full retry;
 * - no_match, bad_image, panic, boot_loop: the firmware or the profile (flash params,
 *   wrong image for the board) - the same bytes boot the same way: permanent;
 * - brownout: the slot's power; a retry on the same hub port browns out again, so the
 *   unit goes to the bin with the power hint instead of burning tries. */
static const struct {
    st_boot_diag diag;
    policy_row row;
} boot_policy[] = {
    {ST_BOOT_SILENT, {ST_FC_NO_BOOT, false, {RESYNC}}},
    {ST_BOOT_NO_MATCH, {ST_FC_NO_BOOT, true, {0}}},
    {ST_BOOT_BROWNOUT, {ST_FC_NO_BOOT, true, {0}}},
    {ST_BOOT_BAD_IMAGE, {ST_FC_NO_BOOT, true, {0}}},
    {ST_BOOT_PANIC, {ST_FC_NO_BOOT, true, {0}}},
    {ST_BOOT_LOOP, {ST_FC_NO_BOOT, true, {0}}},
};

static const policy_row *boot_row(st_boot_diag d)
{
    for (size_t i = 0; i < sizeof boot_policy / sizeof boot_policy[0]; i++)
        if (boot_policy[i].diag == d)
            return &boot_policy[i].row;
    return &boot_policy[0].row;
}

static const policy_row *row_for(st_fclass c)
{
    for (size_t i = 0; i < sizeof policy / sizeof policy[0]; i++)
        if (policy[i].fclass == c)
            return &policy[i];
    return NULL;
}

void st_retry_limits_default(st_retry_limits *l)
{
    l->max_tries = 3;
    l->min_baud = 115200;
    l->allow_rom_only = true;
}

void st_retry_begin(st_retry_state *s)
{
    memset(s, 0, sizeof *s);
}

bool st_retry_is_permanent(st_fclass c)
{
    const policy_row *r = c == ST_FC_NO_BOOT ? boot_row(ST_BOOT_SILENT) : row_for(c);
    return r ? r->permanent : true;
}

int st_retry_stub_attempts_per_try(void)
{
    return 1;
}

/* Index of the next rung strictly below the current baud and not below min_baud, or -1. */
static int lower_rung(const st_retry_state *s, const int *bauds, int n_bauds, int min_baud)
{
    int cur = st_retry_baud(s, bauds, n_bauds);
    for (int i = s->ladder_idx + 1; i < n_bauds; i++)
        if (bauds[i] < cur && bauds[i] >= min_baud)
            return i;
    return -1;
}

/* Apply step to s if it can change anything; false when it cannot. */
static bool apply(st_retry_step step, const st_retry_limits *l, const int *bauds, int n_bauds,
                  st_retry_state *s)
{
    switch (step) {
    case ST_RETRY_RESYNC:
        return true;
    case ST_RETRY_LOWER_BAUD: {
        int i = lower_rung(s, bauds, n_bauds, l->min_baud);
        if (i < 0)
            return false;
        s->ladder_idx = i;
        return true;
    }
    case ST_RETRY_ROM_ONLY:
        if (s->no_stub || !l->allow_rom_only)
            return false;
        s->no_stub = true;
        return true;
    default:
        return false;
    }
}

static st_retry_step next_step(const st_retry_limits *l, const int *bauds, int n_bauds,
                               st_fclass c, const policy_row *r, st_retry_state *s)
{
    if (!r || r->permanent || s->tries >= l->max_tries)
        return ST_RETRY_GIVE_UP;
    int *taken = &s->steps_taken[c];
    while (*taken < MAX_STEPS && r->steps[*taken] != ST_RETRY_GIVE_UP) {
        st_retry_step step = r->steps[(*taken)++];
        if (apply(step, l, bauds, n_bauds, s))
            return step;
    }
    return ST_RETRY_GIVE_UP;
}

st_retry_step st_retry_next(const st_retry_limits *l, const int *bauds, int n_bauds,
                            st_fclass c, st_retry_state *s)
{
    return next_step(l, bauds, n_bauds, c, c == ST_FC_NO_BOOT ? boot_row(ST_BOOT_SILENT) : row_for(c), s);
}

st_retry_step st_retry_next_err(const st_retry_limits *l, const int *bauds, int n_bauds,
                                const st_err *e, st_retry_state *s)
{
    const policy_row *r = e->fclass == ST_FC_NO_BOOT ? boot_row(e->boot) : row_for(e->fclass);
    return next_step(l, bauds, n_bauds, e->fclass, r, s);
}

bool st_retry_is_permanent_err(const st_err *e)
{
    return e->fclass == ST_FC_NO_BOOT ? boot_row(e->boot)->permanent : st_retry_is_permanent(e->fclass);
}

int st_retry_baud(const st_retry_state *s, const int *bauds, int n_bauds)
{
    if (n_bauds <= 0)
        return 0; /* the loader's default */
    int i = s->ladder_idx < n_bauds ? s->ladder_idx : n_bauds - 1;
    return bauds[i];
}

const char *st_retry_step_name(st_retry_step s)
{
    switch (s) {
    case ST_RETRY_RESYNC: return "resync";
    case ST_RETRY_LOWER_BAUD: return "lower_baud";
    case ST_RETRY_ROM_ONLY: return "rom_only";
    default: return "give_up";
    }
}
