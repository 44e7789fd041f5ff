/* db_fill.c - copies from engine structs into an attempt record. */
#include "db_fill.h"

#include <stdio.h>
#include <string.h>

void st_db_attempt_set_port(st_db_attempt *a, const st_port_info *p)
{
    snprintf(a->port, sizeof a->port, "%s", p->name);
    snprintf(a->bridge, sizeof a->bridge, "%s", p->bridge);
    a->vid = p->vid;
    a->pid = p->pid;
    snprintf(a->bridge_serial, sizeof a->bridge_serial, "%s", p->serial);
}

void st_db_attempt_set_chip(st_db_attempt *a, const st_chip_info *c)
{
    const uint8_t *m = c->mac;
    if (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) /* a chip of another family reports none */
        st_mac_format(m, a->mac);
    snprintf(a->chip, sizeof a->chip, "%s", c->chip);
    snprintf(a->package, sizeof a->package, "%s", c->package);
    snprintf(a->description, sizeof a->description, "%s", c->description);
    a->rev_major = c->major;
    a->rev_minor = c->minor;
    a->flash_id = c->flash_id;
    a->flash_size = c->flash_size;
    a->mac_crc_bad = c->mac_crc_bad;
    if (c->flash_sr_known)
        a->flash_status = ST_DB_FLASH_STATUS_KNOWN | c->flash_sr[0] | (uint32_t)c->flash_sr[1] << 8 |
                          (uint32_t)c->flash_sr[2] << 16;
}

void st_db_attempt_set_fw(st_db_attempt *a, const st_fwset *fw)
{
    snprintf(a->profile, sizeof a->profile, "%s", fw->prof.name);
    a->nimages = 0;
    for (int i = 0; i < fw->n && a->nimages < ST_DB_MAX_IMAGES; i++) {
        st_db_image *im = &a->images[a->nimages++];
        im->offset = fw->img[i].offset;
        for (int k = 0; k < 32; k++)
            snprintf(im->sha256 + 2 * k, 3, "%02x", fw->img[i].sha256[k]);
    }
}

int64_t st_db_ms(double seconds)
{
    return seconds > 0 ? (int64_t)(seconds * 1000.0 + 0.5) : 0;
}

void st_db_attempt_set_counts(st_db_attempt *a, const st_flash_report *r)
{
    a->bytes_raw = r->bytes_raw;
    a->bytes_compressed = r->bytes_compressed;
    a->blocks_repaired = r->blocks_repaired;
    a->connect_ms = st_db_ms(r->t_connect);
    a->stub_ms = st_db_ms(r->t_stub);
    a->write_ms = st_db_ms(r->t_write);
    a->verify_ms = st_db_ms(r->t_verify);
    a->total_ms = st_db_ms(r->t_total);
}

void st_db_attempt_set_report(st_db_attempt *a, const st_flash_report *r)
{
    if (r->port.name[0])
        st_db_attempt_set_port(a, &r->port);
    if (r->chip_known)
        st_db_attempt_set_chip(a, &r->chip);
    a->baud = r->baud;
    st_db_attempt_set_counts(a, r);
}

void st_db_attempt_set_err(st_db_attempt *a, const st_err *e)
{
    a->fclass = e->fclass;
    a->phase = e->phase;
    memcpy(a->status, e->status, sizeof a->status);
    a->nstatus = e->nstatus;
    st_err_format(e, a->detail, sizeof a->detail);
    snprintf(a->hint, sizeof a->hint, "%s", e->hint[0] ? e->hint : st_fclass_hint(e->fclass));
}
