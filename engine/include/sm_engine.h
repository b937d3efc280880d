/*
 * sm_engine.h: the public contract of the smartmirror inference engine core.
 *
 * Status and errors
 *   Everything fallible returns sm_status and, when given a non-NULL sm_error,
 *   writes one human-readable line naming the file, tensor or argument and what
 *   was expected versus found. Kernels never fail and never log.
 *
 * The .smw weight file (byte layout in docs/FORMAT.md)
 *   sm_smw_parse() reads from (buffer, length) and keeps pointers into that
 *   buffer: the buffer must outlive the sm_smw. sm_smw_open() maps a file and
 *   owns the mapping. Nothing in a parsed file is trusted until the parser has
 *   checked it; after a successful parse every offset, size and string is valid.
 *
 * Threading
 *   sm_threadpool runs a parallel-for over [0, n) tasks; the calling thread
 *   takes part. SM_THREADS overrides the default count (= online cores).
 *   sm_parallel_tasks decides from an op's work whether it fans out at all, so
 *   a small model is never slower at N threads than at 1.
 *
 * Memory
 *   sm_arena is a bump allocator with 64-byte alignment; nothing in it is freed
 *   individually. Models plan their buffers at load so that run() never mallocs.
 */
#ifndef SM_ENGINE_H
#define SM_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status ------------------------------------------------------------ */

typedef enum {
    SM_OK = 0,
    SM_ERR_IO,          /* file missing, unreadable, write failed */
    SM_ERR_FORMAT,      /* bytes do not follow the format */
    SM_ERR_SHAPE,       /* a tensor has the wrong rank, shape or dtype */
    SM_ERR_UNSUPPORTED, /* valid but not handled (version, compression, op) */
    SM_ERR_NOMEM,
    SM_ERR_ARG          /* bad argument from the caller or the command line */
} sm_status;

#define SM_ERROR_MAX 512

typedef struct {
    sm_status status;
    char msg[SM_ERROR_MAX];
} sm_error;

