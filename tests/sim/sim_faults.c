/* sim_faults.c - fault parsing and the byte-level injections (see sim_faults.h). */
#include "sim_faults.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_count(const char *arg, int *out)
{
    if (!arg) {
        *out = -1;
        return 0;
    }
    char *end;
    long v = strtol(arg, &end, 0);
    if (*end || v < 1 || v > 1000000)
        return -1;
    *out = (int)v;
    return 0;
}

int faults_parse(sim_faults *f, const char *spec, char *err, size_t errlen)
{
    char name[32];
    const char *colon = strchr(spec, ':');
    size_t nl = colon ? (size_t)(colon - spec) : strlen(spec);
    const char *arg = colon ? colon + 1 : NULL;
    if (nl == 0 || nl >= sizeof name)
        goto bad;
    memcpy(name, spec, nl);
    name[nl] = 0;
    char *end = NULL;
    if (!strcmp(name, "rx_drop")) {
        if (!arg)
            f->rx_drop = 1;
        else if (!strcmp(arg, "always"))
            f->rx_drop = -1;
        else if (parse_count(arg, &f->rx_drop))
            goto bad;
    } else if (!strcmp(name, "ram_checksum")) {
        if (!arg)
            f->ram_checksum = 1;
        else if (parse_count(arg, &f->ram_checksum))
            goto bad;
    } else if (!strcmp(name, "flash_write_error")) {
        if (parse_count(arg, &f->flash_write_error))
            goto bad;
    } else if (!strcmp(name, "inflate_error")) {
        if (parse_count(arg, &f->inflate_error))
            goto bad;
    } else if (!strcmp(name, "bitflip")) {
        if (parse_count(arg, &f->bitflip))
            goto bad;
    } else if (!strcmp(name, "read_bitflip")) {
        if (parse_count(arg, &f->read_bitflip))
            goto bad;
    } else if (!strcmp(name, "blank")) {
        if (parse_count(arg, &f->blank))
            goto bad;
    } else if (!strcmp(name, "no_sync")) {
        if (arg)
            goto bad;
        f->no_sync = true;
    } else if (!strcmp(name, "disconnect")) {
        long v = arg ? strtol(arg, &end, 10) : -1;
        if (!arg || *end || v < 0 || v > 100)
            goto bad;
        f->disconnect_pct = (int)v;
    } else if (!strcmp(name, "noise")) {
        double r = arg ? strtod(arg, &end) : 0.05;
        if ((arg && *end) || r <= 0 || r > 1)
            goto bad;
        f->noise_rate = r;
    } else if (!strcmp(name, "slow")) {
        long v = arg ? strtol(arg, &end, 10) : -1;
        if (!arg || *end || v < 0 || v > 60000)
            goto bad;
        f->slow_ms = (int)v;
    } else if (!strcmp(name, "wrong_chip")) {
        if (arg)
            goto bad;
        f->wrong_chip = true;
    } else if (!strcmp(name, "mac_crc")) {
        if (arg)
            goto bad;
        f->mac_crc = true;
    } else if (!strcmp(name, "baud_max")) {
        long v = arg ? strtol(arg, &end, 10) : -1;
        if (!arg || *end || v < 300)
            goto bad;
        f->baud_max = (uint32_t)v;
    } else if (!strcmp(name, "write_protect")) {
        unsigned long v = arg ? strtoul(arg, &end, 0) : 0x1C; /* BP0-2: the whole chip */
        if ((arg && *end) || v == 0 || v > 0xFFFFFF)
            goto bad;
        f->write_protect = true;
        f->wp_bits = (uint32_t)v;
    } else if (!strcmp(name, "brownout")) {
        if (parse_count(arg, &f->brownout))
            goto bad;
    } else if (!strcmp(name, "boot_panic")) {
        if (parse_count(arg, &f->boot_panic))
            goto bad;
    } else if (!strcmp(name, "boot_loop")) {
        if (parse_count(arg, &f->boot_loop))
            goto bad;
    } else if (!strcmp(name, "silent")) {
        if (parse_count(arg, &f->silent))
            goto bad;
    } else {
        snprintf(err, errlen, "unknown fault '%s'", name);
        return -1;
    }
    return 0;
bad:
    snprintf(err, errlen, "bad fault spec '%s'", spec);
    return -1;
}

bool fault_take(int *counter)
{
    if (*counter < 0)
        return true;
    if (*counter == 0)
        return false;
    (*counter)--;
    return true;
}

static void add(char *out, size_t cap, const char *name, int v)
{
    size_t l = strlen(out);
    if (v == 0)
        return;
    if (v < 0)
        snprintf(out + l, cap - l, "%s%s", l ? " " : "", name);
    else
        snprintf(out + l, cap - l, "%s%s:%d", l ? " " : "", name, v);
}

void faults_describe(const sim_faults *f, char *out, size_t cap)
{
    out[0] = 0;
    add(out, cap, "ram_checksum", f->ram_checksum);
    add(out, cap, "rx_drop", f->rx_drop);
    add(out, cap, "flash_write_error", f->flash_write_error);
    add(out, cap, "inflate_error", f->inflate_error);
    add(out, cap, "bitflip", f->bitflip);
    add(out, cap, "blank", f->blank);
    add(out, cap, "read_bitflip", f->read_bitflip);
    add(out, cap, "no_sync", f->no_sync ? -1 : 0);
    if (f->disconnect_pct >= 0)
        add(out, cap, "disconnect", f->disconnect_pct);
    if (f->noise_rate > 0) {
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%snoise:%g", l ? " " : "", f->noise_rate);
    }
    add(out, cap, "slow", f->slow_ms);
    add(out, cap, "wrong_chip", f->wrong_chip ? -1 : 0);
    add(out, cap, "mac_crc", f->mac_crc ? -1 : 0);
    add(out, cap, "baud_max", (int)f->baud_max);
    if (f->write_protect) {
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%swrite_protect:0x%06x", l ? " " : "", f->wp_bits);
    }
    add(out, cap, "brownout", f->brownout);
    add(out, cap, "boot_panic", f->boot_panic);
    add(out, cap, "boot_loop", f->boot_loop);
    add(out, cap, "silent", f->silent);
}

uint64_t sim_rand(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

size_t faults_noise_burst(uint64_t *rng, uint8_t *out)
{
    size_t n = 1 + sim_rand(rng) % 8;
    for (size_t i = 0; i < n; i++) {
        uint8_t b;
        do
            b = (uint8_t)sim_rand(rng);
        while (b == 0xC0 || b == 0xDB);
        out[i] = b;
    }
    return n;
}

void faults_garble(uint64_t *rng, uint8_t *buf, size_t n)
{
    /* at a rate the bridge cannot hold every byte is sampled wrong somewhere */
    for (size_t i = 0; i < n; i++)
        buf[i] ^= (uint8_t)(1u << (sim_rand(rng) % 8));
}
