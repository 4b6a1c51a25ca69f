/* Reader for the tests/vectors TSV files: code, offset, path, %HH-escaped input per line. */
#ifndef Q_TEST_VECTORS_H
#define Q_TEST_VECTORS_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char code[64];
    long offset;
    char path[128];
    unsigned char *input;
    size_t len;
    int line;
} vector_case;

static int hexval(int c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

/* Loads every case; returns the count. Release with vectors_free. */
static int vectors_load(const char *path, vector_case **out) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); return -1; }
    int cap = 256, n = 0, lineno = 0;
    vector_case *v = calloc((size_t)cap, sizeof *v);
    char line[70000];
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t l = strlen(line);
        if (l && line[l - 1] == '\n') line[--l] = 0;
        if (!l || line[0] == '#') continue;
        char *c1 = strchr(line, '\t'); if (!c1) continue; *c1++ = 0;
        char *c2 = strchr(c1, '\t'); if (!c2) continue; *c2++ = 0;
        char *c3 = strchr(c2, '\t'); if (!c3) continue; *c3++ = 0;
        if (n == cap) { cap *= 2; v = realloc(v, (size_t)cap * sizeof *v); }
        vector_case *k = &v[n++];
        memset(k, 0, sizeof *k);
        snprintf(k->code, sizeof k->code, "%s", line);
        k->offset = strtol(c1, NULL, 10);
        snprintf(k->path, sizeof k->path, "%s", c2);
        k->input = malloc(strlen(c3) + 1);
        k->line = lineno;
        for (char *s = c3; *s; s++) {
            if (*s == '%' && s[1] && s[2]) { k->input[k->len++] = (unsigned char)(hexval(s[1]) * 16 + hexval(s[2])); s += 2; }
            else k->input[k->len++] = (unsigned char)*s;
        }
    }
    fclose(f);
    *out = v;
    return n;
}
static void vectors_free(vector_case *v, int n) {
    for (int i = 0; i < n; i++) free(v[i].input);
    free(v);
}
#endif
