/* tui_bin.c - the retry-bin panel: units set aside for rework, newest first (the order
 * of st_line_view.bin), with the failure class, how many tries they got and what to do. */
#include "tui_priv.h"

#include <stdio.h>

typedef struct {
    int y, x, w, ymax, n;
} bin_wrap;

static void bin_line(void *ctx, const char *line, int len)
{
    bin_wrap *c = ctx;
    if (c->y + c->n < c->ymax) {
        char buf[300];
        snprintf(buf, sizeof buf, "%.*s", len, line);
        tui_put(c->y + c->n, c->x, c->w, A_NORMAL, buf);
        c->n++;
    }
}

void tui_draw_bin(tui *t)
{
    const tui_regions *r = &t->reg;
    const st_line_view *v = t->view;
    const tui_theme *th = &t->th;
    if (r->panel_h < 3)
        return;
    int y = r->panel_y, w = r->bin_w, h = r->panel_h;
    tui_box(th, y, 0, h, w, v->nbin > 0, A_NORMAL);
    tui_putf(y, 2, w - 4, v->nbin ? th->attr[TR_FAIL] : th->attr[TR_VALUE], " RETRY BIN (%llu) ",
             (unsigned long long)v->in_bin);
    int iw = w - 2, ix = 1;
    int nb = v->nbin < ST_VIEW_BIN ? v->nbin : ST_VIEW_BIN;
    /* entries whose unit passed on another station (the central store said so) are not
     * waiting here: counted in the bottom border, not listed */
    if (v->bin_elsewhere && w > 30)
        tui_putf(y + h - 1, 2, w - 18, th->attr[TR_LABEL], " %llu passed elsewhere ",
                 (unsigned long long)v->bin_elsewhere);
    if (nb <= 0) {
        tui_put(y + 1, ix + 1, iw - 1, th->attr[TR_EMPTY], "empty: no unit waits for rework");
        return;
    }
    /* Column widths: MAC 17, class 17, tries 5, hint takes the rest. */
    const int cmac = 17, ccls = 17, ctry = 5;
    int xc = ix + 1 + cmac + 1, xt = xc + ccls + 1, xh = xt + ctry + 1;
    tui_put(y + 1, ix + 1, iw - 1, th->attr[TR_LABEL], "MAC");
    tui_put(y + 1, xc, ix + iw - xc, th->attr[TR_LABEL], "CLASS");
    tui_put(y + 1, xt, ix + iw - xt, th->attr[TR_LABEL], "TRIES");
    tui_put(y + 1, xh, ix + iw - xh, th->attr[TR_LABEL], "HINT");
    /* A hint wraps at word boundaries onto the rows below its entry (never cut mid-word);
     * when the hint column is too narrow to read, the hint is left to the detail view. */
    int hw = ix + iw - xh, ly = y + 2, ymax = y + h - 1, shown = 0;
    for (int i = 0; i < nb && ly < ymax; i++, shown++) {
        const st_bin_view *b = &v->bin[i];
        tui_put(ly, ix + 1, cmac, th->attr[TR_VALUE], b->mac[0] ? b->mac : "(no MAC)");
        tui_put(ly, xc, ix + iw - xc < ccls ? ix + iw - xc : ccls, th->attr[TR_FAIL_TXT],
                st_fclass_name(b->fclass));
        tui_putf(ly, xt, ix + iw - xt, A_NORMAL, "%d", b->attempts);
        const char *hint = b->hint[0] ? b->hint : st_fclass_hint(b->fclass);
        /* A narrow panel (80 columns): the hint goes under its entry, indented, across the
         * panel. An entry whose hint runs past the panel shows the lines that fit. */
        bin_wrap c = {ly, xh, hw, ymax, 0};
        if (hw < 24) {
            c = (bin_wrap){ly + 1, ix + 3, iw - 3, ymax, 0};
            ly++;
        }
        tui_wrap(hint, c.w, bin_line, &c);
        ly += c.n > 0 ? c.n : 1;
    }
    if (shown < nb)
        tui_putf(y + h - 1, w - 14, 12, th->attr[TR_LABEL], " +%d more ", nb - shown);
}
