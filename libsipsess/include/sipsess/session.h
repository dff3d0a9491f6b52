/*
 * libsipsess — INVITE sessions (RFC 3261 §12-§15, RFC 3262, 3264, 3311,
 * 3515, 3891, 4488, 6026, 6337), after the session layer of SIP.js core.
 *
 * A sipsess_session is one INVITE dialog usage. The library keeps it alive
 * until it is Terminated whatever the application holds; a handle the
 * application keeps (sipsess_session_ref) stays valid after that, and its
 * operations then return SIPSESS_ESTATE.
 *
 * Incoming in-dialog requests reach the session delegate as a
 * sipsess_request handle. A callback answers it (accept / reject /
 * progress / redirect), or keeps it (sipsess_request_ref) to answer later,
 * or does neither, and then the library answers with the documented
 * default for the method when the callback returns.
 *
 * Callbacks run only inside the application's calls into the UA's loop
 * (sipsess_ua_run / _step / _process / _advance). A state change caused
 * from outside the loop (sipsess_session_bye called from main) is visible
 * at once through sipsess_session_get_state, and on_state_change /
 * on_terminated report it on the next step. The one exception is
 * sipsess_ua_free, which ends every session (SIPSESS_TERM_UA_SHUTDOWN; the
 * peers get a BYE, CANCEL or 480, best effort) and calls on_terminated and
 * the destroy notifiers before it returns.
 */
#ifndef SIPSESS_SESSION_H
#define SIPSESS_SESSION_H

#include "common.h"
#include "msg.h"
#include "ua.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sipsess_session sipsess_session;
typedef struct sipsess_request sipsess_request;
typedef struct sipsess_session_delegate sipsess_session_delegate;
typedef struct sipsess_response_delegate sipsess_response_delegate;
typedef struct sipsess_ua_delegate sipsess_ua_delegate;

typedef enum sipsess_session_state {
    SIPSESS_SESSION_INITIAL = 0,
    SIPSESS_SESSION_EARLY,      /**< early dialog (1xx with To tag) */
    SIPSESS_SESSION_ACK_WAIT,   /**< 2xx sent/received, ACK pending */
    SIPSESS_SESSION_CONFIRMED,
    SIPSESS_SESSION_TERMINATED,
} sipsess_session_state;

/** Offer/answer state (RFC 3264, RFC 6337), independent of the body type. */
typedef enum sipsess_signaling_state {
    SIPSESS_SIGNALING_INITIAL = 0,
    SIPSESS_SIGNALING_HAVE_LOCAL_OFFER,
    SIPSESS_SIGNALING_HAVE_REMOTE_OFFER,
    SIPSESS_SIGNALING_STABLE,
    SIPSESS_SIGNALING_CLOSED,
} sipsess_signaling_state;

typedef enum sipsess_term_cause {
    SIPSESS_TERM_NONE = 0,
    SIPSESS_TERM_LOCAL_BYE,
    SIPSESS_TERM_REMOTE_BYE,
    SIPSESS_TERM_REJECTED,      /**< final non-2xx to the INVITE (either side) */
    SIPSESS_TERM_CANCELLED,     /**< CANCEL before answer (either side) */
    SIPSESS_TERM_REDIRECTED,    /**< 3xx */
    SIPSESS_TERM_ACK_TIMEOUT,   /**< our 2xx was never ACKed */
    SIPSESS_TERM_TIMEOUT,       /**< no final response (Timer B) / in-dialog 408 */
    SIPSESS_TERM_TRANSPORT,     /**< transport error */
    SIPSESS_TERM_PRACK_TIMEOUT, /**< a reliable 1xx was never PRACKed */
    SIPSESS_TERM_REPLACED,      /**< an INVITE with Replaces took its place */
    SIPSESS_TERM_FORK_LOSER,    /**< another fork answered first */
    SIPSESS_TERM_UA_SHUTDOWN,
    SIPSESS_TERM_DIALOG_ERROR,  /**< 481 / 408 to an in-dialog request */
} sipsess_term_cause;

/* ------------------------------------------------------------------ */
/* Incoming-request handle                                             */

