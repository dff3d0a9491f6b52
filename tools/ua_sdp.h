/*
 * sipsess-ua — the session descriptions the reference UA puts in its
 * offers and answers (RFC 4566, RFC 3264). The library never reads SDP,
 * so the tool does: just enough to answer every m= line of an offer with
 * a loopback address, the offered formats and the complementary
 * direction. No media is ever sent; the ports are only placeholders.
 */
#ifndef SIPSESS_TOOLS_UA_SDP_H
#define SIPSESS_TOOLS_UA_SDP_H

#include <stddef.h>
#include <stdint.h>

/* Our side of one session's SDP: the o= line's id and version, and the
 * first media port. RFC 3264 §8: the version grows by one when what we
 * send differs from what we sent last, and stays when it is the same, so
 * the hash of the last description (without its o= line) is kept. */
typedef struct ua_sdp_origin {
    uint64_t sess_id;
    uint64_t version;
    uint64_t last_hash;
    unsigned port;
} ua_sdp_origin;

/* Fill `o` for a new session; `seq` (any number that differs between
 * sessions) spreads the placeholder ports. */
void ua_sdp_origin_init(ua_sdp_origin *o, unsigned seq);

/* Our offer: one audio stream (PCMU, PCMA, telephone-event) on
 * 127.0.0.1 (::1 when `ipv6`) with `direction` ("sendrecv", "sendonly",
 * ...). Returns the length written to `buf` (NUL-terminated), or -1 when
 * `cap` is too small. */
int ua_sdp_offer(ua_sdp_origin *o, int ipv6, const char *direction, char *buf, size_t cap);

/* Our answer to `offer` (`len` bytes, not NUL-terminated): one m= line per
 * offered m= line in the same order (RFC 3264 §6), rejected lines (port
 * 0) kept rejected, every offered format with its rtpmap/fmtp lines, the
 * direction mirrored (sendonly → recvonly, recvonly → sendonly, inactive
 * stays, otherwise sendrecv) and the loopback address of the offer's
 * family. Returns the length, -1 when `cap` is too small, -2 when the
 * offer is not an SDP we can answer (no v= line or no m= line). */
int ua_sdp_answer(ua_sdp_origin *o, const char *offer, size_t len, char *buf, size_t cap);

/* The direction attribute that applies to the first m= line of `sdp`
 * (media level first, then session level; "sendrecv" when none): written
 * into `out` (at least 9 bytes). Used for log lines. */
void ua_sdp_direction(const char *sdp, size_t len, char *out, size_t cap);

#endif
