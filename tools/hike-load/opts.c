/* hike-load's command line: every value is checked here, so that a typo fails before any packet. */
#include "load.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LOAD_VERSION "0.1"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hike-load -t ADDR (--psk SECRET | --cert FILE --key FILE) [options]\n"
            "Sets up IKEv2 SAs (RFC 7296) toward one responder with hike's IKE engine and\n"
            "reports IKE SAs per second, set-up latency percentiles and failures by reason.\n\n"
            "Target and load:\n"
            "  -t, --target ADDR        responder address (IPv4 or IPv6)\n"
            "  -p, --port PORT          responder IKE port (500)\n"
            "      --natt-port PORT     responder NAT-T port (4500)\n"
            "  -n, --count N            IKE SAs to set up (1000)\n"
            "  -w, --window N           set-ups in flight at once (64)\n"
            "  -s, --src ADDR[-ADDR]    local source address or range (repeatable, at most %d\n"
            "                           in all; default: the route's source toward ADDR)\n"
            "  -P, --ports N            local UDP ports per source address (64)\n"
            "      --base-port PORT     first local port (20000)\n"
            "Authentication:\n"
            "      --psk SECRET         pre-shared key (0x... for hex)\n"
            "      --cert FILE          our certificate (PEM or DER); with --key\n"
            "      --key FILE           its private key (PEM)\n"
            "      --ca FILE            trust anchor for the responder's certificate (else the\n"
            "                           responder authenticates with the PSK)\n"
            "      --id ID              our identity (default: our address, or the cert's DN)\n"
            "      --remote-id ID       the identity the responder must show (default any)\n"
            "Proposals:\n"
            "      --ike PROPOSAL       IKE proposal, repeatable (aes256gcm16-prfsha256-x25519)\n"
            "      --esp PROPOSAL       ESP proposal, repeatable (aes256gcm16)\n"
            "      --childless          IKE SAs without a Child SA (RFC 6023)\n"
            "      --vip                ask the responder for a virtual address (CP)\n"
            "      --local-ts TS        our traffic selector (default: our (virtual) address)\n"
            "      --remote-ts TS       the responder's traffic selector (default: its address)\n"
            "      --encap              UDP encapsulation as if behind a NAT (RFC 3948)\n"
            "Run:\n"
            "      --hold               keep the SAs up after the summary until SIGINT/SIGTERM\n"
            "                           (default: delete each SA once it is up)\n"
            "      --timeout SEC        give up on the run after SEC seconds (0: never; 600)\n"
            "      --retransmit-timeout MS  first retransmission (1000)\n"
            "      --retransmit-tries N     retransmissions before giving up (5)\n"
            "      --json               the summary as a JSON object\n"
            "  -v, --verbose            log more (repeat for debug)\n"
            "  -h, --help               this help\n"
            "  -V, --version            version\n\n"
            "Exit status: 0 every SA came up, 1 some failed, 2 usage error, 3 set-up error.\n",
            LOAD_MAX_SRC);
}

static int bad(const char *opt, const char *val, const char *why)
{
    fprintf(stderr, "hike-load: %s '%s': %s\nTry 'hike-load --help'.\n", opt, val, why);
    return 2;
}

static bool parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v < min || v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool readable(const char *path)
{
    struct stat st;
    return !stat(path, &st) && S_ISREG(st.st_mode);
}

/* An address or an inclusive range "a-b" of one family, appended to o->src. */
static int add_src(struct load_opts *o, const char *s)
{
    struct hk_ip_range r;
    char err[128];
    if (hk_ip_range_parse(s, &r, NULL, err, sizeof(err)))
        return bad("--src", s, err);
    struct hk_ip ip = {.family = r.family};
    size_t len = r.family == AF_INET6 ? 16 : 4;
    memcpy(ip.addr, r.start, len);
    for (;;) {
        if (o->nsrc >= LOAD_MAX_SRC)
            return bad("--src", s, "too many source addresses");
        o->src[o->nsrc++] = ip;
        if (!memcmp(ip.addr, r.end, len))
            return 0;
        for (size_t i = len; i-- > 0;) /* next address */
            if (++ip.addr[i])
                break;
    }
}

