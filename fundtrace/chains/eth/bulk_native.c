/* Native twin of ``rpc_bulk._Bulk``: JSON lines (or one document) of full blocks and their
 * receipts straight to the canonical Block/Transaction/Transfer objects.
 *
 * Why: the pure-Python fast path spends most of its time in the interpreter loop that joins
 * receipts to transactions and builds the objects, not in decoding. Here every document is read
 * into a token tape (json_tape.h), each block transaction and receipt is kept as a few pointers
 * into the caller's buffers until its partner arrives, and only the returned objects are built.
 *
 * Contract: for an input the Python fast path accepts, ``bulk`` returns the same blocks,
 * transactions (same order), skipped counts and pre-Byzantium count; for anything else it
 * returns None and the Python paths decide (they also word every error). It may decline more
 * than the Python path does (every known field present is checked, used or not; duplicate keys
 * and escapes are declined): declining is always safe, accepting something the Python path
 * rejects never is. Python exceptions (MemoryError) propagate.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <structmember.h>

#include "json_tape.h"

#define OK 0
#define DECLINE 1
#define ERR (-1)

/* --- model classes, passed in once by rpc_bulk ------------------------------------------- */

#define MAX_FIELDS 16

/* How instances of one model class are made. ``fast``: the class is a slots dataclass without
 * __post_init__ (rpc_bulk checks the field list), so an instance is allocated and its slots
 * filled directly, which is what the generated __init__ does without running bytecode.
 * Otherwise the class is called. */
typedef struct {
    PyTypeObject *type;
    Py_ssize_t nfields;
    Py_ssize_t offsets[MAX_FIELDS];
    int fast;
} objspec;

static struct {
    objspec block, tx, transfer;
    PyObject *chain, *kind_native, *kind_token, *native_asset;
    PyObject *skip_reason[3]; /* removed log, ERC-721, non-standard */
    char topic[66];
    int ready;
} G;

enum { SKIP_REMOVED, SKIP_ERC721, SKIP_NONSTANDARD };

static int spec_init(objspec *s, PyObject *cls, PyObject *names, int fast) {
    if (!PyType_Check(cls) || !PyTuple_Check(names) || PyTuple_GET_SIZE(names) > MAX_FIELDS) {
        PyErr_SetString(PyExc_TypeError, "setup: a class and a tuple of its field names");
        return -1;
    }
    Py_XDECREF(s->type);
    Py_INCREF(cls);
    s->type = (PyTypeObject *)cls;
    s->nfields = PyTuple_GET_SIZE(names);
    s->fast = fast;
    for (Py_ssize_t i = 0; i < s->nfields && s->fast; i++) {
        PyObject *d = PyObject_GetAttr(cls, PyTuple_GET_ITEM(names, i));
        if (d == NULL) return -1;
        if (Py_IS_TYPE(d, &PyMemberDescr_Type)) {
            PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
            if (m->type == T_OBJECT_EX && !(m->flags & READONLY) &&
                ((PyMemberDescrObject *)d)->d_common.d_type == s->type)
                s->offsets[i] = m->offset;
            else
                s->fast = 0;
        } else {
            s->fast = 0;
        }
        Py_DECREF(d);
    }
    return 0;
}

/* A new instance from `vals` (nfields references, all stolen, None included). */
static PyObject *make(const objspec *s, PyObject **vals) {
    PyObject *obj;
    if (s->fast) {
        obj = s->type->tp_alloc(s->type, 0);
        if (obj == NULL) goto fail;
        for (Py_ssize_t i = 0; i < s->nfields; i++)
            *(PyObject **)((char *)obj + s->offsets[i]) = vals[i];
        return obj;
    }
    obj = PyObject_Vectorcall((PyObject *)s->type, vals, (size_t)s->nfields, NULL);
fail:
    for (Py_ssize_t i = 0; i < s->nfields; i++) Py_DECREF(vals[i]);
    return obj;
}

/* --- hex ---------------------------------------------------------------------------------- */

static int8_t HEXVAL[256];  /* digit value, -1 for anything else (either case) */

static void hex_tables(void) {
    for (int i = 0; i < 256; i++) HEXVAL[i] = -1;
    for (int i = 0; i < 10; i++) HEXVAL['0' + i] = (int8_t)i;
    for (int i = 0; i < 6; i++) HEXVAL['a' + i] = HEXVAL['A' + i] = (int8_t)(10 + i);
}

/* A string value (pointer into the caller's buffer); p == NULL: absent or null. */
typedef struct {
    const char *p;
    size_t n;
} span;

static inline int span_eq(span a, span b) { return a.n == b.n && memcmp(a.p, b.p, a.n) == 0; }
static inline int span_is(span a, const char *s, size_t n) {
    return a.n == n && memcmp(a.p, s, n) == 0;
}

/* Digits of a checked quantity ("0x" + at least one digit) without leading zeros. */
static inline void digits(span s, const char **d, size_t *m) {
    const char *p = s.p + 2;
    size_t k = s.n - 2;
    while (k > 1 && *p == '0') {
        p++;
        k--;
    }
    *d = p;
    *m = k;
}

/* The value when it fits 64 bits; 0 when it does not. */
static int qty_u64(span s, uint64_t *out) {
    const char *d;
    size_t m;
    digits(s, &d, &m);
    if (m > 16) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < m; i++) v = v << 4 | (uint64_t)HEXVAL[(uint8_t)d[i]];
    *out = v;
    return 1;
}

static PyObject *qty_int(span s) {
    uint64_t v;
    if (qty_u64(s, &v)) return PyLong_FromUnsignedLongLong(v);
    const char *d;
    size_t m;
    digits(s, &d, &m);
    char *tmp = PyMem_Malloc(m + 1);
    if (tmp == NULL) return PyErr_NoMemory();
    memcpy(tmp, d, m);
    tmp[m] = '\0';
    PyObject *r = PyLong_FromString(tmp, NULL, 16);
    PyMem_Free(tmp);
    return r;
}