/** Method, Request-URI, headers and body of the request; the message is
 *  valid as long as the handle. */
SIPSESS_API const sipsess_msg *sipsess_request_msg(const sipsess_request *req);
/** The request method (SIPSESS_METHOD_OTHER for extension methods: read
 *  the name with sipsess_msg_method_name). */
SIPSESS_API sipsess_method sipsess_request_method(const sipsess_request *req);
/** The `nth` value of a header by name, or {NULL,0}. */
SIPSESS_API sipsess_str sipsess_request_header(const sipsess_request *req, const char *name,
                                               size_t nth);
/** The body ({NULL,0} or len 0 when none); valid as long as the handle. */
SIPSESS_API sipsess_str sipsess_request_body(const sipsess_request *req);
/** "type/subtype" of the body, or {NULL,0}. */
SIPSESS_API sipsess_str sipsess_request_content_type(const sipsess_request *req);
/** The session the request belongs to (NULL out of dialog). */
SIPSESS_API sipsess_session *sipsess_request_session(const sipsess_request *req);
/** Keep the handle past the callback to answer later. */
SIPSESS_API sipsess_request *sipsess_request_ref(sipsess_request *req);
/** Drop a reference; the handle is freed with the last one. Dropping the
 *  last one of a request still unanswered answers it 500. NULL is a
 *  no-op. */
SIPSESS_API void sipsess_request_unref(sipsess_request *req);
/** Nonzero once a final answer went out. */
SIPSESS_API int sipsess_request_answered(const sipsess_request *req);

/**
 * 2xx answer (200 OK, or `status` 200-299 through sipsess_request_reply).
 * `body` (answer or offer, any type) may be NULL; `extra_headers` is NULL
 * or "Name: value" lines separated by CRLF. Errors: EINVAL, ESTATE
 * (already answered, or the session is gone), ENOMEM.
 */
SIPSESS_API int sipsess_request_accept(sipsess_request *req, const void *body, size_t len,
                                       const char *content_type, const char *extra_headers);
/**
 * Any answer: `status` 101-699 (a 1xx unreliable; use
 * sipsess_request_progress for a reliable one). 2xx to REFER is sent as
 * 202. What a 2xx means for the offer/answer state is as for
 * sipsess_request_accept. Errors as for sipsess_request_accept, and
 * ESTATUS for a status out of range.
 */
SIPSESS_API int sipsess_request_reply(sipsess_request *req, unsigned status, const char *reason,
                                      const void *body, size_t len, const char *content_type,
                                      const char *extra_headers);
/** Final 3xx-6xx answer; `reason` NULL uses the RFC phrase. ACK cannot be
 *  rejected (ESTATE). */
SIPSESS_API int sipsess_request_reject(sipsess_request *req, unsigned status, const char *reason,
                                       const char *extra_headers);
/** Provisional 101-199 (INVITE only); `reliable` sends it with 100rel
 *  (RFC 3262) when the peer supports it (always when the INVITE required
 *  it), with an optional body (an offer or answer in a reliable 1xx). It
 *  is retransmitted (T1 doubling) until PRACKed; after 64*T1 without PRACK
 *  the INVITE gets 504 and the session ends with PRACK_TIMEOUT. Only one
 *  reliable 1xx can wait for its PRACK at a time (EBUSY). A 1xx to a
 *  re-INVITE is always sent unreliably. Creates the early dialog. */
SIPSESS_API int sipsess_request_progress(sipsess_request *req, unsigned status,
                                         const char *reason, const void *body, size_t len,
                                         const char *content_type, int reliable);
/** 100 Trying now (INVITE). */
SIPSESS_API int sipsess_request_trying(sipsess_request *req);
/** 302 with the given Contact URIs (`contacts`: comma-separated). */
SIPSESS_API int sipsess_request_redirect(sipsess_request *req, const char *contacts);

/**
 * An INVITE with a Replaces header (RFC 3891): the session it names (the
 * dialog of this UA whose Call-ID and tags it carries), or NULL. When such
 * an INVITE is accepted the library ends the replaced session (BYE, or
 * CANCEL / 487 when it is still early) with SIPSESS_TERM_REPLACED. An
 * INVITE whose Replaces matches nothing was already answered 481 and never
 * reaches the application. Valid as long as the handle.
 */
