/* Native twin of ``rpc_decode.getblock_batch``: Bitcoin Core getblock (verbosity 2/3) JSON
 * straight to the canonical model objects.
 *
 * Why C: with the JSON decoded by msgspec the interpreter loop that walks every input and output
 * was the floor of the bulk import; here the walk, the checks, the amounts and the common script
 * templates cost no bytecode, and model objects are made without running Python (their slots
 * are filled where init() could verify the layout, else the classes are called).
 *
 * JSON lines (the bulk format) are read in one call, the file's bytes split where
 * bytes.splitlines() splits them; only the lines declined here go back to Python, numbered.
 *
 * Exactness is kept the way the typed path keeps it: a document is converted only when it has
 * the common, well-formed shape (see rpc_decode's docstring) and every check passes; anything
 * else "declines" and the caller hands the document to the msgspec path, then the generic path,
 * which word every error. A document is validated completely (pass 1, C values only) before any
 * model object is made (pass 2), so declining never has to undo Python work. Rare pieces call
 * back into Python rather than being re-implemented: amounts not printed as Core prints them
 * (rpc_decode._sat) and scripts that are not one of the five templates
 * (txbuild.script_type_and_address); an exception there (other than MemoryError) declines too.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <structmember.h>

#include "json_tape.h"

/* ---- what init() hands over ------------------------------------------------------------- */

static PyObject *Block_t, *Transaction_t, *TxInput_t, *TxOutput_t, *ChainBTC;
static PyObject *script_fn, *sat_fn;
/* template script kinds; index 0 means "classified by script_fn" */
enum { K_PY = 0, K_PKH, K_SH, K_WPKH, K_WSH, K_TR, K_N };
static PyObject *kinds[K_N];

/* Where each field of a slotted dataclass lives, so that an object can be filled in without
 * running its generated __init__ (a Python frame per object was most of the build cost). Used
 * only when init() is given the field names and every one is a plain object slot; the objects
 * are then exactly what calling the class makes (same type, same values in the same slots). */
#define MAX_FIELDS 16
typedef struct {
    PyTypeObject *type;
    Py_ssize_t n;
    Py_ssize_t offset[MAX_FIELDS];
} layout_t;
enum { L_BLOCK, L_TX, L_IN, L_OUT, L_N };
static layout_t layouts[L_N];
static int direct; /* layouts verified: fill slots instead of calling the classes */

enum { OK = 0, DECLINE = 1, PYERR = -1 };

/* ---- per-document work arrays (C values only) ------------------------------------------- */

typedef struct {
    size_t hex;     /* token of the script hex */
    long addr;      /* token of the claimed address (a string), or -1 */
    uint8_t kind;   /* K_*; K_PY: pykind/pyaddr below */
    PyObject *pykind, *pyaddr; /* borrowed from ctx.owned */
} spk_t;

typedef struct {
    int64_t value;
    spk_t spk;
} out_t;

typedef struct {
    size_t txid;
    int64_t vout, seq;
    uint8_t has_seq, known;
    int64_t value;
    spk_t spk;
    long from_out; /* resolved from this output of the block (verbosity 2), else -1 */
} in_t;

typedef struct {
    size_t txid;
    size_t in_at, n_in, out_at, n_out;
    uint8_t has_fee;
    int64_t fee; /* stated, then final */
} tx_t;

typedef struct {
    jtape tape;
    out_t *outs;
    size_t n_outs, cap_outs;
    in_t *ins;
    size_t n_ins, cap_ins;
    tx_t *txs;
    size_t n_txs, cap_txs;
    long *slots; /* txid hash table: tx index or -1 */
    size_t cap_slots, mask; /* mask: of this document's table (cap_slots may be larger) */
    PyObject **owned; /* references held by spk_t.pykind/pyaddr */
    size_t n_owned, cap_owned;
} ctx_t;

static void ctx_init(ctx_t *c) { memset(c, 0, sizeof(*c)); jtape_init(&c->tape); }

static void ctx_release(ctx_t *c) {
    for (size_t i = 0; i < c->n_owned; i++) Py_DECREF(c->owned[i]);
    c->n_owned = 0;
}

static void ctx_free(ctx_t *c) {
    ctx_release(c);
    jtape_free(&c->tape);
    free(c->outs);
    free(c->ins);
    free(c->txs);
    free(c->slots);
    free(c->owned);
    ctx_init(c);
}

/* Grow an array to hold `need` items; PYERR (MemoryError set) on failure. */
static int grow(void **arr, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return OK;
    size_t cap2 = *cap ? *cap : 64;
    while (cap2 < need) cap2 *= 2;
    void *p = realloc(*arr, cap2 * size);
    if (!p) {
        PyErr_NoMemory();
        return PYERR;
    }
    *arr = p;
    *cap = cap2;
    return OK;
}

static int own(ctx_t *c, PyObject *o) {
    if (grow((void **)&c->owned, &c->cap_owned, c->n_owned + 1, sizeof(PyObject *))) {
        Py_DECREF(o);
        return PYERR;
    }
    c->owned[c->n_owned++] = o;
    return OK;
}

/* A callback raised: MemoryError and non-Exception errors propagate, anything else declines
 * (the msgspec / generic path then meets the same input and decides). */
