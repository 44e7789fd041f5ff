/* boot_check.c - listen for the app after the reset and diagnose a unit that does not
 * come up (boot_check.h). */
#include "boot_check.h"

#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"

#define LINE_MAX_ 200
#define LOOP_RESETS 3
#define LOOP_GRACE_S 0.5 /* after the verdict "loop": take what is still on its way */

typedef struct listener {
    char ring[ST_BOOT_CONSOLE_LINES][LINE_MAX_];
    int nring, head;           /* head: next slot to write */
    char cur[LINE_MAX_];
    size_t ncur;
    bool printable;            /* anything printable arrived */
    int resets;
    char marker[LINE_MAX_];    /* the first line naming a failure (brownout, panic, ...) */
} listener;

static bool is_marker(const char *line)
{
    return strstr(line, "Brownout detector was triggered") || strstr(line, "Guru Meditation Error") ||
           strstr(line, "invalid header") || strstr(line, "flash read err");
}

st_boot_diag st_boot_classify(const char *console, int resets)
{
    if (strstr(console, "Brownout detector was triggered"))
        return ST_BOOT_BROWNOUT;
    if (strstr(console, "Guru Meditation Error"))
        return ST_BOOT_PANIC;
    if (strstr(console, "invalid header") || strstr(console, "flash read err"))
        return ST_BOOT_BAD_IMAGE;
    if (resets >= LOOP_RESETS)
        return ST_BOOT_LOOP;
    for (const char *s = console; *s; s++)
        if (*s > ' ' && *s < 0x7F)
            return ST_BOOT_NO_MATCH;
    return ST_BOOT_SILENT;
}

static void ring_push(listener *L, const char *line)
{
    snprintf(L->ring[L->head], LINE_MAX_, "%s", line);
    L->head = (L->head + 1) % ST_BOOT_CONSOLE_LINES;
    if (L->nring < ST_BOOT_CONSOLE_LINES)
        L->nring++;
}

/* The ring, oldest first, as much as fits (newest kept). */
static void ring_text(const listener *L, char *out, size_t cap)
{
    int first = 0;
    for (;;) {
        size_t need = 0;
        for (int i = first; i < L->nring; i++)
            need += strlen(L->ring[(L->head - L->nring + i + ST_BOOT_CONSOLE_LINES) %
                                   ST_BOOT_CONSOLE_LINES]) + 1;
        if (need + (L->ncur ? L->ncur + 1 : 0) < cap || first == L->nring)
            break;
        first++;
    }
    size_t o = 0;
    out[0] = 0;
    for (int i = first; i < L->nring && o + 1 < cap; i++) {
        const char *l = L->ring[(L->head - L->nring + i + ST_BOOT_CONSOLE_LINES) % ST_BOOT_CONSOLE_LINES];
        o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? "\n" : "", l);
    }
    if (L->ncur && o + 1 < cap)
        snprintf(out + o, cap - o, "%s%.*s", o ? "\n" : "", (int)L->ncur, L->cur);
}

static void captures(const st_boot_check *bc, const char *line, const regmatch_t *m,
                     st_boot_result *r)
{
    size_t o = 0;
    for (int i = 0; i < bc->n_capture && o + 1 < sizeof r->captured; i++) {
        const regmatch_t *g = &m[i + 1];
        int len = g->rm_so < 0 ? 0 : (int)(g->rm_eo - g->rm_so);
        o += (size_t)snprintf(r->captured + o, sizeof r->captured - o, "%s%s=%.*s", i ? "; " : "",
                              bc->capture[i], len, g->rm_so < 0 ? "" : line + g->rm_so);
    }
}

bool st_boot_captured_value(const char *captured, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    out[0] = '\0';
    for (const char *p = captured; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        size_t len = strcspn(p, ";");
        if (len > nl && !strncmp(p, name, nl) && p[nl] == '=') {
            snprintf(out, cap, "%.*s", (int)(len - nl - 1), p + nl + 1);
            return *out != '\0';
        }
        p += len;
    }
    return false;
}

/* A complete line: remember it, count resets, try the pattern. True on a match. */
static bool take_line(listener *L, const st_boot_check *bc, const regex_t *re, st_boot_result *r)
{
    L->cur[L->ncur] = 0;
    bool hit = false;
    if (L->ncur) {
        if (strstr(L->cur, "rst:0x"))
            L->resets++;
        if (!L->marker[0] && is_marker(L->cur))
            snprintf(L->marker, sizeof L->marker, "%s", L->cur);
        regmatch_t m[ST_BOOT_MAX_CAPTURE + 1];
        if (regexec(re, L->cur, ST_BOOT_MAX_CAPTURE + 1, m, 0) == 0) {
            hit = true;
            snprintf(r->matched, sizeof r->matched, "%s", L->cur);
            captures(bc, L->cur, m, r);
        }
        ring_push(L, L->cur);
    }
    L->ncur = 0;
    return hit;
}