SIPSESS_API sipsess_session *sipsess_request_replaces(const sipsess_request *req);

/**
 * Report the progress of an accepted REFER (RFC 3515 §2.4.4) to the
 * referrer: a NOTIFY of the REFER's implicit subscription with a
 * message/sipfrag body "SIP/2.0 <status> <reason>", Event: refer (with
 * ;id= from the second REFER of the dialog on, §2.4.6) and
 * Subscription-State active (1xx) or terminated;reason=noresource
 * (a final status, which ends the subscription). Accepting a REFER sends
 * the first NOTIFY ("100 Trying") by itself. `req` is the REFER's handle,
 * kept with sipsess_request_ref for as long as the transfer runs.
 * Errors: EINVAL (not an accepted REFER, status out of 100-699), ESTATE
 * (the subscription already ended, Refer-Sub: false, the session is
 * gone), ENOMEM.
 */
SIPSESS_API int sipsess_request_notify_refer(sipsess_request *req, unsigned status,
                                             const char *reason,
                                             const sipsess_response_delegate *rd,
                                             void *rd_userdata);

/** A NOTIFY with a message/sipfrag body (RFC 3515 §2.4.5): the status
 *  code of the sipfrag's status line, or 0 when there is none. */
SIPSESS_API unsigned sipsess_request_sipfrag_status(const sipsess_request *req);
/** A NOTIFY: nonzero when its Subscription-State is "terminated". */
SIPSESS_API int sipsess_request_subscription_terminated(const sipsess_request *req);

/* ------------------------------------------------------------------ */
/* Session delegate                                                    */

/** An in-dialog request callback. Return 0, or SIPSESS_ECALLBACK to have
 *  the library answer 500 (when still unanswered). */
typedef int (*sipsess_request_cb)(sipsess_session *s, sipsess_request *req, void *userdata);
typedef void (*sipsess_state_cb)(sipsess_session *s, sipsess_session_state state,
                                 void *userdata);
typedef void (*sipsess_terminated_cb)(sipsess_session *s, sipsess_term_cause cause,
                                      void *userdata);

/** An empty session delegate (every callback unset) to fill with the
 *  setters below and install with sipsess_session_set_delegate, which
 *  copies it: free it when done. Errors: EINVAL, ENOMEM. `_free(NULL)` is
 *  a no-op. A setter given NULL `d` does nothing; a NULL `cb` unsets. */
SIPSESS_API int sipsess_session_delegate_new(sipsess_session_delegate **out);
SIPSESS_API void sipsess_session_delegate_free(sipsess_session_delegate *d);
/* Defaults when a callback is not set or leaves the request unanswered:
 *   ACK          nothing to answer
 *   ACK timeout  BYE is sent (req is NULL in the callback; return without
 *                calling sipsess_session_bye and the library sends it)
 *   BYE          200
 *   INFO         469 Bad Info Package when no callback, else 200
 *   INVITE       488 Not Acceptable Here (re-INVITE)
 *   MESSAGE      200
 *   NOTIFY       200
 *   PRACK        200 (488 when it carries an offer left unanswered)
 *   REFER        603 Declined when not handled
 *   UPDATE       200 without an offer, 488 with one
 *   CANCEL       200 to the CANCEL and 487 to the INVITE (always)
 *   other        501 Not Implemented
 * A kept request never answered gets 500 before its transaction would
 * time out (after 62*T1, 31 s by default, for non-INVITE; 170 s for
 * INVITE, before a proxy's 3 minute Timer C), and at once when its last
 * reference is dropped unanswered. When the session ends, requests still
 * unanswered get 487 (RFC 3261 §15.1.2). */
