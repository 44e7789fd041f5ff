/* tui_detail.c - one slot in full: the whole error with its status bytes, the hint, the
 * bridge and chip, and the attempt history of the unit's MAC (text lines from the
 * engine's history callback, so the dashboard never touches the database). */
#include "tui_priv.h"

#include <stdio.h>
#include <string.h>

/* Lines are counted always and drawn only when inside the scrolled window. */
typedef struct sink {
    int y, x, w, h; /* drawing window */
    int skip;       /* lines scrolled off the top */
    int n;          /* lines emitted so far */
    int indent;     /* columns of the label the wrapped value hangs under */
    attr_t a;
} sink;

static void put_line(sink *k, attr_t a, const char *s, int len)
{
    int row = k->n - k->skip;
    if (row >= 0 && row < k->h) {
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", len < 0 ? (int)strlen(s) : len, s);
        tui_put(k->y + row, k->x, k->w, a, buf);
    }
    k->n++;
}

static void emit_cont(void *ctx, const char *line, int len)
{
    sink *k = ctx;
    char buf[512];
    snprintf(buf, sizeof buf, "%*s%.*s", k->indent, "", len, line);
    put_line(k, k->a, buf, -1);
}

/* "Label:   value" with the value wrapped under itself. */
static void field(sink *k, attr_t la, const char *label, attr_t va, const char *value)
{
    const int lw = 14;
    int row = k->n - k->skip;
    if (row >= 0 && row < k->h)
        tui_put(k->y + row, k->x, lw, la, label);
    if (!value || !*value) {
        if (row >= 0 && row < k->h)
            tui_put(k->y + row, k->x + lw, k->w - lw, va, "-");
        k->n++;
        return;
    }
    /* Wrap at the value's width, then draw each piece after the label column. */
    sink sub = *k;
    sub.x = k->x + lw;
    sub.w = k->w - lw;
    sub.indent = 0;
    sub.a = va;
    tui_wrap(value, sub.w, emit_cont, &sub);
    k->n = sub.n;
}

static void history_lines(sink *k, const tui *t)
{
    const tui_theme *th = &t->th;
    if (!t->hist_mac[0]) {
        put_line(k, th->attr[TR_EMPTY], "no MAC read from this unit yet: no history", -1);
        return;
    }
    const char *h = t->hist ? t->hist : "";
    if (!*h) {
        put_line(k, th->attr[TR_EMPTY], "no earlier attempts recorded", -1);
        return;
    }
    k->indent = 2;
    k->a = t->hist_ok ? A_NORMAL : th->attr[TR_FAIL_TXT];
    tui_wrap(h, k->w - 2, emit_cont, k);
}

