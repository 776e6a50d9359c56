/*
 * Fuzzes what an authenticated peer can send. Two engines set up an IKE SA with a Child SA and
 * a virtual address (CP) with real keys; the input is then a script of protected messages,
 * their inner payload chains taken from the input and sealed with the SA's real SK keys so
 * they pass the ICV: requests and responses of CREATE_CHILD_SA (new Child SA, Child rekey,
 * IKE rekey, with traffic selectors to narrow), INFORMATIONAL (delete, notifies, empty),
 * fragments of them (RFC 7383 reassembly: any order, duplicates, bad totals), in both
 * directions, between real exchanges the engines run themselves.
 *
 * Octet 0: bit 0 picks the IKE cipher (AES-GCM or AES-CBC with HMAC, padding then counts).
 * Then steps [op x y L] followed by L octets of payload (for ops 0-3 and 7: the first is the
 * first inner payload type, the rest the chain):
 *   op&7 = 0  initiator -> responder request; x%4 exchange (CREATE_CHILD_SA, INFORMATIONAL,
 *             IKE_AUTH, y), x&4: message ID off by (int8_t)y
 *          1  initiator -> responder response to the responder's outstanding request
 *          2  responder -> initiator request (as 0)
 *          3  responder -> initiator response to the initiator's outstanding request
 *          4  commands, x%8: initiator rekeys the IKE SA, rekeys a child, deletes a child; the
 *             responder the same; initiator terminates; initiator adds child y%2
 *          5  the network runs normally for y%8+1 rounds
 *          6  clock + (x<<8|y)*10 ms
 *          7  initiator -> responder SKF fragment number x of y (op&8: INFORMATIONAL, else
 *             CREATE_CHILD_SA) with the current message ID; op&16, while the initiator has a
 *             request out: a fragment of the responder's response to it
 * In the payload, the octets fe ed c0 de become the SPI of the initiator's first Child SA
 * (the SPI a Delete or REKEY_SA names), so seeds stay valid with fresh SAs.
 * FUZZ_POST_AUTH_SEEDS=DIR writes seeds made from the engines' own messages, then exits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/cbb.h"
#include "fw_world.h"
#include "ike/engine_internal.h"
#include "ike/sa.h"
#include "ike/sk_msg.h"

#define PSK       "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define MAX_STEPS 64

static const uint8_t spi_token[4] = {0xfe, 0xed, 0xc0, 0xde};

static const char resp_conf[] =
    "pools = { v4 = { addrs = \"10.99.0.0/28\"; dns = [\"10.99.0.53\"]; };\n"
    "          v6 = { addrs = \"fd00:99::/120\"; }; };\n"
    "connections = {\n"
    "  gcm = { remote_addrs = \"%any\"; pools = [\"v4\", \"v6\"];\n"
    "    local = { auth = \"psk\"; id = \"gw.example.net\"; };\n"
    "    remote = { auth = \"psk\"; id = \"gcm.example.net\"; };\n"
    "    psk = \"" PSK "\"; ike = [\"aes128gcm16-prfsha256-x25519\"];\n"
    "    children = {\n"
    "      lan = { local_ts = [\"10.2.0.0/16\", \"10.3.0.0/24[tcp/443]\"];\n"
    "              remote_ts = [\"10.1.0.0/16\", \"10.99.0.0/28\"];\n"
    "              esp = [\"aes128gcm16\", \"aes128gcm16-x25519\"]; };\n"
    "      v6 = { local_ts = \"fd00:2::/64\"; remote_ts = \"fd00:99::/120\"; mode = \"transport\"; "
    "};\n"
    "    }; };\n"
    "  cbc = { remote_addrs = \"%any\"; pools = [\"v4\"];\n"
    "    local = { auth = \"psk\"; id = \"gw.example.net\"; };\n"
    "    remote = { auth = \"psk\"; id = \"cbc.example.net\"; };\n"
    "    psk = \"" PSK "\"; ike = [\"aes128-sha256-x25519\"];\n"
    "    children = {\n"
    "      lan = { local_ts = \"10.2.0.0/16\"; remote_ts = \"10.0.0.0/8\";\n"
    "              esp = [\"aes128-sha256-x25519\"]; };\n"
    "      v6 = { local_ts = \"fd00:2::/64\"; remote_ts = \"::/0\"; };\n"
    "    }; };\n"
    "};\n";

static const char init_conf[] =
    "connections = {\n"
    "  gcm = { remote_addrs = \"192.0.2.2\"; request_vip = \"both\";\n"
    "    local = { auth = \"psk\"; id = \"gcm.example.net\"; };\n"
    "    remote = { auth = \"psk\"; id = \"gw.example.net\"; };\n"
    "    psk = \"" PSK "\"; ike = [\"aes128gcm16-prfsha256-x25519\"];\n"
    "    children = {\n"
    "      lan = { local_ts = \"0.0.0.0/0\"; remote_ts = \"10.0.0.0/8\";\n"
    "              esp = [\"aes128gcm16\", \"aes128gcm16-x25519\"]; };\n"
    "      v6 = { local_ts = \"::/0\"; remote_ts = \"fd00:2::/64\"; mode = \"transport\"; };\n"
    "    }; };\n"
    "  cbc = { remote_addrs = \"192.0.2.2\"; request_vip = \"ipv4\";\n"
    "    local = { auth = \"psk\"; id = \"cbc.example.net\"; };\n"
    "    remote = { auth = \"psk\"; id = \"gw.example.net\"; };\n"
    "    psk = \"" PSK "\"; ike = [\"aes128-sha256-x25519\"];\n"
    "    children = {\n"
    "      lan = { remote_ts = \"10.2.0.0/24\"; esp = [\"aes128-sha256-x25519\"]; };\n"
    "      v6 = { remote_ts = \"fd00:2::/64\"; };\n"
    "    }; };\n"
    "};\n";

/* The initiator's current IKE SA (established, the newest after a rekey) and its peer. */
static struct ike_sa *current(struct fw_peer *in, struct fw_peer *re, struct ike_sa **peer)
{
    size_t pos = 0;
    struct ike_sa *sa, *best = NULL;
    while ((sa = hk_u64map_next(&in->e.sa_by_id, &pos, NULL)))
        if (sa->state == IKE_SA_ESTABLISHED && (!best || sa->id > best->id))
            best = sa;
    *peer = NULL;
    if (!best)
        return NULL;
    struct ike_sa *r = hk_u64map_get(&re->e.sa_by_spi, engine_spi_key(best->spi_r));
    if (!r || r->initiator || memcmp(r->spi_i, best->spi_i, IKE_SPI_LEN) || !r->sk_out)
        return NULL;
    *peer = r;
    return best;
}