/* Records st and the printf-formatted message in err (if non-NULL); returns st. */
sm_status sm_error_set(sm_error *err, sm_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prepends "prefix: " to an existing message (to add the file name on the way up). */
void sm_error_prefix(sm_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sm_error_clear(sm_error *err);
const char *sm_status_name(sm_status st);
/* Appends one printf-formatted line and a '\n' to the NUL-terminated notes in
 * buf[cap] (a converter summary, the pipeline's start-up notes); once buf is
 * full further lines are dropped, never cut off mid-buffer unterminated. */
void sm_notes_append(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Programmer errors: a broken invariant of our own code (a NULL where the
 * contract forbids it, a table overflowing its fixed size, an index a caller
 * computed wrongly). Checked in every build, release included; prints
 * "file:line: function: assertion 'cond' failed" to stderr and aborts. Never
 * for untrusted input (files, command lines, cameras): those get an sm_status
 * and a message (docs/ARCHITECTURE.md, "Errors"). */
#define SM_ASSERT(cond) ((cond) ? (void)0 : sm_assert_fail(#cond, __FILE__, __LINE__, __func__))
_Noreturn void sm_assert_fail(const char *cond, const char *file, int line, const char *func);

/* ---- logging ------------------------------------------------------------ */

typedef enum { SM_LOG_ERROR = 0, SM_LOG_WARN, SM_LOG_INFO, SM_LOG_DEBUG } sm_log_level;

/* Writes to stderr when level <= the current level (SM_LOG_LEVEL env:
 * error|warn|info|debug, default warn). */
void sm_log(sm_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sm_log_set_level(sm_log_level level);
sm_log_level sm_log_get_level(void);

/* ---- overflow-safe sizes ------------------------------------------------ */

/* Each returns false (and leaves *out unspecified) when the result overflows. */
bool sm_size_mul(size_t a, size_t b, size_t *out);
bool sm_size_add(size_t a, size_t b, size_t *out);
bool sm_u64_mul(uint64_t a, uint64_t b, uint64_t *out);
bool sm_u64_add(uint64_t a, uint64_t b, uint64_t *out);

/* ---- arena ---------------------------------------------------------------- */

typedef struct {
    uint8_t *base;
    size_t capacity;
    size_t used;
    size_t high_water;
} sm_arena;

sm_status sm_arena_init(sm_arena *arena, size_t capacity, sm_error *err);
/* Returns NULL when the arena is full; align must be a power of two (0 = 64). */
void *sm_arena_alloc(sm_arena *arena, size_t size, size_t align);
void sm_arena_reset(sm_arena *arena);
void sm_arena_free(sm_arena *arena); /* accepts NULL and zeroed arenas */

/* 64-byte aligned heap memory for weights and buffers; free with sm_aligned_free. */
void *sm_aligned_alloc(size_t size);
void sm_aligned_free(void *p);

/* ---- CPU features and ISA dispatch ---------------------------------------- */

typedef enum {
    SM_ISA_SCALAR = 0,
    SM_ISA_AVX2,      /* AVX2 + FMA */
    SM_ISA_AVX512,    /* AVX-512 F+DQ+BW+VL (all four required) */
    SM_ISA_NEON
} sm_isa;
/* Levels are 0 .. SM_ISA_COUNT - 1 (tables indexed by level use it). */
#define SM_ISA_COUNT ((int)SM_ISA_NEON + 1)

typedef struct {
    bool avx2, fma, avx512f, avx512dq, avx512bw, avx512vl, avx512_bf16, avx512_vnni;
    bool neon;
} sm_cpu_features;

const sm_cpu_features *sm_cpu_get(void);
/* Best level this CPU supports, capped by SM_ISA=scalar|avx2|avx512|neon (read
 * once). An SM_ISA the CPU cannot run is reported and clamped down. */
sm_isa sm_isa_active(void);
/* Overrides the active level for tests and benchmarks; returns false if the CPU
 * cannot run it. */
bool sm_isa_force(sm_isa isa);
bool sm_isa_supported(sm_isa isa);
const char *sm_isa_name(sm_isa isa);

/* ---- thread pool ------------------------------------------------------------ */

typedef struct sm_threadpool sm_threadpool;
/* fn(ctx, task, thread) is called once for each task in [0, n_tasks);
 * thread is in [0, sm_threadpool_size()). */
typedef void (*sm_parallel_fn)(void *ctx, size_t task, size_t thread);

/* n_threads 0 = sm_threads_default(). */
sm_status sm_threadpool_init(sm_threadpool **pool, size_t n_threads, sm_error *err);
void sm_threadpool_free(sm_threadpool *pool);
size_t sm_threadpool_size(const sm_threadpool *pool); /* NULL pool => 1 */
/* pool may be NULL: runs serially on the caller. Not reentrant per pool. */
void sm_threadpool_run(sm_threadpool *pool, size_t n_tasks, sm_parallel_fn fn, void *ctx);
/* SM_THREADS if set and valid, else the number of online cores. */
size_t sm_threads_default(void);
/* Parallel-fors this pool has handed to its workers (runs of 2+ tasks); tests
 * count fan-outs with it where timing a machine is no proof. */
size_t sm_threadpool_fanouts(const sm_threadpool *pool);

/* The fan-out rule, one place for every op: a parallel-for over `items`
 * independent pieces carrying `work` in total (FLOPs, or bytes for memory-bound
 * ops) runs as how many tasks. 1 (the caller alone, no fork/join) when the pool
 * has one thread or the work is less than two tasks of min_work_per_task; else
 * work / min_work_per_task tasks, at most max_tasks and items. A task has to
 * carry several times a fork/join (about 1-3 us: publish, a worker's wake-up,
 * the join's cache-line transfers) or the fan-out makes the op slower; the
 * grains below say what that is in FLOPs and bytes. The task count never
 * changes an op's results (ops split output ranges, never a reduction). */
size_t sm_parallel_tasks(const sm_threadpool *pool, size_t items, size_t max_tasks, double work,
                         double min_work_per_task);
/* Multiplies every min_work_per_task (default 1; 0 = fan out whatever the
 * work): for tests that every split gives the same results, and for measuring
 * the grain. Process-wide; set it while no model runs. */
void sm_parallel_set_grain_scale(double scale);
/* ~10 us of one core per task: FP32 kernels run 30-60 GFLOP/s per core on
 * AVX2+FMA (more on AVX-512), a copy or elementwise pass 5-15 GB/s. */
#define SM_PAR_GRAIN_FLOPS 400e3
#define SM_PAR_GRAIN_BYTES 100e3

/* ---- half precision ----------------------------------------------------------- */

float sm_f16_to_f32(uint16_t h);
uint16_t sm_f32_to_f16(float f); /* round to nearest even, overflow to inf */
float sm_bf16_to_f32(uint16_t b);

/* ---- checksums ------------------------------------------------------------------ */

uint32_t sm_crc32(uint32_t crc, const void *data, size_t len); /* start with crc = 0 */

/* ---- .smw weight files -------------------------------------------------------------- */

#define SM_SMW_MAGIC "SMW1"
#define SM_SMW_VERSION_MAJOR 1
#define SM_SMW_VERSION_MINOR 0
#define SM_SMW_ALIGNMENT 64
#define SM_SMW_MAX_DIMS 4
#define SM_SMW_MAX_NAME 1024

typedef enum {
    SM_DTYPE_F32 = 0,
    SM_DTYPE_F16 = 1,
    SM_DTYPE_I64 = 2,
    SM_DTYPE_F64 = 3,
    SM_DTYPE_I32 = 4,
    SM_DTYPE_U8 = 5,
    SM_DTYPE_COUNT
} sm_dtype;

size_t sm_dtype_size(sm_dtype dt);  /* 0 for an unknown dtype */
const char *sm_dtype_name(sm_dtype dt);

typedef enum {
    SM_META_U32 = 0,
    SM_META_I32 = 1,
    SM_META_F32 = 2,
    SM_META_STRING = 3,
    SM_META_ARRAY = 4,
    SM_META_U64 = 5,
    SM_META_I64 = 6,
    SM_META_F64 = 7,
    SM_META_BOOL = 8,
    SM_META_TYPE_COUNT
} sm_meta_type;

const char *sm_meta_type_name(sm_meta_type t);

typedef struct {
    const char *ptr;   /* not NUL-terminated */
    size_t len;
} sm_str;

typedef struct {
    char *key;                 /* NUL-terminated copy */
    sm_meta_type type;
    sm_meta_type elem_type;    /* for SM_META_ARRAY */
    uint64_t count;            /* for SM_META_ARRAY */
    union {
        uint32_t u32; int32_t i32; float f32; uint64_t u64; int64_t i64; double f64; bool b;
        sm_str str;
    } v;
    const uint8_t *array_data; /* SM_META_ARRAY of numbers: packed little-endian
                                  elements; of strings: first length prefix */
    sm_str *strings;           /* SM_META_ARRAY of strings: count entries */
} sm_meta;

typedef struct {
    char *name;                /* NUL-terminated copy */
    sm_dtype dtype;
    uint32_t ndim;             /* 0..4; 0 = scalar */
    uint64_t dims[SM_SMW_MAX_DIMS];
    uint64_t numel;
    uint64_t offset;           /* from the start of the data section */
    uint64_t nbytes;
    const void *data;          /* 64-byte aligned pointer into the file */
} sm_tensor_info;

typedef struct {
    uint16_t version_major, version_minor;
    uint32_t alignment;
    uint64_t file_size, data_offset, data_size;
    uint32_t header_crc, data_crc;
    bool data_crc_ok;          /* data CRC is checked when the file is parsed */
    size_t n_meta, n_tensors;
    sm_meta *meta;
    sm_tensor_info *tensors;
    const uint8_t *base;
    size_t len;
    void *mapping;             /* owned mmap, when opened from a path */
    size_t mapping_len;
    char *path;                /* for messages; "<buffer>" when parsed from memory */
} sm_smw;

/* Parse options: by default the data CRC is verified (cost: one pass over the data). */
typedef struct {
    bool skip_data_crc;
} sm_smw_parse_opts;

sm_status sm_smw_parse(const void *buf, size_t len, const char *name_for_messages,
                       const sm_smw_parse_opts *opts, sm_smw **out, sm_error *err);
sm_status sm_smw_open(const char *path, const sm_smw_parse_opts *opts, sm_smw **out,
                      sm_error *err);
void sm_smw_free(sm_smw *f);

const sm_tensor_info *sm_smw_find_tensor(const sm_smw *f, const char *name);
/* Finds name and checks dtype and shape. dims entries of -1 match any size.
 * Missing tensor, wrong dtype or wrong shape: SM_ERR_SHAPE with a message
 * naming the file, the tensor, the expected and the found shape. */
sm_status sm_smw_get_tensor(const sm_smw *f, const char *name, sm_dtype dtype,
                            uint32_t ndim, const int64_t *dims,
                            const sm_tensor_info **out, sm_error *err);

const sm_meta *sm_smw_find_meta(const sm_smw *f, const char *key);
/* Element i of a numeric SM_META_ARRAY as a scalar meta of the array's element
 * type (key NULL). False when m is not a numeric array or i >= count. */
bool sm_meta_array_at(const sm_meta *m, uint64_t i, sm_meta *scalar);
/* Typed getters: SM_ERR_FORMAT when the key is missing or of another type. */
sm_status sm_smw_meta_string(const sm_smw *f, const char *key, sm_str *out, sm_error *err);
sm_status sm_smw_meta_u32(const sm_smw *f, const char *key, uint32_t *out, sm_error *err);
sm_status sm_smw_meta_f32(const sm_smw *f, const char *key, float *out, sm_error *err);
/* Numeric array of exactly n elements of elem_type; copies into out. */
sm_status sm_smw_meta_f32_array(const sm_smw *f, const char *key, float *out, size_t n,
                                sm_error *err);
/* The architecture string, or "" if absent. */
bool sm_smw_arch_is(const sm_smw *f, const char *arch);

/* Writer: collects metadata and tensors (copied), then writes the file. */
typedef struct sm_smw_writer sm_smw_writer;

sm_status sm_smw_writer_init(sm_smw_writer **w, sm_error *err);
void sm_smw_writer_free(sm_smw_writer *w);
sm_status sm_smw_writer_add_u32(sm_smw_writer *w, const char *key, uint32_t v, sm_error *err);
sm_status sm_smw_writer_add_i32(sm_smw_writer *w, const char *key, int32_t v, sm_error *err);
sm_status sm_smw_writer_add_u64(sm_smw_writer *w, const char *key, uint64_t v, sm_error *err);
sm_status sm_smw_writer_add_i64(sm_smw_writer *w, const char *key, int64_t v, sm_error *err);
sm_status sm_smw_writer_add_f32(sm_smw_writer *w, const char *key, float v, sm_error *err);
sm_status sm_smw_writer_add_f64(sm_smw_writer *w, const char *key, double v, sm_error *err);
sm_status sm_smw_writer_add_bool(sm_smw_writer *w, const char *key, bool v, sm_error *err);
sm_status sm_smw_writer_add_string(sm_smw_writer *w, const char *key, const char *v,
                                   sm_error *err);
/* elem_type: any numeric type or SM_META_STRING (values = const char *const *). */
sm_status sm_smw_writer_add_array(sm_smw_writer *w, const char *key, sm_meta_type elem_type,
                                  const void *values, size_t count, sm_error *err);
sm_status sm_smw_writer_add_tensor(sm_smw_writer *w, const char *name, sm_dtype dtype,
                                   uint32_t ndim, const uint64_t *dims, const void *data,
                                   sm_error *err);
/* Serialises into a 64-byte aligned buffer (caller frees with free()). */
sm_status sm_smw_writer_serialize(const sm_smw_writer *w, uint8_t **buf, size_t *len,
                                  sm_error *err);
/* Writes path atomically: temp file in the same directory, fsync, rename.
 * On any error no file is left at path or at the temp path. */
sm_status sm_smw_writer_save(const sm_smw_writer *w, const char *path, sm_error *err);

/* ---- files ------------------------------------------------------------------------ */

/* Reads a whole file into a malloc'd buffer (caller frees); max_len guards
 * against absurd inputs (0 = 4 GiB). */
sm_status sm_file_read_all(const char *path, size_t max_len, uint8_t **buf, size_t *len,
                           sm_error *err);
/* Atomic write: temp in the same directory, fsync, rename; nothing left on error. */
sm_status sm_file_write_atomic(const char *path, const void *data, size_t len, sm_error *err);

#ifdef __cplusplus
}
#endif
#endif
