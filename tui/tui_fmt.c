/* tui_fmt.c - short human formats for the dashboard's narrow cells. */
#include "tui_layout.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

void tui_fmt_rate(double bps, char *buf, size_t cap)
{
    if (!(bps > 0)) {
        snprintf(buf, cap, "-");
        return;
    }
    if (bps >= 1024.0 * 1024.0)
        snprintf(buf, cap, "%.1f MiB/s", bps / (1024.0 * 1024.0));
    else if (bps >= 1024.0)
        snprintf(buf, cap, "%.0f KiB/s", bps / 1024.0);
    else
        snprintf(buf, cap, "%.0f B/s", bps);
}

void tui_fmt_dur(double s, char *buf, size_t cap)
{
    if (!(s >= 0) || s > 359999.0) {
        snprintf(buf, cap, "-");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, cap, "%ld:%02ld", t / 60, t % 60);
}

/* "ESP32-D0WD-V3 (revision v3.0)" -> "D0WD-V3 rev v3.0": the package and revision are
 * what differ between units on one line; the family is the same for all of them. */
void tui_fmt_chip(const char *chip, char *buf, size_t cap)
{
    if (!cap)
        return;
    buf[0] = '\0';
    if (!chip || !*chip)
        return;
    const char *p = chip;
    if (strncmp(p, "ESP32-", 6) == 0 && p[6] && p[6] != ' ')
        p += 6;
    const char *paren = strchr(p, '(');
    size_t n = paren ? (size_t)(paren - p) : strlen(p);
    while (n && p[n - 1] == ' ')
        n--;
    if (!paren) {
        snprintf(buf, cap, "%.*s", (int)n, p);
        return;
    }
    const char *rev = paren + 1;
    if (strncmp(rev, "revision ", 9) == 0)
        rev += 9;
    const char *close = strchr(rev, ')');
    int rn = close ? (int)(close - rev) : (int)strlen(rev);
    snprintf(buf, cap, "%.*s rev %.*s", (int)n, p, rn, rev);
}

int tui_parse_status(const char *error, unsigned char out[4])
{
    const char *p = error ? strstr(error, "status ") : NULL;
    if (!p)
        return 0;
    p += 7;
    int n = 0;
    while (n < 4) {
        if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
            (p[2] && p[2] != ' ' && p[2] != ',' && p[2] != ')'))
            break;
        char hex[3] = {p[0], p[1], 0};
        out[n++] = (unsigned char)strtoul(hex, NULL, 16);
        p += 2;
        if (*p != ' ')
            break;
        p++;
    }
    return n;
}

int tui_str_cols(const char *s)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    int cols = 0;
    size_t left = strlen(s);
    while (left) {
        wchar_t wc;
        size_t k = mbrtowc(&wc, s, left, &st);
        if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
            memset(&st, 0, sizeof st);
            k = 1;
            cols++;
        } else {
            int cw = wcwidth(wc);
            cols += cw > 0 ? cw : 0;
        }
        s += k;
        left -= k;
    }
    return cols;
}

void tui_fmt_paths(const char *in, int keep, const char *ellipsis, char *out, size_t cap)
{
    size_t used = 0;
    const char *p = in;
    if (cap == 0)
        return;
    out[0] = '\0';
    while (*p && used + 1 < cap) {
        size_t sp = strspn(p, " ");
        size_t tok = strcspn(p + sp, " ");
        const char *t = p + sp;
        /* A path is a token with a '/' in it (a trailing ':' or ',' stays with it). */
        bool path = memchr(t, '/', tok) != NULL && tok > (size_t)keep;
        int n;
        if (path) {
            size_t end = tok;
            while (end > 0 && strchr(":,;)", t[end - 1]))
                end--;
            const char *last = t;
            for (const char *q = t; q < t + end; q++)
                if (*q == '/' && q + 1 < t + end)
                    last = q + 1;
            size_t lk = (size_t)(t + end - last);
            /* The last component, and the one before it while it fits: "…/sim/slot4". */
            const char *from = last;
            for (const char *q = last - 1; q > t; q--) {
                if (q[-1] == '/') {
                    if ((size_t)(t + end - q) <= (size_t)keep)
                        from = q;
                    break;
                }
            }
            if (lk > (size_t)keep) { /* one long name: its tail, from a '-' boundary */
                from = t + end - keep;
                const char *dash = memchr(from, '-', (size_t)(t + end - from));
                if (dash && dash + 1 < t + end)
                    from = dash + 1;
            }
            n = snprintf(out + used, cap - used, "%.*s%s%.*s%.*s", (int)sp, p, ellipsis,
                         (int)(t + end - from), from, (int)(tok - end), t + end);
        } else {
            n = snprintf(out + used, cap - used, "%.*s", (int)(sp + tok), p);
        }
        if (n < 0 || (size_t)n >= cap - used) {
            out[cap - 1] = '\0';
            return;
        }
        used += (size_t)n;
        p = t + tok;
    }
}
