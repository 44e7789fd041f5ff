/* tui_draw.c - clipped text, boxes, bars and overlays on stdscr. Everything is clipped
 * to a width in display columns, so a long error or a narrow terminal never spills into
 * the neighbouring cell. */
#include "tui_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* Bytes of s that fit in w display columns; *cols gets the columns they take. Control
 * characters are counted (and later printed) as one column each. */
static size_t fit(const char *s, int w, int *cols)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t off = 0, len = strlen(s);
    int c = 0;
    while (off < len) {
        wchar_t wc;
        size_t k = mbrtowc(&wc, s + off, len - off, &st);
        int cw = 1;
        if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
            memset(&st, 0, sizeof st);
            k = 1;
        } else {
            cw = wcwidth(wc);
            if (cw < 0)
                cw = 1;
        }
        if (c + cw > w)
            break;
        c += cw;
        off += k;
    }
    *cols = c;
    return off;
}

/* Engine text may hold tabs or newlines (one line of a cell must stay one line), bytes
 * that are not valid in the locale, or UTF-8 (an em dash in an error) on an ASCII terminal:
 * controls become spaces, anything unprintable one '?'. */
static void sanitize(const char *s, char *out, size_t cap)
{
    bool multibyte = MB_CUR_MAX > 1;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t o = 0, len = strlen(s);
    while (*s && o + 8 < cap) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x80) {
            out[o++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
            s++;
            len--;
            continue;
        }
        wchar_t wc;
        size_t k = multibyte ? mbrtowc(&wc, s, len, &st) : (size_t)-1;
        if (k == (size_t)-1 || k == (size_t)-2 || k == 0 || wcwidth(wc) < 0) {
            memset(&st, 0, sizeof st);
            out[o++] = '?';
            /* One '?' for a whole UTF-8 sequence: skip its continuation bytes. */
            do {
                s++;
                len--;
            } while (((unsigned char)*s & 0xC0) == 0x80);
            continue;
        }
        memcpy(out + o, s, k);
        o += k;
        s += k;
        len -= k;
    }
    out[o] = '\0';
}

int tui_put(int y, int x, int w, attr_t a, const char *s)
{
    int maxy = getmaxy(stdscr), maxx = getmaxx(stdscr);
    if (y < 0 || y >= maxy || x < 0 || x >= maxx || w <= 0 || !s)
        return 0;
    if (w > maxx - x)
        w = maxx - x;
    char clean[1024];
    sanitize(s, clean, sizeof clean);
    int cols;
    size_t bytes = fit(clean, w, &cols);
    attrset(a);
    mvaddnstr(y, x, clean, (int)bytes);
    attrset(A_NORMAL);
    return cols;
}

int tui_putf(int y, int x, int w, attr_t a, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return tui_put(y, x, w, a, buf);
}

void tui_fill(int y, int x, int w, attr_t a)
{
    int maxy = getmaxy(stdscr), maxx = getmaxx(stdscr);
    if (y < 0 || y >= maxy || x < 0 || x >= maxx || w <= 0)
        return;
    if (w > maxx - x)
        w = maxx - x;
    attrset(a);
    mvhline(y, x, ' ', w);
    attrset(A_NORMAL);
}

static void repeat(int y, int x, int n, attr_t a, const char *g)
{
    for (int i = 0; i < n; i++)
        tui_put(y, x + i, 1, a, g);
}

void tui_box(const tui_theme *th, int y, int x, int h, int w, bool heavy, attr_t a)
{
    if (h < 2 || w < 2)
        return;
    const tui_glyphs *g = &th->g;
    const char *hz = heavy ? g->hh : g->h, *vt = heavy ? g->hv : g->v;
    tui_put(y, x, 1, a, heavy ? g->htl : g->tl);
    repeat(y, x + 1, w - 2, a, hz);
    tui_put(y, x + w - 1, 1, a, heavy ? g->htr : g->tr);
    for (int i = 1; i < h - 1; i++) {
        tui_put(y + i, x, 1, a, vt);
        tui_put(y + i, x + w - 1, 1, a, vt);
    }
    tui_put(y + h - 1, x, 1, a, heavy ? g->hbl : g->bl);
    repeat(y + h - 1, x + 1, w - 2, a, hz);
    tui_put(y + h - 1, x + w - 1, 1, a, heavy ? g->hbr : g->br);
}

void tui_bar(const tui_theme *th, int y, int x, int w, double frac)
{
    if (w <= 0)
        return;
    if (!(frac >= 0))
        frac = 0;
    if (frac > 1)
        frac = 1;
    const tui_glyphs *g = &th->g;
    int eighths = (int)(frac * w * 8 + 0.5);
    int full = eighths / 8, part = g->bar_part ? eighths % 8 : 0;
    repeat(y, x, full, th->attr[TR_BAR_DONE], g->bar_full);
    int pos = full;
    if (part && pos < w)
        tui_put(y, x + pos++, 1, th->attr[TR_BAR_DONE], g->bar_part[part]);
    repeat(y, x + pos, w - pos, th->attr[TR_BAR_TODO], g->bar_empty);
}

void tui_overlay(const tui_theme *th, int h, int w, const char *title, int *iy, int *ix, int *ih,
                 int *iw)
{
    int H = getmaxy(stdscr), W = getmaxx(stdscr);
    if (h > H - 2)
        h = H - 2 > 3 ? H - 2 : H;
    if (w > W - 4)
        w = W - 4 > 10 ? W - 4 : W;
    int y = (H - h) / 2, x = (W - w) / 2;
    for (int i = 0; i < h; i++)
        tui_fill(y + i, x, w, A_NORMAL);
    tui_box(th, y, x, h, w, false, th->attr[TR_VALUE]);
    if (title)
        tui_putf(y, x + 2, w - 4, th->attr[TR_TITLE], " %s ", title);
    *iy = y + 1;
    *ix = x + 2;
    *ih = h - 2;
    *iw = w - 4;
}

int tui_wrap(const char *s, int w, void (*emit)(void *ctx, const char *line, int len), void *ctx)
{
    if (w < 1)
        w = 1;
    int lines = 0;
    while (*s) {
        const char *nl = strchr(s, '\n');
        const char *end = nl ? nl : s + strlen(s);
        if (end == s) {
            emit(ctx, s, 0);
            lines++;
        }
        while (s < end) {
            /* Walk at most w columns (a UTF-8 lead byte starts a column). */
            const char *p = s, *brk = NULL;
            int cols = 0;
            while (p < end) {
                if (((unsigned char)*p & 0xC0) != 0x80) {
                    if (cols == w)
                        break;
                    cols++;
                }
                if (*p == ' ')
                    brk = p;
                p++;
            }
            const char *cut = (p < end && brk && brk > s) ? brk : p;
            emit(ctx, s, (int)(cut - s));
            lines++;
            s = cut;
            while (s < end && *s == ' ')
                s++;
        }
        s = nl ? nl + 1 : end;
    }
    return lines;
}
