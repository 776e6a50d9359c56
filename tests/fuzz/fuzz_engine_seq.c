/*
 * Drives a responder engine through sequences of real datagrams from several addresses and
 * ports. An initiator engine in the same process makes the messages (IKE_SA_INIT, its
 * retransmissions, IKE_AUTH with a right or a wrong PSK, from port 500 or floated to 4500,
 * CREATE_CHILD_SA, INFORMATIONAL); the fuzz input is a script that says which recorded
 * datagram goes where, from which source, mutated or not, and when the clock moves.
 *
 * Script: steps of 4 octets [op a b c] (op 7 is followed by a octets of raw datagram):
 *   op&7 = 0  initiator starts connection a%4 (good, bad PSK, good with encap, bad with encap)
 *          1  initiator's a-th newest datagram to the responder, source from b (below)
 *          2  responder's a-th newest datagram to the initiator, as addressed
 *          3  as 1, as sent, with octet b of it xored with c|1 (op&8: cut to b octets)
 *          4  clock + (a<<8|b)*10 ms, timers run
 *          5  the network runs normally for a%8+1 rounds
 *          6  commands: b%4 = 0 terminate, 1 rekey IKE, 2 rekey a child, on the initiator's
 *             SA number a; 3 terminate the responder's SA number a
 *          7  a raw datagram of a octets to the responder, source from b
 * Source b: b&3 address (as sent, 198.51.100.7, 203.0.113.9, 2001:db8::9), b>>2&3 port
 * (as sent, 500, 4500, 1024+c); the responder's local port follows a forced 500 or 4500.
 *
 * After each input the engines' tables are checked (fw_check: every entry points to a live
 * SA, the half-open count matches its table), and after a long quiet time the responder must
 * have no half-open SA left.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_world.h"
#include "ike/sa.h"

#define PSK_GOOD  "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define PSK_BAD   "0xffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
#define MAX_STEPS 96

static const char resp_conf[] =
    "daemon = { cookie_threshold = 4; half_open_timeout = 30; retransmit_tries = 2; };\n"
    "connections = { gw = {\n"
    "  remote_addrs = \"%any\";\n"
    "  local = { auth = \"psk\"; id = \"gw.example.net\"; };\n"
    "  remote = { auth = \"psk\"; id = \"%any\"; };\n"
    "  psk = \"" PSK_GOOD "\";\n"
    "  ike = [\"aes128gcm16-prfsha256-x25519\"];\n"
    "  children = { lan = { local_ts = \"10.2.0.0/16\"; remote_ts = \"10.1.0.0/16\";\n"
    "                       esp = [\"aes128gcm16\"]; }; };\n"
    "}; };\n";

#define INIT_CONN(name, psk, extra)                                                                \
    "  " name " = {\n"                                                                             \
    "    remote_addrs = \"192.0.2.2\"; " extra "\n"                                                \
    "    local = { auth = \"psk\"; id = \"alice.example.net\"; };\n"                               \
    "    remote = { auth = \"psk\"; id = \"gw.example.net\"; };\n"                                 \
    "    psk = \"" psk "\";\n"                                                                     \
    "    ike = [\"aes128gcm16-prfsha256-x25519\"];\n"                                              \
    "    children = { lan = { local_ts = \"10.1.0.0/16\"; remote_ts = \"10.2.0.0/16\";\n"          \
    "                         esp = [\"aes128gcm16\"]; }; };\n"                                    \
    "  };\n"

static const char init_conf[] =
    "daemon = { retransmit_tries = 2; };\n"
    "connections = {\n" INIT_CONN("good", PSK_GOOD, "") INIT_CONN("bad", PSK_BAD, "")
        INIT_CONN("nat", PSK_GOOD, "encap = true;")
            INIT_CONN("badnat", PSK_BAD, "encap = true;") "};\n";

static const char *const conns[] = {"good", "bad", "nat", "badnat"};
static const char *const addrs[] = {NULL, "198.51.100.7", "203.0.113.9", "2001:db8::9"};

/* The source and the responder's local address for a datagram, as step octets b, c say. */
static void source(const struct fw_pkt *k, const struct fw_peer *r, uint8_t b, uint8_t c,
                   struct sockaddr_storage *src, struct sockaddr_storage *dst)
{
    *dst = r->addr;
    fw_set_port(dst, k ? fw_port(&k->dst) : 500);
    if (k)
        *src = k->src;
    else
        fw_addr(src, "192.0.2.1", 500);
    if (b & 3) {
        uint16_t port = fw_port(src);
        fw_addr(src, addrs[b & 3], port);
        if (src->ss_family == AF_INET6) /* the kernel delivers it on an IPv6 address */
            fw_addr(dst, "2001:db8::2", fw_port(dst));
    }
    switch ((b >> 2) & 3) {
    case 1:
        fw_set_port(src, 500);
        fw_set_port(dst, 500);
        break;
    case 2:
        fw_set_port(src, 4500);
        fw_set_port(dst, 4500);
        break;
    case 3:
        fw_set_port(src, (uint16_t)(1024 + c));
        break;
    }
}

