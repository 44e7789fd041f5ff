/* sim_faults.h - fault specs (tests/sim/README.md, "Faults") and their injection helpers.
 * Counters: -1 = every time, 0 = off, N > 0 = the next N occurrences. Counters live in
 * the unit, so they survive port resets: "ram_checksum:1" fails once, a retry passes. */
#ifndef SIM_FAULTS_H
#define SIM_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sim_faults {
    int ram_checksum;       /* ROM MEM_DATA blocks answered 01 07 00 00 */
    int flash_write_error;  /* write sessions that fail (stub C4 deferred / ROM 01 08) */
    int inflate_error;      /* DEFL sessions whose first block is "corrupt" (C7 / 01 0B) */
    int bitflip;            /* write sessions that get one bit flipped after writing */
    int blank;              /* write sessions whose data never lands (reads 0xFF) */
    bool no_sync;           /* not in download mode: normal boot banner, no SYNC answer */
    int disconnect_pct;     /* -1 off; unit vanishes after this % of the announced write */
    double noise_rate;      /* probability of a garbage burst before each reply frame */
    int slow_ms;            /* every reply delayed */
    bool wrong_chip;        /* magic 0x00000009 (ESP32-S3) */
    bool mac_crc;           /* the eFuse MAC CRC byte does not match the MAC */
    uint32_t baud_max;      /* 0 off; above it the bridge garbles the unit's replies */
    bool write_protect;     /* the flash arrives with status bits wp_bits set (non-volatile) */
    uint32_t wp_bits;       /* SR1 | SR2 << 8 | SR3 << 16 */
    int brownout;           /* app boots that brown out when the app starts (then reboot) */
    int boot_panic;         /* app boots that panic (Guru Meditation, then reboot) */
    int boot_loop;          /* app boots reset by the watchdog before the app is up */
    int silent;             /* boots that print nothing at all */
    int read_bitflip;       /* stub READ_FLASH runs whose first packet reaches the host with
                               one bit flipped (the stub's MD5 covers the true bytes) */
    int rx_drop;            /* ROM FLASH_DATA frames above 115200 baud whose last bytes and
                               frame end the ROM's receive path loses (§14.1) */
} sim_faults;

/* Parse one "NAME[:ARG]" and add it to f. Returns 0, or -1 with a message in err. */
int faults_parse(sim_faults *f, const char *spec, char *err, size_t errlen);
/* Consume one occurrence of a counter fault: true if it fires now. */
bool fault_take(int *counter);
/* Space-separated summary for logs ("ram_checksum:1 bitflip"), "" when none. */
void faults_describe(const sim_faults *f, char *out, size_t cap);

/* Deterministic per-unit PRNG (xorshift64*), so --seed reproduces a run. */
uint64_t sim_rand(uint64_t *state);
/* Fill out with 1..8 garbage bytes that can never form or end a frame (no C0/DB).
 * Returns the count. */
size_t faults_noise_burst(uint64_t *rng, uint8_t *out);
/* What a bridge that cannot hold the rate does to bytes: flip bits in some of them. */
void faults_garble(uint64_t *rng, uint8_t *buf, size_t n);

#endif
