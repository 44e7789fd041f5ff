/* reset.c - DTR/RTS sequences (RTS -> EN, DTR -> GPIO0; asserted = pin low), and the
 * timing the ESP32 auto-reset circuit needs. Facts: protocol reference §8.1. */
#include <errno.h>
#include <time.h>

#include "clock.h"
#include "reset.h"

void st_reset_plan(int attempt, st_reset_kind *kind, int *delay_ms)
{
    int k = attempt % 4;
    *kind = k < 2 ? ST_RESET_UNIX_TIGHT : ST_RESET_CLASSIC;
    *delay_ms = (k % 2) ? 550 : 50;
}

static int lines(st_port *p, bool dtr, bool rts, st_err *err)
{
    if (st_port_set_lines(p, dtr, rts, err) < 0) {
        err->phase = ST_PH_CONNECT;
        return -1;
    }
    return 0;
}

int st_reset_download(st_port *p, st_reset_kind kind, int delay_ms, st_err *err)
{
    if (!st_port_describe(p)->has_modem_lines)
        return 0;
    if (kind == ST_RESET_UNIX_TIGHT) {
        /* Both lines change in one TIOCMSET, so EN and GPIO0 never see a wrong pair. */
        if (lines(p, false, false, err) < 0 || lines(p, true, true, err) < 0 ||
            lines(p, false, true, err) < 0)
            return -1;
        st_sleep_ms(100);
        if (lines(p, true, false, err) < 0)
            return -1;
        st_sleep_ms(delay_ms);
        if (lines(p, false, false, err) < 0)
            return -1;
        return 0;
    }
    /* Classic: hold EN low with GPIO0 high, then release EN with GPIO0 low. */
    if (lines(p, false, true, err) < 0)
        return -1;
    st_sleep_ms(100);
    if (lines(p, true, false, err) < 0)
        return -1;
    st_sleep_ms(delay_ms);
    return lines(p, false, false, err);
}

int st_reset_hard(st_port *p, st_err *err)
{
    if (!st_port_describe(p)->has_modem_lines)
        return 0;
    if (st_port_set_lines(p, false, true, err) < 0)
        goto fail;
    st_sleep_ms(100);
    if (st_port_set_lines(p, false, false, err) < 0)
        goto fail;
    return 0;
fail:
    err->phase = ST_PH_RESET;
    return -1;
}