static struct child_sa *first_child(struct fw_peer *p, struct ike_sa *sa)
{
    for (size_t i = 0; sa && i < sa->nchildren; i++) {
        struct child_sa *c = hk_u64map_get(&p->e.child_by_id, sa->children[i]);
        if (c && c->state == CHILD_SA_INSTALLED)
            return c;
    }
    return NULL;
}

/*
 * A protected message with raw content: hdr | SK (or SKF) header | IV | content | padding |
 * pad length | ICV, sealed in place like ike_sk_seal does with encoded payloads.
 */
static int seal_raw(struct hk_sk_cipher *c, const struct ike_hdr *hdr, bool frag, uint8_t first,
                    uint16_t num, uint16_t total, const uint8_t *content, size_t clen,
                    struct hk_cbb *out)
{
    size_t iv_len = hk_sk_cipher_iv_len(c), icv_len = hk_sk_cipher_icv_len(c);
    size_t block = hk_sk_cipher_block_len(c), len_pos, pl_start, pl_len_pos;
    uint8_t *iv;
    int rc = ike_hdr_encode(hdr, frag ? IKE_PL_SKF : IKE_PL_SK, out, &len_pos);
    pl_start = out->len;
    hk_cbb_add_u8(out, first);
    hk_cbb_add_u8(out, 0);
    hk_cbb_reserve(out, &pl_len_pos, 2);
    if (frag) {
        hk_cbb_add_u16(out, num);
        hk_cbb_add_u16(out, total);
    }
    if (!rc && !(rc = hk_cbb_add_space(out, &iv, iv_len)))
        rc = hk_sk_cipher_new_iv(c, iv);
    size_t iv_off = out->len - iv_len, ct_start = out->len;
    hk_cbb_add_bytes(out, content, clen);
    size_t pad = block > 1 ? (block - (clen + 1) % block) % block : 0;
    hk_cbb_add_zeros(out, pad);
    hk_cbb_add_u8(out, (uint8_t)pad);
    hk_cbb_add_zeros(out, icv_len);
    hk_cbb_fill(out, pl_len_pos, 2, out->len - pl_start);
    hk_cbb_fill(out, len_pos, 4, out->len);
    if (!rc)
        rc = hk_cbb_err(out);
    if (!rc) {
        size_t ct_len = out->len - icv_len - ct_start;
        rc = hk_sk_cipher_seal(c, out->buf, iv_off, out->buf + iv_off, out->buf + ct_start, ct_len,
                               out->buf + ct_start + ct_len);
    }
    return rc;
}