SIPSESS_API void sipsess_session_delegate_set_on_ack(sipsess_session_delegate *d, sipsess_request_cb cb);
SIPSESS_API void sipsess_session_delegate_set_on_ack_timeout(sipsess_session_delegate *d, sipsess_request_cb cb);
SIPSESS_API void sipsess_session_delegate_set_on_bye(sipsess_session_delegate *d, sipsess_request_cb cb);
SIPSESS_API void sipsess_session_delegate_set_on_info(sipsess_session_delegate *d, sipsess_request_cb cb);
SIPSESS_API void sipsess_session_delegate_set_on_invite(sipsess_session_delegate *d, sipsess_request_cb cb);
SIPSESS_API void sipsess_session_delegate_set_on_message(sipsess_session_delegate *d, sipsess_request_cb cb);
SIPSESS_API void sipsess_session_delegate_set_on_notify(sipsess_session_delegate *d, sipsess_request_cb cb);
SIPSESS_API void sipsess_session_delegate_set_on_prack(sipsess_session_delegate *d, sipsess_request_cb cb);
SIPSESS_API void sipsess_session_delegate_set_on_refer(sipsess_session_delegate *d, sipsess_request_cb cb);
SIPSESS_API void sipsess_session_delegate_set_on_update(sipsess_session_delegate *d, sipsess_request_cb cb);
SIPSESS_API void sipsess_session_delegate_set_on_cancel(sipsess_session_delegate *d, sipsess_request_cb cb);
SIPSESS_API void sipsess_session_delegate_set_on_request(sipsess_session_delegate *d, sipsess_request_cb cb);
SIPSESS_API void sipsess_session_delegate_set_on_state_change(sipsess_session_delegate *d, sipsess_state_cb cb);
SIPSESS_API void sipsess_session_delegate_set_on_terminated(sipsess_session_delegate *d, sipsess_terminated_cb cb);

/**
 * Install a delegate (copied) and its userdata on a session. `destroy`
 * (may be NULL) is called with `userdata` exactly once: when another
 * delegate replaces it or after the session's on_terminated, so bindings
 * can drop their reference there.
 */
SIPSESS_API int sipsess_session_set_delegate(sipsess_session *s, const sipsess_session_delegate *d,
                                             void *userdata, void (*destroy)(void *userdata));

/* ------------------------------------------------------------------ */
/* Response delegate for outgoing requests                             */

/** A response to a request we sent: `resp` is valid during the call. */
typedef void (*sipsess_response_cb)(sipsess_session *s, const sipsess_msg *resp, void *userdata);

/** An empty response delegate; the functions that send copy it, so it
 *  can be freed (or reused) right after. Errors: EINVAL, ENOMEM. A
 *  response is given to on_trying (100), on_progress (101-199), on_accept
 *  (2xx), on_redirect (3xx) or on_reject (4xx-6xx). The `s` of a callback
 *  is the session the response belongs to (a fork's own session for a
 *  forked INVITE). */
SIPSESS_API int sipsess_response_delegate_new(sipsess_response_delegate **out);
SIPSESS_API void sipsess_response_delegate_free(sipsess_response_delegate *d);
SIPSESS_API void sipsess_response_delegate_set_on_trying(sipsess_response_delegate *d, sipsess_response_cb cb);
SIPSESS_API void sipsess_response_delegate_set_on_progress(sipsess_response_delegate *d, sipsess_response_cb cb);
SIPSESS_API void sipsess_response_delegate_set_on_accept(sipsess_response_delegate *d, sipsess_response_cb cb);
SIPSESS_API void sipsess_response_delegate_set_on_redirect(sipsess_response_delegate *d, sipsess_response_cb cb);
/** Also called with resp NULL on timeout or transport error. */
SIPSESS_API void sipsess_response_delegate_set_on_reject(sipsess_response_delegate *d, sipsess_response_cb cb);
/** Destroy notifier for the userdata given with the delegate: called
 *  exactly once for each request sent with it, after that request's last
 *  callback (its final response, a timeout, the end of the session or of
 *  the UA; for an INVITE, after the forks it may still accept; for a
 *  re-INVITE, after the retry that follows a 491). Not called when the
 *  function that sends returns an error: the caller keeps the userdata
 *  then. Lets bindings hold a reference exactly as long as it is needed. */
SIPSESS_API void sipsess_response_delegate_set_destroy(sipsess_response_delegate *d,
                                                       void (*destroy)(void *userdata));

