/* sim_opts.h - the identity and faults of one virtual unit, set by --unit-opt K:KEY=VALUE
 * or a scenario line (keys: mac pkg rev flash flash_id bridge xtal crypt_cnt secure_boot jtag coding serial timing fill fault). */
#ifndef SIM_OPTS_H
#define SIM_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include "sim_faults.h"
#include "sim_wire.h"

enum sim_bridge { SIM_BRIDGE_CP2104, SIM_BRIDGE_CH9102, SIM_BRIDGE_FTDI };

typedef struct sim_unit_opts {
    uint8_t mac[6];
    int pkg;              /* eFuse package code: 0 D0WDQ6, 1 D0WD */
    int rev_major, rev_minor;
    int rev_set;          /* rev given explicitly (else pkg decides) */
    uint32_t flash_size;  /* bytes */
    uint32_t flash_id;    /* JEDEC RDID value (mfr | type<<8 | capacity<<16); 0 = from size */
    int bridge;           /* enum sim_bridge */
    int xtal_mhz;         /* 40 or 26 */
    /* eFuse security state (BLK0): FLASH_CRYPT_CNT (word 0 [26:20]), ABS_DONE_0 secure
     * boot (word 6 b4), JTAG_DISABLE (word 6 b6), coding scheme (word 6 [1:0]) */
    int crypt_cnt, secure_boot, jtag_disabled, coding;
    char serial[32];      /* USB serial; "" = SIM<slot><seq> */
    const sim_flash_timing *timing; /* flash timing preset (--realism) */
    int fill_pattern;     /* fill=pattern: flash arrives holding sim_pattern_byte, not erased */
    sim_faults faults;
} sim_unit_opts;

/* Defaults: ESP32-D0WD-V3 rev 3.0, 16 MB Winbond-like flash (timing typ), CP2104, 40 MHz, MAC
 * 24:0a:c4:00:<slot>:<seq> (unique per unit), no faults. */
void opts_default(sim_unit_opts *o, int slot, int seq);
/* Apply one "KEY=VALUE". Returns 0, or -1 with a message in err. */
int opts_apply(sim_unit_opts *o, const char *kv, char *err, size_t errlen);
/* Final derivations (flash_id from size, rev from pkg); call after all opts_apply. */
void opts_finish(sim_unit_opts *o);
/* Can the unit's USB bridge carry this rate? CP2104 up to 2 Mbaud, CH9102 up to 4 Mbaud,
 * the FTDI chip of some M5 units only 250000/500000/750000/1500000 above 115200. */
int opts_bridge_holds(const sim_unit_opts *o, uint32_t baud);
/* Bridge identity for the .usb sidecar. */
void opts_bridge_ids(const sim_unit_opts *o, uint16_t *vid, uint16_t *pid, const char **name);

#endif