static int callback_failed(void) {
    if (PyErr_ExceptionMatches(PyExc_MemoryError) || !PyErr_ExceptionMatches(PyExc_Exception))
        return PYERR;
    PyErr_Clear();
    return DECLINE;
}

/* ---- reading tokens --------------------------------------------------------------------- */

static const jtok *TK(const ctx_t *c, size_t i) { return &c->tape.toks[i]; }

/* Member values of object `obj` for the `n` keys asked for: out[k] = value token or -1.
 * DECLINE when an asked key occurs twice (json.loads keeps the last one, msgspec may not). */
static int members(const ctx_t *c, const char *buf, size_t obj, const char *const *keys,
                   const size_t *lens, int n, long *out) {
    const jtok *o = TK(c, obj);
    for (int k = 0; k < n; k++) out[k] = -1;
    size_t kt = obj + 1;
    for (size_t m = 0; m < o->len; m++) {
        const jtok *key = TK(c, kt);
        const char *s = buf + key->start;
        for (int k = 0; k < n; k++) {
            if (key->len == lens[k] && s[0] == keys[k][0] && memcmp(s, keys[k], lens[k]) == 0) {
                if (out[k] >= 0) return DECLINE;
                out[k] = (long)(kt + 1);
                break;
            }
        }
        kt = TK(c, kt + 1)->next;
    }
    return OK;
}