/* ------------------------------------------------------------------ */
/* UA delegate: new sessions and out-of-dialog requests                */

/** A new incoming INVITE: `s` is the new session (state Initial) and `req`
 *  the INVITE, answered through the request handle (progress / accept /
 *  reject / redirect), now or later. Install the session delegate here
 *  (sipsess_session_set_delegate). Default when unset or unanswered and
 *  not kept: 480 Temporarily Unavailable. */
typedef int (*sipsess_ua_invite_cb)(sipsess_ua *ua, sipsess_session *s, sipsess_request *req,
                                    void *userdata);
/** An out-of-dialog request other than INVITE/ACK/CANCEL (OPTIONS,
 *  MESSAGE, NOTIFY, REFER, ...). Unanswered and not kept, or with no
 *  callback: OPTIONS 200 with Allow/Accept/Supported, MESSAGE and NOTIFY
 *  405 without a callback and 200 with one, REFER 603, known methods the
 *  UA does not serve 405, unknown methods 501. */
typedef int (*sipsess_ua_request_cb)(sipsess_ua *ua, sipsess_request *req, void *userdata);

/** An empty UA delegate, copied by sipsess_ua_set_delegate. Errors:
 *  EINVAL, ENOMEM. Requests with a To tag never reach it: they belong to a
 *  dialog or get 481 (RFC 3261 §12.2.2); BYE, PRACK, UPDATE and INFO
 *  without one get 481 too. Nor does a merged request (§8.2.2.2): one
 *  without To tag whose From tag, Call-ID and CSeq are those of a request
 *  whose server transaction still lives but that came on another branch
 *  (another path) gets 482 Loop Detected; a retransmission (same branch)
 *  is absorbed by its transaction as always. */
SIPSESS_API int sipsess_ua_delegate_new(sipsess_ua_delegate **out);
SIPSESS_API void sipsess_ua_delegate_free(sipsess_ua_delegate *d);
SIPSESS_API void sipsess_ua_delegate_set_on_invite(sipsess_ua_delegate *d, sipsess_ua_invite_cb cb);
SIPSESS_API void sipsess_ua_delegate_set_on_request(sipsess_ua_delegate *d, sipsess_ua_request_cb cb);
/** Install (copied) on the UA; `destroy` as for sessions. */
SIPSESS_API int sipsess_ua_set_delegate(sipsess_ua *ua, const sipsess_ua_delegate *d,
                                        void *userdata, void (*destroy)(void *userdata));
/** The userdata of the installed UA delegate (NULL when none). */
SIPSESS_API void *sipsess_ua_userdata(const sipsess_ua *ua);

/* ------------------------------------------------------------------ */
/* Outgoing sessions and in-dialog requests                            */

/**
 * Place a call to `uri`: sends an INVITE with an optional body (an offer,
 * or none to get the offer in the 2xx), extra headers, From from the UA's
 * identity (sipsess_ua_config_set_identity) and a Contact of the listener
 * used. `rd` (copied, may be NULL) gets the INVITE's responses; `*out`
 * receives the session (owned by the library; sipsess_session_ref to keep
 * it past on_terminated). Errors: EINVAL, EURI, ENOTFOUND (no listener for
 * the target's transport), ELIMIT (session limit), ENOMEM.
 *
 * Forking (RFC 3261 §13.2.2.4): a response with another To tag is another
 * dialog and gets a session of its own, created by the library with no
 * session delegate and the INVITE's offer; `rd` sees it as the `s` of its
 * callbacks (install a delegate there). The first 2xx confirms its
 * session; the other early ones end with SIPSESS_TERM_FORK_LOSER, and a
 * later 2xx of another fork is ACKed and answered with BYE — unless
 * sipsess_ua_config_set_accept_forks is on: then, for 64*T1 after the
 * first 2xx, early dialogs stay Early and each later 2xx of another
 * dialog is ACKed and becomes a Confirmed session of its own, the `s` of
 * an on_accept call of `rd`.
 *
 * 2xx handling: with auto-ACK (the default) the ACK goes at once and the
 * session is Confirmed before on_accept runs. When the 2xx carries an
 * offer (the INVITE had none), or auto-ACK is off, the session waits in
 * AckWait: call sipsess_session_ack (from on_accept or later) with the
 * answer. Every copy of the 2xx is ACKed again by the library.
 */
