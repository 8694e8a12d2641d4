/* Strict JSON reader for the native fast paths: see json_tape.h for what it accepts and why.
 *
 * Grammar is RFC 8259 (what json.loads and msgspec accept, minus NaN/Infinity, which only the
 * general path reads); strings are restricted to printable ASCII without escapes, which turns
 * every other string into JT_UNSUPPORTED so the general path takes the input.
 */
#include "json_tape.h"

#include <stdlib.h>
#include <string.h>

void jtape_init(jtape *t) {
    t->toks = NULL;
    t->n = 0;
    t->cap = 0;
}

void jtape_free(jtape *t) {
    free(t->toks);
    jtape_init(t);
}

static int push(jtape *t, uint8_t kind, size_t start) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        jtok *toks = realloc(t->toks, cap * sizeof(jtok));
        if (!toks) return JT_NOMEM;
        t->toks = toks;
        t->cap = cap;
    }
    jtok *k = &t->toks[t->n++];
    k->kind = kind;
    k->start = start;
    k->len = 0;
    k->next = 0;
    return JT_OK;
}

static inline int is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

static inline size_t skip_ws(const char *buf, size_t len, size_t p) {
    while (p < len && is_ws(buf[p])) p++;
    return p;
}

static inline int is_digit(char c) { return c >= '0' && c <= '9'; }

/* A string body from p (after the quote); returns the offset of the closing quote or an error
 * status via *status. Printable ASCII only, no escapes. */
static size_t scan_string(const char *buf, size_t len, size_t p, int *status) {
    const unsigned char *u = (const unsigned char *)buf;
    /* Eight bytes at a time while none is a quote, a backslash, a control byte or non-ASCII
     * (hex strings are most of a block's bytes); the first chunk holding one is finished below
     * byte by byte. Classic SWAR tests: a byte of x is zero iff its bit in haszero(x) is set. */
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (p + 8 <= len) {
        uint64_t x;
        memcpy(&x, u + p, 8);
        uint64_t quote = x ^ (ones * '"'), slash = x ^ (ones * '\\'), del = x ^ (ones * 0x7f);
        uint64_t hit = ((quote - ones) & ~quote) | ((slash - ones) & ~slash) |
                       ((del - ones) & ~del) | ((x - ones * 0x20) & ~x) | x;
        if (hit & highs) break;
        p += 8;
    }
    while (p < len) {
        unsigned char c = u[p];
        if (c == '"') return p;
        if (c == '\\' || c >= 0x7f) {
            *status = JT_UNSUPPORTED;
            return p;
        }
        if (c < 0x20) {
            *status = JT_INVALID;
            return p;
        }
        p++;
    }
    *status = JT_INVALID;
    return p;
}

/* A number from p; returns the offset after it, or sets *status. */
static size_t scan_number(const char *buf, size_t len, size_t p, int *status) {
    size_t q = p;
    if (q < len && buf[q] == '-') q++;
    if (q >= len) goto bad;
    if (buf[q] == '0') {
        q++;
    } else if (buf[q] >= '1' && buf[q] <= '9') {
        while (q < len && is_digit(buf[q])) q++;
    } else {
        goto bad;
    }
    if (q < len && buf[q] == '.') {
        q++;
        if (q >= len || !is_digit(buf[q])) goto bad;
        while (q < len && is_digit(buf[q])) q++;
    }
    if (q < len && (buf[q] == 'e' || buf[q] == 'E')) {
        q++;
        if (q < len && (buf[q] == '+' || buf[q] == '-')) q++;
        if (q >= len || !is_digit(buf[q])) goto bad;
        while (q < len && is_digit(buf[q])) q++;
    }
    return q;
bad:
    *status = JT_INVALID;
    return q;
}

static int literal(const char *buf, size_t len, size_t p, const char *word) {
    size_t n = strlen(word);
    return p + n <= len && memcmp(buf + p, word, n) == 0;
}