void tui_draw_detail(tui *t)
{
    const tui_theme *th = &t->th;
    if (t->detail_slot < 0 || t->detail_slot >= t->view->nslots) {
        t->mode = TM_GRID;
        return;
    }
    const st_slot_view *s = &t->view->slots[t->detail_slot];
    /* The unit in the slot changed (new MAC read): its history is another unit's. */
    if (strcmp(s->mac, t->hist_mac) != 0)
        tui_detail_load(t);
    char title[160];
    if (s->label[0]) /* the fixture's label first: it is what the operator looks for */
        snprintf(title, sizeof title, "%s (%s) - details   (Up/Down scroll, r reload, Esc close)",
                 s->label, s->name);
    else
        snprintf(title, sizeof title, "%s - details   (Up/Down scroll, r reload, Esc close)", s->name);
    int iy, ix, ih, iw;
    tui_overlay(th, t->reg.h - 2, t->reg.w - 4 > 110 ? 110 : t->reg.w - 4, title, &iy, &ix, &ih,
                &iw);
    sink k = {.y = iy, .x = ix, .w = iw, .h = ih, .skip = t->detail_scroll};
    attr_t la = th->attr[TR_LABEL], va = th->attr[TR_VALUE], na = A_NORMAL;
    char buf[512], a[64], b[64];

    snprintf(buf, sizeof buf, "%s %s", tui_slot_word(s),
             s->state == ST_SLOT_BUSY ? st_phase_name(s->phase) : "");
    field(&k, la, "State", th->attr[tui_slot_role(s)], buf);
    snprintf(buf, sizeof buf, "%d", s->attempt);
    field(&k, la, "Try", va, s->attempt > 0 ? buf : "");
    field(&k, la, "Port", na, s->port);
    if (s->vid || s->pid)
        snprintf(buf, sizeof buf, "%s (%04x:%04x)", s->bridge[0] ? s->bridge : "?", s->vid, s->pid);
    else
        snprintf(buf, sizeof buf, "%s", s->bridge);
    field(&k, la, "Bridge", na, buf);
    if (s->mac_crc_bad) {
        snprintf(buf, sizeof buf, "%s  WARNING: eFuse MAC CRC wrong, the MAC may be misread", s->mac);
        field(&k, la, "MAC", th->attr[TR_FAIL_TXT], buf);
    } else {
        field(&k, la, "MAC", va, s->mac);
    }
    field(&k, la, "Chip", na, s->chip);
    snprintf(buf, sizeof buf, "0x%06x", (unsigned)s->flash_id);
    field(&k, la, "Flash ID", na, s->flash_id ? buf : "");
    snprintf(buf, sizeof buf, "%d", s->baud);
    field(&k, la, "Baud", na, s->baud > 0 ? buf : "");
    /* a unit whose link needs repairs often points at its cable or hub */
    snprintf(buf, sizeof buf, "%d block%s corrupted on the link and resent in the last try%s",
             s->blocks_repaired, s->blocks_repaired == 1 ? "" : "s",
             s->blocks_repaired ? ": check the cable and hub" : "");
    field(&k, la, "Link repairs", s->blocks_repaired ? th->attr[TR_FAIL_TXT] : na,
          s->attempt > 0 ? buf : "");
    tui_fmt_rate(s->rate_bps, a, sizeof a);
    tui_fmt_dur(s->eta_s, b, sizeof b);
    /* done/total count bytes while writing; other phases count their own steps. */
    bool bytes = s->phase == ST_PH_WRITE || s->phase == ST_PH_STUB;
    snprintf(buf, sizeof buf, "%llu / %llu%s  %s  ETA %s", (unsigned long long)s->done,
             (unsigned long long)s->total, bytes ? " bytes" : "", a, b);
    field(&k, la, "Progress", na, s->total ? buf : "");
    tui_fmt_dur(s->elapsed_s, a, sizeof a);
    snprintf(buf, sizeof buf, "%s in the slot, %llu units finished here", a,
             (unsigned long long)s->units_done);
    field(&k, la, "Time", na, buf);
    if (s->serial[0])
        field(&k, la, "Serial", va, s->serial);
    if (s->boot[0])
        field(&k, la, "Boot check", th->attr[strncmp(s->boot, "pass", 4) ? TR_FAIL_TXT : TR_NORMAL],
              s->boot);
    for (const char *l = s->console; *l;) { /* what the unit printed when it did not boot */
        size_t n = strcspn(l, "\n");
        snprintf(buf, sizeof buf, "%.*s", (int)n, l);
        field(&k, la, l == s->console ? "Console" : "", na, buf);
        l += n + (l[n] == '\n');
    }
    put_line(&k, na, "", -1);
    field(&k, la, s->state == ST_SLOT_FAIL ? "Failure" : "Last failure", th->attr[TR_FAIL_TXT],
          s->fclass != ST_FC_NONE ? st_fclass_name(s->fclass) : "");
    field(&k, la, "Error", th->attr[s->error[0] ? TR_FAIL_TXT : TR_NORMAL], s->error);
    unsigned char st[4];
    int ns = tui_parse_status(s->error, st);
    int n = 0;
    buf[0] = '\0';
    for (int i = 0; i < ns; i++)
        n += snprintf(buf + n, sizeof buf - n, "%s%02x", i ? " " : "", st[i]);
    field(&k, la, "Status bytes", va, buf);
    const char *hint = s->hint[0] ? s->hint : (s->fclass ? st_fclass_hint(s->fclass) : "");
    field(&k, la, "Hint", va, hint);
    put_line(&k, na, "", -1);
    snprintf(buf, sizeof buf, "Attempt history of %s", s->mac[0] ? s->mac : "this unit");
    put_line(&k, la, buf, -1);
    history_lines(&k, t);

    /* Clamp the scroll so the last page stays full. */
    if (t->detail_scroll > 0 && k.n - t->detail_scroll < ih) {
        t->detail_scroll = k.n - ih > 0 ? k.n - ih : 0;
    }
    if (k.n > t->detail_scroll + ih)
        tui_putf(iy + ih, ix + iw - 12, 12, la, " %s more ", th->g.more_down);
}

void tui_detail_load(tui *t)
{
    const st_slot_view *s = &t->view->slots[t->detail_slot];
    snprintf(t->hist_mac, sizeof t->hist_mac, "%s", s->mac);
    t->hist[0] = '\0';
    t->hist_ok = true;
    if (!s->mac[0])
        return;
    if (!t->cfg->ops.history) {
        snprintf(t->hist, TUI_HIST_CAP, "no history store attached to this line");
        return;
    }
    st_err err;
    st_err_clear(&err);
    if (t->cfg->ops.history(t->cfg->ops.user, s->mac, t->hist, TUI_HIST_CAP, &err) < 0) {
        t->hist_ok = false;
        snprintf(t->hist, TUI_HIST_CAP, "history unavailable: %s", err.msg[0] ? err.msg : "error");
    }
    t->hist[TUI_HIST_CAP - 1] = '\0';
}