#define KEYS(name, ...)                                                                         \
    static const char *const name[] = {__VA_ARGS__};                                             \
    static size_t name##_len[sizeof(name) / sizeof(name[0])];                                    \
    enum { name##_n = sizeof(name) / sizeof(name[0]) }

KEYS(K_DOC, "result", "id", "error", "height", "hash", "time", "tx", "nTx", "previousblockhash");
enum { D_RESULT, D_ID, D_ERROR, D_HEIGHT, D_HASH, D_TIME, D_TX, D_NTX, D_PREV };
KEYS(K_TX, "txid", "vin", "vout", "fee");
enum { T_TXID, T_VIN, T_VOUT, T_FEE };
KEYS(K_VIN, "coinbase", "txid", "vout", "sequence", "prevout");
enum { I_COINBASE, I_TXID, I_VOUT, I_SEQ, I_PREVOUT };
KEYS(K_PREVOUT, "value", "scriptPubKey");
KEYS(K_VOUT, "value", "n", "scriptPubKey");
KEYS(K_SPK, "hex", "address", "addresses");

static void key_lengths(void) {
#define L(name)                                                                                  \
    for (int k = 0; k < name##_n; k++) name##_len[k] = strlen(name[k])
    L(K_DOC);
    L(K_TX);
    L(K_VIN);
    L(K_PREVOUT);
    L(K_VOUT);
    L(K_SPK);
#undef L
}

#define MEMBERS(c, buf, obj, K, out) members(c, buf, obj, K, K##_len, K##_n, out)

static int absent(const ctx_t *c, long tok) { return tok < 0 || TK(c, tok)->kind == JT_NULL; }

/* A JSON integer (no fraction, no exponent) of at most 18 digits, as msgspec's int takes it. */
static int get_int(const ctx_t *c, const char *buf, long tok, int64_t *out) {
    if (tok < 0) return DECLINE;
    const jtok *k = TK(c, tok);
    if (k->kind != JT_NUM) return DECLINE;
    const char *s = buf + k->start;
    size_t n = k->len, i = 0;
    int neg = 0;
    if (s[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (n - i > 18 || n == i) return DECLINE;
    int64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return DECLINE;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return OK;
}

static signed char HEXV[256];

static void hex_table(void) {
    memset(HEXV, -1, sizeof(HEXV));
    for (int i = 0; i < 10; i++) HEXV['0' + i] = (signed char)i;
    for (int i = 0; i < 6; i++) HEXV['a' + i] = (signed char)(10 + i);
}

static int lower_hex(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++)
        if (HEXV[u[i]] < 0) return 0;
    return 1;
}

/* A 64-digit lowercase hex hash (txids, block hashes): anything else declines. */
static int is_hash(const ctx_t *c, const char *buf, long tok) {
    if (tok < 0) return 0;
    const jtok *k = TK(c, tok);
    return k->kind == JT_STR && k->len == 64 && lower_hex(buf + k->start, 64);
}

/* An amount in BTC -> satoshi. Core's shape (digits, optionally a point and exactly eight
 * digits) natively; any other number via rpc_decode._sat (the exact Decimal conversion). */
static int get_sat(const ctx_t *c, const char *buf, long tok, int64_t *out) {
    if (tok < 0) return DECLINE;
    const jtok *k = TK(c, tok);
    if (k->kind != JT_NUM) return DECLINE;
    const char *s = buf + k->start;
    size_t n = k->len, i = 0;
    int64_t v = 0;
    while (i < n && i <= 10 && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
    size_t whole = i; /* 11: more digits than Core prints (up to 21e6): Python's ints */
    if (whole >= 1 && whole <= 10) {
        if (i == n) {
            *out = v * 100000000;
            return OK;
        }
        if (s[i] == '.' && n - i == 9) {
            int64_t f = 0;
            for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) f = f * 10 + (s[i] - '0');
            if (i == n) {
                *out = v * 100000000 + f;
                return OK;
            }
        }
    }
    PyObject *raw = PyBytes_FromStringAndSize(s, (Py_ssize_t)n);
    if (!raw) return PYERR;
    PyObject *r = PyObject_CallOneArg(sat_fn, raw);
    Py_DECREF(raw);
    if (!r) return callback_failed();
    int status = DECLINE;
    if (PyLong_CheckExact(r)) {
        int overflow = 0;
        long long x = PyLong_AsLongLongAndOverflow(r, &overflow);
        if (x == -1 && PyErr_Occurred()) {
            Py_DECREF(r);
            return PYERR;
        }
        if (!overflow && x >= 0) {
            *out = x;
            status = OK;
        }
    }
    Py_DECREF(r);
    return status;
}

/* The claimed address of a scriptPubKey as rpc_decode._scripts takes it: ``address`` when it is
 * a string (even ""), else the one item of ``addresses`` unless empty or "nonstandard...". */
static int spk_read(ctx_t *c, const char *buf, long tok, PyObject *network, spk_t *out) {
    if (tok < 0 || TK(c, tok)->kind != JT_OBJ) return DECLINE;
    long m[K_SPK_n];
    if (MEMBERS(c, buf, (size_t)tok, K_SPK, m)) return DECLINE;
    if (m[0] < 0 || TK(c, m[0])->kind != JT_STR) return DECLINE;
    out->hex = (size_t)m[0];
    out->addr = -1;
    out->pykind = out->pyaddr = NULL;
    if (!absent(c, m[1]) && TK(c, m[1])->kind != JT_STR) return DECLINE;
    long claimed = absent(c, m[1]) ? -1 : m[1];
    if (!absent(c, m[2])) {
        const jtok *a = TK(c, m[2]);
        if (a->kind != JT_ARR) return DECLINE;
        for (size_t i = (size_t)m[2] + 1; i < a->next; i = TK(c, i)->next)
            if (TK(c, i)->kind != JT_STR) return DECLINE;
        if (claimed < 0 && a->len == 1) {
            const jtok *item = TK(c, (size_t)m[2] + 1);
            int pseudo = item->len >= 11 && memcmp(buf + item->start, "nonstandard", 11) == 0;
            if (item->len > 0 && !pseudo) claimed = (long)m[2] + 1;
        }
    }
    const jtok *h = TK(c, out->hex);
    const char *s = buf + h->start;
    size_t n = h->len;
    if (n % 2 || !lower_hex(s, n)) return DECLINE;
    uint8_t kind = K_PY;
    if (n == 50 && memcmp(s, "76a914", 6) == 0 && memcmp(s + 46, "88ac", 4) == 0)
        kind = K_PKH;
    else if (n == 46 && memcmp(s, "a914", 4) == 0 && memcmp(s + 44, "87", 2) == 0)
        kind = K_SH;
    else if (n == 44 && memcmp(s, "0014", 4) == 0)
        kind = K_WPKH;
    else if (n == 68 && memcmp(s, "0020", 4) == 0)
        kind = K_WSH;
    else if (n == 68 && memcmp(s, "5120", 4) == 0)
        kind = K_TR;
    if (kind != K_PY && claimed >= 0 && TK(c, claimed)->len > 0) {
        out->kind = kind;
        out->addr = claimed;
        return OK;
    }
    /* Core's rules (script.classify_script) and the address derived where none is claimed */
    PyObject *hex = PyUnicode_New((Py_ssize_t)n, 127);
    if (!hex) return PYERR;
    memcpy(PyUnicode_DATA(hex), s, n);
    PyObject *cl;
    if (claimed >= 0) {
        const jtok *a = TK(c, claimed);
        cl = PyUnicode_New((Py_ssize_t)a->len, 127);
        if (!cl) {
            Py_DECREF(hex);
            return PYERR;
        }
        memcpy(PyUnicode_DATA(cl), buf + a->start, a->len);
    } else {
        cl = Py_NewRef(Py_None);
    }
    PyObject *args[3] = {hex, cl, network};
    PyObject *r = PyObject_Vectorcall(script_fn, args, 3, NULL);
    Py_DECREF(hex);
    Py_DECREF(cl);
    if (!r) return callback_failed();
    if (own(c, r)) return PYERR;
    if (!PyTuple_CheckExact(r) || PyTuple_GET_SIZE(r) != 2 ||
        !PyUnicode_CheckExact(PyTuple_GET_ITEM(r, 0)))
        return DECLINE;
    PyObject *addr = PyTuple_GET_ITEM(r, 1);
    if (addr != Py_None && !PyUnicode_CheckExact(addr)) return DECLINE;
    out->kind = K_PY;
    out->pykind = PyTuple_GET_ITEM(r, 0);
    out->pyaddr = addr;
    return OK;
}

/* ---- pass 1: validate a document into the work arrays ----------------------------------- */

typedef struct {
    size_t hash;
    long prev; /* token, -1: None */
    int64_t height, time;
} head_t;

static uint64_t txid_key(const char *s) {
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) v = (v << 4) | (uint64_t)HEXV[(unsigned char)s[i]];
    return v * 0x9E3779B97F4A7C15ull;
}

/* Index txids (lowercase hex, checked); DECLINE on a txid twice. */
static int index_txids(ctx_t *c, const char *buf) {
    size_t need = 16;
    while (need < 2 * c->n_txs) need *= 2;
    if (need > c->cap_slots) {
        long *s = realloc(c->slots, need * sizeof(long));
        if (!s) {
            PyErr_NoMemory();
            return PYERR;
        }
        c->slots = s;
        c->cap_slots = need;
    }
    size_t mask = c->mask = need - 1;
    for (size_t i = 0; i < need; i++) c->slots[i] = -1;
    for (size_t t = 0; t < c->n_txs; t++) {
        const char *s = buf + TK(c, c->txs[t].txid)->start;
        size_t h = (size_t)(txid_key(s) >> 20) & mask;
        while (c->slots[h] >= 0) {
            if (memcmp(buf + TK(c, c->txs[c->slots[h]].txid)->start, s, 64) == 0) return DECLINE;
            h = (h + 1) & mask;
        }
        c->slots[h] = (long)t;
    }
    return OK;
}

static long find_txid(const ctx_t *c, const char *buf, const char *s) {
    size_t mask = c->mask;
    for (size_t h = (size_t)(txid_key(s) >> 20) & mask; c->slots[h] >= 0; h = (h + 1) & mask)
        if (memcmp(buf + TK(c, c->txs[c->slots[h]].txid)->start, s, 64) == 0) return c->slots[h];
    return -1;
}

static int read_doc(ctx_t *c, const char *buf, PyObject *network, head_t *hd) {
    int st;
    c->n_outs = c->n_ins = c->n_txs = 0;
    if (TK(c, 0)->kind != JT_OBJ) return DECLINE;
    long d[K_DOC_n];
    if (MEMBERS(c, buf, 0, K_DOC, d)) return DECLINE;
    size_t block = 0;
    if (d[D_RESULT] >= 0) {
        /* an envelope as both generic readers unwrap it: with an id, without an error */
        if (d[D_ID] < 0 || (d[D_ERROR] >= 0 && TK(c, d[D_ERROR])->kind != JT_NULL)) return DECLINE;
        for (int k = D_HEIGHT; k <= D_PREV; k++)
            if (d[k] >= 0) return DECLINE;
        block = (size_t)d[D_RESULT];
        if (TK(c, block)->kind != JT_OBJ) return DECLINE;
        if (MEMBERS(c, buf, block, K_DOC, d)) return DECLINE;
        if (d[D_RESULT] >= 0) return DECLINE;
    } else if (d[D_ERROR] >= 0) {
        return DECLINE;
    }
    if (get_int(c, buf, d[D_HEIGHT], &hd->height) || get_int(c, buf, d[D_TIME], &hd->time))
        return DECLINE;
    if (!is_hash(c, buf, d[D_HASH])) return DECLINE;
    hd->hash = (size_t)d[D_HASH];
    hd->prev = -1;
    if (!absent(c, d[D_PREV])) {
        if (!is_hash(c, buf, d[D_PREV])) return DECLINE;
        hd->prev = d[D_PREV];
    }
    if (d[D_TX] < 0 || TK(c, d[D_TX])->kind != JT_ARR) return DECLINE;
    size_t n_tx = TK(c, d[D_TX])->len;
    if (n_tx == 0) return DECLINE;
    if (!absent(c, d[D_NTX])) {
        int64_t ntx;
        if (get_int(c, buf, d[D_NTX], &ntx) || ntx != (int64_t)n_tx) return DECLINE;
    }
    if (grow((void **)&c->txs, &c->cap_txs, n_tx, sizeof(tx_t))) return PYERR;

    size_t end_tx = TK(c, d[D_TX])->next;
    for (size_t ti = (size_t)d[D_TX] + 1; ti < end_tx; ti = TK(c, ti)->next) {
        size_t i = c->n_txs;
        if (TK(c, ti)->kind != JT_OBJ) return DECLINE;
        long t[K_TX_n];
        if (MEMBERS(c, buf, ti, K_TX, t)) return DECLINE;
        if (!is_hash(c, buf, t[T_TXID])) return DECLINE;
        if (t[T_VIN] < 0 || TK(c, t[T_VIN])->kind != JT_ARR) return DECLINE;
        if (t[T_VOUT] < 0 || TK(c, t[T_VOUT])->kind != JT_ARR) return DECLINE;
        tx_t *tx = &c->txs[i];
        tx->txid = (size_t)t[T_TXID];
        tx->has_fee = 0;
        if (!absent(c, t[T_FEE])) {
            if ((st = get_sat(c, buf, t[T_FEE], &tx->fee))) return st;
            tx->has_fee = 1;
        }
        /* inputs: the first transaction is the coinbase, with exactly one input */
        const jtok *vin = TK(c, t[T_VIN]);
        tx->in_at = c->n_ins;
        tx->n_in = 0;
        if (i == 0 && vin->len != 1) return DECLINE;
        for (size_t vi = (size_t)t[T_VIN] + 1; vi < vin->next; vi = TK(c, vi)->next) {
            if (TK(c, vi)->kind != JT_OBJ) return DECLINE;
            long v[K_VIN_n];
            if (MEMBERS(c, buf, vi, K_VIN, v)) return DECLINE;
            int64_t scratch;
            if (i == 0) {
                /* fields the model does not keep, still of the types the typed path takes */
                if (v[I_COINBASE] < 0) return DECLINE;
                if (!absent(c, v[I_TXID]) &&
                    (TK(c, v[I_TXID])->kind != JT_STR || TK(c, v[I_TXID])->len != 64))
                    return DECLINE;
                if (!absent(c, v[I_VOUT]) && get_int(c, buf, v[I_VOUT], &scratch)) return DECLINE;
                if (!absent(c, v[I_SEQ]) && get_int(c, buf, v[I_SEQ], &scratch)) return DECLINE;
                if (!absent(c, v[I_PREVOUT])) return DECLINE;
                continue;
            }
            if (v[I_COINBASE] >= 0) return DECLINE;
            if (grow((void **)&c->ins, &c->cap_ins, c->n_ins + 1, sizeof(in_t))) return PYERR;
            in_t *in = &c->ins[c->n_ins];
            if (!is_hash(c, buf, v[I_TXID])) return DECLINE;
            in->txid = (size_t)v[I_TXID];
            if (get_int(c, buf, v[I_VOUT], &in->vout)) return DECLINE;
            in->has_seq = 0;
            if (!absent(c, v[I_SEQ])) {
                if (get_int(c, buf, v[I_SEQ], &in->seq)) return DECLINE;
                in->has_seq = 1;
            }
            in->known = 0;
            in->from_out = -1;
            if (!absent(c, v[I_PREVOUT])) {
                if (TK(c, v[I_PREVOUT])->kind != JT_OBJ) return DECLINE;
                long p[K_PREVOUT_n];
                if (MEMBERS(c, buf, (size_t)v[I_PREVOUT], K_PREVOUT, p)) return DECLINE;
                if ((st = get_sat(c, buf, p[0], &in->value))) return st;
                if ((st = spk_read(c, buf, p[1], network, &in->spk))) return st;
                in->known = 1;
            }
            c->n_ins++;
            tx->n_in++;
        }
        /* outputs, numbered in order */
        const jtok *vout = TK(c, t[T_VOUT]);
        tx->out_at = c->n_outs;
        tx->n_out = vout->len;
        if (grow((void **)&c->outs, &c->cap_outs, c->n_outs + vout->len, sizeof(out_t)))
            return PYERR;
        int64_t k = 0;
        for (size_t oi = (size_t)t[T_VOUT] + 1; oi < vout->next; oi = TK(c, oi)->next, k++) {
            if (TK(c, oi)->kind != JT_OBJ) return DECLINE;
            long o[K_VOUT_n];
            if (MEMBERS(c, buf, oi, K_VOUT, o)) return DECLINE;
            int64_t n;
            if (get_int(c, buf, o[1], &n) || n != k) return DECLINE;
            out_t *out = &c->outs[c->n_outs];
            if ((st = get_sat(c, buf, o[0], &out->value))) return st;
            if ((st = spk_read(c, buf, o[2], network, &out->spk))) return st;
            c->n_outs++;
        }
        c->n_txs++;
    }
    if ((st = index_txids(c, buf))) return st;

    /* spends of outputs created earlier in this block: checked, or filled in (verbosity 2) */
    for (size_t i = 1; i < c->n_txs; i++) {
        tx_t *tx = &c->txs[i];
        for (size_t j = tx->in_at; j < tx->in_at + tx->n_in; j++) {
            in_t *in = &c->ins[j];
            long p = find_txid(c, buf, buf + TK(c, in->txid)->start);
            if (p < 0 || (size_t)p >= i) continue; /* not in this block, or not created yet */
            tx_t *src = &c->txs[p];
            if (in->vout < 0 || (uint64_t)in->vout >= src->n_out) continue;
            size_t o = src->out_at + (size_t)in->vout;
            if (!in->known) {
                in->known = 1;
                in->value = c->outs[o].value;
                in->from_out = (long)o;
            } else if (in->value != c->outs[o].value) {
                return DECLINE;
            }
        }
    }

    /* fees: inputs - outputs once every input value is known, equal to any stated fee */
    if (c->txs[0].has_fee && c->txs[0].fee != 0) return DECLINE;
    c->txs[0].has_fee = 1;
    c->txs[0].fee = 0;
    for (size_t i = 1; i < c->n_txs; i++) {
        tx_t *tx = &c->txs[i];
        int64_t in_sum = 0, out_sum = 0;
        int all_known = 1;
        for (size_t j = tx->in_at; j < tx->in_at + tx->n_in; j++) {
            if (!c->ins[j].known) {
                all_known = 0;
                break;
            }
            if (__builtin_add_overflow(in_sum, c->ins[j].value, &in_sum)) return DECLINE;
        }
        if (!all_known) continue; /* the stated fee, if any */
        for (size_t j = tx->out_at; j < tx->out_at + tx->n_out; j++)
            if (__builtin_add_overflow(out_sum, c->outs[j].value, &out_sum)) return DECLINE;
        int64_t fee = in_sum - out_sum;
        if (fee < 0 || (tx->has_fee && tx->fee != fee)) return DECLINE;
        tx->has_fee = 1;
        tx->fee = fee;
    }
    return OK;
}

/* ---- pass 2: the model objects ---------------------------------------------------------- */

static PyObject *str_of(const char *s, size_t n) {
    PyObject *o = PyUnicode_New((Py_ssize_t)n, 127);
    if (o) memcpy(PyUnicode_DATA(o), s, n);
    return o;
}

static PyObject *tok_str(const ctx_t *c, const char *buf, size_t tok) {
    const jtok *k = TK(c, tok);
    return str_of(buf + k->start, k->len);
}

static PyObject *spk_kind(const spk_t *s) {
    return Py_NewRef(s->kind == K_PY ? s->pykind : kinds[s->kind]);
}

static PyObject *spk_addr(const ctx_t *c, const char *buf, const spk_t *s) {
    if (s->kind == K_PY) return Py_NewRef(s->pyaddr);
    return tok_str(c, buf, (size_t)s->addr);
}

/* A model object from owned field values (stolen, also on failure): the class called, or its
 * slots filled (see layout_t). */
static PyObject *make(PyObject *cls, int which, PyObject **args, size_t n) {
    PyObject *r = NULL;
    for (size_t i = 0; i < n; i++)
        if (!args[i]) goto done;
    if (direct && (Py_ssize_t)n == layouts[which].n) {
        const layout_t *l = &layouts[which];
        r = l->type->tp_alloc(l->type, 0);
        if (!r) goto done;
        for (size_t i = 0; i < n; i++) *(PyObject **)((char *)r + l->offset[i]) = args[i];
        return r;
    }
    r = PyObject_Vectorcall(cls, args, n, NULL);
done:
    for (size_t i = 0; i < n; i++) Py_XDECREF(args[i]);
    return r;
}

static PyObject *int_or_none(int has, int64_t v) {
    return has ? PyLong_FromLongLong(v) : Py_NewRef(Py_None);
}

static PyObject *build_outputs(const ctx_t *c, const char *buf, const tx_t *tx) {
    PyObject *list = PyList_New((Py_ssize_t)tx->n_out);
    if (!list) return NULL;
    for (size_t k = 0; k < tx->n_out; k++) {
        const out_t *o = &c->outs[tx->out_at + k];
        PyObject *args[5] = {PyLong_FromSize_t(k), PyLong_FromLongLong(o->value),
                             spk_kind(&o->spk), spk_addr(c, buf, &o->spk),
                             tok_str(c, buf, o->spk.hex)};
        PyObject *obj = make(TxOutput_t, L_OUT, args, 5);
        if (!obj) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)k, obj);
    }
    return list;
}

