/* cli_identify.c - `station identify --port P [--json]`: what the unit is, read without
 * changing anything (repair.h st_repair_identify): chip, package, revision, MAC with its
 * eFuse CRC checked, crystal, flash JEDEC ID, size and status registers, the eFuse
 * security state, the bridge. Recorded like `station flash` (action identify). Exit 0
 * when the unit answered and the record committed, 1 when it did not answer, 2 usage,
 * 3 records. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli_records.h"
#include "cli_repair.h"
#include "detect.h"
#include "text.h"

#define PROG "station identify"

static int usage(FILE *out)
{
    fprintf(out, "usage: " PROG " --port PATH [--json] [--db PATH | --no-record]\n"
                 "                        [--operator NAME] [--no-reset]\n"
                 "  what the unit is, read through the ROM loader; nothing on it changes\n"
                 "  --json          one JSON object on stdout instead of the text\n" ST_CLI_REPAIR_USAGE);
    return out == stdout ? 0 : 2;
}

static int work(void *user, const st_flash_opts *o, st_flash_report *rep, char *did, size_t cap,
                st_err *err)
{
    const char *port = user;
    int rc = st_repair_identify(port, o, rep, err);
    if (rep->chip_known) {
        const st_chip_info *c = &rep->chip;
        char mac[18];
        st_mac_format(c->mac, mac);
        st_efuse_security sec = {0};
        st_efuse_security_decode(c->efuse, &sec);
        snprintf(did, cap, "identified %s, MAC %s (CRC %s), flash 0x%06x %u MB, SR 0x%02x 0x%02x "
                 "0x%02x, crypt_cnt 0x%02x, secure boot %s, JTAG %s, coding %s",
                 c->description, mac, c->mac_crc_bad ? "BAD" : "ok", c->flash_id,
                 c->flash_size >> 20, c->flash_sr[0], c->flash_sr[1], c->flash_sr[2],
                 sec.flash_crypt_cnt, sec.secure_boot_v1 || sec.secure_boot_v2 ? "on" : "off",
                 sec.jtag_disabled ? "disabled" : "enabled", st_coding_scheme_name(sec.coding_scheme));
    }
    return rc;
}

static json_t *sec_json(const st_efuse_security *s)
{
    return json_pack("{s:i, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:s, s:i}", "flash_crypt_cnt",
                     s->flash_crypt_cnt, "flash_encryption", s->flash_encryption, "secure_boot_v1",
                     s->secure_boot_v1, "secure_boot_v2", s->secure_boot_v2, "jtag_disabled",
                     s->jtag_disabled, "console_debug_disabled", s->console_debug_disabled,
                     "dl_encrypt_disabled", s->dl_encrypt_disabled, "dl_decrypt_disabled",
                     s->dl_decrypt_disabled, "coding_scheme", st_coding_scheme_name(s->coding_scheme),
                     "rd_disable", s->rd_disable);
}

static void print_json(const st_flash_report *r, const st_bench_result *res)
{
    const st_chip_info *c = &r->chip;
    st_port_info pi = r->port;
    st_text_clean(pi.bridge);
    st_text_clean(pi.serial);
    char mac[18], hex[16];
    st_mac_format(c->mac, mac);
    st_efuse_security sec = {0};
    st_efuse_security_decode(c->efuse, &sec);
    json_t *ef = json_array();
    for (int i = 0; i < 7; i++) {
        snprintf(hex, sizeof hex, "0x%08x", c->efuse[i]);
        json_array_append_new(ef, json_string(hex));
    }
    char rev[16], fid[16];
    snprintf(rev, sizeof rev, "v%d.%d", c->major, c->minor);
    snprintf(fid, sizeof fid, "0x%06x", c->flash_id);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:i, s:b, s:i, s:s, s:i, "
                          "s:i, s:[i,i,i], s:b, s:o, s:o, s:{s:s, s:i, s:i, s:s, s:s}}",
                          "port", pi.name, "chip", c->chip, "description", c->description,
                          "package", c->package, "revision", rev, "features", c->features,
                          "rev_major", c->major, "rev_minor", c->minor, "mac", mac,
                          "mac_crc", c->mac_crc, "mac_crc_ok", !c->mac_crc_bad,
                          "xtal_mhz", c->xtal_mhz, "flash_id", fid, "flash_manufacturer",
                          (int)(c->flash_id & 0xFF), "flash_size", (json_int_t)c->flash_size,
                          "flash_status", c->flash_sr[0], c->flash_sr[1], c->flash_sr[2],
                          "write_protected", st_flash_sr_protected(c->flash_sr), "security",
                          sec_json(&sec), "efuse", ef, "bridge", "name", pi.bridge, "vid",
                          pi.vid, "pid", pi.pid, "serial", pi.serial, "usb_path", pi.usb_path);
    if (o && res->attempt_id)
        json_object_set_new(o, "attempt", json_integer(res->attempt_id));
    st_cli_put_json(o);
}

static void print_text(const st_flash_report *r)
{
    const st_chip_info *c = &r->chip;
    st_port_info pi = r->port;
    st_text_clean(pi.bridge);
    st_text_clean(pi.serial);
    char mac[18];
    st_mac_format(c->mac, mac);
    st_efuse_security sec = {0};
    st_efuse_security_decode(c->efuse, &sec);
    printf("chip:      %s\n", c->description);
    printf("package:   %s, revision v%d.%d\n", c->package, c->major, c->minor);
    printf("features:  %s\n", c->features);
    if (c->mac_crc_bad)
        printf("MAC:       %s  WARNING: eFuse MAC CRC 0x%02x, the MAC gives 0x%02x: the MAC may be "
               "misread or mis-burnt\n", mac, c->mac_crc, c->mac_crc_want);
    else
        printf("MAC:       %s (eFuse CRC 0x%02x OK)\n", mac, c->mac_crc);
    printf("crystal:   %d MHz\n", c->xtal_mhz);
    if (c->flash_size)
        printf("flash:     JEDEC ID 0x%06x (manufacturer 0x%02x), %u MB\n", c->flash_id,
               c->flash_id & 0xFF, c->flash_size >> 20);
    else
        printf("flash:     JEDEC ID 0x%06x (manufacturer 0x%02x), size code 0x%02x unknown\n",
               c->flash_id, c->flash_id & 0xFF, (c->flash_id >> 16) & 0xFF);
    printf("status:    SR1 0x%02x SR2 0x%02x SR3 0x%02x (%s)\n", c->flash_sr[0], c->flash_sr[1],
           c->flash_sr[2], st_flash_sr_protected(c->flash_sr)
                               ? "write-protected: station unprotect clears it"
                               : "no write protection");
    printf("security:  flash encryption %s (FLASH_CRYPT_CNT 0x%02x), secure boot %s, JTAG %s, "
           "coding scheme %s%s\n",
           sec.flash_encryption ? "ON" : "off", sec.flash_crypt_cnt,
           sec.secure_boot_v1 ? "v1 ON" : sec.secure_boot_v2 ? "v2 ON" : "off",
           sec.jtag_disabled ? "disabled" : "enabled", st_coding_scheme_name(sec.coding_scheme),
           sec.dl_encrypt_disabled ? ", download-mode encryption disabled" : "");
    printf("eFuse:     BLK0 %08x %08x %08x %08x %08x %08x %08x\n", c->efuse[0], c->efuse[1],
           c->efuse[2], c->efuse[3], c->efuse[4], c->efuse[5], c->efuse[6]);
    printf("bridge:    %s (%04x:%04x)%s%s\n", pi.bridge[0] ? pi.bridge : "unknown", pi.vid, pi.pid,
           pi.serial[0] ? " serial " : " no serial number", pi.serial);
}

int st_cli_identify(int argc, char **argv)
{
    static const struct option longopts[] = {
        ST_CLI_REPAIR_LONGOPTS, {"json", no_argument, 0, 'j'}, {0, 0, 0, 0},
    };
    st_cli_repair r = {.prog = PROG, .action = "identify"};
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:hj", longopts, NULL)) != -1) {
        int t = st_cli_repair_opt(&r, c, optarg);
        if (t < 0)
            return 2;
        if (t)
            continue;
        if (c == 'j')
            json = true;
        else if (c == 'h')
            return usage(stdout);
        else
            return usage(stderr);
    }
    if (optind != argc)
        return usage(stderr);
    int status = st_cli_repair_setup(&r, false);
    if (status)
        return status;
    st_flash_report rep;
    st_bench_result res;
    char did[320];
    status = st_cli_repair_run(&r, work, (void *)r.port, &rep, did, sizeof did, &res);
    if (res.verified && rep.chip_known) {
        if (json)
            print_json(&rep, &res);
        else
            print_text(&rep);
    }
    st_cli_repair_done(&r);
    return status;
}
