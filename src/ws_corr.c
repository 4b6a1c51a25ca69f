/* The correlation table (see ws_corr.h): slots in one growable array with a free list, an
 * open-addressing index by request id (linear probing, backward-shift deletion), two intrusive
 * lists, and by deadline an intrusive FIFO (O(1): the server answers the oldest first) and an
 * intrusive binary heap for deadlines that come out of order. Every operation is O(1) or O(log n), so
 * thousands of requests in flight cost nothing per frame. */
#include "ws_corr.h"
#include "arena.h"

#define SLOT_MASK ((1u << WS_SLOT_BITS) - 1)
#define GEN_MASK ((1u << (31 - WS_SLOT_BITS)) - 1)
#define INF_MS 1e300

/* Four words, each multiplied by its own odd constant, then mixed (murmur3's finaliser): our
 * ids are random in their low 10 bytes (v7) or all 16 (v4), a caller's own ids may be
 * sequential; either spreads over the index. */
static uint32_t id_hash(const uint8_t id[16]) {
    uint32_t w[4];
    q_memcpy(w, id, 16);
    uint32_t h = w[0] * 0x9E3779B1u ^ w[1] * 0x85EBCA77u ^ w[2] * 0xC2B2AE3Du ^ w[3] * 0x27D4EB2Fu;
    h ^= h >> 16; h *= 0x85EBCA6Bu; h ^= h >> 13; h *= 0xC2B2AE35u;
    return h ^ (h >> 16);
}

/* ---- lists ------------------------------------------------------------------------------ */

static void list_unlink(ws_corr *t, ws_list *l, uint32_t s) {
    ws_req *r = &t->e[s];
    if (r->prev != WS_NIL) t->e[r->prev].next = r->next; else l->head = r->next;
    if (r->next != WS_NIL) t->e[r->next].prev = r->prev; else l->tail = r->prev;
    r->prev = r->next = WS_NIL;
    l->len--;
}

/* Links s into l before slot `at` (WS_NIL: at the back), list_unlink's inverse: a new or written
 * request goes to the back, an unwritten one before the queue's head. */
static void list_insert(ws_corr *t, ws_list *l, uint32_t s, uint32_t at) {
    ws_req *r = &t->e[s];
    r->next = at; r->prev = at != WS_NIL ? t->e[at].prev : l->tail;
    if (r->prev != WS_NIL) t->e[r->prev].next = s; else l->head = s;
    if (at != WS_NIL) t->e[at].prev = s; else l->tail = s;
    l->len++;
}

static ws_list *list_of(ws_corr *t, uint32_t s) {
    return t->e[s].state == WR_QUEUED ? &t->queued : &t->written;
}

/* ---- deadline heap ------------------------------------------------------------------------- */

static void heap_set(ws_corr *t, uint32_t i, uint32_t s) { t->heap[i] = s; t->e[s].heap_pos = i; }

static void heap_up(ws_corr *t, uint32_t i) {
    uint32_t s = t->heap[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (t->e[t->heap[p]].deadline_ms <= t->e[s].deadline_ms) break;
        heap_set(t, i, t->heap[p]);
        i = p;
    }
    heap_set(t, i, s);
}

static void heap_down(ws_corr *t, uint32_t i) {
    uint32_t s = t->heap[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= t->heap_len) break;
        if (c + 1 < t->heap_len && t->e[t->heap[c + 1]].deadline_ms < t->e[t->heap[c]].deadline_ms) c++;
        if (t->e[t->heap[c]].deadline_ms >= t->e[s].deadline_ms) break;
        heap_set(t, i, t->heap[c]);
        i = c;
    }
    heap_set(t, i, s);
}

static void heap_remove(ws_corr *t, uint32_t s) {
    uint32_t i = t->e[s].heap_pos;
    if (i == WS_NIL) return;
    t->e[s].heap_pos = WS_NIL;
    uint32_t last = t->heap[--t->heap_len];
    if (i == t->heap_len) return;
    heap_set(t, i, last);
    heap_up(t, i);
    heap_down(t, t->e[last].heap_pos);
}

/* A deadline no earlier than the FIFO's last one is appended to it, any other goes to the heap;
 * the earliest is the FIFO's head or the heap's root. */
