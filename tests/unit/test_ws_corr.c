/* The correlation table against a plain model: random adds, writes, tombstones, requeues and
 * removals; after each step every id is found exactly where the model says (this exercises the
 * index's backward-shift deletion), the lists keep their order, and deadlines pop in order. */
#include "test_util.h"
#include "ws_corr.h"

static int setup(void **s) { return q_test_setup(s); }

static uint32_t rng = 12345;
static uint32_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }

enum { N = 3000 };
typedef struct { uint8_t id[16]; uint32_t slot, handle; int state; double deadline; } model_req;

static void id_of(uint32_t k, uint8_t id[16]) {
    memset(id, 0, 16);
    /* ids that collide in their low bits, as v7 ids from the same millisecond nearly do */
    id[0] = (uint8_t)(k & 7); id[15] = (uint8_t)(k >> 3); id[14] = (uint8_t)(k >> 11);
}

static void random_operations_match_the_model(void **st) {
    static ws_corr t;
    static model_req m[N];
    memset(&t, 0, sizeof t);
    q_error err;
    uint32_t live = 0;
    for (uint32_t k = 0; k < N; k++) m[k].state = WR_FREE;
    for (int step = 0; step < 40000; step++) {
        uint32_t k = rnd() % N;
        model_req *r = &m[k];
        switch (r->state) {
        case WR_FREE:
            id_of(k, r->id);
            r->deadline = (double)(rnd() % 1000);
            assert_int_equal(ws_corr_add(&t, r->id, r->deadline, false, 1000000, &r->slot, &r->handle, &err), Q_OK);
            r->state = WR_QUEUED; live++;
            /* the same id again is refused */
            assert_int_equal(ws_corr_add(&t, r->id, 0, false, 1000000, &(uint32_t){0}, &(uint32_t){0}, &err), Q_ERR(INVALID_VALUE));
            break;
        case WR_QUEUED:
            if (rnd() & 1) { ws_corr_written(&t, r->slot); r->state = WR_WRITTEN; }
            else { ws_corr_remove(&t, r->slot); r->state = WR_FREE; live--; }
            break;
        case WR_WRITTEN:
            switch (rnd() % 3) {
            case 0: ws_corr_tombstone(&t, r->slot); r->state = WR_TOMBSTONE; break;
            case 1: ws_corr_unwrite(&t, r->slot); r->state = WR_QUEUED; break;
            default: ws_corr_remove(&t, r->slot); r->state = WR_FREE; live--;
            }
            break;
        default:
            ws_corr_remove(&t, r->slot); r->state = WR_FREE; live--;
        }
        if (step % 97 == 0 || step > 39990) {
            assert_int_equal(t.live, live);
            uint32_t q = 0, w = 0, tomb = 0;
            for (uint32_t j = 0; j < N; j++) {
                uint8_t id[16];
                id_of(j, id);
                uint32_t s = ws_corr_by_id(&t, id);
                if (m[j].state == WR_FREE) { assert_int_equal(s, WS_NIL); continue; }
                assert_int_equal(s, m[j].slot);
                assert_int_equal(t.e[s].state, m[j].state);
                assert_int_equal(ws_corr_by_handle(&t, m[j].handle), m[j].state == WR_TOMBSTONE ? WS_NIL : s);
                q += m[j].state == WR_QUEUED; w += m[j].state != WR_QUEUED; tomb += m[j].state == WR_TOMBSTONE;
            }
            assert_int_equal(t.queued.len, q);
            assert_int_equal(t.written.len, w);
            assert_int_equal(t.tombstones, tomb);
        }
    }
    /* deadlines come out in order, tombstones never */
    double last = -1;
    uint32_t s, popped = 0;
    while ((s = ws_corr_expired(&t, 1e9)) != WS_NIL) {
        assert_true(t.e[s].deadline_ms >= last);
        assert_int_not_equal(t.e[s].state, WR_TOMBSTONE);
        last = t.e[s].deadline_ms;
        ws_corr_remove(&t, s);
        popped++;
    }
    assert_int_equal(t.live, t.tombstones);
    ws_corr_release(&t);
    (void)popped;
}

/* Deadlines mostly in order (one timeout for all: the FIFO) with some earlier ones among them
 * (a shorter timeout: the heap), requests ending in any order: the next deadline is always the
 * earliest live one, and they expire in order. */
static void deadlines_in_and_out_of_order(void **st) {
    static ws_corr t;
    static double dl[N];
    static uint32_t slot[N];
    static bool live[N];
    memset(&t, 0, sizeof t);
    assert_true(ws_corr_next_deadline(&t) > 1e299);   /* empty, never added to */
    assert_int_equal(ws_corr_expired(&t, 1e9), WS_NIL);
    q_error err;
    uint32_t added = 0;
    for (int step = 0; step < 20000; step++) {
        uint32_t k = rnd() % N;
        if (!live[k]) {
            uint8_t id[16];
            id_of(k, id);
            dl[k] = step + (rnd() % 8 ? 60000.0 : (double)(rnd() % 70000));   /* 1 in 8 out of order */
            assert_int_equal(ws_corr_add(&t, id, dl[k], false, 1000000, &slot[k], &(uint32_t){0}, &err), Q_OK);
            live[k] = true;
            added++;
        } else {
            if (rnd() % 3 == 0) { ws_corr_written(&t, slot[k]); ws_corr_tombstone(&t, slot[k]); }   /* no deadline left */
            else ws_corr_remove(&t, slot[k]);
            if (t.e[slot[k]].state != WR_TOMBSTONE) live[k] = false;
            else { ws_corr_remove(&t, slot[k]); live[k] = false; }
        }
        double min = 1e300;
        for (uint32_t j = 0; j < N; j++) if (live[j] && dl[j] < min) min = dl[j];
        assert_true(ws_corr_next_deadline(&t) == min);
    }
    double last = -1;
    uint32_t s;
    while ((s = ws_corr_expired(&t, 1e9)) != WS_NIL) {
        assert_true(t.e[s].deadline_ms >= last);
        last = t.e[s].deadline_ms;
        ws_corr_remove(&t, s);
    }
    assert_int_equal(t.live, 0);
    assert_true(added > 1000);
    ws_corr_release(&t);
}

static void unwrite_keeps_order_at_the_front(void **st) {
    static ws_corr t;
    memset(&t, 0, sizeof t);
    q_error err;
    uint32_t s[4], h;
    uint8_t id[16];
    for (uint32_t k = 0; k < 4; k++) { id_of(k + 1, id); assert_int_equal(ws_corr_add(&t, id, 10, true, 100, &s[k], &h, &err), Q_OK); }
    ws_corr_written(&t, s[0]); ws_corr_written(&t, s[1]);
    /* back to the queue from the newest written: s0, s1 before the still-queued s2, s3 */
    ws_corr_unwrite(&t, s[1]); ws_corr_unwrite(&t, s[0]);
    uint32_t want[] = { s[0], s[1], s[2], s[3] }, i = 0;
    for (uint32_t x = t.queued.head; x != WS_NIL; x = t.e[x].next) assert_int_equal(x, want[i++]);
    assert_int_equal(i, 4);
    /* the limit */
    id_of(99, id);
    assert_int_equal(ws_corr_add(&t, id, 10, true, 4, &s[0], &h, &err), Q_ERR(LIMIT_REACHED));
    ws_corr_release(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(random_operations_match_the_model, setup),
        cmocka_unit_test_setup(unwrite_keeps_order_at_the_front, setup),
        cmocka_unit_test_setup(deadlines_in_and_out_of_order, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