static bool feed(listener *L, const st_boot_check *bc, const regex_t *re, const uint8_t *b,
                 size_t n, st_boot_result *r)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = b[i];
        if (ch == '\n') {
            if (take_line(L, bc, re, r))
                return true;
            continue;
        }
        /* SLIP ends (C0) of the loader's last reply, CR, other control bytes: not text. */
        if (ch < ' ' && ch != '\t')
            continue;
        if (ch >= 0x7F)
            continue;
        L->printable = true;
        if (L->ncur + 1 < LINE_MAX_)
            L->cur[L->ncur++] = (char)ch;
    }
    return false;
}

int st_boot_listen(st_port *p, const st_boot_check *bc, const void *pre, size_t npre,
                   atomic_int *abort, st_boot_result *r, st_err *err)
{
    memset(r, 0, sizeof *r);
    r->checked = true;
    regex_t re;
    char why[200];
    if (st_boot_regcomp(bc->expect, &re, why, sizeof why))
        return st_err_set(err, ST_E_PROFILE, ST_PH_BOOT, "%s", why);
    static listener zero;
    listener L = zero;
    double t0 = st_now(), end = t0 + bc->timeout_ms / 1000.0;
    bool hit = feed(&L, bc, &re, pre, npre, r);
    int rc = 0;
    bool looping = false;
    while (!hit) {
        /* A unit that keeps resetting has given its verdict: collect the rest of the
         * current boot's lines, then stop without waiting out the timeout. */
        if (!looping && L.resets >= LOOP_RESETS) {
            looping = true;
            if (st_now() + LOOP_GRACE_S < end)
                end = st_now() + LOOP_GRACE_S;
        }
        if (abort && atomic_load(abort)) {
            st_err_set(err, ST_E_INTERRUPTED, ST_PH_BOOT, "stopped by the operator");
            err->fclass = ST_FC_INTERRUPTED;
            rc = -1;
            break;
        }
        int left = (int)((end - st_now()) * 1000.0);
        if (left <= 0)
            break;
        uint8_t buf[512];
        ssize_t n = st_port_read(p, buf, sizeof buf, left < 200 ? left : 200, err);
        if (n < 0) {
            err->phase = ST_PH_BOOT;
            if (err->fclass == ST_FC_NONE)
                err->fclass = err->cat == ST_E_GONE ? ST_FC_VANISHED : ST_FC_IO;
            rc = -1;
            break;
        }
        hit = feed(&L, bc, &re, buf, (size_t)n, r);
    }
    /* A last line without its newline still counts. */
    if (!hit && rc == 0 && L.ncur)
        hit = take_line(&L, bc, &re, r);
    regfree(&re);
    r->t_boot = st_now() - t0;
    r->resets = L.resets;
    /* The line that names the failure stays in the record even when a loop scrolled it
     * out of the last lines (which then give up the room it takes). */
    ring_text(&L, r->console, sizeof r->console);
    if (L.marker[0] && !strstr(r->console, L.marker)) {
        char last[sizeof r->console];
        ring_text(&L, last, sizeof last - strlen(L.marker) - 6);
        snprintf(r->console, sizeof r->console, "%s\n...\n%.*s", L.marker,
                 (int)(sizeof r->console - strlen(L.marker) - 6), last);
    }
    if (hit) {
        r->passed = true;
        return 0;
    }
    if (rc < 0)
        return -1;
    r->diag = st_boot_classify(r->console, L.resets);
    const char *last = strrchr(r->console, '\n');
    last = last ? last + 1 : r->console;
    st_err_set(err, ST_E_DEVICE, ST_PH_BOOT,
               "no boot (%s): /%s/ not seen in %.1f s at %d baud (%d resets)%s%s",
               st_boot_diag_name(r->diag), bc->expect, r->t_boot, bc->baud, L.resets,
               *last ? "; last console line: " : "", last);
    err->fclass = ST_FC_NO_BOOT;
    err->boot = r->diag;
    return st_err_hint(err, "%s", st_boot_diag_hint(r->diag));
}