static void deadline_add(ws_corr *t, uint32_t s) {
    ws_req *r = &t->e[s];
    uint32_t tail = t->fifo_tail;
    if (tail == WS_NIL || t->e[tail].deadline_ms <= r->deadline_ms) {
        r->heap_pos = WS_IN_FIFO;
        r->dprev = tail; r->dnext = WS_NIL;
        if (tail != WS_NIL) t->e[tail].dnext = s; else t->fifo_head = s;
        t->fifo_tail = s;
        return;
    }
    heap_set(t, t->heap_len++, s);
    heap_up(t, t->heap_len - 1);
}

static void deadline_remove(ws_corr *t, uint32_t s) {
    ws_req *r = &t->e[s];
    if (r->heap_pos != WS_IN_FIFO) { heap_remove(t, s); return; }
    r->heap_pos = WS_NIL;
    if (r->dprev != WS_NIL) t->e[r->dprev].dnext = r->dnext; else t->fifo_head = r->dnext;
    if (r->dnext != WS_NIL) t->e[r->dnext].dprev = r->dprev; else t->fifo_tail = r->dprev;
}

static uint32_t earliest(const ws_corr *t) {
    if (!t->cap) return WS_NIL;   /* nothing added yet: the FIFO's ends are not set */
    uint32_t f = t->fifo_head, h = t->heap_len ? t->heap[0] : WS_NIL;
    return f == WS_NIL || (h != WS_NIL && t->e[h].deadline_ms < t->e[f].deadline_ms) ? h : f;
}

/* ---- id index -------------------------------------------------------------------------------- */

/* Where id sits in the index, or the empty place where it would go (index[pos] == 0). */
static uint32_t index_pos(const ws_corr *t, const uint8_t id[16]) {
    uint32_t m = t->index_cap - 1, i = id_hash(id) & m;
    while (t->index[i] && q_memcmp(t->e[t->index[i] - 1].id, id, 16)) i = (i + 1) & m;
    return i;
}

static int index_grow(ws_corr *t, uint32_t need) {
    if (need * 2 <= t->index_cap) return Q_OK;
    uint32_t cap = t->index_cap ? t->index_cap : 32;
    while (need * 2 > cap) cap *= 2;
    uint32_t *ni = q_calloc(cap, sizeof *ni);
    if (!ni) return Q_ERR(OUT_OF_MEMORY);
    q_free(t->index);
    t->index = ni; t->index_cap = cap;
    /* ids are unique, so each one's place is an empty one */
    for (uint32_t s = 0; s < t->cap; s++) if (t->e[s].state != WR_FREE) t->index[index_pos(t, t->e[s].id)] = s + 1;
    return Q_OK;
}

static void index_del(ws_corr *t, uint32_t s) {
    uint32_t m = t->index_cap - 1, i = id_hash(t->e[s].id) & m;
    while (t->index[i] != s + 1) i = (i + 1) & m;
    /* backward shift: move later entries of the probe run into the hole */
    for (uint32_t j = i;;) {
        t->index[i] = 0;
        for (;;) {
            j = (j + 1) & m;
            if (!t->index[j]) return;
            uint32_t home = id_hash(t->e[t->index[j] - 1].id) & m;
            /* j's entry may fill i when its home is not cyclically in (i, j] */
            if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) break;
        }
        t->index[i] = t->index[j];
        i = j;
    }
}

uint32_t ws_corr_by_id(const ws_corr *t, const uint8_t id[16]) {
    /* the server answers in order: a reply is most often the oldest written request's */
    uint32_t head = t->written.head;
    if (head < t->cap && !q_memcmp(t->e[head].id, id, 16)) return head;
    if (!t->index_cap) return WS_NIL;
    uint32_t i = index_pos(t, id);
    return t->index[i] ? t->index[i] - 1 : WS_NIL;
}

/* ---- requests ---------------------------------------------------------------------------------- */

static int grow(ws_corr *t) {
    uint32_t ncap = t->cap ? t->cap * 2 : 16;
    if (ncap > SLOT_MASK + 1) return Q_ERR(LIMIT_REACHED);
    ws_req *ne = q_realloc(t->e, ncap * (uint32_t)sizeof(ws_req));
    if (!ne) return Q_ERR(OUT_OF_MEMORY);
    t->e = ne;
    uint32_t *nh = q_realloc(t->heap, ncap * (uint32_t)sizeof(uint32_t));
    if (!nh) return Q_ERR(OUT_OF_MEMORY);
    t->heap = nh;
    for (uint32_t s = ncap; s-- > t->cap;) {   /* free list in slot order */
        q_memset(&ne[s], 0, sizeof ne[s]);
        ne[s].next = t->free_head;
        t->free_head = s;
    }
    t->cap = ncap;
    return Q_OK;
}

