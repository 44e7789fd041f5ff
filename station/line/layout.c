/* layout.c - the line layout file (layout.h): read through libinih with our own line
 * reader, so every refusal names its line and a section without keys is still seen. */
#include "layout.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct lctx {
    const char *path;
    FILE *f;
    int lineno;
    bool bom_checked;
    int cur;              /* index in out->p of the current section, -1 none */
    int place_line[ST_LAYOUT_MAX], label_line[ST_LAYOUT_MAX];
    st_layout *out;
    st_err *err;
    bool failed;
    int fail_line;
} lctx;

static const char HINT[] =
    "one section per position: [A1] with place = <by-path name> and an optional label; "
    "`station layout learn` writes the file";

static int refuse(lctx *c, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(lctx *c, int line, const char *fmt, ...)
{
    if (c->failed)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    st_err_file_line(c->err, ST_E_ARG, ST_PH_NONE, "layout ", c->path, line, HINT, fmt, ap);
    va_end(ap);
    c->failed = true;
    c->fail_line = line;
    return -1;
}

int st_layout_parse_pos(const char *s, int *row, int *col)
{
    if (!s)
        return -1;
    int r = toupper((unsigned char)s[0]) - 'A';
    if (r < 0 || r >= ST_LAYOUT_ROWS || !isdigit((unsigned char)s[1]) || s[2] != '\0')
        return -1;
    int k = s[1] - '1';
    if (k < 0 || k >= ST_LAYOUT_COLS)
        return -1;
    *row = r;
    *col = k;
    return 0;
}

void st_layout_pos_name(int row, int col, char *out)
{
    out[0] = (char)('A' + (row >= 0 && row < ST_LAYOUT_ROWS ? row : 0));
    out[1] = (char)('1' + (col >= 0 && col < ST_LAYOUT_COLS ? col : 0));
    out[2] = '\0';
}

static const char *base_name(const char *place)
{
    const char *s = strrchr(place, '/');
    return s ? s + 1 : place;
}

static void extent(st_layout *L)
{
    L->rows = L->cols = 0;
    for (int i = 0; i < L->n; i++) {
        if (L->p[i].row + 1 > L->rows)
            L->rows = L->p[i].row + 1;
        if (L->p[i].col + 1 > L->cols)
            L->cols = L->p[i].col + 1;
    }
}

const st_layout_place *st_layout_find(const st_layout *L, const char *place)
{
    if (!L || !place)
        return NULL;
    const char *b = base_name(place);
    for (int i = 0; i < L->n; i++)
        if (strcmp(L->p[i].place, b) == 0)
            return &L->p[i];
    return NULL;
}

const st_layout_place *st_layout_at(const st_layout *L, int row, int col)
{
    for (int i = 0; L && i < L->n; i++)
        if (L->p[i].row == row && L->p[i].col == col)
            return &L->p[i];
    return NULL;
}

int st_layout_set(st_layout *L, int row, int col, const char *place, const char *label)
{
    if (row < 0 || row >= ST_LAYOUT_ROWS || col < 0 || col >= ST_LAYOUT_COLS || !place ||
        !*base_name(place))
        return -1;
    st_layout_place *p = (st_layout_place *)st_layout_at(L, row, col);
    if (!p) {
        if (L->n >= ST_LAYOUT_MAX)
            return -1;
        p = &L->p[L->n++];
        memset(p, 0, sizeof *p);
    }
    p->row = row;
    p->col = col;
    snprintf(p->place, sizeof p->place, "%s", base_name(place));
    if (label && *label)
        snprintf(p->label, sizeof p->label, "%s", label);
    else
        st_layout_pos_name(row, col, p->label);
    extent(L);
    return 0;
}

void st_layout_remove_place(st_layout *L, const char *place)
{
    const st_layout_place *p = st_layout_find(L, place);
    if (!p)
        return;
    int i = (int)(p - L->p);
    memmove(&L->p[i], &L->p[i + 1], (size_t)(L->n - i - 1) * sizeof L->p[0]);
    L->n--;
    extent(L);
}

/* A section header: a new position, checked here so a section without keys is seen. */
static void begin_section(lctx *c, const char *line)
{
    const char *end = strchr(line, ']');
    char name[32];
    size_t len = end ? (size_t)(end - line - 1) : 0;
    if (!end || len >= sizeof name) {
        refuse(c, c->lineno, "bad section header: write a position, e.g. [A1]");
        return;
    }
    memcpy(name, line + 1, len);
    name[len] = '\0';
    int row, col;
    if (st_layout_parse_pos(name, &row, &col) < 0) {
        refuse(c, c->lineno, "section [%s] is not a position: rows A..D, columns 1..8 (A1..D8)", name);
        return;
    }
    const st_layout_place *dup = st_layout_at(c->out, row, col);
    if (dup) {
        refuse(c, c->lineno, "position %s is given twice (first at line %d)", name, dup->line);
        return;
    }
    st_layout_place *p = &c->out->p[c->out->n];
    memset(p, 0, sizeof *p);
    p->row = row;
    p->col = col;
    p->line = c->lineno;
    c->cur = c->out->n++;
    c->place_line[c->cur] = c->label_line[c->cur] = 0;
}

static char *reader(char *str, int num, void *stream)
{
    lctx *c = stream;
    if (c->failed)
        return NULL;
    char buf[1024];
    if (!fgets(buf, sizeof buf, c->f))
        return NULL;
    c->lineno++;
    size_t len = strlen(buf);
    if (len == sizeof buf - 1 && buf[len - 1] != '\n') {
        refuse(c, c->lineno, "line is too long (max %d characters)", (int)sizeof buf - 2);
        return NULL;
    }
    char *s = buf;
    if (!c->bom_checked && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3;
    c->bom_checked = true;
    while (*s == ' ' || *s == '\t') /* never a multi-line continuation */
        s++;
    len = strlen(s);
    if (len + 1 > (size_t)num) {
        refuse(c, c->lineno, "line is too long");
        return NULL;
    }
    memcpy(str, s, len + 1);
    if (*s == '[')
        begin_section(c, s);
    return c->failed ? NULL : str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    lctx *c = user;
    (void)section;
    if (c->failed)
        return 0;
    if (c->cur < 0)
        return refuse(c, c->lineno, "'%s' before any position section: start with e.g. [A1]", name), 0;
    st_layout_place *p = &c->out->p[c->cur];
    char pos[4];
    st_layout_pos_name(p->row, p->col, pos);
    if (strcmp(name, "place") == 0) {
        if (c->place_line[c->cur])
            return refuse(c, c->lineno, "%s: place given twice (first at line %d)", pos,
                          c->place_line[c->cur]), 0;
        const char *b = base_name(value);
        if (!*b)
            return refuse(c, c->lineno, "%s: empty place: the name of its /dev/serial/by-path link", pos), 0;
        if (strlen(b) >= sizeof p->place)
            return refuse(c, c->lineno, "%s: place longer than %zu characters", pos, sizeof p->place - 1), 0;
        for (int i = 0; i < c->out->n; i++)
            if (i != c->cur && strcmp(c->out->p[i].place, b) == 0) {
                char other[4];
                st_layout_pos_name(c->out->p[i].row, c->out->p[i].col, other);
                return refuse(c, c->lineno, "%s: place %s is already at %s (line %d)", pos, b,
                              other, c->place_line[i]), 0;
            }
        snprintf(p->place, sizeof p->place, "%s", b);
        c->place_line[c->cur] = c->lineno;
        return 1;
    }
    if (strcmp(name, "label") == 0) {
        if (c->label_line[c->cur])
            return refuse(c, c->lineno, "%s: label given twice (first at line %d)", pos,
                          c->label_line[c->cur]), 0;
        size_t len = strlen(value);
        if (len == 0 || len >= sizeof p->label)
            return refuse(c, c->lineno, "%s: label must be 1 to %zu characters", pos,
                          sizeof p->label - 1), 0;
        for (const unsigned char *u = (const unsigned char *)value; *u; u++)
            if (*u < 0x20 || *u == 0x7f)
                return refuse(c, c->lineno, "%s: label holds a control character", pos), 0;
        snprintf(p->label, sizeof p->label, "%s", value);
        c->label_line[c->cur] = c->lineno;
        return 1;
    }
    return refuse(c, c->lineno, "%s: unknown key '%s' (keys: place, label)", pos, name), 0;
}

int st_layout_load(const char *path, st_layout *out, st_err *err)
{
    memset(out, 0, sizeof *out);
    lctx c = {.path = path, .cur = -1, .out = out, .err = err};
    if (snprintf(out->path, sizeof out->path, "%s", path) >= (int)sizeof out->path)
        return refuse(&c, 0, "path too long");
    c.f = fopen(path, "r");
    if (!c.f) {
        int e = errno;
        refuse(&c, 0, "cannot open: %s", strerror(e));
        if (err)
            err->sys_errno = e;
        return -1;
    }
    int r = ini_parse_stream(reader, &c, handler, &c);
    if (ferror(c.f) && !c.failed)
        refuse(&c, 0, "read error");
    fclose(c.f);
    if (r > 0 && !c.failed)
        refuse(&c, r, "cannot parse this line: write [A1], place = ... or label = ...");
    for (int i = 0; !c.failed && i < out->n; i++) {
        st_layout_place *p = &out->p[i];
        char pos[4];
        st_layout_pos_name(p->row, p->col, pos);
        if (!c.place_line[i])
            refuse(&c, p->line, "position %s has no place = line", pos);
        if (!c.label_line[i])
            snprintf(p->label, sizeof p->label, "%s", pos);
    }
    if (!c.failed && out->n == 0)
        refuse(&c, 0, "names no position");
    if (c.failed)
        return -1;
    extent(out);
    return 0;
}

int st_layout_save(const st_layout *L, const char *path, st_err *err)
{
    char tmp[600];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return st_err_set(err, ST_E_ARG, ST_PH_NONE, "layout path too long: %s", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        int e = errno;
        st_err_set(err, ST_E_IO, ST_PH_NONE, "cannot write layout %s: %s", tmp, strerror(e));
        st_err_hint(err, "check that the folder exists and is writable");
        return -1;
    }
    fprintf(f, "# Line layout: which /dev/serial/by-path place sits at which position of the\n"
               "# fixture (rows A..D, columns 1..8). Written by `station layout learn`.\n");
    /* In position order, so the file reads like the fixture. */
    for (int r = 0; r < ST_LAYOUT_ROWS; r++)
        for (int k = 0; k < ST_LAYOUT_COLS; k++) {
            const st_layout_place *p = st_layout_at(L, r, k);
            if (!p)
                continue;
            char pos[4];
            st_layout_pos_name(r, k, pos);
            fprintf(f, "\n[%s]\nplace = %s\n", pos, p->place);
            if (strcmp(p->label, pos) != 0)
                fprintf(f, "label = %s\n", p->label);
        }
    bool bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return st_err_set(err, ST_E_IO, ST_PH_NONE, "cannot write layout %s: %s", path, strerror(e));
    }
    return 0;
}

static bool exists(const char *p)
{
    return access(p, F_OK) == 0;
}

int st_layout_default_path(char *out, size_t cap)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    char p[1024];
    if (xdg && *xdg)
        snprintf(p, sizeof p, "%s/flashstation/layout.ini", xdg);
    else if (home && *home)
        snprintf(p, sizeof p, "%s/.config/flashstation/layout.ini", home);
    else
        p[0] = '\0';
    if (*p && exists(p) && snprintf(out, cap, "%s", p) < (int)cap)
        return 0;
    if (exists("/etc/flashstation/layout.ini") &&
        snprintf(out, cap, "%s", "/etc/flashstation/layout.ini") < (int)cap)
        return 0;
    return -1;
}