static int qty_zero(span s) {
    const char *d;
    size_t m;
    digits(s, &d, &m);
    return m == 1 && d[0] == '0';
}

static PyObject *ascii(const char *p, size_t n) {
    PyObject *s = PyUnicode_New((Py_ssize_t)n, 127);
    if (s != NULL) memcpy(PyUnicode_1BYTE_DATA(s), p, n);
    return s;
}

static PyObject *ascii_or_none(const char *p, size_t n) {
    return p == NULL ? Py_NewRef(Py_None) : ascii(p, n);
}

/* --- records kept between documents (pointers into the caller's buffers) ------------------ */

typedef struct {
    uint64_t number;
    span num_s;
    const char *hash;
    PyObject *n_obj, *hash_obj, *ts_obj; /* owned */
} blockrec;

typedef struct {
    const char *hash, *from, *to, *block_hash;
    span value, block_number, index, gas_price;
    size_t block;
} txrec;

typedef struct {
    const char *hash, *contract, *block_hash;
    span gas_used, status, egp, index;
    size_t log0, nlogs;
} rcrec;

typedef struct {
    const char *address;
    span data, index;
    size_t topic0, ntopics;
    int removed;
} logrec;

typedef struct {
    uint64_t n;
    int64_t index; /* -1: none */
    const char *hash;
    PyObject *tx; /* borrowed from the result list */
} txkey;

/* Join table: transaction hash -> the side seen first. */
enum { W_TX = 1, W_RC = 2, DONE = 3 };
typedef struct {
    uint64_t h; /* hash_key(key): probes compare it and touch the key only on a match */
    const char *key;
    uint32_t state;
    uint32_t idx;
} hslot;

typedef struct {
    jtape tape;
    const char *buf;
    blockrec *blocks;
    size_t nblocks, capblocks;
    txrec *txs;
    size_t ntxs, captxs;
    rcrec *rcs;
    size_t nrcs, caprcs;
    logrec *logs;
    size_t nlogs, caplogs;
    const char **topics;
    size_t ntopics, captopics;
    hslot *slots;
    size_t nslots, capslots, done;
    txkey *keys;
    size_t nkeys, capkeys;
    PyObject *block_list, *tx_list;
    int ordered, have_last;
    uint64_t last_n;
    int64_t last_index;
    Py_ssize_t unknown;
    Py_ssize_t skips[3];
    int skip_order[3], nskip_order;
} ctx;

static int grow(void **arr, size_t *cap, size_t size) {
    size_t c = *cap ? *cap * 2 : 256;
    void *p = realloc(*arr, c * size);
    if (p == NULL) {
        PyErr_NoMemory();
        return ERR;
    }
    *arr = p;
    *cap = c;
    return OK;
}

#define PUSH(c, arr, n, cap) \
    ((c)->n < (c)->cap ? OK : grow((void **)&(c)->arr, &(c)->cap, sizeof(*(c)->arr)))

