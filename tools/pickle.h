/* A restricted pickle machine (protocols 2-5) for model checkpoints.
 *
 * It understands only the opcodes torch.save and joblib.dump write for state
 * dicts and scikit-learn estimators, and only an allow-list of globals. Every
 * other global (os.system, builtins.eval, ...) is refused the moment its
 * GLOBAL / STACK_GLOBAL opcode is read. Nothing is ever imported or called:
 * REDUCE and NEWOBJ only build plain C objects from a fixed set of known
 * constructors (OrderedDict, torch tensor rebuild, numpy dtype and scalar,
 * opaque sklearn objects that keep their __dict__). Stack depth, memo size,
 * nesting depth and object count are capped.
 *
 * Objects live in the machine's pool and are freed with it; they may be shared
 * (the memo hands out the same object again). */
#ifndef SM_PICKLE_H
#define SM_PICKLE_H

#include "sm_engine.h"

#define SM_PICKLE_MAX_STACK 100000
#define SM_PICKLE_MAX_MEMO (1u << 20)
#define SM_PICKLE_MAX_DEPTH 64
#define SM_PICKLE_MAX_OBJECTS (1u << 20)
#define SM_PICKLE_MAX_DIMS 8

typedef enum {
    SM_PK_NONE, SM_PK_BOOL, SM_PK_INT, SM_PK_FLOAT, SM_PK_STR, SM_PK_BYTES,
    SM_PK_TUPLE, SM_PK_LIST, SM_PK_DICT,
    SM_PK_GLOBAL,   /* an allow-listed class or function (s = "module.name") */
    SM_PK_STORAGE,  /* torch persistent storage reference */
    SM_PK_TENSOR,   /* torch tensor view of a storage */
    SM_PK_DTYPE,    /* numpy dtype */
    SM_PK_NDARRAY,  /* numpy array (joblib inline data), C order, little-endian */
    SM_PK_OBJECT    /* opaque object of an allow-listed class: s = class, state = BUILD state */
} sm_pk_kind;

/* Element types of storages, dtypes and arrays. */
typedef enum {
    SM_PK_F32, SM_PK_F16, SM_PK_BF16, SM_PK_F64, SM_PK_I64, SM_PK_I32, SM_PK_I16, SM_PK_I8,
    SM_PK_U8, SM_PK_U16, SM_PK_U32, SM_PK_U64, SM_PK_BOOLT, SM_PK_ETYPE_COUNT
} sm_pk_etype;

size_t sm_pk_etype_size(sm_pk_etype t);
const char *sm_pk_etype_name(sm_pk_etype t);

typedef struct sm_pobj sm_pobj;
struct sm_pobj {
    sm_pk_kind kind;
    int depth;                 /* container nesting depth (capped) */
    int64_t i;                 /* INT, BOOL; TENSOR: storage offset */
    double f;                  /* FLOAT */
    char *s;                   /* STR/BYTES data (NUL-terminated), GLOBAL/OBJECT name, STORAGE key */
    size_t slen;
    sm_pobj **items;           /* TUPLE/LIST items; DICT: key0, value0, key1, ... */
    size_t n, cap;             /* DICT: n = 2 * pairs */
    sm_pobj *state;            /* OBJECT: BUILD state */
    /* STORAGE, DTYPE, NDARRAY */
    sm_pk_etype etype;
    bool big_endian;           /* DTYPE only */
    uint64_t numel;            /* STORAGE: elements as recorded in the pickle */
    /* TENSOR: storage, sizes, strides (elements); NDARRAY: dims */
    sm_pobj *storage;
    int ndim;
    int64_t dims[SM_PICKLE_MAX_DIMS];
    int64_t strides[SM_PICKLE_MAX_DIMS];
    void *data;                /* NDARRAY: owned, numel * itemsize bytes */
    int gid;                   /* GLOBAL: which allow-listed global */
};

typedef struct sm_pickle sm_pickle;

/* Runs the machine over buf[0, len). `name` is used in messages (e.g.
 * "model.pth: archive/data.pkl"). joblib_arrays enables the inline array
 * data that joblib writes after a NumpyArrayWrapper's BUILD. On success
 * *result is the STOP object, owned by *pk (free with sm_pickle_free). */
sm_status sm_pickle_load(const uint8_t *buf, size_t len, const char *name, bool joblib_arrays,
                         sm_pickle **pk, sm_pobj **result, sm_error *err);
void sm_pickle_free(sm_pickle *pk);

/* Helpers for walking results. */
sm_pobj *sm_pk_dict_get(const sm_pobj *dict, const char *key);  /* str keys only */
const char *sm_pk_kind_name(sm_pk_kind k);

#endif
