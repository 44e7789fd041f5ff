/* tui_header.c - title bar (profile, image digests, baud, line flags, clock) and the
 * counters row (passed, failed, retry bin, yield, units per hour). The central store's
 * state ("central: offline since 10:42, 37 records waiting") rides in the title bar. */
#include "tui_priv.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int seg(int y, int x, int xmax, attr_t a, const char *s)
{
    return x + tui_put(y, x, xmax - x, a, s);
}

/* The image digests "bootloader f29a599a partitions bd0f7954 app 0d042060" shortened:
 * level 1 cuts each name to 4 letters, level 2 keeps the digests alone. */
static void short_digests(const char *in, int level, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", in);
    char *save = NULL;
    bool name = true;
    for (char *tok = strtok_r(tmp, " ", &save); tok; tok = strtok_r(NULL, " ", &save), name = !name) {
        if (name && level >= 2)
            continue;
        int n = snprintf(out + used, cap - used, "%s%.*s", used ? " " : "",
                         name && level == 1 ? 4 : (int)strlen(tok), tok);
        if (n < 0 || (size_t)n >= cap - used)
            break;
        used += (size_t)n;
    }
}

/* The title row at a detail level: 0 everything, 1 shorter labels, 2 digests alone, no
 * uptime, 3 no clock either (the digests matter more than the time of day). Returns the
 * columns it needs; draws only when draw is set. */
static int title_row(tui *t, int level, bool draw)
{
    const st_line_view *v = t->view;
    const tui_theme *th = &t->th;
    int W = draw ? t->reg.w : 10000, x = 0;
    attr_t ta = th->attr[TR_TITLE];
    char buf[256];
    int sepw = tui_str_cols(th->g.sep);
#define SEG(a, str) (x = draw ? seg(0, x, W, (a), (str)) : x + tui_str_cols(str))
    snprintf(buf, sizeof buf, " %s ", t->cfg->title ? t->cfg->title : "FLASH STATION");
    SEG(ta, buf);
    SEG(ta, th->g.sep);
    snprintf(buf, sizeof buf, level ? "%s" : "profile %s", v->profile[0] ? v->profile : "(none)");
    SEG(ta, buf);
    SEG(ta, th->g.sep);
    if (v->baud > 0 && level)
        snprintf(buf, sizeof buf, "%g%s", v->baud >= 1000000 ? v->baud / 1e6 : v->baud / 1e3,
                 v->baud >= 1000000 ? "M" : "k");
    else if (v->baud > 0)
        snprintf(buf, sizeof buf, "%d baud", v->baud);
    else
        snprintf(buf, sizeof buf, "baud -");
    SEG(ta, buf);
    const char *flags[5] = {v->records_broken ? (level ? "RECORDS FAILING" : "RECORDS FAILING: NO NEW UNITS") : NULL,
                            v->disk_warning[0] ? v->disk_warning : NULL,
                            v->stopping ? "STOPPING" : NULL,
                            v->paused ? (t->quit_when_idle ? "PAUSED, QUIT WHEN IDLE" : "PAUSED")
                                      : NULL,
                            (v->locked || t->cfg->locked) ? "LOCKED" : NULL};
    for (int i = 0; i < 5; i++) {
        if (!flags[i])
            continue;
        SEG(ta, " ");
        snprintf(buf, sizeof buf, " %s ", flags[i]);
        SEG(th->attr[TR_WARN], buf);
    }
    /* Shipping to the central store: quiet while online, a warning while offline. */
    if (v->central.configured && v->central.text[0]) {
        SEG(ta, " ");
        snprintf(buf, sizeof buf, " %s ", v->central.text);
        SEG(v->central.online ? ta : th->attr[TR_WARN], buf);
    }
    /* Clock (and uptime) on the right, digests between. */
    char clock[64], up[16];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    tui_fmt_dur(v->uptime_s, up, sizeof up);
    if (level >= 3)
        clock[0] = '\0';
    else if (level >= 2)
        snprintf(clock, sizeof clock, " %02d:%02d:%02d ", tm.tm_hour, tm.tm_min, tm.tm_sec);
    else
        snprintf(clock, sizeof clock, "up %s  %02d:%02d:%02d ", up, tm.tm_hour, tm.tm_min, tm.tm_sec);
    int cw = (int)strlen(clock);
    char dg[160];
    short_digests(v->digests, level, dg, sizeof dg);
    int need = x + (dg[0] ? sepw + tui_str_cols(dg) + 1 : 0) + cw;
    if (!draw)
        return need;
    int right = W - cw;
    if (dg[0] && right - x > 12) {
        x = seg(0, x, right, ta, th->g.sep);
        seg(0, x, right - 1, ta, dg);
    }
    if (right > x && cw)
        tui_put(0, right, cw, ta, clock);
#undef SEG
    return need;
}