struct msg_spec {
    bool from_initiator; /* sealed with the initiator's keys, sent to the responder */
    bool response;
    bool frag;
    uint8_t exchange;
    uint32_t msg_id;
    uint16_t num, total;
};

static void send_raw(struct fw_peer *in, struct fw_peer *re, struct ike_sa *si, struct ike_sa *sr,
                     const struct msg_spec *s, const uint8_t *pl, size_t len)
{
    struct ike_sa *from = s->from_initiator ? si : sr;
    struct fw_peer *to = s->from_initiator ? re : in;
    struct ike_hdr h = {.version = 0x20, .exchange = s->exchange, .msg_id = s->msg_id};
    memcpy(h.spi_i, si->spi_i, IKE_SPI_LEN);
    memcpy(h.spi_r, si->spi_r, IKE_SPI_LEN);
    h.flags = (s->from_initiator ? IKE_FLAG_INITIATOR : 0) | (s->response ? IKE_FLAG_RESPONSE : 0);
    /* The first octet names the first inner payload; fe ed c0 de becomes a Child SA's SPI. */
    uint8_t first = len ? pl[0] : IKE_PL_NONE;
    uint8_t *content = malloc(len ? len : 1);
    if (!content)
        abort();
    size_t clen = len ? len - 1 : 0;
    memcpy(content, pl + (len ? 1 : 0), clen);
    struct child_sa *c = first_child(in, si);
    for (size_t i = 0; c && i + 4 <= clen; i++)
        if (!memcmp(content + i, spi_token, 4)) {
            content[i] = (uint8_t)(c->spi_in >> 24);
            content[i + 1] = (uint8_t)(c->spi_in >> 16);
            content[i + 2] = (uint8_t)(c->spi_in >> 8);
            content[i + 3] = (uint8_t)c->spi_in;
        }
    struct hk_cbb out;
    hk_cbb_init(&out, 256 + clen, 0);
    if (!seal_raw(from->sk_out, &h, s->frag, s->frag && s->num != 1 ? 0 : first, s->num, s->total,
                  content, clen, &out))
        fw_deliver(to, &from->local, &from->remote, out.buf, out.len);
    hk_cbb_free(&out);
    free(content);
}

static void command(struct fw_peer *in, struct fw_peer *re, struct ike_sa *si, struct ike_sa *sr,
                    uint8_t x, uint8_t y)
{
    bool mine = (x % 8) < 3 || (x % 8) >= 6;
    struct fw_peer *p = mine ? in : re;
    struct ike_sa *sa = mine ? si : sr;
    struct child_sa *c = first_child(p, sa);
    switch (x % 8) {
    case 0:
    case 3:
        ike_engine_rekey(&p->e, sa->id);
        break;
    case 1:
    case 4:
        if (c)
            ike_engine_rekey_child(&p->e, c->id);
        break;
    case 2:
    case 5:
        if (c)
            ike_engine_delete_child(&p->e, c->id);
        break;
    case 6:
        ike_engine_terminate(&p->e, sa->id);
        break;
    case 7:
        engine_queue(&p->e, sa, IKE_TASK_NEW_CHILD, y % 2);
        break;
    }
}

