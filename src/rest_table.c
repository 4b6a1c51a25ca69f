/* The REST request table (see rest_table.h): slots with generation-checked ids, and the
 * transition table every event is checked against. */
#include "rest_table.h"

typedef struct {
    rest_entry *e;
    uint32_t cap, live;
    uint64_t next_generation;
} rest_table;

#define SLOT_BITS 20u
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
#define GEN_MASK ((UINT64_C(1) << (53 - SLOT_BITS)) - 1)
_Static_assert(Q_CONFIG_MAX_IN_FLIGHT <= SLOT_MASK, "every slot limits.max_in_flight allows has an id");

/* The state machine: the state an entry moves to when the call continues after an event,
 * RS_FREE where the call can only end, REFUSED where the event does not apply. */
#define REFUSED 0xFF
static const uint8_t NEXT_STATE[RS_COUNT_][RE_COUNT_] = {
    /*               RESPONSE      FAILURE       TIMER         ABORT    REDIRECT */
    [RS_FREE]      = { REFUSED,    REFUSED,      REFUSED,      REFUSED, REFUSED },
    [RS_IN_FLIGHT] = { RS_BACKOFF, RS_BACKOFF,   REFUSED,      RS_FREE, RS_IN_FLIGHT },
    [RS_BACKOFF]   = { REFUSED,    REFUSED,      RS_IN_FLIGHT, RS_FREE, REFUSED },
};
/* Why an event is refused, per event. */
static const char *const REFUSAL[RE_COUNT_] = {
    [RE_RESPONSE] = QD(NO_ATTEMPT_IN_FLIGHT), [RE_FAILURE] = QD(NO_ATTEMPT_IN_FLIGHT),
    [RE_TIMER] = QD(NOT_WAITING_TO_RETRY), [RE_ABORT] = QD(NOT_IN_FLIGHT), [RE_REDIRECT] = QD(NO_ATTEMPT_IN_FLIGHT),
};
_Static_assert(Q_ARRAY_LEN(NEXT_STATE) == RS_COUNT_ && Q_ARRAY_LEN(NEXT_STATE[0]) == RE_COUNT_, "one row per state, one column per event");
_Static_assert(Q_ARRAY_LEN(REFUSAL) == RE_COUNT_, "one refusal text per event");
_Static_assert(RS_COUNT_ <= REFUSED, "states fit a byte below REFUSED");

static int oom(q_error *err) { return q_fail(err, Q_ERR(OUT_OF_MEMORY), Q_NO_OFFSET, NULL, QD(REQUEST)); }

rest_entry *rest_entry_new(q_client *c, rest_id *id, q_error *err) {
    rest_table *t = c->rest;
    if (!t && !(t = c->rest = q_calloc(1, sizeof(rest_table)))) { oom(err); return NULL; }
    if (t->live >= c->cfg.max_in_flight) {
        q_fail(err, Q_ERR(LIMIT_REACHED), Q_NO_OFFSET, "limits.max_in_flight", QD(TOO_MANY_REQUESTS_IN_FLIGHT));
        return NULL;
    }
    uint32_t slot = 0;
    while (slot < t->cap && t->e[slot].state != RS_FREE) slot++;
    if (slot == t->cap) {
        uint32_t ncap = t->cap ? t->cap * 2 : 16;
        if (ncap > SLOT_MASK) ncap = SLOT_MASK;
        rest_entry *ne = q_realloc(t->e, ncap * (uint32_t)sizeof(rest_entry));
        if (!ne || ncap <= t->cap) { oom(err); return NULL; }
        q_memset(ne + t->cap, 0, (ncap - t->cap) * sizeof(rest_entry));
        t->e = ne; t->cap = ncap;
    }
    rest_entry *e = &t->e[slot];
    q_memset(e, 0, sizeof *e);
    /* generations stay within their bits (ids below 2^53); 0 is never used */
    e->generation = (++t->next_generation) & GEN_MASK;
    if (!e->generation) e->generation = (++t->next_generation) & GEN_MASK;
    e->state = RS_IN_FLIGHT;
    e->attempt = 1;
    t->live++;
    *id = (rest_id)slot | e->generation << SLOT_BITS;
    return e;
}

rest_entry *rest_entry_for(q_client *c, rest_id id, rest_event ev, q_error *err) {
    rest_table *t = c->rest;
    uint32_t slot = (uint32_t)(id & SLOT_MASK);
    if (!t || slot >= t->cap || t->e[slot].state == RS_FREE || t->e[slot].generation != id >> SLOT_BITS) {
        q_fail(err, Q_ERR(BAD_HANDLE), Q_NO_OFFSET, "request", QD(UNKNOWN_OR_FINISHED_REQUEST));
        return NULL;
    }
    rest_entry *e = &t->e[slot];
    if ((unsigned)ev >= RE_COUNT_ || NEXT_STATE[e->state][ev] == REFUSED) {
        q_fail(err, Q_ERR(BAD_STATE), Q_NO_OFFSET, "request", (unsigned)ev < RE_COUNT_ ? REFUSAL[ev] : NULL);
        return NULL;
    }
    return e;
}

void rest_entry_continue(rest_entry *e, rest_event ev) { e->state = NEXT_STATE[e->state][ev]; }

void rest_entry_end(q_client *c, rest_entry *e) {
    e->state = RS_FREE;
    ((rest_table *)c->rest)->live--;
}

uint32_t rest_in_flight(const q_client *c) { return c->rest ? ((rest_table *)c->rest)->live : 0; }

void rest_release(q_client *c) {
    rest_table *t = c->rest;
    if (!t) return;
    q_free(t->e);
    q_free(t);
    c->rest = NULL;
}
