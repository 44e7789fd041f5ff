/* sim_port.h - how a slot is reachable: a pseudo-terminal published as DIR/slotK (with
 * the DIR/slotK.usb bridge sidecar), a raw TCP listener on 127.0.0.1 (DIR/slotK.tcp), or
 * an RFC 2217 serial server on 127.0.0.1 (DIR/slotK.rfc2217).
 * A port "attaches" when a host opens it and "detaches" when the host closes it; for PTY
 * and TCP the simulator turns those into the open/close reset model of
 * tests/sim/README.md; an RFC 2217 port carries DTR/RTS instead (sim_rfc2217.h). */
#ifndef SIM_PORT_H
#define SIM_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_rfc2217.h"

typedef enum { SIM_PORT_PTY, SIM_PORT_TCP, SIM_PORT_RFC2217 } sim_port_kind;

typedef struct sim_port {
    sim_port_kind kind;
    char link[512];       /* DIR/slotK (PTY) */
    char side[520];       /* DIR/slotK.usb or DIR/slotK.tcp */
    bool up;
    bool attached;        /* a host has the port open */
    int io;               /* fd to read/write the host's bytes (-1 when detached) */
    /* PTY */
    int master;
    char slave[64];
    int wd;               /* inotify watch on the slave, -1 when not available */
    int opens;            /* open file descriptions on the slave (inotify count) */
    /* TCP and RFC 2217 */
    int lfd;
    int port;
    sim_rfc rfc;          /* RFC 2217: the access server's session and adapter state */
} sim_port;

/* Identity written to the .usb sidecar. */
typedef struct sim_usb_id {
    uint16_t vid, pid;
    const char *serial, *bridge;
    int slot;
} sim_usb_id;

/* PTY: create, set the slave raw, publish sidecar then symlink. inotify_fd may be -1.
 * Returns 0 or -1 with a message. */
int pty_up(sim_port *p, const char *dir, int slot, const sim_usb_id *id, int inotify_fd,
           char *err, size_t errlen);
/* Unpublish (symlink first) and close: the host sees a hang-up. */
void pty_down(sim_port *p, int inotify_fd);
/* Handle an inotify event for this port's watch: +1 open, -1 close. Returns 1 if the
 * port became attached, -1 if it became detached, 0 otherwise. */
int pty_on_event(sim_port *p, int delta);
/* Without inotify: re-derive the state from the master's hang-up flag. Same return. */
int pty_poll_state(sim_port *p);
/* Host gone: drop bytes queued in either direction so the next opener starts clean. */
void pty_flush(sim_port *p);

/* TCP: listen on 127.0.0.1:port, write DIR/slotK.tcp ("socket://127.0.0.1:PORT"), or
 * with kind SIM_PORT_RFC2217 DIR/slotK.rfc2217 ("rfc2217://127.0.0.1:PORT"). */
int tcp_up(sim_port *p, const char *dir, int slot, int port, sim_port_kind kind, char *err,
           size_t errlen);
void tcp_down(sim_port *p);
/* Listener readable: accept; returns 1 when attached, 0 if the connection was refused
 * (one host at a time) or nothing was pending. */
int tcp_accept(sim_port *p);
/* The host hung up: close the connection. */
void tcp_detach(sim_port *p);
/* The attached host has closed its end and nothing it sent is left unread (its hang-up
 * just not seen yet): a new connection is the same host coming back, not a second one. */
bool tcp_peer_gone(const sim_port *p);

#endif