SIPSESS_API int sipsess_ua_invite(sipsess_ua *ua, const char *uri, const void *body, size_t len,
                                  const char *content_type, const char *extra_headers,
                                  const sipsess_response_delegate *rd, void *rd_userdata,
                                  sipsess_session **out);

/**
 * Send an in-dialog request of any method on a session (the named
 * wrappers below are this with the method filled in). `rd` (copied, may
 * be NULL) and its userdata get the responses.
 * Errors: EINVAL, ESTATE (the session's state forbids it: a re-INVITE or
 * UPDATE while one is pending, BYE as callee before ACK, anything after
 * Terminated, PRACK without a reliable 1xx to acknowledge, ...), ENOMEM.
 */
SIPSESS_API int sipsess_session_request(sipsess_session *s, const char *method, const void *body,
                                        size_t len, const char *content_type,
                                        const char *extra_headers,
                                        const sipsess_response_delegate *rd, void *rd_userdata);
/** BYE (§15.1.1): the session is Terminated (SIPSESS_TERM_LOCAL_BYE) as
 *  soon as it is sent; `rd` still gets the BYE's response. ESTATE for a
 *  callee before the ACK of its 2xx or in an early dialog, for a caller
 *  whose 2xx still waits for its sipsess_session_ack. */
SIPSESS_API int sipsess_session_bye(sipsess_session *s, const char *extra_headers,
                                    const sipsess_response_delegate *rd, void *rd_userdata);
/** INFO (RFC 6086), also in an early dialog. */
SIPSESS_API int sipsess_session_info(sipsess_session *s, const void *body, size_t len,
                                     const char *content_type, const char *extra_headers,
                                     const sipsess_response_delegate *rd, void *rd_userdata);
/** re-INVITE; body NULL asks the peer for an offer (its 2xx then holds
 *  one: answer it with sipsess_session_ack). A 491 (glare, §14.1) is not
 *  reported: the re-INVITE is sent again after 2.1-4 s when this side made
 *  the Call-ID, 0-2 s otherwise, unless the session ends meanwhile; `rd`
 *  then gets the responses of the retry. */
SIPSESS_API int sipsess_session_invite(sipsess_session *s, const void *body, size_t len,
                                       const char *content_type, const char *extra_headers,
                                       const sipsess_response_delegate *rd, void *rd_userdata);
/** UPDATE (RFC 3311), also in an early dialog: with a body it is an offer
 *  (ESTATE while another offer is pending), without one a target refresh. */
SIPSESS_API int sipsess_session_update(sipsess_session *s, const void *body, size_t len,
                                       const char *content_type, const char *extra_headers,
                                       const sipsess_response_delegate *rd, void *rd_userdata);
/** MESSAGE in the dialog (RFC 3428); content type default text/plain. */
SIPSESS_API int sipsess_session_message(sipsess_session *s, const void *body, size_t len,
                                        const char *content_type, const char *extra_headers,
                                        const sipsess_response_delegate *rd, void *rd_userdata);
/** NOTIFY in the dialog; the Event and Subscription-State lines go in
 *  `extra_headers` (REFER progress: sipsess_request_notify_refer). */
SIPSESS_API int sipsess_session_notify(sipsess_session *s, const void *body, size_t len,
                                       const char *content_type, const char *extra_headers,
                                       const sipsess_response_delegate *rd, void *rd_userdata);
/** PRACK for the last reliable provisional response (automatic unless
 *  sipsess_ua_config_set_auto_prack(cfg, 0)); body: an answer or offer. */
SIPSESS_API int sipsess_session_prack(sipsess_session *s, const void *body, size_t len,
                                      const char *content_type, const char *extra_headers,
                                      const sipsess_response_delegate *rd, void *rd_userdata);
/** REFER to `refer_to` (a URI, optionally with ?Replaces=...). */
SIPSESS_API int sipsess_session_refer(sipsess_session *s, const char *refer_to,
                                      const char *extra_headers,
                                      const sipsess_response_delegate *rd, void *rd_userdata);
