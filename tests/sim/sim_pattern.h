/* sim_pattern.h - the fill pattern of a unit whose flash arrives pre-filled (unit option
 * fill=pattern, esp32sim --prefill): a byte per address that is never 0x00 nor 0xFF, so
 * that both an erase and a program-without-erase (NOR AND) over it show. Shared with the
 * test harness, which requires it intact outside the regions a flash writes. */
#ifndef SIM_PATTERN_H
#define SIM_PATTERN_H

#include <stdint.h>

static inline uint8_t sim_pattern_byte(uint32_t addr)
{
    uint32_t x = addr * 2654435761u;
    x ^= x >> 13;
    uint8_t b = (uint8_t)(x >> 7);
    return b == 0x00 || b == 0xFF ? 0x5A : b;
}

#endif
