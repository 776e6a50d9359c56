/*
 * The control socket: a Unix stream socket (mode 0600) on which hikectl sends one
 * JSON request per connection and reads one JSON reply. docs/control.md describes
 * the protocol.
 */
#ifndef HIKE_DAEMON_CONTROL_H
#define HIKE_DAEMON_CONTROL_H

struct hiked;

/* Opens daemon.control_socket (replacing a stale socket file). */
int hiked_control_open(struct hiked *d);
/* Closes it and removes the socket file; safe when never opened. */
void hiked_control_close(struct hiked *d);

#endif