static inline uint64_t hash_key(const char *p) {
    uint64_t h = 0x9E3779B97F4A7C15ULL, w;
    for (int i = 2; i < 66; i += 8) {
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    h ^= h >> 33; /* murmur3's finalizer: every key bit reaches the low (index) bits */
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static hslot *find_slot(hslot *slots, size_t cap, uint64_t h, const char *key) {
    size_t i = (size_t)h & (cap - 1);
    while (slots[i].key != NULL && (slots[i].h != h || memcmp(slots[i].key, key, 66) != 0))
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

/* The slot of `key`, inserting an empty one (state 0) when absent. */
static hslot *lookup(ctx *c, const char *key) {
    if (2 * (c->nslots + 1) > c->capslots) {
        size_t cap = c->capslots ? c->capslots * 2 : 4096;
        hslot *s = calloc(cap, sizeof(hslot));
        if (s == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        for (size_t i = 0; i < c->capslots; i++) {
            const hslot *o = &c->slots[i];
            if (o->key != NULL) {
                size_t j = (size_t)o->h & (cap - 1);
                while (s[j].key != NULL) j = (j + 1) & (cap - 1);
                s[j] = *o;
            }
        }
        free(c->slots);
        c->slots = s;
        c->capslots = cap;
    }
    uint64_t h = hash_key(key);
    hslot *slot = find_slot(c->slots, c->capslots, h, key);
    if (slot->key == NULL) {
        slot->h = h;
        slot->key = key;
        slot->state = 0;
        c->nslots++;
    }
    return slot;
}

/* --- field checks (what msgspec's types and rpc_bulk's hex checks accept, or less) -------- */

static inline const jtok *TK(const ctx *c, size_t i) { return &c->tape.toks[i]; }

/* Eight bytes of lowercase hex digits. Tape strings are printable ASCII (< 0x80), so adding
 * up to 0x80 to a byte never carries into the next one: the high bit of x + (0x80 - lo) says
 * x >= lo, that of x + (0x7f - hi) says x > hi. */
static inline int lower_hex8(const char *p) {
    const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;
    uint64_t w;
    memcpy(&w, p, 8);
    uint64_t digit = (w + ones * (0x80 - '0')) & ~(w + ones * (0x7f - '9'));
    uint64_t af = (w + ones * (0x80 - 'a')) & ~(w + ones * (0x7f - 'f'));
    return ((digit | af) & high) == high;
}

/* Eight bytes of hex digits of either case (quantities and log data). */
static inline int any_hex8(const char *p) {
    const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;
    uint64_t w;
    memcpy(&w, p, 8);
    uint64_t digit = (w + ones * (0x80 - '0')) & ~(w + ones * (0x7f - '9'));
    uint64_t af = (w + ones * (0x80 - 'a')) & ~(w + ones * (0x7f - 'f'));
    uint64_t up = (w + ones * (0x80 - 'A')) & ~(w + ones * (0x7f - 'F'));
    return ((digit | af | up) & high) == high;
}

/* Hash (66) or address (42): "0x" + lowercase hex. Absent or null: NULL, unless required. */
static int get_fixed(const ctx *c, long i, size_t len, int required, const char **out) {
    *out = NULL;
    if (i < 0 || TK(c, (size_t)i)->kind == JT_NULL) return required ? DECLINE : OK;
    const jtok *k = TK(c, (size_t)i);
    if (k->kind != JT_STR || k->len != len) return DECLINE;
    const char *p = c->buf + k->start;
    if (p[0] != '0' || p[1] != 'x') return DECLINE;
    for (size_t j = 2; j < len; j += 8) /* len - 2 is 64 or 40 */
        if (!lower_hex8(p + j)) return DECLINE;
    *out = p;
    return OK;
}

/* "0x" + hex digits of either case: at least one for a quantity, an even number for data. */
static int get_hex(const ctx *c, long i, int required, int data, span *out) {
    out->p = NULL;
    out->n = 0;
    if (i < 0 || TK(c, (size_t)i)->kind == JT_NULL) return required ? DECLINE : OK;
    const jtok *k = TK(c, (size_t)i);
    if (k->kind != JT_STR || k->len < 2) return DECLINE;
    const char *p = c->buf + k->start;
    if (p[0] != '0' || p[1] != 'x') return DECLINE;
    if (data ? (k->len & 1) : k->len == 2) return DECLINE;
    size_t j = 2;
    for (; j + 8 <= k->len; j += 8)
        if (!any_hex8(p + j)) return DECLINE;
    for (; j < k->len; j++)
        if (HEXVAL[(uint8_t)p[j]] < 0) return DECLINE;
    out->p = p;
    out->n = k->len;
    return OK;
}

/* Positions (transaction and log indexes) are compared as int64. */
static int get_pos(span s, int64_t *out) {
    uint64_t v;
    if (!qty_u64(s, &v) || v > (uint64_t)INT64_MAX) return DECLINE;
    *out = (int64_t)v;
    return OK;
}

#define TRY(x)                  \
    do {                        \
        int r_ = (x);           \
        if (r_ != OK) return r_; \
    } while (0)

/* --- object keys ---------------------------------------------------------------------------- */

#define K(s, id) \
    if (n == sizeof(s) - 1 && memcmp(k, s, n) == 0) return id

enum {
    D_RESULT, D_ERROR, D_REQUEST, D_RESPONSE, D_JSONRPC, D_ID, D_NUMBER, D_HASH, D_TRANSACTIONS,
    D_TIMESTAMP, D_PARENT, D_MINER, D_TXHASH, D_GASUSED, D_LOGS, D_STATUS, D_EGP, D_CONTRACT,
    D_FROM, D_TO, D_BLOCKHASH, D_BLOCKNUMBER, D_TXINDEX, D_N
};

static int doc_key(const char *k, size_t n) {
    switch (n) {
    case 2: K("id", D_ID); K("to", D_TO); break;
    case 4: K("hash", D_HASH); K("from", D_FROM); K("logs", D_LOGS); break;
    case 5: K("error", D_ERROR); K("miner", D_MINER); break;
    case 6: K("result", D_RESULT); K("number", D_NUMBER); K("status", D_STATUS); break;
    case 7: K("request", D_REQUEST); K("gasUsed", D_GASUSED); K("jsonrpc", D_JSONRPC); break;
    case 8: K("response", D_RESPONSE); break;
    case 9: K("timestamp", D_TIMESTAMP); K("blockHash", D_BLOCKHASH); break;
    case 10: K("parentHash", D_PARENT); break;
    case 11: K("blockNumber", D_BLOCKNUMBER); break;
    case 12: K("transactions", D_TRANSACTIONS); break;
    case 15: K("transactionHash", D_TXHASH); K("contractAddress", D_CONTRACT); break;
    case 16: K("transactionIndex", D_TXINDEX); break;
    case 17: K("effectiveGasPrice", D_EGP); break;
    }
    return -1;
}

enum { T_HASH, T_FROM, T_VALUE, T_TO, T_BLOCKNUMBER, T_BLOCKHASH, T_INDEX, T_GASPRICE, T_TYPE, T_N };

static int tx_key(const char *k, size_t n) {
    switch (n) {
    case 2: K("to", T_TO); break;
    case 4: K("hash", T_HASH); K("from", T_FROM); K("type", T_TYPE); break;
    case 5: K("value", T_VALUE); break;
    case 8: K("gasPrice", T_GASPRICE); break;
    case 9: K("blockHash", T_BLOCKHASH); break;
    case 11: K("blockNumber", T_BLOCKNUMBER); break;
    case 16: K("transactionIndex", T_INDEX); break;
    }
    return -1;
}

enum { L_ADDRESS, L_TOPICS, L_DATA, L_INDEX, L_TXHASH, L_BLOCKNUMBER, L_REMOVED, L_N };

static int log_key(const char *k, size_t n) {
    switch (n) {
    case 4: K("data", L_DATA); break;
    case 6: K("topics", L_TOPICS); break;
    case 7: K("address", L_ADDRESS); K("removed", L_REMOVED); break;
    case 8: K("logIndex", L_INDEX); break;
    case 11: K("blockNumber", L_BLOCKNUMBER); break;
    case 15: K("transactionHash", L_TXHASH); break;
    }
    return -1;
}

#undef K

/* Value token of each known key of object `obj` (-1: absent); a known key twice declines.
 * `other` counts the unknown keys. */
static int members(const ctx *c, size_t obj, int (*key)(const char *, size_t), long *idx, int nf,
                   size_t *other) {
    for (int j = 0; j < nf; j++) idx[j] = -1;
    const jtok *o = TK(c, obj);
    if (o->kind != JT_OBJ) return DECLINE;
    size_t k = obj + 1, unknown = 0;
    for (size_t m = 0; m < o->len; m++) {
        const jtok *kt = TK(c, k);
        int id = key(c->buf + kt->start, kt->len);
        if (id < 0) {
            unknown++;
        } else {
            if (idx[id] >= 0) return DECLINE;
            idx[id] = (long)(k + 1);
        }
        k = TK(c, k + 1)->next;
    }
    if (other != NULL) *other = unknown;
    return OK;
}

/* The string fields of a block or receipt document, all checked. */
typedef struct {
    span number, timestamp, gas_used, status, egp, block_number, index;
    const char *hash, *parent, *miner, *tx_hash, *contract, *from, *to, *block_hash;
} docfields;

static int doc_fields(const ctx *c, const long *idx, docfields *f) {
    TRY(get_hex(c, idx[D_NUMBER], 0, 0, &f->number));
    TRY(get_hex(c, idx[D_TIMESTAMP], 0, 0, &f->timestamp));
    TRY(get_hex(c, idx[D_GASUSED], 0, 0, &f->gas_used));
    TRY(get_hex(c, idx[D_STATUS], 0, 0, &f->status));
    TRY(get_hex(c, idx[D_EGP], 0, 0, &f->egp));
    TRY(get_hex(c, idx[D_BLOCKNUMBER], 0, 0, &f->block_number));
    TRY(get_hex(c, idx[D_TXINDEX], 0, 0, &f->index));
    TRY(get_fixed(c, idx[D_HASH], 66, 0, &f->hash));
    TRY(get_fixed(c, idx[D_PARENT], 66, 0, &f->parent));
    TRY(get_fixed(c, idx[D_MINER], 42, 0, &f->miner));
    TRY(get_fixed(c, idx[D_TXHASH], 66, 0, &f->tx_hash));
    TRY(get_fixed(c, idx[D_CONTRACT], 42, 0, &f->contract));
    TRY(get_fixed(c, idx[D_FROM], 42, 0, &f->from));
    TRY(get_fixed(c, idx[D_TO], 42, 0, &f->to));
    TRY(get_fixed(c, idx[D_BLOCKHASH], 66, 0, &f->block_hash));
    return OK;
}

/* --- building -------------------------------------------------------------------------------- */

static void count_skip(ctx *c, int reason) {
    if (c->skips[reason]++ == 0) c->skip_order[c->nskip_order++] = reason;
}

typedef struct {
    int64_t index;
    size_t pos;
    PyObject *obj;
} found_t;

static int cmp_found(const void *a, const void *b) {
    const found_t *x = a, *y = b;
    if (x->index != y->index) return x->index < y->index ? -1 : 1;
    return x->pos < y->pos ? -1 : (x->pos > y->pos);
}

static int is_zero_word(const char *topic) {
    for (int i = 26; i < 66; i++)
        if (topic[i] != '0') return 0;
    return 1;
}

static PyObject *topic_address(const char *topic) {
    if (is_zero_word(topic)) return Py_NewRef(Py_None);
    PyObject *s = PyUnicode_New(42, 127);
    if (s != NULL) {
        Py_UCS1 *d = PyUnicode_1BYTE_DATA(s);
        d[0] = '0';
        d[1] = 'x';
        memcpy(d + 2, topic + 26, 40);
    }
    return s;
}

static const char PAD[] = "0x000000000000000000000000"; /* an address topic's 12 zero bytes */

/* ERC-20 transfers of a successful transaction's logs (rpc_bulk._tokens). */
static int tokens(ctx *c, const rcrec *r, PyObject *transfers) {
    found_t local[16];
    found_t *found = local;
    size_t nfound = 0, cap = 16;
    int ordered = 1, status = OK;
    int64_t last = -1;
    for (size_t i = 0; i < r->nlogs; i++) {
        const logrec *g = &c->logs[r->log0 + i];
        if (g->removed) {
            count_skip(c, SKIP_REMOVED);
            continue;
        }
        const char **topics = c->topics + g->topic0;
        if (g->ntopics == 0 || memcmp(topics[0], G.topic, 66) != 0) continue;
        if (g->ntopics != 3 || g->data.n != 66) {
            count_skip(c, g->ntopics == 4 && g->data.n == 2 ? SKIP_ERC721 : SKIP_NONSTANDARD);
            continue;
        }
        if (memcmp(topics[1], PAD, 26) != 0 || memcmp(topics[2], PAD, 26) != 0) {
            count_skip(c, SKIP_NONSTANDARD);
            continue;
        }
        int64_t index;
        if ((status = get_pos(g->index, &index)) != OK) goto done;
        if (index <= last) ordered = 0;
        last = index;
        PyObject *v[7];
        v[0] = PyLong_FromLongLong(index);
        v[1] = Py_NewRef(G.kind_token);
        v[2] = ascii(g->address, 42);
        v[3] = topic_address(topics[1]);
        v[4] = topic_address(topics[2]);
        v[5] = qty_int(g->data);
        v[6] = Py_NewRef(Py_None);
        if (!v[0] || !v[2] || !v[3] || !v[4] || !v[5]) {
            for (int j = 0; j < 7; j++) Py_XDECREF(v[j]);
            status = ERR;
            goto done;
        }
        PyObject *t = make(&G.transfer, v);
        if (t == NULL) {
            status = ERR;
            goto done;
        }
        if (nfound == cap) {
            found_t *bigger = PyMem_Malloc(2 * cap * sizeof(found_t));
            if (bigger == NULL) {
                Py_DECREF(t);
                PyErr_NoMemory();
                status = ERR;
                goto done;
            }
            memcpy(bigger, found, nfound * sizeof(found_t));
            if (found != local) PyMem_Free(found);
            found = bigger;
            cap *= 2;
        }
        found[nfound].index = index;
        found[nfound].pos = nfound;
        found[nfound].obj = t;
        nfound++;
    }
    if (!ordered) /* the last log at an index wins, then index order */
        qsort(found, nfound, sizeof(found_t), cmp_found);
    for (size_t i = 0; i < nfound; i++) {
        if (!ordered && i + 1 < nfound && found[i + 1].index == found[i].index) continue;
        if (PyList_Append(transfers, found[i].obj) < 0) {
            status = ERR;
            goto done;
        }
    }
done:
    for (size_t i = 0; i < nfound; i++) Py_DECREF(found[i].obj);
    if (found != local) PyMem_Free(found);
    return status;
}

static PyObject *fee_of(span gas_used, span price) {
    uint64_t g, p;
    if (qty_u64(gas_used, &g) && qty_u64(price, &p)) {
        unsigned __int128 f = (unsigned __int128)g * p;
        if ((f >> 64) == 0) return PyLong_FromUnsignedLongLong((uint64_t)f);
    }
    PyObject *a = qty_int(gas_used);
    if (a == NULL) return NULL;
    PyObject *b = qty_int(price);
    if (b == NULL) {
        Py_DECREF(a);
        return NULL;
    }
    PyObject *f = PyNumber_Multiply(a, b);
    Py_DECREF(a);
    Py_DECREF(b);
    return f;
}

/* One transaction from its block transaction and receipt (rpc_bulk._Bulk.run's build). */
static int build(ctx *c, const txrec *t, const rcrec *r) {
    const blockrec *b = &c->blocks[t->block];
    if (t->block_number.p != NULL && !span_eq(t->block_number, b->num_s)) return DECLINE;
    if (t->block_hash != NULL && memcmp(t->block_hash, b->hash, 66) != 0) return DECLINE;
    if (r->block_hash != NULL && memcmp(r->block_hash, b->hash, 66) != 0) return DECLINE;
    span index_s = t->index.p != NULL ? t->index : r->index;
    int64_t tx_index = -1;
    if (index_s.p != NULL) {
        TRY(get_pos(index_s, &tx_index));
        if (c->have_last && !(b->number > c->last_n ||
                              (b->number == c->last_n && tx_index > c->last_index)))
            c->ordered = 0;
        c->have_last = 1;
        c->last_n = b->number;
        c->last_index = tx_index;
    } else {
        c->ordered = 0;
    }
    int success;
    if (r->status.p == NULL) {
        success = 1;
        c->unknown++;
    } else if (span_is(r->status, "0x1", 3)) {
        success = 1;
    } else if (span_is(r->status, "0x0", 3)) {
        success = 0;
    } else {
        return DECLINE;
    }
    if (PUSH(c, keys, nkeys, capkeys) != OK) return ERR;
    span price = r->egp.p != NULL ? r->egp : t->gas_price;
    int has_value = !qty_zero(t->value);

    PyObject *v[15];
    v[0] = Py_NewRef(G.chain);
    v[1] = ascii(t->hash, 66);
    v[2] = Py_NewRef(b->n_obj);
    v[3] = Py_NewRef(b->hash_obj);
    v[4] = index_s.p != NULL ? PyLong_FromLongLong(tx_index) : Py_NewRef(Py_None);
    v[5] = Py_NewRef(b->ts_obj);
    v[6] = price.p != NULL ? fee_of(r->gas_used, price) : Py_NewRef(Py_None);
    v[7] = Py_NewRef(success ? Py_True : Py_False);
    v[8] = ascii(t->from, 42);
    v[9] = ascii_or_none(t->to, 42);
    v[10] = has_value ? qty_int(t->value) : PyLong_FromLong(0);
    v[11] = Py_NewRef(Py_False);
    v[12] = PyList_New(0);
    v[13] = PyList_New(0);
    v[14] = PyList_New(0);
    for (int j = 0; j < 15; j++) {
        if (v[j] == NULL) {
            for (int k = 0; k < 15; k++) Py_XDECREF(v[k]);
            return ERR;
        }
    }
    PyObject *transfers = v[14];
    if (success && (has_value || t->to == NULL)) {
        PyObject *w[7];
        w[0] = PyLong_FromLong(0);
        w[1] = Py_NewRef(G.kind_native);
        w[2] = Py_NewRef(G.native_asset);
        w[3] = Py_NewRef(v[8]);
        w[4] = t->to != NULL ? Py_NewRef(v[9]) : ascii_or_none(r->contract, 42);
        w[5] = Py_NewRef(v[10]);
        w[6] = Py_NewRef(Py_None);
        PyObject *native = NULL;
        if (w[0] == NULL || w[4] == NULL) {
            for (int k = 0; k < 7; k++) Py_XDECREF(w[k]);
        } else {
            native = make(&G.transfer, w);
        }
        if (native == NULL || PyList_Append(transfers, native) < 0) {
            Py_XDECREF(native);
            for (int k = 0; k < 15; k++) Py_DECREF(v[k]);
            return ERR;
        }
        Py_DECREF(native);
    }
    if (success && r->nlogs) {
        int st = tokens(c, r, transfers);
        if (st != OK) {
            for (int k = 0; k < 15; k++) Py_DECREF(v[k]);
            return st;
        }
    }
    PyObject *tx = make(&G.tx, v);
    if (tx == NULL) return ERR;
    int failed = PyList_Append(c->tx_list, tx);
    Py_DECREF(tx);
    if (failed) return ERR;
    txkey *key = &c->keys[c->nkeys++];
    key->n = b->number;
    key->index = tx_index;
    key->hash = t->hash;
    key->tx = tx; /* the list holds it */
    return OK;
}

/* --- documents ------------------------------------------------------------------------------ */

static int join(ctx *c, const char *hash, int side, size_t idx) {
    if (idx > UINT32_MAX) return DECLINE;
    hslot *h = lookup(c, hash);
    if (h == NULL) return ERR;
    if (h->state == 0) {
        h->state = (uint32_t)side;
        h->idx = (uint32_t)idx;
        return OK;
    }
    if (h->state == DONE || h->state == (uint32_t)side) return DECLINE; /* a hash twice */
    h->state = DONE;
    c->done++;
    return side == W_TX ? build(c, &c->txs[idx], &c->rcs[h->idx])
                        : build(c, &c->txs[h->idx], &c->rcs[idx]);
}

static int block_tx(ctx *c, size_t obj, size_t block) {
    long idx[T_N];
    TRY(members(c, obj, tx_key, idx, T_N, NULL));
    if (PUSH(c, txs, ntxs, captxs) != OK) return ERR;
    txrec *t = &c->txs[c->ntxs];
    span type;
    TRY(get_fixed(c, idx[T_HASH], 66, 1, &t->hash));
    TRY(get_fixed(c, idx[T_FROM], 42, 1, &t->from));
    TRY(get_fixed(c, idx[T_TO], 42, 0, &t->to));
    TRY(get_fixed(c, idx[T_BLOCKHASH], 66, 0, &t->block_hash));
    TRY(get_hex(c, idx[T_VALUE], 1, 0, &t->value));
    TRY(get_hex(c, idx[T_BLOCKNUMBER], 0, 0, &t->block_number));
    TRY(get_hex(c, idx[T_INDEX], 0, 0, &t->index));
    TRY(get_hex(c, idx[T_GASPRICE], 0, 0, &t->gas_price));
    TRY(get_hex(c, idx[T_TYPE], 0, 0, &type));
    t->block = block;
    c->ntxs++;
    return join(c, t->hash, W_TX, c->ntxs - 1);
}

static int block_doc(ctx *c, size_t obj, const long *idx, const docfields *f) {
    if (f->number.p == NULL || f->hash == NULL || f->timestamp.p == NULL) return DECLINE;
    if (idx[D_LOGS] >= 0 || idx[D_TXHASH] >= 0) return DECLINE; /* not a plain block */
    size_t arr = (size_t)idx[D_TRANSACTIONS];
    if (TK(c, arr)->kind != JT_ARR) return DECLINE;
    uint64_t number;
    if (!qty_u64(f->number, &number)) return DECLINE;
    if (PUSH(c, blocks, nblocks, capblocks) != OK) return ERR;
    blockrec *b = &c->blocks[c->nblocks];
    b->number = number;
    b->num_s = f->number;
    b->hash = f->hash;
    b->n_obj = PyLong_FromUnsignedLongLong(number);
    b->hash_obj = ascii(f->hash, 66);
    b->ts_obj = qty_int(f->timestamp);
    if (b->n_obj == NULL || b->hash_obj == NULL || b->ts_obj == NULL) {
        Py_XDECREF(b->n_obj);
        Py_XDECREF(b->hash_obj);
        Py_XDECREF(b->ts_obj);
        return ERR;
    }
    c->nblocks++; /* owns the three objects from here */
    PyObject *v[7];
    v[0] = Py_NewRef(G.chain);
    v[1] = Py_NewRef(b->n_obj);
    v[2] = Py_NewRef(b->hash_obj);
    v[3] = Py_NewRef(b->ts_obj);
    v[4] = ascii_or_none(f->parent, 66);
    v[5] = PyLong_FromSize_t(TK(c, arr)->len);
    v[6] = ascii_or_none(f->miner, 42);
    if (v[4] == NULL || v[5] == NULL || v[6] == NULL) {
        for (int j = 0; j < 7; j++) Py_XDECREF(v[j]);
        return ERR;
    }
    PyObject *block = make(&G.block, v);
    if (block == NULL) return ERR;
    int failed = PyList_Append(c->block_list, block);
    Py_DECREF(block);
    if (failed) return ERR;
    size_t n = TK(c, arr)->len, i = jt_child(arr);
    for (size_t k = 0; k < n; k++) {
        TRY(block_tx(c, i, c->nblocks - 1));
        i = jt_after(&c->tape, i);
    }
    return OK;
}

static int receipt_doc(ctx *c, size_t obj, const long *idx, const docfields *f) {
    if (f->tx_hash == NULL || f->gas_used.p == NULL || idx[D_LOGS] < 0) return DECLINE;
    size_t arr = (size_t)idx[D_LOGS];
    if (TK(c, arr)->kind != JT_ARR) return DECLINE;
    if (PUSH(c, rcs, nrcs, caprcs) != OK) return ERR;
    rcrec *r = &c->rcs[c->nrcs];
    r->hash = f->tx_hash;
    r->contract = f->contract;
    r->block_hash = f->block_hash;
    r->gas_used = f->gas_used;
    r->status = f->status;
    r->egp = f->egp;
    r->index = f->index;
    r->log0 = c->nlogs;
    r->nlogs = TK(c, arr)->len;
    size_t i = jt_child(arr);
    for (size_t k = 0; k < r->nlogs; k++) {
        long li[L_N];
        TRY(members(c, i, log_key, li, L_N, NULL));
        if (PUSH(c, logs, nlogs, caplogs) != OK) return ERR;
        logrec *g = &c->logs[c->nlogs];
        const char *tx_hash;
        span block_number;
        TRY(get_fixed(c, li[L_ADDRESS], 42, 1, &g->address));
        TRY(get_hex(c, li[L_DATA], 1, 1, &g->data));
        TRY(get_hex(c, li[L_INDEX], 1, 0, &g->index));
        TRY(get_fixed(c, li[L_TXHASH], 66, 0, &tx_hash));
        TRY(get_hex(c, li[L_BLOCKNUMBER], 0, 0, &block_number));
        g->removed = 0;
        if (li[L_REMOVED] >= 0) {
            int kind = TK(c, (size_t)li[L_REMOVED])->kind;
            if (kind != JT_TRUE && kind != JT_FALSE) return DECLINE;
            g->removed = kind == JT_TRUE;
        }
        if (li[L_TOPICS] < 0 || TK(c, (size_t)li[L_TOPICS])->kind != JT_ARR) return DECLINE;
        size_t ta = (size_t)li[L_TOPICS];
        g->topic0 = c->ntopics;
        g->ntopics = TK(c, ta)->len;
        for (size_t j = 0; j < g->ntopics; j++) {
            if (PUSH(c, topics, ntopics, captopics) != OK) return ERR;
            TRY(get_fixed(c, (long)(ta + 1 + j), 66, 1, &c->topics[c->ntopics]));
            c->ntopics++;
        }
        c->nlogs++;
        i = jt_after(&c->tape, i);
    }
    c->nrcs++;
    return join(c, r->hash, W_RC, c->nrcs - 1);
}

/* A block or receipt object (the envelope, if any, already taken off). */
static int one_doc(ctx *c, size_t obj, const long *idx) {
    if (idx[D_RESULT] >= 0 || idx[D_ERROR] >= 0 || idx[D_REQUEST] >= 0 || idx[D_RESPONSE] >= 0)
        return DECLINE;
    docfields f;
    TRY(doc_fields(c, idx, &f));
    if (idx[D_TRANSACTIONS] >= 0) return block_doc(c, obj, idx, &f);
    return receipt_doc(c, obj, idx, &f);
}

/* eth_getBlockReceipts: a non-empty list of receipts. */
static int receipt_list(ctx *c, size_t arr) {
    size_t n = TK(c, arr)->len, i = jt_child(arr);
    if (n == 0) return DECLINE;
    for (size_t k = 0; k < n; k++) {
        long idx[D_N];
        TRY(members(c, i, doc_key, idx, D_N, NULL));
        if (idx[D_TRANSACTIONS] >= 0) return DECLINE;
        TRY(one_doc(c, i, idx));
        i = jt_after(&c->tape, i);
    }
    return OK;
}

/* The document at the root of the tape: a block, a receipt, a receipt list, or a JSON-RPC
 * response (only envelope keys, no error) holding one of them. */
static int document(ctx *c) {
    if (TK(c, 0)->kind == JT_ARR) return receipt_list(c, 0);
    long idx[D_N];
    size_t other;
    TRY(members(c, 0, doc_key, idx, D_N, &other));
    if (idx[D_RESULT] < 0 && idx[D_ERROR] < 0) return one_doc(c, 0, idx);
    if (other || idx[D_ERROR] >= 0 || idx[D_RESULT] < 0) return DECLINE;
    for (int j = 0; j < D_N; j++)
        if (j != D_RESULT && j != D_JSONRPC && j != D_ID && idx[j] >= 0) return DECLINE;
    size_t result = (size_t)idx[D_RESULT];
    if (TK(c, result)->kind == JT_ARR) return receipt_list(c, result);
    TRY(members(c, result, doc_key, idx, D_N, NULL));
    return one_doc(c, result, idx);
}

static int parse_status(int st) {
    if (st == JT_OK) return OK;
    if (st == JT_NOMEM) {
        PyErr_NoMemory();
        return ERR;
    }
    return DECLINE;
}

/* One file: one JSON document, or else JSON lines (blank lines skipped). */
static int file(ctx *c, const char *buf, size_t len) {
    size_t end;
    c->buf = buf;
    TRY(parse_status(jtape_parse(&c->tape, buf, len, 0, &end)));
    if (end == len) return document(c);
    size_t start = 0;
    while (start < len) {
        const char *nl = memchr(buf + start, '\n', len - start);
        size_t stop = nl != NULL ? (size_t)(nl - buf) : len;
        if (stop > start) {
            TRY(parse_status(jtape_parse(&c->tape, buf, stop, start, &end)));
            if (end != stop) return DECLINE; /* trailing garbage on the line */
            TRY(document(c));
        }
        start = stop + 1;
    }
    return OK;
}

/* --- sorting and the result ----------------------------------------------------------------- */

static int cmp_key(const void *a, const void *b) {
    const txkey *x = a, *y = b;
    if (x->n != y->n) return x->n < y->n ? -1 : 1;
    if (x->index != y->index) return x->index < y->index ? -1 : 1;
    return memcmp(x->hash, y->hash, 66);
}

typedef struct {
    uint64_t n;
    PyObject *block;
} blockkey;

static int cmp_block(const void *a, const void *b) {
    const blockkey *x = a, *y = b;
    return x->n < y->n ? -1 : (x->n > y->n);
}

/* Blocks by number (a height twice declines), transactions by (block, index, hash) when they
 * were not built in that order. */
static int finish(ctx *c) {
    if (c->nblocks == 0 || c->done != c->nslots) return DECLINE;
    int sorted = 1;
    for (size_t i = 1; i < c->nblocks; i++)
        if (c->blocks[i - 1].number >= c->blocks[i].number) sorted = 0;
    if (!sorted) {
        blockkey *bk = malloc(c->nblocks * sizeof(blockkey));
        if (bk == NULL) {
            PyErr_NoMemory();
            return ERR;
        }
        for (size_t i = 0; i < c->nblocks; i++) {
            bk[i].n = c->blocks[i].number;
            bk[i].block = PyList_GET_ITEM(c->block_list, i);
        }
        qsort(bk, c->nblocks, sizeof(blockkey), cmp_block);
        int dup = 0;
        for (size_t i = 1; i < c->nblocks; i++) dup |= bk[i - 1].n == bk[i].n;
        if (!dup) /* the list keeps its references: only the order changes */
            for (size_t i = 0; i < c->nblocks; i++)
                PyList_SET_ITEM(c->block_list, i, bk[i].block);
        free(bk);
        if (dup) return DECLINE;
    }
    if (!c->ordered) {
        qsort(c->keys, c->nkeys, sizeof(txkey), cmp_key);
        for (size_t i = 0; i < c->nkeys; i++) PyList_SET_ITEM(c->tx_list, i, c->keys[i].tx);
    }
    return OK;
}

static void ctx_free(ctx *c) {
    for (size_t i = 0; i < c->nblocks; i++) {
        Py_DECREF(c->blocks[i].n_obj);
        Py_DECREF(c->blocks[i].hash_obj);
        Py_DECREF(c->blocks[i].ts_obj);
    }
    free(c->blocks);
    free(c->txs);
    free(c->rcs);
    free(c->logs);
    free(c->topics);
    free(c->slots);
    free(c->keys);
    jtape_free(&c->tape);
    Py_XDECREF(c->block_list);
    Py_XDECREF(c->tx_list);
}

static PyObject *bulk(PyObject *self, PyObject *files) {
    if (!G.ready) {
        PyErr_SetString(PyExc_RuntimeError, "_bulk_native.setup() was not called");
        return NULL;
    }
    if (!PyList_Check(files)) Py_RETURN_NONE;
    /* Hold the buffers for the whole run: records point into them. */
    PyObject *held = PyList_AsTuple(files);
    if (held == NULL) return NULL;
    ctx c;
    memset(&c, 0, sizeof c);
    jtape_init(&c.tape);
    c.ordered = 1;
    PyObject *out = NULL;
    int st = OK;
    c.block_list = PyList_New(0);
    c.tx_list = PyList_New(0);
    if (c.block_list == NULL || c.tx_list == NULL) st = ERR;
    for (Py_ssize_t i = 0; st == OK && i < PyTuple_GET_SIZE(held); i++) {
        PyObject *f = PyTuple_GET_ITEM(held, i);
        if (!PyBytes_Check(f))
            st = DECLINE;
        else
            st = file(&c, PyBytes_AS_STRING(f), (size_t)PyBytes_GET_SIZE(f));
    }
    if (st == OK) st = finish(&c);
    if (st == OK) {
        PyObject *skipped = PyDict_New();
        for (int k = 0; skipped != NULL && k < c.nskip_order; k++) {
            int reason = c.skip_order[k];
            PyObject *n = PyLong_FromSsize_t(c.skips[reason]);
            if (n == NULL || PyDict_SetItem(skipped, G.skip_reason[reason], n) < 0)
                Py_CLEAR(skipped);
            Py_XDECREF(n);
        }
        if (skipped != NULL)
            out = Py_BuildValue("(OONn)", c.block_list, c.tx_list, skipped, c.unknown);
    } else if (st == DECLINE) {
        out = Py_NewRef(Py_None);
    }
    ctx_free(&c);
    Py_DECREF(held);
    return out;
}

static PyObject *setup(PyObject *self, PyObject *args) {
    PyObject *block, *block_f, *tx, *tx_f, *transfer, *transfer_f, *topic, *k[7];
    int fast;
    if (!PyArg_ParseTuple(args, "OO!OO!OO!pOOOOOOOU", &block, &PyTuple_Type, &block_f, &tx,
                          &PyTuple_Type, &tx_f, &transfer, &PyTuple_Type, &transfer_f, &fast,
                          &k[0], &k[1], &k[2], &k[3], &k[4], &k[5], &k[6], &topic))
        return NULL;
    Py_ssize_t n;
    const char *t = PyUnicode_AsUTF8AndSize(topic, &n);
    if (t == NULL) return NULL;
    if (n != 66) {
        PyErr_SetString(PyExc_ValueError, "setup: the Transfer topic is 66 characters");
        return NULL;
    }
    G.ready = 0;
    if (spec_init(&G.block, block, block_f, fast) < 0 || spec_init(&G.tx, tx, tx_f, fast) < 0 ||
        spec_init(&G.transfer, transfer, transfer_f, fast) < 0)
        return NULL;
    if (G.block.nfields != 7 || G.tx.nfields != 15 || G.transfer.nfields != 7) {
        PyErr_SetString(PyExc_ValueError, "setup: Block 7, Transaction 15, Transfer 7 fields");
        return NULL;
    }
    memcpy(G.topic, t, 66);
    PyObject **slots[7] = {&G.chain, &G.kind_native, &G.kind_token, &G.native_asset,
                           &G.skip_reason[SKIP_REMOVED], &G.skip_reason[SKIP_ERC721],
                           &G.skip_reason[SKIP_NONSTANDARD]};
    for (int j = 0; j < 7; j++) Py_XSETREF(*slots[j], Py_NewRef(k[j]));
    G.ready = 1;
    return PyBool_FromLong(G.block.fast && G.tx.fast && G.transfer.fast);
}

static PyMethodDef methods[] = {
    {"bulk", bulk, METH_O,
     "bulk(files: list[bytes]) -> (blocks, transactions, skipped, pre_byzantium) | None"},
    {"setup", setup, METH_VARARGS,
     "setup(Block, fields, Transaction, fields, Transfer, fields, fill_slots, chain, "
     "kind_native, kind_token, native_asset, skip_removed, skip_erc721, skip_nonstandard, "
     "transfer_topic) -> whether slots are filled directly"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_bulk_native",
    "Native twin of rpc_bulk: full blocks and receipts straight to canonical objects.", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__bulk_native(void) {
    hex_tables();
    return PyModule_Create(&module);
}
