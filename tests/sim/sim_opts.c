/* sim_opts.c - unit option parsing (see sim_opts.h). */
#include "sim_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void opts_default(sim_unit_opts *o, int slot, int seq)
{
    *o = (sim_unit_opts){
        .mac = {0x24, 0x0a, 0xc4, 0x00, (uint8_t)slot, (uint8_t)seq},
        .pkg = 1, .rev_major = 3, .rev_minor = 0,
        .flash_size = 16u << 20, .bridge = SIM_BRIDGE_CP2104, .xtal_mhz = 40,
        .timing = wire_timing_default(),
    };
    o->faults.disconnect_pct = -1;
}

static int parse_mac(const char *v, uint8_t mac[6])
{
    unsigned b[6];
    char tail;
    if (sscanf(v, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
        return -1;
    for (int i = 0; i < 6; i++) {
        if (b[i] > 255)
            return -1;
        mac[i] = (uint8_t)b[i];
    }
    return 0;
}

static int parse_size(const char *v, uint32_t *out)
{
    char *end;
    unsigned long n = strtoul(v, &end, 0);
    if (!strcasecmp(end, "M") || !strcasecmp(end, "MB"))
        n <<= 20;
    else if (!strcasecmp(end, "K") || !strcasecmp(end, "KB"))
        n <<= 10;
    else if (*end)
        return -1;
    if (n < 0x40000 || n > (16ul << 20) || (n & (n - 1)))
        return -1; /* ESP32 ROM/stub address 24 bits: at most 16 MB */
    *out = (uint32_t)n;
    return 0;
}

int opts_apply(sim_unit_opts *o, const char *kv, char *err, size_t errlen)
{
    const char *eq = strchr(kv, '=');
    char key[32];
    if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof key) {
        snprintf(err, errlen, "expected KEY=VALUE, got '%s'", kv);
        return -1;
    }
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = 0;
    const char *v = eq + 1;
    char *end;
    if (!strcmp(key, "mac")) {
        if (parse_mac(v, o->mac))
            goto bad;
    } else if (!strcmp(key, "pkg")) {
        if (!strcasecmp(v, "d0wd-v3")) {
            o->pkg = 1;
            if (!o->rev_set) { o->rev_major = 3; o->rev_minor = 0; }
        } else if (!strcasecmp(v, "d0wdq6")) {
            o->pkg = 0;
            if (!o->rev_set) { o->rev_major = 1; o->rev_minor = 0; }
        } else if (!strcasecmp(v, "d0wd")) {
            o->pkg = 1;
            if (!o->rev_set) { o->rev_major = 1; o->rev_minor = 0; }
        } else {
            goto bad;
        }
    } else if (!strcmp(key, "rev")) {
        unsigned ma, mi = 0;
        char tail;
        int n = sscanf(v, "%u.%u%c", &ma, &mi, &tail);
        if ((n != 1 && n != 2) || (ma != 0 && ma != 1 && ma != 2 && ma != 3) || mi > 3)
            goto bad;
        o->rev_major = (int)ma;
        o->rev_minor = (int)mi;
        o->rev_set = 1;
    } else if (!strcmp(key, "flash")) {
        if (parse_size(v, &o->flash_size))
            goto bad;
    } else if (!strcmp(key, "flash_id")) {
        unsigned long id = strtoul(v, &end, 0);
        if (*end || id > 0xFFFFFF)
            goto bad;
        o->flash_id = (uint32_t)id;
    } else if (!strcmp(key, "bridge")) {
        if (!strcasecmp(v, "cp2104"))
            o->bridge = SIM_BRIDGE_CP2104;
        else if (!strcasecmp(v, "ch9102"))
            o->bridge = SIM_BRIDGE_CH9102;
        else if (!strcasecmp(v, "ftdi"))
            o->bridge = SIM_BRIDGE_FTDI;
        else
            goto bad;
    } else if (!strcmp(key, "xtal")) {
        long x = strtol(v, &end, 10);
        if (*end || (x != 40 && x != 26))
            goto bad;
        o->xtal_mhz = (int)x;
    } else if (!strcmp(key, "crypt_cnt")) {
        long x = strtol(v, &end, 0);
        if (*end || x < 0 || x > 0x7F)
            goto bad;
        o->crypt_cnt = (int)x;
    } else if (!strcmp(key, "secure_boot")) {
        if (strcmp(v, "0") && strcmp(v, "1"))
            goto bad;
        o->secure_boot = *v == '1';
    } else if (!strcmp(key, "jtag")) {
        if (!strcmp(v, "disabled"))
            o->jtag_disabled = 1;
        else if (!strcmp(v, "enabled"))
            o->jtag_disabled = 0;
        else
            goto bad;
    } else if (!strcmp(key, "coding")) {
        if (!strcmp(v, "none"))
            o->coding = 0;
        else if (!strcmp(v, "3/4"))
            o->coding = 1;
        else if (!strcmp(v, "repeat"))
            o->coding = 2;
        else
            goto bad;
    } else if (!strcmp(key, "serial")) {
        if (strlen(v) >= sizeof o->serial || strpbrk(v, " \t\r\n"))
            goto bad;
        strcpy(o->serial, v);
    } else if (!strcmp(key, "timing")) {
        const sim_flash_timing *t = wire_timing_find(v);
        if (!t) {
            snprintf(err, errlen, "bad value for timing: '%s' (typ, max or p32)", v);
            return -1;
        }
        o->timing = t;
    } else if (!strcmp(key, "fill")) {
        if (!strcmp(v, "pattern"))
            o->fill_pattern = 1;
        else if (!strcmp(v, "erased"))
            o->fill_pattern = 0;
        else
            goto bad;
    } else if (!strcmp(key, "fault")) {
        return faults_parse(&o->faults, v, err, errlen);
    } else {
        snprintf(err, errlen, "unknown unit option '%s'", key);
        return -1;
    }
    return 0;
bad:
    snprintf(err, errlen, "bad value for %s: '%s'", key, v);
    return -1;
}

void opts_finish(sim_unit_opts *o)
{
    if (!o->flash_id) {
        /* Winbond W25Q-like: EF 40 <log2 size> */
        int l2 = 0;
        while ((1u << l2) < o->flash_size)
            l2++;
        o->flash_id = 0xEFu | 0x40u << 8 | (uint32_t)l2 << 16;
    }
}

int opts_bridge_holds(const sim_unit_opts *o, uint32_t baud)
{
    switch (o->bridge) {
    case SIM_BRIDGE_CH9102:
        return baud <= 4000000;
    case SIM_BRIDGE_FTDI:
        return baud <= 115200 || baud == 250000 || baud == 500000 || baud == 750000 ||
               baud == 1500000;
    default:
        return baud <= 2000000;
    }
}

void opts_bridge_ids(const sim_unit_opts *o, uint16_t *vid, uint16_t *pid, const char **name)
{
    if (o->bridge == SIM_BRIDGE_CH9102) {
        *vid = 0x1a86; *pid = 0x55d4; *name = "CH9102";
    } else if (o->bridge == SIM_BRIDGE_FTDI) {
        *vid = 0x0403; *pid = 0x6015; *name = "FT231X";
    } else {
        *vid = 0x10c4; *pid = 0xea60; *name = "CP2104";
    }
}