/* Sets up the SA: the responder's engine and the initiator's, connection gcm or cbc. */
static void establish(struct fw_world *w, struct fw_peer **in, struct fw_peer **re, bool cbc)
{
    fw_world_init(w);
    *in = fw_peer_add(w, "192.0.2.1", init_conf);
    *re = fw_peer_add(w, "192.0.2.2", resp_conf);
    if (ike_engine_initiate(&(*in)->e, cbc ? "cbc" : "gcm", NULL))
        abort();
    fw_pump(w, 8);
    struct ike_sa *r;
    if (!current(*in, *re, &r))
        abort(); /* the harness must start from an established SA */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fw_world w;
    struct fw_peer *in, *re;
    if (size < 1)
        return 0;
    establish(&w, &in, &re, data[0] & 1);
    data++;
    size--;
    for (unsigned step = 0; size >= 4 && step < MAX_STEPS; step++) {
        uint8_t op = data[0], x = data[1], y = data[2];
        size_t len = data[3] < size - 4 ? data[3] : size - 4;
        const uint8_t *pl = data + 4;
        data += 4 + len;
        size -= 4 + len;
        struct ike_sa *sr, *si = current(in, re, &sr);
        static const uint8_t xs[3] = {IKE_CREATE_CHILD_SA, IKE_INFORMATIONAL, IKE_AUTH};
        struct msg_spec s = {.exchange = x % 4 == 3 ? y : xs[x % 4]};
        switch (op & 7) {
        case 0:
        case 2:
            if (!si)
                break;
            s.from_initiator = (op & 7) == 0;
            s.msg_id = (s.from_initiator ? si->req_next : sr->req_next) +
                       (uint32_t)(int32_t)((x & 4) ? (int8_t)y : 0);
            send_raw(in, re, si, sr, &s, pl, len);
            /* The script speaks for this side: its own requests go on after the injected one. */
            if ((si = current(in, re, &sr))) {
                if (si->req_next < sr->peer_req_next)
                    si->req_next = sr->peer_req_next;
                if (sr->req_next < si->peer_req_next)
                    sr->req_next = si->peer_req_next;
            }
            break;
        case 1:
        case 3: {
            s.from_initiator = (op & 7) == 1;
            struct ike_sa *waiting = s.from_initiator ? sr : si;
            if (!si || !waiting->out.npkts)
                break;
            s.response = true;
            s.msg_id = waiting->out.msg_id;
            if (x % 4 != 3)
                s.exchange = waiting->out.exchange;
            send_raw(in, re, si, sr, &s, pl, len);
            break;
        }
        case 4:
            if (si)
                command(in, re, si, sr, x, y);
            break;
        case 5:
            fw_pump(&w, y % 8 + 1u);
            break;
        case 6:
            fw_advance(&w, ((uint64_t)x << 8 | y) * 10);
            break;
        case 7:
            if (!si)
                break;
            s = (struct msg_spec){.from_initiator = true,
                                  .frag = true,
                                  .exchange = (op & 8) ? IKE_INFORMATIONAL : IKE_CREATE_CHILD_SA,
                                  .msg_id = si->req_next,
                                  .num = x,
                                  .total = y};
            if ((op & 0x10) && si->out.npkts) {
                /* A fragment of the responder's answer to the initiator's own request. */
                s.from_initiator = false;
                s.response = true;
                s.exchange = si->out.exchange;
                s.msg_id = si->out.msg_id;
            }
            send_raw(in, re, si, sr, &s, pl, len);
            break;
        }
        /* After every step: a stale entry is caught where it is made. */
        fw_check(&in->e);
        fw_check(&re->e);
    }
    fw_check(&in->e);
    fw_check(&re->e);
    fw_pump(&w, 8);
    for (int i = 0; i < 6; i++) {
        fw_advance(&w, 600 * 1000);
        fw_pump(&w, 4);
    }
    fw_check(&in->e);
    fw_check(&re->e);
    /* Both close everything (as on SIGTERM): then nothing may be left, least of all a
     * virtual address lease without its SA. */
    ike_engine_shutdown(&in->e);
    ike_engine_shutdown(&re->e);
    for (int i = 0; i < 4; i++) {
        fw_pump(&w, 8);
        fw_advance(&w, 600 * 1000);
    }
    fw_check_empty(&in->e);
    fw_check_empty(&re->e);
    fw_world_free(&w);
    return 0;
}

/* ---- seeds: the engines' own messages, opened and written as script steps ---- */

/* The newest datagram the initiator sent, opened with the responder's keys, as a step. */
static void add_captured(struct hk_cbb *b, struct fw_peer *in, struct fw_peer *re,
                         struct ike_sa *si, struct ike_sa *sr, uint8_t op, uint8_t x)
{
    const struct fw_pkt *k = fw_sent(op == 0 || op == 1 ? in : re, 0);
    if (!k || !si)
        abort();
    uint8_t *buf = malloc(k->len);
    memcpy(buf, k->buf, k->len);
    struct hk_arena a;
    struct ike_msg m;
    struct hk_diag d = {0};
    hk_arena_init(&a, 1 << 20);
    struct hk_sk_cipher *c = op == 0 || op == 1 ? sr->sk_in : si->sk_in;
    if (ike_msg_decode(buf, k->len, &m, &a, &d) || ike_sk_open(c, buf, k->len, &m, &a, &d))
        abort();
    struct hk_cbb chain;
    uint8_t first = IKE_PL_NONE;
    hk_cbb_init(&chain, 1024, 0);
    /* The inner payloads follow the SK payload in m. */
    size_t sk = 0;
    while (sk < m.npayloads && m.payloads[sk].type != IKE_PL_SK)
        sk++;
    if (sk + 1 < m.npayloads)
        ike_payloads_encode(&m.payloads[sk + 1], m.npayloads - sk - 1, &first, &chain);
    struct child_sa *ch = first_child(in, si);
    for (size_t i = 0; ch && i + 4 <= chain.len; i++) {
        uint8_t spi[4] = {(uint8_t)(ch->spi_in >> 24), (uint8_t)(ch->spi_in >> 16),
                          (uint8_t)(ch->spi_in >> 8), (uint8_t)ch->spi_in};
        if (!memcmp(chain.buf + i, spi, 4))
            memcpy(chain.buf + i, spi_token, 4);
    }
    if (chain.len + 1 > 255)
        abort();
    hk_cbb_add_u8(b, op);
    hk_cbb_add_u8(b, x);
    hk_cbb_add_u8(b, 0);
    hk_cbb_add_u8(b, (uint8_t)(chain.len + 1));
    hk_cbb_add_u8(b, first);
    hk_cbb_add_bytes(b, chain.buf, chain.len);
    hk_cbb_free(&chain);
    hk_arena_free(&a);
    free(buf);
}