static struct ike_sa *nth_sa(struct fw_peer *p, size_t n)
{
    size_t count = hk_u64map_count(&p->e.sa_by_id), pos = 0;
    struct ike_sa *sa = NULL;
    if (!count)
        return NULL;
    n %= count;
    do
        sa = hk_u64map_next(&p->e.sa_by_id, &pos, NULL);
    while (sa && n--);
    return sa;
}

static void command(struct fw_peer *in, struct fw_peer *re, uint8_t a, uint8_t b)
{
    struct ike_sa *sa = nth_sa((b & 3) == 3 ? re : in, a);
    if (!sa)
        return;
    switch (b & 3) {
    case 0:
        ike_engine_terminate(&in->e, sa->id);
        break;
    case 1:
        ike_engine_rekey(&in->e, sa->id);
        break;
    case 2:
        if (sa->nchildren)
            ike_engine_rekey_child(&in->e, sa->children[0]);
        break;
    case 3:
        ike_engine_terminate(&re->e, sa->id);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fw_world w;
    fw_world_init(&w);
    struct fw_peer *in = fw_peer_add(&w, "192.0.2.1", init_conf);
    struct fw_peer *re = fw_peer_add(&w, "192.0.2.2", resp_conf);
    struct sockaddr_storage src, dst;
    for (unsigned step = 0; size >= 4 && step < MAX_STEPS; step++) {
        uint8_t op = data[0], a = data[1], b = data[2], c = data[3];
        data += 4;
        size -= 4;
        const struct fw_pkt *k;
        switch (op & 7) {
        case 0:
            ike_engine_initiate(&in->e, conns[a % 4], NULL);
            break;
        case 1:
            if ((k = fw_sent(in, a % FW_POOL))) {
                source(k, re, b, c, &src, &dst);
                fw_deliver(re, &src, &dst, k->buf, k->len);
            }
            break;
        case 2:
            if ((k = fw_sent(re, a % FW_POOL))) {
                dst = in->addr;
                fw_set_port(&dst, fw_port(&k->dst));
                fw_deliver(in, &k->src, &dst, k->buf, k->len);
            }
            break;
        case 3:
            if ((k = fw_sent(in, a % FW_POOL)) && k->len) {
                uint8_t *m = malloc(k->len);
                size_t len = (op & 8) && b < k->len ? b : k->len;
                memcpy(m, k->buf, k->len);
                m[b % k->len] ^= c | 1;
                source(k, re, 0, 0, &src, &dst);
                fw_deliver(re, &src, &dst, m, len);
                free(m);
            }
            break;
        case 4:
            fw_advance(&w, ((uint64_t)a << 8 | b) * 10);
            break;
        case 5:
            fw_pump(&w, a % 8 + 1u);
            break;
        case 6:
            command(in, re, a, b);
            break;
        case 7: {
            size_t len = a < size ? a : size;
            source(NULL, re, b, c, &src, &dst);
            fw_deliver(re, &src, &dst, data, len);
            data += len;
            size -= len;
            break;
        }
        }
    }
    fw_check(&re->e);
    fw_check(&in->e);
    /* Long quiet: every half-open SA times out, every unanswered request gives up. */
    for (int i = 0; i < 8; i++)
        fw_advance(&w, 600 * 1000);
    fw_check(&re->e);
    fw_check(&in->e);
    if (re->e.nhalf_open != 0 && !getenv("FUZZ_NO_CHECK")) {
        fprintf(stderr, "fuzz invariant broken: %u half-open SAs left after an hour and more\n",
                re->e.nhalf_open);
        abort();
    }
    /* Both close what is left (SIGTERM): after the retransmissions give up, nothing remains. */
    ike_engine_shutdown(&in->e);
    ike_engine_shutdown(&re->e);
    for (int i = 0; i < 4; i++) {
        fw_pump(&w, 8);
        fw_advance(&w, 600 * 1000);
    }
    fw_check_empty(&re->e);
    fw_check_empty(&in->e);
    fw_world_free(&w);
    return 0;
}
