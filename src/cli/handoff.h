/* SPDX-License-Identifier: MIT */
/*
 * Handing an engine's results to another thread in call order: the
 * detector calls it would make (every tracked packet with its session's
 * state, session ends, its clock) and its ended sessions, through one
 * single-producer/single-consumer byte ring, to a thread that makes the
 * same calls on a detector of its own and on the caller's session
 * callback. Same calls, same order: the alerts and the output are those
 * of the engine with its own detector and sinks, while tracking runs on
 * one core and detection and formatting on another.
 *
 * Also the futex-backed event count that analyze -j's rings wait on.
 */
#ifndef TG_CLI_HANDOFF_H
#define TG_CLI_HANDOFF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "tcpguard/engine-t.h"

/* ---- waiting: an event count over a futex ---- */

struct tg_evc {
	_Atomic uint32_t seq;
	_Atomic uint32_t waiters;
};

/* After publishing a change: wakes the waiters, if any. */
void tg_evc_notify(struct tg_evc *e);
/* Announces a waiter; the caller then checks its condition once more and
 * calls tg_evc_sleep with the value returned (or tg_evc_cancel). */
uint32_t tg_evc_prepare(struct tg_evc *e);
void tg_evc_sleep(struct tg_evc *e, uint32_t seq);
void tg_evc_cancel(struct tg_evc *e);
/* Checks a waiter makes, spinning, before it sleeps. */
#define TG_EVC_SPIN 256

/* Waits until @ready(@arg): checks TG_EVC_SPIN times, spinning, then
 * sleeps on @e between checks (whoever makes @ready true notifies @e). */
void tg_evc_wait(struct tg_evc *e, bool (*ready)(void *), void *arg);

static inline void tg_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* ---- the hand-off ---- */

struct tg_handoff;

/* A hand-off whose thread runs a detector built from @detect (none when
 * NULL or not enabled; alerts to @on_alert(@ctx, ...)) and passes every
 * ended session to @on_end(@ctx, ...) (none when NULL: the sessions then
 * only reach the detector). NULL when out of memory. */
struct tg_handoff *tg_handoff_new(const struct tg_detect_cfg *detect,
				  tg_alert_cb on_alert, tg_session_cb on_end,
				  void *ctx);

/* Points @cfg's callbacks at @h and moves detection out of the engine
 * (its table is still sized as if the detector were in it). */
void tg_handoff_hook(struct tg_handoff *h, struct tg_engine_cfg *cfg);

/* Lets the thread fault in the memory @e will touch next
 * (tg_engine_untouched) while it waits for records, a few MiB ahead.
 * Before tg_handoff_start. */
void tg_handoff_prefault(struct tg_handoff *h, const struct tg_engine *e);
/* Starts the thread; 0 or -errno. */
int tg_handoff_start(struct tg_handoff *h);

/* The engine's clock moved to @now_ns (tg_engine_advance). */
void tg_handoff_advance(struct tg_handoff *h, uint64_t now_ns);

/* Everything handed over so far reaches the thread, which ends; returns
 * once it has made every call. Called once, after the engine's last
 * session; does nothing when the thread was not started. */
void tg_handoff_finish(struct tg_handoff *h);

/* The thread's detector (NULL without detection): its alerts after
 * tg_handoff_finish. */
struct tg_detect *tg_handoff_detect(struct tg_handoff *h);

void tg_handoff_free(struct tg_handoff *h);

#endif