/** CANCEL an outgoing INVITE before its final response (§9.1: before any
 *  provisional response it waits for one). ESTATE after. The CANCEL is
 *  built from the INVITE (§9.1) plus `extra_headers` (a Reason, RFC 3326,
 *  for instance). The session ends with
 *  SIPSESS_TERM_CANCELLED when the 487 arrives. */
SIPSESS_API int sipsess_session_cancel(sipsess_session *s, const char *extra_headers);
/** ACK for the 2xx when auto-ACK is off (sipsess_ua_config_set_auto_ack),
 *  with the answer body when the 2xx carried an offer. */
SIPSESS_API int sipsess_session_ack(sipsess_session *s, const void *body, size_t len,
                                    const char *content_type);
/** End the session whatever its state: CANCEL when early outgoing, 480
 *  reject when early incoming, BYE when confirmed. */
SIPSESS_API int sipsess_session_terminate(sipsess_session *s);

/* ------------------------------------------------------------------ */
/* Queries and lifetime                                                */

/** Keep the session (its handle and the views below) past on_terminated;
 *  returns `s`. The library holds its own reference until on_terminated
 *  has run; the application drops each of its own with unref (an unref
 *  without a matching ref is ignored while the session lives). The handle
 *  stays valid after its UA is freed. NULL is a no-op. */
SIPSESS_API sipsess_session *sipsess_session_ref(sipsess_session *s);
SIPSESS_API void sipsess_session_unref(sipsess_session *s);
/** Current state (Terminated for NULL). */
SIPSESS_API sipsess_session_state sipsess_session_get_state(const sipsess_session *s);
/** Current offer/answer state (Closed once Terminated, or for NULL). */
SIPSESS_API sipsess_signaling_state sipsess_session_get_signaling_state(const sipsess_session *s);
/** Why it ended (SIPSESS_TERM_NONE while it lives). */
SIPSESS_API sipsess_term_cause sipsess_session_term_cause(const sipsess_session *s);
/** Nonzero for a session this UA called out (sipsess_ua_invite, forks). */
SIPSESS_API int sipsess_session_is_outgoing(const sipsess_session *s);
/** The UA (do not use it after sipsess_ua_free). */
SIPSESS_API sipsess_ua *sipsess_session_ua(const sipsess_session *s);
/** The userdata of the installed delegate (NULL after on_terminated). */
SIPSESS_API void *sipsess_session_userdata(const sipsess_session *s);
/** Dialog identity; views valid as long as the session. */
SIPSESS_API sipsess_str sipsess_session_call_id(const sipsess_session *s);
/** Our tag; the peer's ({NULL,0} before a tagged response). */
SIPSESS_API sipsess_str sipsess_session_local_tag(const sipsess_session *s);
SIPSESS_API sipsess_str sipsess_session_remote_tag(const sipsess_session *s);
/** The local and remote URIs (From/To without tags) and the remote target
 *  (the peer's Contact, refreshed by re-INVITE, UPDATE and their 2xx). */
SIPSESS_API sipsess_str sipsess_session_local_uri(const sipsess_session *s);
SIPSESS_API sipsess_str sipsess_session_remote_uri(const sipsess_session *s);
SIPSESS_API sipsess_str sipsess_session_remote_target(const sipsess_session *s);

typedef enum sipsess_body_kind {
    SIPSESS_BODY_LOCAL_OFFER = 0,
    SIPSESS_BODY_LOCAL_ANSWER,
    SIPSESS_BODY_REMOTE_OFFER,
    SIPSESS_BODY_REMOTE_ANSWER,
} sipsess_body_kind;
/** The current offer/answer bodies (the last completed exchange, or the
 *  pending offer); `content_type` may be NULL. {NULL,0} when none, and
 *  for a `which` out of the enum's range. */
SIPSESS_API sipsess_str sipsess_session_body(const sipsess_session *s, sipsess_body_kind which,
                                             sipsess_str *content_type);

#ifdef __cplusplus
}
#endif
#endif