static void write_seed(const char *dir, const char *name, struct hk_cbb *b)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b->buf, 1, b->len, f) != b->len || fclose(f))
        abort();
    hk_cbb_free(b);
}

/* One seed: the initiator runs command x (op 4), its request is captured (not delivered) and
 * written as an injected request (op 0, exchange from xi), then the network runs. */
static void seed_cmd(const char *dir, const char *name, bool cbc, uint8_t x, uint8_t y, uint8_t xi)
{
    struct fw_world w;
    struct fw_peer *in, *re;
    struct hk_cbb b;
    establish(&w, &in, &re, cbc);
    struct ike_sa *sr, *si = current(in, re, &sr);
    hk_cbb_init(&b, 512, 0);
    hk_cbb_add_u8(&b, cbc);
    size_t before = in->sent;
    command(in, re, si, sr, x, y);
    if (in->sent == before)
        abort();
    add_captured(&b, in, re, si, sr, 0, xi);
    static const uint8_t pump[4] = {5, 0, 7, 0};
    hk_cbb_add_bytes(&b, pump, 4);
    write_seed(dir, name, &b);
    fw_world_free(&w);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *dir = getenv("FUZZ_POST_AUTH_SEEDS");
    if (!dir)
        return 0;
    seed_cmd(dir, "rekey_ike_gcm", false, 0, 0, 0);
    seed_cmd(dir, "rekey_ike_cbc", true, 0, 0, 0);
    seed_cmd(dir, "rekey_child_gcm", false, 1, 0, 0);
    seed_cmd(dir, "rekey_child_cbc", true, 1, 0, 0);
    seed_cmd(dir, "delete_child", false, 2, 0, 1);
    seed_cmd(dir, "new_child_lan", false, 7, 0, 0);
    seed_cmd(dir, "new_child_v6_transport", false, 7, 1, 0);
    seed_cmd(dir, "new_child_cbc", true, 7, 1, 0);
    seed_cmd(dir, "delete_ike", false, 6, 0, 1);
    /* Hand-made: an empty INFORMATIONAL (liveness), fragments of one in any order with a
     * duplicate, and a response to the responder's own IKE rekey. */
    struct hk_cbb b;
    hk_cbb_init(&b, 64, 0);
    static const uint8_t dpd[] = {0, 0, 1, 0, 0, 5, 0, 7, 0};
    hk_cbb_add_bytes(&b, dpd, sizeof(dpd));
    write_seed(dir, "informational_empty", &b);
    hk_cbb_init(&b, 64, 0);
    /* N(INITIAL_CONTACT) split in two: fragment 2 of 2, then 1 of 2 twice. Fragment 1 carries
     * the first inner type (41, Notify) and "00 00 00 08", fragment 2 "00 00 40 00" after an
     * ignored first octet. */
    static const uint8_t frags[] = {0, 15, 2,    2,    5,    0,    0x00, 0x00, 0x40, 0x00, 15,
                                    1, 2,  5,    41,   0x00, 0x00, 0x00, 0x08, 15,   1,    2,
                                    5, 41, 0x00, 0x00, 0x00, 0x08, 5,    0,    3,    0};
    hk_cbb_add_bytes(&b, frags, sizeof(frags));
    write_seed(dir, "fragments_informational", &b);
    hk_cbb_init(&b, 64, 0);
    static const uint8_t resp[] = {0, 4, 3, 0, 0, 1, 0, 0, 1, 0, 5, 0, 7, 0};
    hk_cbb_add_bytes(&b, resp, sizeof(resp));
    write_seed(dir, "empty_response_to_rekey", &b);
    exit(0);
}