int ws_corr_add(ws_corr *t, const uint8_t id[16], double deadline_ms, bool idempotent, uint32_t max_live,
                uint32_t *slot, uint32_t *handle, q_error *err) {
    if (t->live >= max_live)
        return q_fail(err, Q_ERR(LIMIT_REACHED), Q_NO_OFFSET, "limits.max_in_flight", QD(TOO_MANY_REQUESTS_ON_THIS_SOCKET));
    if (!t->cap) t->free_head = t->queued.head = t->queued.tail = t->written.head = t->written.tail = t->fifo_head = t->fifo_tail = WS_NIL;
    int rc;
    if (t->free_head == WS_NIL && (rc = grow(t))) return q_fail(err, rc, Q_NO_OFFSET, "websocket", QD(REQUEST_TABLE));
    if ((rc = index_grow(t, t->live + 1))) return q_fail(err, rc, Q_NO_OFFSET, "websocket", QD(REQUEST_INDEX));
    uint32_t at = index_pos(t, id);   /* one probe: the duplicate check and the place to insert */
    if (t->index[at])
        return q_fail(err, Q_ERR(INVALID_VALUE), Q_NO_OFFSET, "meta.request_id", QD(A_REQUEST_WITH_THIS_ID_IS_ALREADY_IN));
    uint32_t s = t->free_head;
    ws_req *r = &t->e[s];
    t->free_head = r->next;
    q_memcpy(r->id, id, 16);
    r->deadline_ms = deadline_ms;
    r->generation = (++t->next_generation) & GEN_MASK;
    if (!r->generation) r->generation = (++t->next_generation) & GEN_MASK;
    r->state = WR_QUEUED;
    r->idempotent = idempotent;
    r->writes = 0;
    list_insert(t, &t->queued, s, WS_NIL);
    deadline_add(t, s);
    t->index[at] = s + 1;
    t->live++;
    *slot = s;
    *handle = ws_corr_handle(t, s);
    return Q_OK;
}

uint32_t ws_corr_handle(const ws_corr *t, uint32_t s) { return s | t->e[s].generation << WS_SLOT_BITS; }

uint32_t ws_corr_by_handle(const ws_corr *t, uint32_t handle) {
    uint32_t s = handle & SLOT_MASK;
    if (s >= t->cap || t->e[s].state == WR_FREE || t->e[s].state == WR_TOMBSTONE || t->e[s].generation != handle >> WS_SLOT_BITS)
        return WS_NIL;
    return s;
}

void ws_corr_written(ws_corr *t, uint32_t s) {
    list_unlink(t, &t->queued, s);
    t->e[s].state = WR_WRITTEN;
    if (t->e[s].writes < 255) t->e[s].writes++;
    list_insert(t, &t->written, s, WS_NIL);
}

void ws_corr_tombstone(ws_corr *t, uint32_t s) {
    deadline_remove(t, s);
    t->e[s].state = WR_TOMBSTONE;
    t->tombstones++;
}

void ws_corr_unwrite(ws_corr *t, uint32_t s) {
    list_unlink(t, &t->written, s);
    t->e[s].state = WR_QUEUED;
    list_insert(t, &t->queued, s, t->queued.head);
}

void ws_corr_remove(ws_corr *t, uint32_t s) {
    ws_req *r = &t->e[s];
    list_unlink(t, list_of(t, s), s);
    if (r->state == WR_TOMBSTONE) t->tombstones--;
    deadline_remove(t, s);
    index_del(t, s);
    r->state = WR_FREE;
    r->next = t->free_head;
    t->free_head = s;
    t->live--;
}

double ws_corr_next_deadline(const ws_corr *t) {
    uint32_t s = earliest(t);
    return s != WS_NIL ? t->e[s].deadline_ms : INF_MS;
}

uint32_t ws_corr_expired(const ws_corr *t, double now_ms) {
    uint32_t s = earliest(t);
    return s != WS_NIL && t->e[s].deadline_ms <= now_ms ? s : WS_NIL;
}

void ws_corr_release(ws_corr *t) {
    q_free(t->e); q_free(t->index); q_free(t->heap);
    q_memset(t, 0, sizeof *t);
}
