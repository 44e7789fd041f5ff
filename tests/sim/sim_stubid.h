/* sim_stubid.h - which flasher stub a host uploaded, recognised by a digest of its text
 * segment (the RAM segment holding the entry point): the legacy esptool stub, Espressif's
 * esp-flasher-stub, or a stub built for another chip (which crashes an ESP32). */
#ifndef SIM_STUBID_H
#define SIM_STUBID_H

#include <stddef.h>
#include <stdint.h>

enum sim_stub_flavor { SIM_STUB_LEGACY, SIM_STUB_NEW };

typedef struct sim_stub_id {
    int flavor;            /* enum sim_stub_flavor */
    const char *chip;      /* "esp32", or the chip the image was built for */
    const char *known_as;  /* "esptool-js 0.7.0 esp32" ..., or NULL for an unknown image */
} sim_stub_id;

/* Identify a text segment: a known ESP32 stub gets its flavor; a known stub of another chip
 * gets that chip; an unknown image (a test's hand-made "stub", another legacy build) runs
 * as the legacy stub, the one the simulator modelled first. */
sim_stub_id stub_identify(const uint8_t *text, size_t len);

/* ESP32 internal instruction RAM (SRAM0, the SRAM1 IRAM alias, RTC FAST memory:
 * 0x40070000-0x400C1FFF): the only place a jump can run code. */
static inline int esp32_iram(uint32_t a)
{
    return a >= 0x40070000u && a < 0x400C2000u;
}

#endif
