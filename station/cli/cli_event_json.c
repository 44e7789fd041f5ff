/* cli_event_json.c - st_event -> JSON object (cli_event_json.h, docs/events.md). Keys a
 * unit event carries are named as in `station export --json`, so both join on attempt_id
 * = export's "id". */
#include "cli_event_json.h"

#include <stdio.h>
#include <string.h>

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v && *v) {
        json_t *s = json_string(v);
        json_object_set_new(o, k, s ? s : json_string("(not UTF-8)"));
    }
}

static void set_str_or_null(json_t *o, const char *k, const char *v)
{
    if (v && *v)
        set_str(o, k, v);
    else
        json_object_set_new(o, k, json_null());
}

static void set_int(json_t *o, const char *k, json_int_t v)
{
    json_object_set_new(o, k, json_integer(v));
}

static json_int_t ms(double s)
{
    return (json_int_t)(s * 1000.0 + 0.5);
}

static void add_unit(json_t *o, const st_event *e)
{
    const st_event_unit *u = &e->unit;
    char b[64];
    if (u->attempt_id)
        set_int(o, "attempt_id", u->attempt_id);
    set_int(o, "try_no", u->try_no);
    set_str(o, "port", u->port);
    set_str(o, "bridge", u->bridge);
    if (u->vid || u->pid) {
        snprintf(b, sizeof b, "%04x:%04x", u->vid, u->pid);
        set_str(o, "vid_pid", b);
    }
    set_str(o, "bridge_serial", u->usb_serial);
    if (u->chip_known) {
        const st_chip_info *c = &u->chip;
        set_str(o, "chip", c->chip);
        set_str(o, "package", c->package);
        set_str(o, "description", c->description);
        snprintf(b, sizeof b, "v%d.%d", c->major, c->minor);
        set_str(o, "revision", b);
        if (c->flash_id) {
            snprintf(b, sizeof b, "0x%06x", c->flash_id);
            set_str(o, "flash_id", b);
        }
        if (c->flash_size)
            set_int(o, "flash_size", c->flash_size);
        if (c->xtal_mhz)
            set_int(o, "xtal_mhz", c->xtal_mhz);
    }
    if (u->baud)
        set_int(o, "baud", u->baud);
    if (e->kind != ST_EV_TRY) {
        json_object_set_new(o, "stub", json_boolean(u->used_stub));
        set_int(o, "bytes_raw", (json_int_t)u->bytes_raw);
        set_int(o, "bytes_compressed", (json_int_t)u->bytes_compressed);
        set_int(o, "regions_verified", u->regions_verified);
        json_t *d = json_object();
        set_int(d, "connect_ms", ms(u->t_connect));
        set_int(d, "stub_ms", ms(u->t_stub));
        set_int(d, "write_ms", ms(u->t_write));
        set_int(d, "verify_ms", ms(u->t_verify));
        set_int(d, "total_ms", ms(u->t_total));
        json_object_set_new(o, "durations", d);
    }
    set_str(o, "profile", u->profile);
    /* after the flash: null until provisioning / the boot check gave them */
    set_str_or_null(o, "serial", u->serial);
    set_str_or_null(o, "app_version", u->app_version);
    json_t *imgs = json_array();
    for (int i = 0; i < u->n_images; i++)
        json_array_append_new(imgs, json_pack("{s:I,s:s}", "offset", (json_int_t)u->img_offset[i],
                                              "sha256", u->img_sha256[i]));
    json_object_set_new(o, "images", imgs);
    const st_err *er = &u->err;
    if (er->cat != ST_E_NONE) {
        if (er->nstatus) {
            size_t used = 0;
            for (int i = 0; i < er->nstatus && i < 4; i++)
                used += (size_t)snprintf(b + used, sizeof b - used, "%s%02x", i ? " " : "",
                                         er->status[i]);
            set_str(o, "status", b);
        }
        set_str(o, "error", st_errcat_name(er->cat));
        set_str(o, "detail", er->msg);
        set_str(o, "hint", *er->hint ? er->hint : st_fclass_hint(er->fclass));
    }
}

json_t *st_cli_event_json(const st_event *e)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    set_int(o, "schema", ST_EVENTS_SCHEMA);
    set_int(o, "seq", (json_int_t)e->seq);
    json_object_set_new(o, "t", json_real(e->t));
    json_object_set_new(o, "ts", json_real(e->wall));
    set_str(o, "event", st_ev_kind_name(e->kind));
    set_str(o, "slot", e->slot);
    set_str(o, "label", e->label);
    set_str(o, "mac", e->mac);
    if (e->attempt)
        set_int(o, "attempt", e->attempt);
    if (e->phase != ST_PH_NONE)
        set_str(o, "phase", st_phase_name(e->phase));
    if (e->fclass != ST_FC_NONE)
        set_str(o, "class", st_fclass_name(e->fclass));
    if (e->appeared > 0)
        json_object_set_new(o, "appeared", json_real(e->appeared));
    if (e->has_unit)
        add_unit(o, e);
    if (e->kind == ST_EV_HOOK) {
        static const char *const res[] = {"ok", "exit", "signal", "timeout", "spawn_failed"};
        const st_event_hook *hk = &e->hook;
        json_t *h = json_object();
        set_str(h, "command", hk->command);
        set_str(h, "result", hk->result <= ST_HOOK_SPAWN_FAILED ? res[hk->result] : "exit");
        if (hk->result == ST_HOOK_EXIT)
            set_int(h, "exit_code", hk->exit_code);
        if (hk->result == ST_HOOK_SIGNAL)
            set_int(h, "signal", hk->signal);
        set_int(h, "duration_ms", ms(hk->duration_s));
        set_int(h, "for_seq", (json_int_t)hk->for_seq);
        set_str(h, "stderr", hk->stderr_head);
        json_object_set_new(o, "hook", h);
    }
    json_t *txt = json_string(e->text);
    json_object_set_new(o, "text", txt ? txt : json_string("(text not UTF-8)"));
    return o;
}

json_t *st_cli_summary_json(const st_line_view *v, int record_failures, int hook_failures,
                            int exit_status)
{
    return json_pack("{s:i,s:s,s:I,s:I,s:I,s:f,s:i,s:b,s:i,s:f,s:i}", "schema", ST_EVENTS_SCHEMA,
                     "event", "summary", "passed", (json_int_t)v->passed, "failed",
                     (json_int_t)v->failed, "in_bin", (json_int_t)v->in_bin, "yield", v->yield,
                     "record_failures", record_failures, "records_broken", v->records_broken,
                     "hook_failures", hook_failures, "uptime", v->uptime_s, "exit_status",
                     exit_status);
}
