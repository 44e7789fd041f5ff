/* text.c - control characters out of text outputs, formulas out of CSV cells (text.h). */
#include "text.h"

#include <stdbool.h>

static char *clean(char *s, bool keep_lines)
{
    unsigned char *p = (unsigned char *)s;
    for (; *p; p++) {
        if (keep_lines && (*p == '\n' || *p == '\r'))
            continue;
        if (*p < 0x20 || *p == 0x7f) {
            *p = ' ';
        } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            p[0] = ' ';
            p[1] = ' ';
            p++;
        }
    }
    return s;
}

char *st_text_clean(char *s)
{
    return clean(s, false);
}

char *st_text_clean_cell(char *s)
{
    return clean(s, true);
}

int st_text_is_formula(const char *s)
{
    while (*s == ' ') /* a cleaned control character, or padding, before the '=' */
        s++;
    return s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r';
}
