/* Host harness for the core's instruction counts (`make bench-core`, bench/README.md): links the
 * codec module's sources natively and runs one envelope call N times in measure(), which
 * callgrind counts alone (--toggle-collect=measure), so Ir / N is one call's instructions.
 *   core-calls DIR NAME encode|decode N   (DIR/NAME.meta, .payload, .env: bench/core-fixtures.mjs) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "qollective.h"
#include "instance.h"

static char *slurp(const char *dir, const char *name, const char *ext, uint32_t *n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    *n = (uint32_t)ftell(f);
    rewind(f);
    char *b = malloc(*n + 1);
    if (fread(b, 1, *n, f) != *n) { perror(path); exit(2); }
    fclose(f);
    return b;
}

static const char *meta, *payload, *env;
static uint32_t meta_len, payload_len, env_len;

/* One call as the glue makes it: the input written into the core's buffer, then the export. */
static int32_t call(int decode) {
    q_buffer(decode ? env_len : meta_len + payload_len);
    uint8_t *in = instance()->in;
    if (decode) { memcpy(in, env, env_len); return q_envelope_decode(env_len, -1); }
    memcpy(in, meta, meta_len);
    memcpy(in + meta_len, payload, payload_len);
    return q_envelope_encode(meta_len, payload_len, 0, 0, 0, -1);
}

static __attribute__((noinline)) int32_t measure(int decode, int n) {
    int32_t rc = 0;
    for (int i = 0; i < n && rc >= 0; i++) rc = call(decode);
    return rc;
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: core-calls DIR NAME encode|decode N\n"); return 2; }
    int decode = !strcmp(argv[3], "decode"), n = atoi(argv[4]);
    meta = slurp(argv[1], argv[2], "meta", &meta_len);
    payload = slurp(argv[1], argv[2], "payload", &payload_len);
    env = slurp(argv[1], argv[2], "env", &env_len);
    if (q_init(0) < 0 || call(decode) < 0) { fprintf(stderr, "%s %s fails\n", argv[2], argv[3]); return 1; }   /* warm: buffers grown */
    int32_t rc = measure(decode, n);
    if (rc < 0) { fprintf(stderr, "%s %s fails: %d\n", argv[2], argv[3], rc); return 1; }
    printf("%s %s: %u output bytes\n", argv[2], argv[3], q_output_len());
    return 0;
}