static PyObject *build_inputs(const ctx_t *c, const char *buf, const tx_t *tx, int coinbase) {
    if (coinbase) {
        PyObject *args[7] = {PyLong_FromLong(0), Py_NewRef(Py_None), Py_NewRef(Py_None),
                             Py_NewRef(Py_None), Py_NewRef(Py_None), Py_NewRef(Py_None),
                             Py_NewRef(Py_None)};
        PyObject *obj = make(TxInput_t, L_IN, args, 7);
        if (!obj) return NULL;
        PyObject *list = PyList_New(1);
        if (!list) {
            Py_DECREF(obj);
            return NULL;
        }
        PyList_SET_ITEM(list, 0, obj);
        return list;
    }
    PyObject *list = PyList_New((Py_ssize_t)tx->n_in);
    if (!list) return NULL;
    for (size_t j = 0; j < tx->n_in; j++) {
        const in_t *in = &c->ins[tx->in_at + j];
        PyObject *addr, *kind;
        if (!in->known) {
            addr = Py_NewRef(Py_None);
            kind = Py_NewRef(Py_None);
        } else {
            const spk_t *s = in->from_out >= 0 ? &c->outs[in->from_out].spk : &in->spk;
            addr = spk_addr(c, buf, s);
            kind = spk_kind(s);
        }
        PyObject *args[7] = {PyLong_FromSize_t(j),
                             tok_str(c, buf, in->txid),
                             PyLong_FromLongLong(in->vout),
                             int_or_none(in->known, in->value),
                             addr,
                             kind,
                             int_or_none(in->has_seq, in->seq)};
        PyObject *obj = make(TxInput_t, L_IN, args, 7);
        if (!obj) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)j, obj);
    }
    return list;
}