void tui_draw_header(tui *t)
{
    const st_line_view *v = t->view;
    const tui_theme *th = &t->th;
    int W = t->reg.w, x = 0;
    attr_t ta = th->attr[TR_TITLE];

    tui_fill(0, 0, W, ta);
    /* The richest title row that keeps the digests whole. */
    int level = 0;
    while (level < 3 && title_row(t, level, false) > W)
        level++;
    title_row(t, level, true);

    if (t->reg.header_h < 2)
        return;
    /* Counters: the numbers a supervisor reads from across the room. */
    uint64_t finished = v->passed + v->failed;
    x = 1;
    struct {
        const char *label;
        char val[32];
        tui_role role;
    } c[7];
    int n = 0;
    c[n].label = "PASSED";
    snprintf(c[n].val, sizeof c[n].val, "%llu", (unsigned long long)v->passed);
    c[n++].role = v->passed ? TR_PASS_TXT : TR_VALUE;
    c[n].label = "FAILED";
    snprintf(c[n].val, sizeof c[n].val, "%llu", (unsigned long long)v->failed);
    c[n++].role = v->failed ? TR_FAIL_TXT : TR_VALUE;
    c[n].label = "FINISHED";
    snprintf(c[n].val, sizeof c[n].val, "%llu", (unsigned long long)finished);
    c[n++].role = TR_VALUE;
    c[n].label = "IN BIN";
    snprintf(c[n].val, sizeof c[n].val, "%llu", (unsigned long long)v->in_bin);
    c[n++].role = v->in_bin ? TR_FAIL_TXT : TR_VALUE;
    c[n].label = "YIELD";
    if (finished)
        snprintf(c[n].val, sizeof c[n].val, "%.1f%%", v->yield * 100.0);
    else
        snprintf(c[n].val, sizeof c[n].val, "-");
    c[n++].role = TR_VALUE;
    c[n].label = "UNITS/H";
    snprintf(c[n].val, sizeof c[n].val, "%.0f", v->units_per_hour);
    c[n++].role = TR_VALUE;
    c[n].label = "IN FLIGHT";
    snprintf(c[n].val, sizeof c[n].val, "%llu", (unsigned long long)v->in_flight);
    c[n++].role = TR_BUSY;
    int gap = W >= 120 ? 4 : 2;
    /* Too narrow for every counter with its full label: shorter labels, IN FLIGHT kept. */
    int full = 1;
    for (int i = 0; i < n; i++)
        full += tui_str_cols(c[i].label) + 1 + tui_str_cols(c[i].val) + gap;
    if (full - gap > W) {
        static const char *const shortl[7] = {"PASS", "FAIL", "DONE", "BIN", "YIELD", "/H", "IN FLIGHT"};
        for (int i = 0; i < n; i++)
            c[i].label = shortl[i];
        gap = 2;
        /* Still too wide: units per hour, then yield, give way to IN FLIGHT. */
        for (int drop = 5; drop >= 4; drop--) {
            int need = 1;
            for (int i = 0; i < n; i++)
                need += tui_str_cols(c[i].label) + 1 + tui_str_cols(c[i].val) + gap;
            if (need - gap <= W)
                break;
            memmove(&c[drop], &c[drop + 1], (size_t)(n - drop - 1) * sizeof c[0]);
            n--;
        }
    }
    for (int i = 0; i < n && x < W; i++) {
        x = seg(1, x, W, th->attr[TR_LABEL], c[i].label);
        x = seg(1, x, W, A_NORMAL, " ");
        x = seg(1, x, W, th->attr[c[i].role], c[i].val);
        x += gap;
    }
}
