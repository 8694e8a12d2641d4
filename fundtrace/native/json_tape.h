/* A strict, allocation-light JSON reader for the bulk-import fast paths.
 *
 * Why: the pure-Python fast paths (msgspec structs, then Python loops building the canonical
 * objects) top out near 2x the etl mappers; the interpreter loop, not the JSON decoding, is the
 * floor. The native fast paths read a document into a flat "tape" of tokens (offsets into the
 * caller's buffer, no Python objects) and build only the canonical objects they return.
 *
 * The reader accepts a subset of JSON and says so: strings must be printable ASCII without
 * backslash escapes (what Bitcoin Core, geth/Erigon/Parity and Solana emit for these results).
 * Anything outside that subset is JT_UNSUPPORTED, never an error: the caller then hands the whole
 * input to the general Python path, which decodes every valid document and words every error.
 */
#ifndef FUNDTRACE_JSON_TAPE_H
#define FUNDTRACE_JSON_TAPE_H

#include <stddef.h>
#include <stdint.h>

enum jt_kind { JT_OBJ = 1, JT_ARR, JT_STR, JT_NUM, JT_TRUE, JT_FALSE, JT_NULL };

enum jt_status {
    JT_OK = 0,
    JT_INVALID = 1,     /* not JSON: the general path words the error */
    JT_UNSUPPORTED = 2, /* JSON outside the subset (escape, non-ASCII, too deep, ...) */
    JT_NOMEM = 3,
};

typedef struct {
    uint8_t kind;  /* enum jt_kind */
    size_t start;  /* STR: first byte after the opening quote; NUM: first digit/sign;
                      OBJ/ARR: the bracket */
    size_t len;    /* STR/NUM: bytes of text (quotes excluded); OBJ: members; ARR: elements */
    size_t next;   /* index of the token after this value, children included (skip a subtree) */
} jtok;

typedef struct {
    jtok *toks;
    size_t n;
    size_t cap;
} jtape;

#define JT_MAX_DEPTH 64

void jtape_init(jtape *t);
void jtape_free(jtape *t);

/* Reset the tape and read one JSON value from buf[pos..len), skipping whitespace before and
 * after it. On JT_OK *end is the offset after the trailing whitespace: the caller checks that
 * the document ends there (end of line or buffer; "[1] x" is one value and then garbage).
 * Object members are laid out key (a JT_STR token), value, key, value ...; the root is token 0.
 * Numbers are only checked against the JSON grammar: converting them is the caller's job. */
int jtape_parse(jtape *t, const char *buf, size_t len, size_t pos, size_t *end);

/* Token index of the value of `key` in object `obj`; -1 when absent; -2 when the key occurs
 * more than once (duplicate keys: fall back, the general path decides which one counts). */
long jobj_get(const jtape *t, const char *buf, size_t obj, const char *key);

/* First child of a container token (valid when len > 0), and the value after a key. */
static inline size_t jt_child(size_t i) { return i + 1; }
static inline size_t jt_after(const jtape *t, size_t i) { return t->toks[i].next; }

/* String token equals a C string exactly. */
int jt_str_eq(const jtape *t, const char *buf, size_t i, const char *s);

#endif