/* Append the block to `blocks` and its transactions to `txs`. */
static int build(const ctx_t *c, const char *buf, const head_t *hd, PyObject *blocks,
                 PyObject *txs) {
    PyObject *bhash = tok_str(c, buf, hd->hash);
    PyObject *height = PyLong_FromLongLong(hd->height);
    PyObject *ts = PyLong_FromLongLong(hd->time);
    int status = PYERR;
    if (!bhash || !height || !ts) goto done;
    for (size_t i = 0; i < c->n_txs; i++) {
        const tx_t *tx = &c->txs[i];
        PyObject *args[15] = {
            Py_NewRef(ChainBTC),
            tok_str(c, buf, tx->txid),
            Py_NewRef(height),
            Py_NewRef(bhash),
            PyLong_FromSize_t(i),
            Py_NewRef(ts),
            int_or_none(tx->has_fee, tx->fee),
            Py_NewRef(Py_True),
            Py_NewRef(Py_None),
            Py_NewRef(Py_None),
            Py_NewRef(Py_None),
            Py_NewRef(i == 0 ? Py_True : Py_False),
            build_inputs(c, buf, tx, i == 0),
            build_outputs(c, buf, tx),
            PyList_New(0),
        };
        PyObject *obj = make(Transaction_t, L_TX, args, 15);
        if (!obj) goto done;
        int bad = PyList_Append(txs, obj);
        Py_DECREF(obj);
        if (bad) goto done;
    }
    {
        PyObject *args[7] = {Py_NewRef(ChainBTC),
                             Py_NewRef(height),
                             Py_NewRef(bhash),
                             Py_NewRef(ts),
                             hd->prev >= 0 ? tok_str(c, buf, (size_t)hd->prev) : Py_NewRef(Py_None),
                             PyLong_FromSize_t(c->n_txs),
                             Py_NewRef(Py_None)};
        PyObject *obj = make(Block_t, L_BLOCK, args, 7);
        if (!obj) goto done;
        int bad = PyList_Append(blocks, obj);
        Py_DECREF(obj);
        if (bad) goto done;
    }
    status = OK;
done:
    Py_XDECREF(bhash);
    Py_XDECREF(height);
    Py_XDECREF(ts);
    return status;
}

