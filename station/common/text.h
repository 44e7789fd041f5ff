/* text.h - device strings (a bridge's serial number, a unit's reply) on their way to a
 * terminal or a spreadsheet: a string read from a device may carry escape sequences that
 * would drive the operator's terminal, or a leading '=' that a spreadsheet runs. */
#ifndef ST_TEXT_H
#define ST_TEXT_H

#include <stddef.h>

/* Replace, in place, every control character with a space: C0 (0x00-0x1f), DEL and the
 * C1 range (U+0080-U+009F, UTF-8 C2 80..C2 9F, which some terminals obey like ESC).
 * Other UTF-8 is kept. Returns s. */
char *st_text_clean(char *s);
/* The same, keeping line breaks (\n, \r): for a quoted CSV cell, where they are data. */
char *st_text_clean_cell(char *s);
/* True when a spreadsheet would read s as a formula (first character after any spaces
 * = + - @, or a tab or carriage return before one): CSV writers prefix such a cell with a
 * single quote. */
int st_text_is_formula(const char *s);

#endif
