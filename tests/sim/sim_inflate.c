/* sim_inflate.c - tinfl-compatible status codes over zlib (see sim_inflate.h). */
#include "sim_inflate.h"

#include <string.h>

int sim_inflate_begin(sim_inflate *z)
{
    sim_inflate_end(z);
    memset(&z->zs, 0, sizeof z->zs);
    if (inflateInit(&z->zs) != Z_OK)
        return -1;
    z->live = true;
    return 0;
}

void sim_inflate_end(sim_inflate *z)
{
    if (z->live)
        inflateEnd(&z->zs);
    z->live = false;
}

int sim_inflate_run(sim_inflate *z, const uint8_t *in, size_t *in_len, uint8_t *out,
                    size_t *out_len, bool has_more_input)
{
    if (!z->live) {
        *in_len = *out_len = 0;
        return SIM_INF_FAILED;
    }
    z->zs.next_in = (Bytef *)in;
    z->zs.avail_in = (uInt)*in_len;
    z->zs.next_out = out;
    z->zs.avail_out = (uInt)*out_len;
    int r = inflate(&z->zs, Z_NO_FLUSH);
    *in_len -= z->zs.avail_in;
    *out_len -= z->zs.avail_out;
    switch (r) {
    case Z_STREAM_END:
        return SIM_INF_DONE;
    case Z_OK:
    case Z_BUF_ERROR:
        if (z->zs.avail_out == 0)
            return SIM_INF_HAS_OUTPUT;
        return has_more_input ? SIM_INF_NEEDS_INPUT : SIM_INF_CANNOT_PROGRESS;
    case Z_DATA_ERROR:
        /* zlib names the trailer mismatch; everything else is corrupt data */
        if (z->zs.msg && strcmp(z->zs.msg, "incorrect data check") == 0)
            return SIM_INF_ADLER;
        return SIM_INF_FAILED;
    default:
        return SIM_INF_FAILED;
    }
}
