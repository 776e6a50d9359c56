/*
 * IKE identities as written in hiked.conf ("vpn.example.com", "dn:CN=gw,O=Example,C=CH",
 * "keyid:0a1b2c") parsed into the ID payload's type and Identification Data (RFC 7296 3.5).
 * Syntax in docs/config.md.
 */
#ifndef HIKE_CONFIG_ID_CONF_H
#define HIKE_CONFIG_ID_CONF_H

#include <stddef.h>
#include <stdint.h>

/* Values 1..11 are the IKEv2 ID types; AUTO and ANY are configuration-only. */
enum hk_id_type {
    HK_ID_AUTO = 0,   /* not configured: the daemon picks (local address, or certificate DN) */
    HK_ID_IPV4 = 1,   /* ID_IPV4_ADDR */
    HK_ID_FQDN = 2,   /* ID_FQDN */
    HK_ID_RFC822 = 3, /* ID_RFC822_ADDR */
    HK_ID_IPV6 = 5,   /* ID_IPV6_ADDR */
    HK_ID_DN = 9,     /* ID_DER_ASN1_DN */
    HK_ID_KEY_ID = 11,
    HK_ID_ANY = 256, /* "%any": accept whatever the peer sends (remote side only) */
};

struct hk_id_conf {
    enum hk_id_type type;
    char *text;    /* the value as written, without a type prefix; NULL when not configured */
    uint8_t *data; /* Identification Data: 4/16 address octets, the name's octets, the key ID
                      octets, or the DN's DER encoding; NULL for AUTO and ANY */
    size_t len;
};

/*
 * Parses "[TYPE:]VALUE". TYPE is ipv4, ipv6, fqdn, email (or rfc822), keyid or dn. Without a
 * type: "%any", an IPv4/IPv6 address, a DN when the value has '=', an email address when it
 * has '@', else an FQDN. Returns 0 or HK_E_CONFIG (message in err); out is then empty.
 */
int hk_id_parse(const char *s, struct hk_id_conf *out, char *err, size_t errlen);
/* Frees what hk_id_parse allocated and resets the record to AUTO. */
void hk_id_conf_free(struct hk_id_conf *id);
/* Deep copy; 0 or HK_E_NOMEM. */
int hk_id_conf_copy(struct hk_id_conf *dst, const struct hk_id_conf *src);
/* "fqdn", "dn", ...; "auto" and "%any" for the configuration-only types. */
const char *hk_id_type_name(enum hk_id_type t);

/*
 * An RFC 4514 string ("CN=gw.example.com,O=Example,C=CH": most specific RDN first, ',' between
 * RDNs, '+' inside a multi-valued RDN, backslash escapes) to the DER of an X.509 Name, whose
 * RDN SEQUENCE runs the other way (C first). Attribute names are OpenSSL's short or long names
 * or dotted OIDs. *der is malloc'd. Returns 0, HK_E_CONFIG (message in err) or HK_E_NOMEM.
 */
int hk_dn_to_der(const char *s, uint8_t **der, size_t *len, char *err, size_t errlen);

#endif