/* One document already on the tape: OK (appended), DECLINE or PYERR. */
static int convert(ctx_t *c, const char *buf, PyObject *network, PyObject *blocks,
                   PyObject *txs) {
    head_t hd;
    int st = read_doc(c, buf, network, &hd);
    if (st == OK) st = build(c, buf, &hd, blocks, txs);
    ctx_release(c);
    return st;
}

/* ---- module functions ------------------------------------------------------------------- */

static int ready(void) {
    if (!Block_t) {
        PyErr_SetString(PyExc_RuntimeError, "_getblock_native.init() was not called");
        return 0;
    }
    return 1;
}

static int tape_status(int st) {
    if (st == JT_NOMEM) {
        PyErr_NoMemory();
        return PYERR;
    }
    return st == JT_OK ? OK : DECLINE;
}

PyDoc_STRVAR(getblock_doc,
             "getblock(data, network, blocks, transactions) -> bool\n\n"
             "Append the block and transactions of one getblock document (the whole of data)\n"
             "to the two lists; False (nothing appended) when the document is not taken.");

static PyObject *py_getblock(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4 || !PyList_Check(args[2]) || !PyList_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "getblock(data, network, blocks, transactions)");
        return NULL;
    }
    if (!ready()) return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE)) return NULL;
    ctx_t c;
    ctx_init(&c);
    size_t end = 0, len = (size_t)view.len;
    const char *buf = view.buf;
    int st = tape_status(jtape_parse(&c.tape, buf, len, 0, &end));
    if (st == OK && end != len) st = DECLINE;
    if (st == OK) st = convert(&c, buf, args[1], args[2], args[3]);
    ctx_free(&c);
    PyBuffer_Release(&view);
    if (st == PYERR) return NULL;
    return PyBool_FromLong(st == OK);
}