static int check(const struct load_opts *o)
{
    if (!o->target.family) {
        fprintf(stderr, "hike-load: --target is required\nTry 'hike-load --help'.\n");
        return 2;
    }
    if (!o->psk && !o->cert) {
        fprintf(stderr, "hike-load: give --psk or --cert and --key\n");
        return 2;
    }
    if (!o->cert != !o->key) {
        fprintf(stderr, "hike-load: --cert and --key go together\n");
        return 2;
    }
    if (!o->ca && !o->psk) {
        fprintf(stderr, "hike-load: the responder authenticates with --ca or --psk: give one\n");
        return 2;
    }
    if (o->childless && (o->local_ts || o->remote_ts || o->nesp)) {
        fprintf(stderr, "hike-load: --childless takes no --esp, --local-ts or --remote-ts\n");
        return 2;
    }
    for (size_t i = 0; i < o->nsrc; i++)
        if (o->src[i].family != o->target.family) {
            fprintf(stderr, "hike-load: --src and --target must be of one address family\n");
            return 2;
        }
    size_t nsocks = (o->nsrc ? o->nsrc : 1) * (size_t)o->nports;
    if (nsocks > LOAD_MAX_SOCKS || (uint32_t)o->base_port + o->nports - 1 > 65535) {
        fprintf(stderr, "hike-load: %zu local sockets from port %u: too many\n", nsocks,
                o->base_port);
        return 2;
    }
    return 0;
}

