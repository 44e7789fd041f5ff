/* sim_rfc2217.h - the access-server side of RFC 2217 (Telnet COM Port Control) as
 * pyserial, esptool and ser2net speak it: Telnet option negotiation (BINARY, SGA and
 * COM-PORT-OPTION accepted, everything else refused), data with IAC doubled both ways,
 * and the COM-PORT-OPTION subnegotiations, each answered with code + 100 and the value in
 * force. Baud, DTR and RTS are handed to the caller through callbacks, in stream order
 * with the data (so bytes sent before a line change reach the unit before it).
 * Transport-agnostic: the caller reads the socket, feeds rfc_feed, and writes what
 * rfc_flush has pending. Contract: tests/sim/README.md ("RFC 2217"). */
#ifndef SIM_RFC2217_H
#define SIM_RFC2217_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct sim_rfc_cb {
    void *ctx;
    void (*data)(void *ctx, const uint8_t *d, size_t n);   /* bytes for the unit's UART */
    void (*lines)(void *ctx, bool dtr, bool rts);          /* DTR/RTS changed */
    void (*baud)(void *ctx, uint32_t baud);                /* adapter rate changed */
} sim_rfc_cb;

typedef struct sim_rfc {
    /* decoder */
    int st;                   /* telnet receive state */
    uint8_t opt_cmd;          /* WILL/WONT/DO/DONT awaiting its option byte */
    uint8_t sb[80];           /* subnegotiation being received */
    size_t sb_len;
    bool us[256], him[256];   /* options enabled on our side / on the client's side */
    /* adapter state (what the client set) */
    uint32_t baud;
    bool dtr, rts;
    uint8_t datasize, parity, stopsize, flow;
    /* bytes to send to the client (already escaped) */
    uint8_t *out;
    size_t out_len, out_cap;
    uint64_t rng;             /* garbling when the adapter's rate is not the unit's */
    unsigned long commands;   /* COM-PORT-OPTION subnegotiations handled (for the log) */
} sim_rfc;

/* A new client: negotiation state cleared; the adapter keeps its rate and lines. */
void rfc_reset_session(sim_rfc *r);
/* Feed bytes read from the client; callbacks fire in stream order. */
void rfc_feed(sim_rfc *r, const uint8_t *d, size_t n, const sim_rfc_cb *cb);
/* Queue bytes the unit sent at unit_baud: IAC doubled; garbled when the adapter is set
 * to another rate (more than 3 % off), as a UART sampling at the wrong rate would. */
void rfc_queue_data(sim_rfc *r, const uint8_t *d, size_t n, uint32_t unit_baud);
/* Write what is pending to fd (non-blocking). -1 when the client is gone. */
int rfc_flush(sim_rfc *r, int fd);
static inline bool rfc_pending(const sim_rfc *r) { return r->out_len > 0; }
void rfc_free(sim_rfc *r);

#endif
