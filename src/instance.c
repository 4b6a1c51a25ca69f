/* The instance behind the exports: call bracketing (scratch reset, error record), host
 * I/O buffers and the client table with generation-checked handles. */
#include "instance.h"
#include "qollective.h"

/* The one pointer to per-instance state; the state itself lives in the arena. */
static q_instance *the_instance;

q_instance *instance(void) { return the_instance; }

int instance_start(uint32_t limit) {
    arena_init(limit ? limit : Q_DEFAULT_MEMORY_LIMIT_BYTES);
    the_instance = q_calloc(1, sizeof(q_instance));
    if (!the_instance) return Q_ERR(OUT_OF_MEMORY);
    q_error_clear(&the_instance->err);
    the_instance->next_generation = 1;
    /* An (empty) input buffer from the start, so a call with zero lengths before any
     * q_buffer never does arithmetic on a NULL pointer. in_cap stays 0. */
    the_instance->in = q_alloc(1);
    if (!the_instance->in) return Q_ERR(OUT_OF_MEMORY);
    return Q_OK;
}

q_instance *call_begin(void) {
    q_instance *I = the_instance;
    if (!I) return NULL;
#ifndef Q_CODEC_ONLY   /* only the client calls put secrets in scratch (the codec module has none) */
    if (I->scratch_has_secret) { scratch_wipe(); I->scratch_has_secret = false; }
#endif
    scratch_reset();
    q_error_clear(&I->err);
    I->err_rec_len = 0;
    I->out = NULL; I->out_len = 0;
    return I;
}

void call_output(q_instance *I, const uint8_t *p, uint32_t n) { I->out = p; I->out_len = n; }

int call_end(q_instance *I, int rc) {
    if (rc < 0) {
        if (I->err.status == 0) q_fail(&I->err, rc, Q_NO_OFFSET, NULL, NULL);
        if (rc == Q_ERR(OUT_OF_MEMORY)) {
            /* name the limit that was hit (design.md: "out of memory with the limit") */
            q_msg_append(&I->err, "; memory limit ");
            q_text_append_u64(I->err.message, sizeof I->err.message, arena_limit());
            q_msg_append(&I->err, " bytes");
        }
        int n = q_error_record(&I->err, I->err_rec, sizeof I->err_rec);
        I->err_rec_len = n > 0 ? (uint32_t)n : 0;
        I->out = NULL; I->out_len = 0;
    }
    return rc;
}

/* Handle = slot | generation << 8, so a freed slot's old handle is refused. */
#ifdef Q_CODEC_ONLY
__attribute__((always_inline))   /* the codec module's is only a refusal: inlined where it is asked */
#endif
q_client *client_get(q_instance *I, int32_t handle, bool allow_none) {
    if (handle == -1 && allow_none) return NULL;
#ifdef Q_CODEC_ONLY
    /* the codec module makes no clients, so no handle can be valid; this also lets LTO drop
     * every per-client branch of the codec exports */
    q_fail(&I->err, Q_ERR(BAD_HANDLE), Q_NO_OFFSET, "client", QD(THE_CODEC_MODULE_HAS_NO_CLIENTS_LOAD));
    return NULL;
#endif
    uint32_t slot = (uint32_t)handle & 0xFF, gen = (uint32_t)handle >> 8;
    if (handle < 0 || slot >= Q_MAX_CLIENTS || !I->clients[slot] || I->clients[slot]->generation != gen) {
        q_fail(&I->err, Q_ERR(BAD_HANDLE), Q_NO_OFFSET, "client", NULL);
        return NULL;
    }
    return I->clients[slot];
}

/* env_decoded begins with the record's words in QD_* order (envelope.h): one copy. */
#define Q_RECORD_AT_(field, word) _Static_assert(__builtin_offsetof(env_decoded, field) == (word) * 4, #field " is word " #word " of the decode record");
Q_RECORD_AT_(meta_off, QD_META_OFF) Q_RECORD_AT_(meta_len, QD_META_LEN)
Q_RECORD_AT_(payload_off, QD_PAYLOAD_OFF) Q_RECORD_AT_(payload_len, QD_PAYLOAD_LEN)
Q_RECORD_AT_(error_off, QD_ERROR_OFF) Q_RECORD_AT_(error_len, QD_ERROR_LEN) Q_RECORD_AT_(error_status, QD_ERROR_STATUS)
Q_RECORD_AT_(error_code_off, QD_ERROR_CODE_OFF) Q_RECORD_AT_(error_code_len, QD_ERROR_CODE_LEN)
Q_RECORD_AT_(error_message_off, QD_ERROR_MESSAGE_OFF) Q_RECORD_AT_(error_message_len, QD_ERROR_MESSAGE_LEN)
Q_RECORD_AT_(request_id_off, QD_REQUEST_ID_OFF) Q_RECORD_AT_(request_id_len, QD_REQUEST_ID_LEN) Q_RECORD_AT_(meta_needs_tape, QD_META_NEEDS_TAPE)
_Static_assert(QD_META_NEEDS_TAPE + 1 == Q_DECODE_RECORD_WORDS, "the record ends with meta_needs_tape");

void decode_record(const env_decoded *d, int32_t *r) { q_memcpy(r, d, Q_DECODE_RECORD_WORDS * 4); }

bool input_ok(q_instance *I, uint64_t len) {
    if (len <= I->in_cap) return true;
    q_fail(&I->err, Q_ERR(BAD_ARGUMENT), Q_NO_OFFSET, NULL, QD(LENGTH_EXCEEDS_THE_INPUT_BUFFER));
    return false;
}

/* The usual tail: output the bytes built in `out` and return their count. */
int32_t output_end(q_instance *I, int rc, const q_buf *out) {
    if (rc) return call_end(I, rc);
    call_output(I, out->ptr, out->len);
    return call_end(I, (int32_t)out->len);
}