int load_opts_parse(struct load_opts *o, int argc, char **argv)
{
    enum {
        O_NATT = 256,
        O_BASE,
        O_PSK,
        O_CERT,
        O_KEY,
        O_CA,
        O_ID,
        O_RID,
        O_IKE,
        O_ESP,
        O_CHILDLESS,
        O_ENCAP,
        O_HOLD,
        O_TIMEOUT,
        O_RT,
        O_RTRIES,
        O_JSON,
        O_VIP,
        O_LTS,
        O_RTS,
    };
    static const struct option lo[] = {{"target", required_argument, NULL, 't'},
                                       {"port", required_argument, NULL, 'p'},
                                       {"natt-port", required_argument, NULL, O_NATT},
                                       {"count", required_argument, NULL, 'n'},
                                       {"window", required_argument, NULL, 'w'},
                                       {"src", required_argument, NULL, 's'},
                                       {"ports", required_argument, NULL, 'P'},
                                       {"base-port", required_argument, NULL, O_BASE},
                                       {"psk", required_argument, NULL, O_PSK},
                                       {"cert", required_argument, NULL, O_CERT},
                                       {"key", required_argument, NULL, O_KEY},
                                       {"ca", required_argument, NULL, O_CA},
                                       {"id", required_argument, NULL, O_ID},
                                       {"remote-id", required_argument, NULL, O_RID},
                                       {"ike", required_argument, NULL, O_IKE},
                                       {"esp", required_argument, NULL, O_ESP},
                                       {"childless", no_argument, NULL, O_CHILDLESS},
                                       {"encap", no_argument, NULL, O_ENCAP},
                                       {"hold", no_argument, NULL, O_HOLD},
                                       {"timeout", required_argument, NULL, O_TIMEOUT},
                                       {"retransmit-timeout", required_argument, NULL, O_RT},
                                       {"retransmit-tries", required_argument, NULL, O_RTRIES},
                                       {"json", no_argument, NULL, O_JSON},
                                       {"vip", no_argument, NULL, O_VIP},
                                       {"local-ts", required_argument, NULL, O_LTS},
                                       {"remote-ts", required_argument, NULL, O_RTS},
                                       {"verbose", no_argument, NULL, 'v'},
                                       {"help", no_argument, NULL, 'h'},
                                       {"version", no_argument, NULL, 'V'},
                                       {NULL, 0, NULL, 0}};
    *o = (struct load_opts){.port = 500,
                            .natt_port = 4500,
                            .count = 1000,
                            .window = 64,
                            .nports = 64,
                            .base_port = 20000,
                            .timeout_s = 600,
                            .retransmit_ms = 1000,
                            .retransmit_tries = 5,
                            .log_level = HK_LOG_WARN};
    uint32_t v;
    char err[128];
    int opt, rc;
    while ((opt = getopt_long(argc, argv, "t:p:n:w:s:P:vhV", lo, NULL)) != -1) {
        switch (opt) {
        case 't':
            if (hk_ip_parse(optarg, &o->target, err, sizeof(err)))
                return bad("--target", optarg, err);
            break;
        case 'p':
        case O_NATT:
            if (!parse_u32(optarg, 1, 65535, &v))
                return bad(opt == 'p' ? "--port" : "--natt-port", optarg, "not a port (1-65535)");
            *(opt == 'p' ? &o->port : &o->natt_port) = (uint16_t)v;
            break;
        case O_BASE:
            if (!parse_u32(optarg, 1, 65535, &v))
                return bad("--base-port", optarg, "not a port (1-65535)");
            o->base_port = (uint16_t)v;
            break;
        case 'n':
            if (!parse_u32(optarg, 1, 10000000, &o->count))
                return bad("--count", optarg, "not a number from 1 to 10000000");
            break;
        case 'w':
            if (!parse_u32(optarg, 1, 100000, &o->window))
                return bad("--window", optarg, "not a number from 1 to 100000");
            break;
        case 'P':
            if (!parse_u32(optarg, 1, 65535, &o->nports))
                return bad("--ports", optarg, "not a number from 1 to 65535");
            break;
        case 's':
            if ((rc = add_src(o, optarg)))
                return rc;
            break;
        case O_PSK:
            if (!*optarg)
                return bad("--psk", optarg, "empty");
            o->psk = optarg;
            break;
        case O_CERT:
        case O_KEY:
        case O_CA:
            if (!readable(optarg))
                return bad(opt == O_CERT  ? "--cert"
                           : opt == O_KEY ? "--key"
                                          : "--ca",
                           optarg, "not a readable file");
            *(opt == O_CERT ? &o->cert : opt == O_KEY ? &o->key : &o->ca) = optarg;
            break;
        case O_ID:
            o->id = optarg;
            break;
        case O_RID:
            o->remote_id = optarg;
            break;
        case O_IKE:
        case O_ESP:
            if ((opt == O_IKE ? o->nike : o->nesp) >= LOAD_MAX_PROPOSALS)
                return bad(opt == O_IKE ? "--ike" : "--esp", optarg, "too many proposals");
            if (opt == O_IKE)
                o->ike[o->nike++] = optarg;
            else
                o->esp[o->nesp++] = optarg;
            break;
        case O_CHILDLESS:
            o->childless = true;
            break;
        case O_ENCAP:
            o->encap = true;
            break;
        case O_HOLD:
            o->hold = true;
            break;
        case O_TIMEOUT:
            if (!parse_u32(optarg, 0, 86400, &o->timeout_s))
                return bad("--timeout", optarg, "not a number of seconds (0-86400)");
            break;
        case O_RT:
            if (!parse_u32(optarg, 100, 60000, &o->retransmit_ms))
                return bad("--retransmit-timeout", optarg, "not 100-60000 ms");
            break;
        case O_RTRIES:
            if (!parse_u32(optarg, 0, 20, &o->retransmit_tries))
                return bad("--retransmit-tries", optarg, "not 0-20");
            break;
        case O_JSON:
            o->json = true;
            break;
        case O_VIP:
            o->vip = true;
            break;
        case O_LTS:
            o->local_ts = optarg; /* checked with the configuration */
            break;
        case O_RTS:
            o->remote_ts = optarg;
            break;
        case 'v':
            if (o->log_level < HK_LOG_DEBUG)
                o->log_level++;
            break;
        case 'h':
            usage(stdout);
            return 1;
        case 'V':
            printf("hike-load %s\n", LOAD_VERSION);
            return 1;
        default:
            fprintf(stderr, "Try 'hike-load --help'.\n");
            return 2;
        }
    }
    if (optind < argc)
        return bad("argument", argv[optind], "unexpected");
    if (!o->nike)
        o->ike[o->nike++] = "aes256gcm16-prfsha256-x25519";
    int bad_opts = check(o);
    if (!o->nesp)
        o->esp[o->nesp++] = "aes256gcm16";
    return bad_opts;
}