int jtape_parse(jtape *t, const char *buf, size_t len, size_t pos, size_t *end) {
    /* Open containers, innermost last; `expect_key` is whether an object waits for a key. */
    size_t stack[JT_MAX_DEPTH];
    int depth = 0;
    int status = JT_OK;
    size_t p = skip_ws(buf, len, pos);
    t->n = 0;

    for (;;) {
        /* One value at p. */
        if (p >= len) return JT_INVALID;
        char c = buf[p];
        size_t here = t->n;
        if (c == '{' || c == '[') {
            if (depth == JT_MAX_DEPTH) return JT_UNSUPPORTED;
            if ((status = push(t, c == '{' ? JT_OBJ : JT_ARR, p))) return status;
            stack[depth++] = here;
            p = skip_ws(buf, len, p + 1);
            if (p < len && buf[p] == (c == '{' ? '}' : ']')) {
                t->toks[here].next = t->n;
                depth--;
                p++;
                goto after_value;
            }
            if (c == '{') goto key;
            continue;
        } else if (c == '"') {
            if ((status = push(t, JT_STR, p + 1))) return status;
            size_t q = scan_string(buf, len, p + 1, &status);
            if (status) return status;
            t->toks[here].len = q - (p + 1);
            t->toks[here].next = here + 1;
            p = q + 1;
        } else if (c == '-' || is_digit(c)) {
            if ((status = push(t, JT_NUM, p))) return status;
            size_t q = scan_number(buf, len, p, &status);
            if (status) return status;
            t->toks[here].len = q - p;
            t->toks[here].next = here + 1;
            p = q;
        } else if (c == 't' && literal(buf, len, p, "true")) {
            if ((status = push(t, JT_TRUE, p))) return status;
            t->toks[here].next = here + 1;
            p += 4;
        } else if (c == 'f' && literal(buf, len, p, "false")) {
            if ((status = push(t, JT_FALSE, p))) return status;
            t->toks[here].next = here + 1;
            p += 5;
        } else if (c == 'n' && literal(buf, len, p, "null")) {
            if ((status = push(t, JT_NULL, p))) return status;
            t->toks[here].next = here + 1;
            p += 4;
        } else {
            return JT_INVALID;
        }

    after_value:
        /* A value ended: close containers or move to the next member/element. */
        for (;;) {
            p = skip_ws(buf, len, p);
            if (depth == 0) {
                *end = p;
                return JT_OK;
            }
            jtok *open = &t->toks[stack[depth - 1]];
            open->len++;
            if (p >= len) return JT_INVALID;
            char d = buf[p];
            if (d == ',') {
                p = skip_ws(buf, len, p + 1);
                if (open->kind == JT_OBJ) goto key;
                break; /* next element */
            }
            if ((open->kind == JT_OBJ && d == '}') || (open->kind == JT_ARR && d == ']')) {
                open->next = t->n;
                depth--;
                p++;
                continue; /* the container is a value that ended */
            }
            return JT_INVALID;
        }
        continue;

    key:
        /* An object member: "key" ws : ws, then its value at the top of the loop. */
        if (p >= len || buf[p] != '"') return JT_INVALID;
        {
            size_t k = t->n;
            if ((status = push(t, JT_STR, p + 1))) return status;
            size_t q = scan_string(buf, len, p + 1, &status);
            if (status) return status;
            t->toks[k].len = q - (p + 1);
            t->toks[k].next = k + 1;
            p = skip_ws(buf, len, q + 1);
            if (p >= len || buf[p] != ':') return JT_INVALID;
            p = skip_ws(buf, len, p + 1);
        }
    }
}

int jt_str_eq(const jtape *t, const char *buf, size_t i, const char *s) {
    const jtok *k = &t->toks[i];
    size_t n = strlen(s);
    return k->kind == JT_STR && k->len == n && memcmp(buf + k->start, s, n) == 0;
}

long jobj_get(const jtape *t, const char *buf, size_t obj, const char *key) {
    const jtok *o = &t->toks[obj];
    if (o->kind != JT_OBJ) return -1;
    size_t n = strlen(key);
    long found = -1;
    size_t k = obj + 1;
    for (size_t m = 0; m < o->len; m++) {
        const jtok *kt = &t->toks[k];
        if (kt->len == n && memcmp(buf + kt->start, key, n) == 0) {
            if (found >= 0) return -2;
            found = (long)(k + 1);
        }
        k = t->toks[k + 1].next;
    }
    return found;
}