PyDoc_STRVAR(getblock_lines_doc,
             "getblock_lines(data, network, blocks, transactions, on_line) -> int\n\n"
             "A file's bytes as the importer reads them. 0: done; 1: data is not one JSON value\n"
             "followed by more, or is one document not taken (nothing appended: use the typed\n"
             "path on the whole); 2: on_line returned False (use the generic path on the whole).\n"
             "JSON lines: each line taken here is appended; on_line(lineno, start, stop) is\n"
             "called for each other non-blank line, in order (splitlines() numbering).");

static PyObject *py_getblock_lines(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 5 || !PyList_Check(args[2]) || !PyList_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError,
                        "getblock_lines(data, network, blocks, transactions, on_line)");
        return NULL;
    }
    if (!ready()) return NULL;
    PyObject *network = args[1], *blocks = args[2], *txs = args[3], *on_line = args[4];
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE)) return NULL;
    ctx_t c;
    ctx_init(&c);
    const char *buf = view.buf;
    size_t len = (size_t)view.len, end = 0;
    long result = 1;
    int st = tape_status(jtape_parse(&c.tape, buf, len, 0, &end));
    if (st != OK) goto out; /* PYERR, or not JSON / outside the subset: the typed path */
    if (end == len) {       /* one document */
        st = convert(&c, buf, network, blocks, txs);
        if (st == OK) result = 0;
        goto out;
    }
    /* JSON lines, split where bytes.splitlines() splits: \n, \r, \r\n (memchr when no \r) */
    int has_cr = memchr(buf, '\r', len) != NULL;
    size_t start = 0;
    Py_ssize_t lineno = 0;
    while (start < len) {
        size_t stop = start;
        if (has_cr) {
            while (stop < len && buf[stop] != '\n' && buf[stop] != '\r') stop++;
        } else {
            const char *nl = memchr(buf + start, '\n', len - start);
            stop = nl ? (size_t)(nl - buf) : len;
        }
        size_t next = stop + (stop + 1 < len && buf[stop] == '\r' && buf[stop + 1] == '\n' ? 2 : 1);
        lineno++;
        size_t p = start;
        while (p < stop && (buf[p] == ' ' || buf[p] == '\t')) p++;
        if (p < stop) {
            st = tape_status(jtape_parse(&c.tape, buf, stop, start, &end));
            if (st == OK && end != stop) st = DECLINE;
            if (st == OK) st = convert(&c, buf, network, blocks, txs);
            if (st == PYERR) goto out;
            if (st == DECLINE) {
                PyObject *r = PyObject_CallFunction(on_line, "nnn", lineno, (Py_ssize_t)start,
                                                    (Py_ssize_t)stop);
                if (!r) {
                    st = PYERR;
                    goto out;
                }
                int go_on = PyObject_IsTrue(r);
                Py_DECREF(r);
                if (go_on < 0) {
                    st = PYERR;
                    goto out;
                }
                if (!go_on) {
                    result = 2;
                    st = OK;
                    goto out;
                }
            }
        }
        start = next;
    }
    st = OK;
    result = 0;
