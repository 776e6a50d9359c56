/*
 * Key log for debugging: the keys of IKE SAs and ESP SAs written as records of
 * Wireshark's "User Accessible Tables", so that a capture can be decrypted by
 * Wireshark or tshark. Off unless daemon.keylog_dir is set; anyone who can read
 * the file can read the traffic, hence mode 0600.
 *
 * Formats (Wireshark epan/dissectors/packet-isakmp.c and packet-ipsec.c, checked
 * against tshark 4.0):
 *
 *   ikev2_decryption_table, one line per IKE SA, 8 fields:
 *     SPIi,SPIr,SK_ei,SK_er,"encryption",SK_ai,SK_ar,"integrity"
 *   SPIs and keys are bare hex (UAT byte fields); AEAD keys include their 4-octet
 *   salt; with an AEAD, SK_ai and SK_ar are empty and the integrity is "NONE [RFC4306]".
 *
 *   esp_sa, one line per ESP SA (two per Child SA), 8 quoted fields:
 *     "IPv4","src","dst","0xSPI","encryption","0xKEY","authentication","0xKEY"
 *   An AEAD key includes its salt; an AEAD has authentication "NULL" and key "".
 *
 * Wireshark reads each table from its own file (a profile directory holds
 * "ikev2_decryption_table" and "esp_sa"), so IKE and ESP lines belong in two files
 * (or are passed with tshark -o uat:ikev2_decryption_table:LINE / -o uat:esp_sa:LINE).
 *
 * ChaCha20-Poly1305 (RFC 7634) has no entry in either Wireshark table (neither in
 * tshark 4.0 nor in current Wireshark sources): such SAs give HK_E_UNSUPPORTED.
 * tshark 4.0 knows no extended sequence numbers: with ESN an AES-GCM ESP SA does not
 * decrypt (the high sequence bits are in the AAD, RFC 4106 5) and a CBC one decrypts
 * but its ICV shows as wrong; the lines are written all the same.
 * tshark needs esp.enable_encryption_decode:TRUE to use the esp_sa table.
 */
#ifndef HIKE_IKE_KEYLOG_H
#define HIKE_IKE_KEYLOG_H

#include <stddef.h>
#include <sys/socket.h>

struct ike_sa;
struct child_sa;

/* Wireshark's name of an algorithm, or NULL when its tables have none. */
const char *hk_keylog_ike_encr_name(unsigned encr, unsigned key_bits);
const char *hk_keylog_ike_integ_name(unsigned integ);
const char *hk_keylog_esp_encr_name(unsigned encr, unsigned key_bits);
const char *hk_keylog_esp_integ_name(unsigned integ);

/*
 * One ikev2_decryption_table line for sa (from sa->spi_i/spi_r, sa->alg, sa->keys),
 * ending in '\n', into buf. HK_E_UNSUPPORTED for an algorithm Wireshark cannot
 * decrypt, HK_E_STATE when the SA has no keys yet, HK_E_OVERFLOW when len is too
 * small (buf then holds an empty string).
 */
int hk_keylog_ike_line(const struct ike_sa *sa, char *buf, size_t len);

/*
 * Two esp_sa lines for Child SA c of sa: the outbound SA (local -> remote, c->spi_out)
 * then the inbound one (remote -> local, c->spi_in), keys oriented by c->initiator
 * (RFC 7296 2.17: the initiator-to-responder keys are those of the exchange that
 * made the Child SA). Ports in local/remote are ignored; both must be of one family.
 * Errors as for hk_keylog_ike_line, plus HK_E_INVALID for unusable addresses.
 */
int hk_keylog_esp_lines(const struct ike_sa *sa, const struct child_sa *c,
                        const struct sockaddr_storage *local, const struct sockaddr_storage *remote,
                        char *buf, size_t len);

/* Appends text to path in one write, creating the file with mode 0600. A symbolic link, and an
 * existing file that is not a regular file of our effective user or that group or others may
 * access, are refused: the daemon runs as root. HK_E_IO on failure. */
int hk_keylog_append(const char *path, const char *text);
/*
 * Appends text to the file table in directory dir (daemon.keylog_dir): dir is created 0700 when
 * missing and must otherwise be a directory of hiked's user without group or other access
 * (common/privdir.h); the file as for hk_keylog_append. HK_E_CONFIG (an unsafe directory) or
 * HK_E_IO with a one-line reason in err.
 */
int hk_keylog_write(const char *dir, const char *table, const char *text, char *err, size_t errlen);

/* Enough for any line pair above. */
#define HK_KEYLOG_MAXLINE 1024

#endif
