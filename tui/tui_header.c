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

void tui_draw_header(tui *t)
{
    const st_line_view *v = t->view;
    const tui_theme *th = &t->th;
    int W = t->reg.w, x = 0;
    attr_t ta = th->attr[TR_TITLE];
    char buf[256];

    tui_fill(0, 0, W, ta);
    snprintf(buf, sizeof buf, " %s ", t->cfg->title ? t->cfg->title : "FLASH STATION");
    x = seg(0, x, W, ta, buf);
    x = seg(0, x, W, ta, th->g.sep);
    snprintf(buf, sizeof buf, "profile %s", v->profile[0] ? v->profile : "(none)");
    x = seg(0, x, W, ta, buf);
    x = seg(0, x, W, ta, th->g.sep);
    if (v->baud > 0)
        snprintf(buf, sizeof buf, "%d baud", v->baud);
    else
        snprintf(buf, sizeof buf, "baud -");
    x = seg(0, x, W, ta, buf);
    const char *flags[5] = {v->records_broken ? "RECORDS FAILING: NO NEW UNITS" : NULL,
                            v->disk_warning[0] ? v->disk_warning : NULL,
                            v->stopping ? "STOPPING" : NULL,
                            v->paused ? (t->quit_when_idle ? "PAUSED, QUIT WHEN IDLE" : "PAUSED")
                                      : NULL,
                            (v->locked || t->cfg->locked) ? "LOCKED" : NULL};
    for (int i = 0; i < 5; i++) {
        if (!flags[i])
            continue;
        x = seg(0, x, W, ta, " ");
        snprintf(buf, sizeof buf, " %s ", flags[i]);
        x = seg(0, x, W, th->attr[TR_WARN], buf);
    }
    /* Shipping to the central store: quiet while online, a warning while offline. */
    if (v->central.configured && v->central.text[0]) {
        x = seg(0, x, W, ta, " ");
        snprintf(buf, sizeof buf, " %s ", v->central.text);
        x = seg(0, x, W, v->central.online ? ta : th->attr[TR_WARN], buf);
    }
    /* Clock and uptime on the right, digests in whatever room is left between. */
    char clock[64], up[16];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    tui_fmt_dur(v->uptime_s, up, sizeof up);
    snprintf(clock, sizeof clock, "up %s  %02d:%02d:%02d ", up, tm.tm_hour, tm.tm_min, tm.tm_sec);
    int cw = (int)strlen(clock);
    int right = W - cw;
    if (v->digests[0] && right - x > 12) {
        x = seg(0, x, right, ta, th->g.sep);
        seg(0, x, right - 1, ta, v->digests);
    }
    if (right > x)
        tui_put(0, right, cw, ta, clock);

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
    for (int i = 0; i < n && x < W; i++) {
        x = seg(1, x, W, th->attr[TR_LABEL], c[i].label);
        x = seg(1, x, W, A_NORMAL, " ");
        x = seg(1, x, W, th->attr[c[i].role], c[i].val);
        x += gap;
    }
}