out:
    ctx_free(&c);
    PyBuffer_Release(&view);
    if (st == PYERR) return NULL;
    return PyLong_FromLong(result);
}

/* The slot offsets of `cls`'s fields `names` (all its __init__ arguments, in order): 1 when
 * each is a writable object slot of the class, else 0 (the class is then called). */
static int layout_of(PyObject *cls, PyObject *names, layout_t *l) {
    if (!PyType_Check(cls) || !PyTuple_Check(names) || PyTuple_GET_SIZE(names) > MAX_FIELDS)
        return 0;
    l->type = (PyTypeObject *)cls;
    l->n = PyTuple_GET_SIZE(names);
    for (Py_ssize_t i = 0; i < l->n; i++) {
        PyObject *name = PyTuple_GET_ITEM(names, i);
        PyObject *d = NULL;
        if (PyUnicode_Check(name)) d = PyDict_GetItemWithError(l->type->tp_dict, name);
        if (!d) {
            PyErr_Clear();
            return 0;
        }
        if (!Py_IS_TYPE(d, &PyMemberDescr_Type)) return 0;
        PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
        if (m->type != T_OBJECT_EX || (m->flags & READONLY)) return 0;
        l->offset[i] = m->offset;
    }
    return 1;
}

PyDoc_STRVAR(init_doc,
             "init(Block, Transaction, TxInput, TxOutput, chain_btc, kinds, script_fn, sat_fn,\n"
             "     fields) -> bool\n\n"
             "kinds: the type names of P2PKH, P2SH, P2WPKH, P2WSH, P2TR scripts;\n"
             "script_fn(hex, claimed, network) -> (type, address); sat_fn(raw) -> int | None;\n"
             "fields: the __init__ field names of the four classes, when their objects may be\n"
             "made by filling their slots, or None. True when slots are filled.");

static PyObject *py_init(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 9 || !PyTuple_Check(args[5]) || PyTuple_GET_SIZE(args[5]) != K_N - 1) {
        PyErr_SetString(PyExc_TypeError, "init(Block, Transaction, TxInput, TxOutput, chain_btc, "
                                         "kinds (5 names), script_fn, sat_fn, fields)");
        return NULL;
    }
    for (Py_ssize_t k = 0; k < K_N - 1; k++)
        if (!PyUnicode_CheckExact(PyTuple_GET_ITEM(args[5], k))) {
            PyErr_SetString(PyExc_TypeError, "kinds must be str");
            return NULL;
        }
    Py_XSETREF(Block_t, Py_NewRef(args[0]));
    Py_XSETREF(Transaction_t, Py_NewRef(args[1]));
    Py_XSETREF(TxInput_t, Py_NewRef(args[2]));
    Py_XSETREF(TxOutput_t, Py_NewRef(args[3]));
    Py_XSETREF(ChainBTC, Py_NewRef(args[4]));
    for (Py_ssize_t k = 0; k < K_N - 1; k++)
        Py_XSETREF(kinds[k + 1], Py_NewRef(PyTuple_GET_ITEM(args[5], k)));
    Py_XSETREF(script_fn, Py_NewRef(args[6]));
    Py_XSETREF(sat_fn, Py_NewRef(args[7]));
    direct = 0;
    PyObject *fields = args[8];
    if (PyTuple_Check(fields) && PyTuple_GET_SIZE(fields) == L_N) {
        PyObject *classes[L_N] = {Block_t, Transaction_t, TxInput_t, TxOutput_t};
        direct = 1;
        for (int k = 0; k < L_N; k++)
            direct = direct && layout_of(classes[k], PyTuple_GET_ITEM(fields, k), &layouts[k]);
    }
    return PyBool_FromLong(direct);
}

static PyMethodDef methods[] = {
    {"init", (PyCFunction)(void (*)(void))py_init, METH_FASTCALL, init_doc},
    {"getblock", (PyCFunction)(void (*)(void))py_getblock, METH_FASTCALL, getblock_doc},
    {"getblock_lines", (PyCFunction)(void (*)(void))py_getblock_lines, METH_FASTCALL,
     getblock_lines_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "_getblock_native",
    "Native twin of fundtrace.chains.btc.rpc_decode.getblock_batch (see getblock_native.c).",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__getblock_native(void) {
    key_lengths();
    hex_table();
    return PyModule_Create(&module);
}
