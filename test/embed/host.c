/*
 * A non-JavaScript host for dist/core.wasm: the module is translated to C by
 * wasm2c (wabt) and driven through its exports only. It runs the scenario of
 * test/embed/scenario.ts line for line, checks every result, prints one line
 * per step and ends with "ok <n> checks". On the first unexpected result it
 * prints "FAIL ..." to stderr and exits 1. test/embed/embed.test.ts builds it,
 * runs it and compares its output with the TypeScript host's, byte for byte.
 *
 * Build by hand (wabt 1.0.32, Debian 12):
 *   wasm2c dist/core.wasm -n core -o /tmp/core.c
 *   gcc -O2 -fno-optimize-sibling-calls -frounding-math -fsignaling-nans \
 *       -I/tmp test/embed/host.c /tmp/core.c -lwasm-rt-impl -lm -o /tmp/host
 * wasm2c 1.0.33 and later generate a different API (w2c_core, wasm2c_core_*):
 * add -DLS_WASM2C_API=2 (the test picks the value from the generated header).
 *
 * Every status code and type tag comes from the module's exported globals,
 * which wasm2c exposes as functions returning a pointer to the instance's
 * copy. Floats are printed with %.17g, except NaN, infinities and zeros, which
 * are spelled out (nan, inf, -inf, 0, -0) because printf's spelling of a NaN
 * depends on its sign bit and the C library.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#ifndef LS_WASM2C_API
#define LS_WASM2C_API 1
#endif

#if LS_WASM2C_API == 1
/* wabt <= 1.0.32: Z_<module>Z_<export>, with 'Z' in a name escaped as "Z5A". */
typedef Z_core_instance_t core_t;
#define LS(name) Z_coreZ_##name
#define LS_ENTRY_SIZE_GLOBAL Z_coreZ_ls_ENTRY_SIZ5AE
#define LS_PAGE_SIZE_GLOBAL Z_coreZ_ls_PAGE_SIZ5AE
#define LS_BATCH_ITEM_SIZE_GLOBAL Z_coreZ_ls_BATCH_ITEM_SIZ5AE
static void core_instantiate(core_t *inst) {
  Z_core_init_module();
  Z_core_instantiate(inst);
}
static void core_free(core_t *inst) { Z_core_free(inst); }
#else
/* wabt >= 1.0.33: w2c_<module>_<export>. */
typedef w2c_core core_t;
#define LS(name) w2c_core_##name
#define LS_ENTRY_SIZE_GLOBAL w2c_core_ls_ENTRY_SIZE
#define LS_PAGE_SIZE_GLOBAL w2c_core_ls_PAGE_SIZE
#define LS_BATCH_ITEM_SIZE_GLOBAL w2c_core_ls_BATCH_ITEM_SIZE
static void core_instantiate(core_t *inst) { wasm2c_core_instantiate(inst); }
static void core_free(core_t *inst) { wasm2c_core_free(inst); }
#endif

static core_t inst;
static unsigned long checks = 0;

/* Constants, read from the module's globals after instantiation. */
static int32_t OK, NOT_FOUND, ALREADY_EXISTS, INVALID_VALUE, BELOW_MIN, ABOVE_MAX, OUT_OF_MEMORY, INVALID_ARGUMENT,
    VERSION_LIMIT;
static int32_t TYPE_FREE, TYPE_FLOAT, TYPE_INTEGER, TYPE_BOOLEAN;
static uint32_t MAGIC, HEADER_BASE, HEADER_MAGIC, HEADER_COUNT, ENTRY_SIZE, ENTRY_VALUE, ENTRY_VERSION, PAGE_SIZE;
static uint32_t BATCH_BASE, BATCH_ITEM_SIZE, BATCH_VALUE, BATCH_VERSION, BATCH_HANDLE, BATCH_STATUS;

static void fail(int line, const char *fmt, ...) {
  va_list args;
  fflush(stdout);
  fprintf(stderr, "FAIL host.c:%d (check %lu): ", line, checks);
  va_start(args, fmt);
  vfprintf(stderr, fmt, args);
  va_end(args);
  fputc('\n', stderr);
  exit(1);
}

#define CHECK(cond, ...)                   \
  do {                                     \
    checks++;                              \
    if (!(cond)) fail(__LINE__, __VA_ARGS__); \
  } while (0)

/* ---- numbers ---------------------------------------------------------- */

static uint64_t bits(double x) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}

static double from_bits(uint64_t b) {
  double x;
  memcpy(&x, &b, sizeof x);
  return x;
}

static int same(double a, double b) { return bits(a) == bits(b); }

/* %.17g, with the special values spelled the same way in both hosts. */
static const char *F(double x) {
  static char buffers[16][40];
  static unsigned next = 0;
  char *b = buffers[next++ % 16];
  if (isnan(x)) {
    strcpy(b, "nan");
  } else if (isinf(x)) {
    strcpy(b, x < 0 ? "-inf" : "inf");
  } else if (x == 0) {
    strcpy(b, signbit(x) ? "-0" : "0");
  } else {
    snprintf(b, 40, "%.17g", x);
  }
  return b;
}

static const char *HEX(uint64_t b) {
  static char buffers[4][24];
  static unsigned next = 0;
  char *out = buffers[next++ % 4];
  snprintf(out, 24, "0x%016" PRIx64, b);
  return out;
}

/* ---- the exports, with the ABI's signed/unsigned reading -------------- */

static int32_t ls_init(int32_t capacity, int32_t max_pages) {
  return (int32_t)LS(ls_init)(&inst, (uint32_t)capacity, (uint32_t)max_pages);
}
static int32_t ls_reserve(int32_t additional) { return (int32_t)LS(ls_reserve)(&inst, (uint32_t)additional); }
static int32_t ls_insert(uint32_t key, int32_t type, double value, double min, double max, double version, double now) {
  return (int32_t)LS(ls_insert)(&inst, key, (uint32_t)type, value, min, max, version, now);
}
static int32_t ls_find(uint32_t key) { return (int32_t)LS(ls_find)(&inst, key); }
static double ls_get(uint32_t key) { return LS(ls_get)(&inst, key); }
static int32_t ls_set(uint32_t key, double value, double now) { return (int32_t)LS(ls_set)(&inst, key, value, now); }
static int32_t ls_set_at(int32_t handle, double value, double now) {
  return (int32_t)LS(ls_set_at)(&inst, (uint32_t)handle, value, now);
}
static int32_t ls_batch_area(int32_t count) { return (int32_t)LS(ls_batch_area)(&inst, (uint32_t)count); }
static int32_t ls_set_batch(int32_t area, int32_t count, double now, int32_t apply) {
  return (int32_t)LS(ls_set_batch)(&inst, (uint32_t)area, (uint32_t)count, now, (uint32_t)apply);
}
static int32_t ls_check_at(int32_t handle, double value) {
  return (int32_t)LS(ls_check_at)(&inst, (uint32_t)handle, value);
}
static int32_t ls_delete(uint32_t key) { return (int32_t)LS(ls_delete)(&inst, key); }
static int32_t ls_next(int32_t from) { return (int32_t)LS(ls_next)(&inst, (uint32_t)from); }
static double ls_value_at(int32_t h) { return LS(ls_value_at)(&inst, (uint32_t)h); }
static double ls_min_at(int32_t h) { return LS(ls_min_at)(&inst, (uint32_t)h); }
static double ls_max_at(int32_t h) { return LS(ls_max_at)(&inst, (uint32_t)h); }
static double ls_version_at(int32_t h) { return LS(ls_version_at)(&inst, (uint32_t)h); }
static double ls_updated_at(int32_t h) { return LS(ls_updated_at)(&inst, (uint32_t)h); }
static uint32_t ls_key_at(int32_t h) { return LS(ls_key_at)(&inst, (uint32_t)h); }
static int32_t ls_type_at(int32_t h) { return (int32_t)LS(ls_type_at)(&inst, (uint32_t)h); }
static int32_t ls_count(void) { return (int32_t)LS(ls_count)(&inst); }
static int32_t ls_capacity(void) { return (int32_t)LS(ls_capacity)(&inst); }
static int32_t ls_entry_capacity(void) { return (int32_t)LS(ls_entry_capacity)(&inst); }
static int32_t ls_entries_base(void) { return (int32_t)LS(ls_entries_base)(&inst); }
static int32_t ls_rehash_count(void) { return (int32_t)LS(ls_rehash_count)(&inst); }

/* Linear memory, re-read on every access: growth may move it. */
static wasm_rt_memory_t *memory(void) { return LS(memory)(&inst); }
static uint32_t pages(void) { return (uint32_t)(memory()->size / PAGE_SIZE); }
static double mem_f64(uint32_t address) {
  wasm_rt_memory_t *m = memory();
  double x;
  CHECK((uint64_t)address + 8 <= (uint64_t)m->size, "f64 read at %u beyond memory", address);
  memcpy(&x, m->data + address, 8); /* wasm memory is little-endian; so is every host this test runs on */
  return x;
}
static uint32_t mem_u32(uint32_t address) {
  wasm_rt_memory_t *m = memory();
  uint32_t x;
  CHECK((uint64_t)address + 4 <= (uint64_t)m->size, "u32 read at %u beyond memory", address);
  memcpy(&x, m->data + address, 4);
  return x;
}
static void mem_set_f64(uint32_t address, double x) {
  wasm_rt_memory_t *m = memory();
  CHECK((uint64_t)address + 8 <= (uint64_t)m->size, "f64 write at %u beyond memory", address);
  memcpy(m->data + address, &x, 8);
}
static void mem_set_i32(uint32_t address, int32_t x) {
  wasm_rt_memory_t *m = memory();
  CHECK((uint64_t)address + 4 <= (uint64_t)m->size, "i32 write at %u beyond memory", address);
  memcpy(m->data + address, &x, 4);
}
/* The value of handle h, read straight from memory (ABI.md: entriesBase + h * ENTRY_SIZE + ENTRY_VALUE). */
static double entry_value(int32_t h) { return mem_f64((uint32_t)ls_entries_base() + (uint32_t)h * ENTRY_SIZE + ENTRY_VALUE); }

static const char *status_name(int32_t s) {
  if (s == OK) return "OK";
  if (s == NOT_FOUND) return "NOT_FOUND";
  if (s == ALREADY_EXISTS) return "ALREADY_EXISTS";
  if (s == INVALID_VALUE) return "INVALID_VALUE";
  if (s == BELOW_MIN) return "BELOW_MIN";
  if (s == ABOVE_MAX) return "ABOVE_MAX";
  if (s == OUT_OF_MEMORY) return "OUT_OF_MEMORY";
  if (s == INVALID_ARGUMENT) return "INVALID_ARGUMENT";
  if (s == VERSION_LIMIT) return "VERSION_LIMIT";
  return "UNKNOWN";
}

static const char *type_name(int32_t t) {
  if (t == TYPE_FREE) return "free";
  if (t == TYPE_FLOAT) return "float";
  if (t == TYPE_INTEGER) return "integer";
  if (t == TYPE_BOOLEAN) return "boolean";
  return "unknown";
}

/* An insert result: a handle, or a negated status. */
static const char *insert_result(int32_t r) {
  static char buffers[4][48];
  static unsigned next = 0;
  char *b = buffers[next++ % 4];
  if (r >= 0) snprintf(b, 48, "handle %d", r);
  else snprintf(b, 48, "-status %d %s", -r, status_name(-r));
  return b;
}

/* What the table stores: integers and booleans have no -0. */
static double stored(int32_t type, double value) { return type == TYPE_FLOAT ? value : (value == 0 ? 0.0 : value); }

static int is_power_of_two(int32_t n) { return n > 0 && (n & (n - 1)) == 0; }

/* ---- the scenario ------------------------------------------------------ */

#define N_KEYS 3000
#define MAX_HANDLES 65536
#define MISSING_KEY 0x7fff0001u

static uint32_t keys[N_KEYS];
static int32_t handles[N_KEYS];
static int32_t types[N_KEYS];
/* Per handle: 0 never handed out, 1 live, 2 freed by a delete. */
static unsigned char handle_state[MAX_HANDLES];

/* A successful insert must hand out a handle that is not live. */
static void take_handle(uint32_t key, int32_t h) {
  CHECK(h >= 0 && h < MAX_HANDLES && h < ls_entry_capacity(), "insert %u: handle %d", key, h);
  CHECK(handle_state[h] != 1, "insert %u: handle %d is already live", key, h);
  handle_state[h] = 1;
}

static uint32_t key_of(uint32_t i) { return i * 0x85ebca77u + 1u; }

static void key_values(uint32_t i, int32_t *type, double *value, double *min, double *max) {
  if (i % 3 == 0) {
    *type = TYPE_FLOAT;
    *value = (double)i / 7.0 - 200.0;
    *min = -250.5;
    *max = 250.75;
  } else if (i % 3 == 1) {
    *type = TYPE_INTEGER;
    *value = (double)i * 3.0 - 4500.0;
    *min = -5000;
    *max = 5000;
  } else {
    *type = TYPE_BOOLEAN;
    *value = (double)(i % 2);
    *min = -INFINITY;
    *max = INFINITY;
  }
}

static void print_table(const char *what) {
  printf("%s count %d capacity %d entry_capacity %d rehashes %d pages %u\n", what, ls_count(), ls_capacity(),
         ls_entry_capacity(), ls_rehash_count(), pages());
}

/* A set by key that must return `expected`: checks the value, version and time after it (unchanged on failure). */
static void set_expect(uint32_t key, double value, double now, int32_t expected) {
  int32_t h = ls_find(key);
  CHECK(h >= 0, "set: key %u not found", key);
  int32_t type = ls_type_at(h);
  double before_value = ls_value_at(h), before_version = ls_version_at(h), before_updated = ls_updated_at(h);
  int32_t checked = ls_check_at(h, value);
  int32_t s = ls_set(key, value, now);
  double v = ls_value_at(h), version = ls_version_at(h), updated = ls_updated_at(h);
  printf("set %u %s -> status %d %s value %s version %s updated %s\n", key, F(value), s, status_name(s), F(v),
         F(version), F(updated));
  CHECK(s == expected, "set %u %s: status %d, expected %d", key, F(value), s, expected);
  CHECK(checked == s, "check_at %d %s: %d, but set returned %d", h, F(value), checked, s);
  if (s == OK) {
    CHECK(same(v, stored(type, value)), "set %u %s stored %s", key, F(value), F(v));
    CHECK(version == before_version + 1, "set %u: version %s after %s", key, F(version), F(before_version));
    CHECK(same(updated, now), "set %u: updated %s, expected %s", key, F(updated), F(now));
  } else {
    CHECK(same(v, before_value), "failed set %u changed the value %s -> %s", key, F(before_value), F(v));
    CHECK(same(version, before_version), "failed set %u changed the version", key);
    CHECK(same(updated, before_updated), "failed set %u changed the time", key);
  }
  CHECK(same(ls_get(key), v), "get %u disagrees with value_at", key);
  CHECK(same(entry_value(h), v), "memory disagrees with value_at for handle %d", h);
}

/* An insert that must fail with `expected` and change nothing. */
static void insert_fails(uint32_t key, int32_t type, double value, double min, double max, double version,
                         int32_t expected) {
  int32_t count = ls_count();
  int32_t r = ls_insert(key, type, value, min, max, version, 1);
  printf("insert %u type %d %s [%s, %s] version %s -> %s\n", key, type, F(value), F(min), F(max), F(version),
         insert_result(r));
  CHECK(r == -expected, "insert %u: %d, expected -%d", key, r, expected);
  CHECK(ls_count() == count, "failed insert changed the count");
  if (expected != ALREADY_EXISTS) CHECK(ls_find(key) == -NOT_FOUND, "failed insert left key %u", key);
}

/* A float/integer special value inserted with open bounds: read back from memory, bit for bit. */
static void special(uint32_t key, int32_t type, double value, double min, double max) {
  int32_t h = ls_insert(key, type, value, min, max, 0, 7);
  take_handle(key, h);
  double v = ls_value_at(h);
  double m = entry_value(h);
  printf("special %u %s %s [%s, %s] -> handle %d value %s bits %s signbit %d key_at %u\n", key, type_name(type),
         F(value), F(min), F(max), h, F(v), HEX(bits(m)), signbit(m) ? 1 : 0, ls_key_at(h));
  CHECK(bits(m) == bits(stored(type, value)), "special %u: memory holds %s, expected %s", key, HEX(bits(m)),
        HEX(bits(stored(type, value))));
  CHECK(same(v, m), "special %u: value_at %s, memory %s", key, HEX(bits(v)), HEX(bits(m)));
  CHECK(same(ls_get(key), m), "special %u: get disagrees", key);
  CHECK(ls_key_at(h) == key, "special %u: key_at %u", key, ls_key_at(h));
  CHECK(ls_type_at(h) == type, "special %u: type_at %d", key, ls_type_at(h));
}

/* Walks ls_next; checks order, liveness and that each key finds its own handle. */
static void iterate(const char *what) {
  int32_t n = 0, first = -1, last = -1;
  uint32_t key_sum = 0;
  for (int32_t h = ls_next(0); h >= 0; h = ls_next(h + 1)) {
    CHECK(h > last, "%s: ls_next went from %d to %d", what, last, h);
    CHECK(ls_type_at(h) != TYPE_FREE, "%s: handle %d is free", what, h);
    CHECK(h < MAX_HANDLES && handle_state[h] == 1, "%s: handle %d is not one of the live handles", what, h);
    CHECK(ls_find(ls_key_at(h)) == h, "%s: key %u does not find handle %d", what, ls_key_at(h), h);
    if (first < 0) first = h;
    last = h;
    key_sum += ls_key_at(h);
    n++;
  }
  printf("%s -> %d live first %d last %d key_sum %u\n", what, n, first, last, key_sum);
  CHECK(n == ls_count(), "%s: %d live handles, count %d", what, n, ls_count());
}

int main(void) {
  wasm_rt_init();
  core_instantiate(&inst);

  OK = (int32_t)*LS(ls_STATUS_OK)(&inst);
  NOT_FOUND = (int32_t)*LS(ls_STATUS_NOT_FOUND)(&inst);
  ALREADY_EXISTS = (int32_t)*LS(ls_STATUS_ALREADY_EXISTS)(&inst);
  INVALID_VALUE = (int32_t)*LS(ls_STATUS_INVALID_VALUE)(&inst);
  BELOW_MIN = (int32_t)*LS(ls_STATUS_BELOW_MIN)(&inst);
  ABOVE_MAX = (int32_t)*LS(ls_STATUS_ABOVE_MAX)(&inst);
  OUT_OF_MEMORY = (int32_t)*LS(ls_STATUS_OUT_OF_MEMORY)(&inst);
  INVALID_ARGUMENT = (int32_t)*LS(ls_STATUS_INVALID_ARGUMENT)(&inst);
  VERSION_LIMIT = (int32_t)*LS(ls_STATUS_VERSION_LIMIT)(&inst);
  TYPE_FREE = (int32_t)*LS(ls_TYPE_FREE)(&inst);
  TYPE_FLOAT = (int32_t)*LS(ls_TYPE_FLOAT)(&inst);
  TYPE_INTEGER = (int32_t)*LS(ls_TYPE_INTEGER)(&inst);
  TYPE_BOOLEAN = (int32_t)*LS(ls_TYPE_BOOLEAN)(&inst);
  MAGIC = *LS(ls_MAGIC)(&inst);
  HEADER_BASE = *LS(ls_HEADER_BASE)(&inst);
  HEADER_MAGIC = *LS(ls_HEADER_MAGIC)(&inst);
  HEADER_COUNT = *LS(ls_HEADER_COUNT)(&inst);
  ENTRY_SIZE = *LS_ENTRY_SIZE_GLOBAL(&inst);
  ENTRY_VALUE = *LS(ls_ENTRY_VALUE)(&inst);
  ENTRY_VERSION = *LS(ls_ENTRY_VERSION)(&inst);
  PAGE_SIZE = *LS_PAGE_SIZE_GLOBAL(&inst);
  BATCH_BASE = *LS(ls_BATCH_BASE)(&inst);
  BATCH_ITEM_SIZE = *LS_BATCH_ITEM_SIZE_GLOBAL(&inst);
  BATCH_VALUE = *LS(ls_BATCH_VALUE)(&inst);
  BATCH_VERSION = *LS(ls_BATCH_VERSION)(&inst);
  BATCH_HANDLE = *LS(ls_BATCH_HANDLE)(&inst);
  BATCH_STATUS = *LS(ls_BATCH_STATUS)(&inst);

  printf("constants OK=%d NOT_FOUND=%d ALREADY_EXISTS=%d INVALID_VALUE=%d BELOW_MIN=%d ABOVE_MAX=%d OUT_OF_MEMORY=%d "
         "INVALID_ARGUMENT=%d VERSION_LIMIT=%d FREE=%d FLOAT=%d INTEGER=%d BOOLEAN=%d ENTRY_SIZE=%u\n",
         OK, NOT_FOUND, ALREADY_EXISTS, INVALID_VALUE, BELOW_MIN, ABOVE_MAX, OUT_OF_MEMORY, INVALID_ARGUMENT,
         VERSION_LIMIT, TYPE_FREE, TYPE_FLOAT, TYPE_INTEGER, TYPE_BOOLEAN, ENTRY_SIZE);
  {
    int32_t statuses[] = {NOT_FOUND, ALREADY_EXISTS, INVALID_VALUE, BELOW_MIN, ABOVE_MAX, OUT_OF_MEMORY,
                          INVALID_ARGUMENT, VERSION_LIMIT};
    for (unsigned i = 0; i < 8; i++) {
      CHECK(statuses[i] > 0 && statuses[i] != OK, "status %u is %d", i, statuses[i]);
      for (unsigned j = 0; j < i; j++) CHECK(statuses[i] != statuses[j], "statuses %u and %u are equal", i, j);
    }
    CHECK(TYPE_FREE != TYPE_FLOAT && TYPE_FLOAT != TYPE_INTEGER && TYPE_INTEGER != TYPE_BOOLEAN &&
              TYPE_FREE != TYPE_INTEGER && TYPE_FREE != TYPE_BOOLEAN && TYPE_FLOAT != TYPE_BOOLEAN,
          "type tags are not distinct");
  }

  /* A fresh instance is an empty table. */
  printf("fresh count %d capacity %d find 1 -> %d next 0 -> %d get 1 -> %s\n", ls_count(), ls_capacity(), ls_find(1),
         ls_next(0), F(ls_get(1)));
  CHECK(ls_count() == 0, "fresh count");
  CHECK(ls_find(1) == -NOT_FOUND, "fresh find");
  CHECK(ls_next(0) == -1, "fresh next");
  CHECK(isnan(ls_get(1)), "fresh get");

  /* ls_init: bad arguments, then a small table capped at 16 pages (1 MiB). */
  {
    int32_t bad[3][2] = {{-1, 0}, {8, -1}, {8, 65537}};
    for (unsigned i = 0; i < 3; i++) {
      int32_t s = ls_init(bad[i][0], bad[i][1]);
      printf("init %d %d -> status %d %s\n", bad[i][0], bad[i][1], s, status_name(s));
      CHECK(s == INVALID_ARGUMENT, "init %d %d: %d", bad[i][0], bad[i][1], s);
    }
  }
  {
    int32_t s = ls_init(8, 16);
    print_table("init 8 16 ->");
    CHECK(s == OK, "init: %d", s);
    CHECK(ls_count() == 0 && ls_rehash_count() == 0, "init: not empty");
    CHECK(is_power_of_two(ls_capacity()), "init: capacity %d", ls_capacity());
    CHECK(ls_entry_capacity() >= 8 && ls_entry_capacity() == ls_capacity() / 4 * 3, "init: entry capacity %d",
          ls_entry_capacity());
    CHECK(mem_u32(HEADER_BASE + HEADER_MAGIC) == MAGIC, "header magic");
  }

  /* Insert N_KEYS keys of the three types: the table grows several times. */
  {
    int32_t capacity = ls_capacity(), rehashes = ls_rehash_count(), grows = 0;
    for (uint32_t i = 0; i < N_KEYS; i++) {
      int32_t type;
      double value, min, max;
      key_values(i, &type, &value, &min, &max);
      keys[i] = key_of(i);
      types[i] = type;
      int32_t h = ls_insert(keys[i], type, value, min, max, i % 5, 1000 + i);
      printf("insert %u %s %s [%s, %s] -> %s\n", keys[i], type_name(type), F(value), F(min), F(max),
             insert_result(h));
      take_handle(keys[i], h);
      handles[i] = h;
      CHECK(ls_count() == (int32_t)i + 1, "insert %u: count %d", keys[i], ls_count());
      CHECK(ls_find(keys[i]) == h, "insert %u: find %d", keys[i], ls_find(keys[i]));
      if (ls_capacity() != capacity) {
        grows++;
        printf("grow at count %d -> capacity %d entry_capacity %d rehashes %d entries_base %d pages %u\n", ls_count(),
               ls_capacity(), ls_entry_capacity(), ls_rehash_count(), ls_entries_base(), pages());
        CHECK(ls_capacity() > capacity && is_power_of_two(ls_capacity()), "grow: capacity %d", ls_capacity());
        CHECK(ls_entry_capacity() == ls_capacity() / 4 * 3, "grow: entry capacity %d", ls_entry_capacity());
        CHECK(ls_rehash_count() == rehashes + 1, "grow: rehashes %d", ls_rehash_count());
        capacity = ls_capacity();
        rehashes = ls_rehash_count();
      }
    }
    print_table("inserted");
    CHECK(grows >= 3 && ls_rehash_count() == grows, "only %d growths", grows);
    CHECK(pages() <= 16, "memory cap crossed: %u pages", pages());
  }

  /* Inserts that must fail and change nothing. */
  {
    int32_t t;
    double v, mn, mx;
    key_values(5, &t, &v, &mn, &mx);
    insert_fails(keys[5], t, v, mn, mx, 0, ALREADY_EXISTS);
    CHECK(ls_find(keys[5]) == handles[5], "duplicate insert moved key %u", keys[5]);
    insert_fails(MISSING_KEY, 99, 1, -INFINITY, INFINITY, 0, INVALID_ARGUMENT);
    insert_fails(MISSING_KEY, TYPE_FREE, 1, -INFINITY, INFINITY, 0, INVALID_ARGUMENT);
    insert_fails(MISSING_KEY, TYPE_FLOAT, 1, NAN, INFINITY, 0, INVALID_ARGUMENT);
    insert_fails(MISSING_KEY, TYPE_FLOAT, 1, 5, 4, 0, INVALID_ARGUMENT);
    insert_fails(MISSING_KEY, TYPE_BOOLEAN, 1, 0, 1, 0, INVALID_ARGUMENT);
    insert_fails(MISSING_KEY, TYPE_FLOAT, 1, -INFINITY, INFINITY, -1, INVALID_ARGUMENT);
    insert_fails(MISSING_KEY, TYPE_FLOAT, 1, -INFINITY, INFINITY, 1.5, INVALID_ARGUMENT);
    insert_fails(MISSING_KEY, TYPE_FLOAT, 1, -INFINITY, INFINITY, 9007199254740992.0, INVALID_ARGUMENT);
    insert_fails(MISSING_KEY, TYPE_FLOAT, 10, 0, 5, 0, ABOVE_MAX);
    insert_fails(MISSING_KEY, TYPE_FLOAT, -1, 0, 5, 0, BELOW_MIN);
    insert_fails(MISSING_KEY, TYPE_INTEGER, 2.5, -INFINITY, INFINITY, 0, INVALID_VALUE);
    insert_fails(MISSING_KEY, TYPE_BOOLEAN, 2, -INFINITY, INFINITY, 0, INVALID_VALUE);
  }

  /* Every value back, by key and by handle. */
  for (uint32_t i = 0; i < N_KEYS; i++) {
    int32_t type;
    double value, min, max;
    key_values(i, &type, &value, &min, &max);
    int32_t h = ls_find(keys[i]);
    double v = ls_get(keys[i]);
    printf("get %u -> %s handle %d version %s updated %s\n", keys[i], F(v), h, F(ls_version_at(h)),
           F(ls_updated_at(h)));
    CHECK(h == handles[i], "find %u: %d, inserted as %d", keys[i], h, handles[i]);
    CHECK(same(v, stored(type, value)), "get %u: %s, inserted %s", keys[i], F(v), F(value));
    CHECK(same(ls_value_at(h), v), "value_at %d", h);
    CHECK(same(entry_value(h), v), "memory value of handle %d", h);
    CHECK(ls_type_at(h) == type, "type_at %d: %d", h, ls_type_at(h));
    CHECK(ls_key_at(h) == keys[i], "key_at %d: %u", h, ls_key_at(h));
    CHECK(same(ls_min_at(h), min) && same(ls_max_at(h), max), "bounds of %d", h);
    CHECK(ls_version_at(h) == (double)(i % 5), "version of %d", h);
    CHECK(ls_updated_at(h) == (double)(1000 + i), "updated of %d", h);
  }

  /* Sets: constraint failures change nothing; each success bumps the version by 1. */
  {
    uint32_t f = keys[3], n = keys[4], b = keys[5]; /* float [-250.5, 250.75], integer [-5000, 5000], boolean */
    double now = 2000;
    set_expect(f, -250.6, now++, BELOW_MIN);
    set_expect(f, 250.8, now++, ABOVE_MAX);
    set_expect(f, -1e300, now++, BELOW_MIN);
    set_expect(f, 1e300, now++, ABOVE_MAX);
    set_expect(f, 12.5, now++, OK);
    set_expect(f, -250.5, now++, OK);
    set_expect(f, 250.75, now++, OK);
    set_expect(f, 0.1, now++, OK);
    set_expect(f, NAN, now++, OK);
    set_expect(f, INFINITY, now++, OK);
    set_expect(f, -INFINITY, now++, OK);
    set_expect(f, -0.0, now++, OK);
    set_expect(f, 4.9406564584124654e-324, now++, OK);
    set_expect(f, -1.0 / 3.0, now++, OK);
    set_expect(n, 2.5, now++, INVALID_VALUE);
    set_expect(n, NAN, now++, INVALID_VALUE);
    set_expect(n, INFINITY, now++, INVALID_VALUE);
    set_expect(n, 9007199254740992.0, now++, INVALID_VALUE);
    set_expect(n, 1e-300, now++, INVALID_VALUE);
    set_expect(n, -5001, now++, BELOW_MIN);
    set_expect(n, 5001, now++, ABOVE_MAX);
    set_expect(n, 5000, now++, OK);
    set_expect(n, -5000, now++, OK);
    set_expect(n, -0.0, now++, OK);
    set_expect(n, 17, now++, OK);
    set_expect(b, 0.5, now++, INVALID_VALUE);
    set_expect(b, 2, now++, INVALID_VALUE);
    set_expect(b, -1, now++, INVALID_VALUE);
    set_expect(b, NAN, now++, INVALID_VALUE);
    set_expect(b, 0, now++, OK);
    set_expect(b, -0.0, now++, OK);
    set_expect(b, 1, now++, OK);

    int32_t s = ls_set(MISSING_KEY, 1, now);
    printf("set %u 1 -> status %d %s\n", MISSING_KEY, s, status_name(s));
    CHECK(s == NOT_FOUND, "set of a missing key: %d", s);
    int32_t bad_handles[3] = {-1, ls_entry_capacity(), MAX_HANDLES};
    for (unsigned i = 0; i < 3; i++) {
      int32_t h = bad_handles[i];
      int32_t sa = ls_set_at(h, 1, now), ca = ls_check_at(h, 1);
      printf("set_at %d 1 -> status %d %s check_at -> %d type_at -> %d value_at -> %s key_at -> %u\n", h, sa,
             status_name(sa), ca, ls_type_at(h), F(ls_value_at(h)), ls_key_at(h));
      CHECK(sa == NOT_FOUND && ca == NOT_FOUND, "set_at/check_at of handle %d: %d %d", h, sa, ca);
      CHECK(ls_type_at(h) == TYPE_FREE && isnan(ls_value_at(h)) && ls_key_at(h) == 0, "handle %d reads as live", h);
    }

    /* ls_set_at by handle, same rules. */
    int32_t h = handles[4];
    double version = ls_version_at(h);
    int32_t s1 = ls_set_at(h, 4999, now), s2 = ls_set_at(h, 4999.5, now + 1);
    printf("set_at %d 4999 -> status %d %s; 4999.5 -> status %d %s; value %s version %s\n", h, s1, status_name(s1), s2,
           status_name(s2), F(ls_value_at(h)), F(ls_version_at(h)));
    CHECK(s1 == OK && s2 == INVALID_VALUE, "set_at statuses %d %d", s1, s2);
    CHECK(ls_value_at(h) == 4999 && ls_version_at(h) == version + 1, "set_at result");
  }

  /* The version limit: 2^53 - 1 is the last version a write can reach. */
  {
    uint32_t key = 0x7ffffffeu;
    int32_t h = ls_insert(key, TYPE_FLOAT, 1, -INFINITY, INFINITY, 9007199254740990.0, 3);
    printf("insert %u version 9007199254740990 -> %s\n", key, insert_result(h));
    take_handle(key, h);
    set_expect(key, 2, 3000, OK);
    set_expect(key, 3, 3001, VERSION_LIMIT);
    CHECK(ls_version_at(h) == 9007199254740991.0, "version at the limit: %s", F(ls_version_at(h)));
    CHECK(ls_delete(key) == OK, "delete %u", key);
    handle_state[h] = 2;
  }

  /* -0, NaN, infinities and subnormals are stored exactly in floats; integers store -0 as 0. */
  {
    double nan = from_bits(UINT64_C(0x7ff8000000000000));
    special(0u, TYPE_FLOAT, -0.0, -INFINITY, INFINITY);
    special(0xffffffffu, TYPE_FLOAT, nan, -INFINITY, INFINITY);
    special(0x80000000u, TYPE_FLOAT, INFINITY, -INFINITY, INFINITY);
    special(0x80000001u, TYPE_FLOAT, -INFINITY, -INFINITY, INFINITY);
    special(0xdeadbeefu, TYPE_FLOAT, 4.9406564584124654e-324, -INFINITY, INFINITY);
    special(0xdeadbef0u, TYPE_FLOAT, -2.2250738585072009e-308, -INFINITY, INFINITY);
    special(0xcafef00du, TYPE_FLOAT, INFINITY, 0, 1); /* non-finite values bypass the bounds */
    special(0xcafef00eu, TYPE_FLOAT, nan, 0, 1);
    special(0xfffffffeu, TYPE_INTEGER, -0.0, -INFINITY, INFINITY);
    special(0xfffffffdu, TYPE_INTEGER, 9007199254740991.0, -INFINITY, INFINITY);
    special(0xfffffffcu, TYPE_INTEGER, -9007199254740991.0, -INFINITY, INFINITY);
    special(0xfffffffbu, TYPE_BOOLEAN, -0.0, -INFINITY, INFINITY);
    uint32_t specials[12] = {0u,          0xffffffffu, 0x80000000u, 0x80000001u, 0xdeadbeefu, 0xdeadbef0u,
                             0xcafef00du, 0xcafef00eu, 0xfffffffeu, 0xfffffffdu, 0xfffffffcu, 0xfffffffbu};
    for (unsigned i = 0; i < 12; i++) {
      int32_t h = ls_find(specials[i]);
      CHECK(h >= 0 && ls_delete(specials[i]) == OK, "delete special %u", specials[i]);
      handle_state[h] = 2;
    }
  }
  iterate("iterate");

  /* Delete every 7th key; deleted keys are gone and their handles read as free. */
  int32_t n_deleted = 0;
  {
    int32_t capacity = ls_capacity();
    for (uint32_t i = 0; i < N_KEYS; i += 7) {
      int32_t count = ls_count();
      int32_t h = handles[i];
      int32_t s = ls_delete(keys[i]);
      printf("delete %u (handle %d) -> status %d %s\n", keys[i], h, s, status_name(s));
      CHECK(s == OK, "delete %u: %d", keys[i], s);
      CHECK(ls_count() == count - 1, "delete %u: count %d", keys[i], ls_count());
      CHECK(ls_find(keys[i]) == -NOT_FOUND, "deleted %u still found", keys[i]);
      CHECK(isnan(ls_get(keys[i])), "deleted %u: get", keys[i]);
      CHECK(ls_type_at(h) == TYPE_FREE && ls_key_at(h) == 0, "deleted handle %d still typed", h);
      CHECK(isnan(ls_value_at(h)) && isnan(ls_version_at(h)), "deleted handle %d still has a value", h);
      CHECK(ls_set(keys[i], 1, 1) == NOT_FOUND, "set of deleted %u", keys[i]);
      CHECK(ls_set_at(h, 1, 1) == NOT_FOUND && ls_check_at(h, 1) == NOT_FOUND, "set_at of deleted handle %d", h);
      CHECK(ls_delete(keys[i]) == NOT_FOUND, "second delete of %u", keys[i]);
      n_deleted++;
      handle_state[h] = 2;
    }
    print_table("deleted");
    CHECK(ls_capacity() == capacity, "deletes changed the capacity");
    /* Backward-shift deletion kept every other key reachable. */
    for (uint32_t i = 0; i < N_KEYS; i++) {
      if (i % 7 == 0) continue;
      CHECK(ls_find(keys[i]) == handles[i], "after deletes, %u finds %d", keys[i], ls_find(keys[i]));
    }
  }
  iterate("iterate after deletes");

  /* Reinsert the deleted keys: they get the freed handles back, and the table does not grow. */
  {
    int32_t capacity = ls_capacity(), rehashes = ls_rehash_count(), reused = 0;
    for (uint32_t i = 0; i < N_KEYS; i += 7) {
      int32_t type = types[i];
      double value = type == TYPE_FLOAT ? (double)i / 3.0 : type == TYPE_INTEGER ? -(double)i : (double)(1 - i % 2);
      double min = type == TYPE_BOOLEAN ? -INFINITY : -5000, max = type == TYPE_BOOLEAN ? INFINITY : 5000;
      int32_t h = ls_insert(keys[i], type, value, min, max, 0, 5000 + i);
      printf("reinsert %u %s %s -> %s\n", keys[i], type_name(type), F(value), insert_result(h));
      CHECK(h >= 0 && h < MAX_HANDLES && handle_state[h] == 2, "reinsert %u got handle %d, not a freed one", keys[i], h);
      handle_state[h] = 1;
      handles[i] = h;
      reused++;
      CHECK(same(ls_get(keys[i]), stored(type, value)) && ls_version_at(h) == 0, "reinserted %u reads back", keys[i]);
    }
    print_table("reinserted");
    CHECK(reused == n_deleted, "reused %d of %d handles", reused, n_deleted);
    CHECK(ls_capacity() == capacity && ls_rehash_count() == rehashes, "reinserting grew the table");
    CHECK(ls_count() == N_KEYS, "count after reinsert: %d", ls_count());
  }
  iterate("iterate after reinsert");

  /* ls_reserve grows once; handles stay valid; past the memory cap nothing changes. */
  {
    int32_t s = ls_reserve(-1);
    printf("reserve -1 -> status %d %s\n", s, status_name(s));
    CHECK(s == INVALID_ARGUMENT, "reserve -1: %d", s);
    int32_t rehashes = ls_rehash_count(), capacity = ls_capacity();
    s = ls_reserve(0);
    printf("reserve 0 -> status %d %s\n", s, status_name(s));
    CHECK(s == OK && ls_capacity() == capacity && ls_rehash_count() == rehashes, "reserve 0 changed the table");
    int32_t base = ls_entries_base();
    s = ls_reserve(2000);
    print_table("reserve 2000 ->");
    printf("entries_base %d -> %d\n", base, ls_entries_base());
    CHECK(s == OK, "reserve 2000: %d", s);
    CHECK(ls_entry_capacity() >= ls_count() + 2000, "reserve 2000: entry capacity %d", ls_entry_capacity());
    CHECK(ls_rehash_count() == rehashes + 1, "reserve grew %d times", ls_rehash_count() - rehashes);
    for (uint32_t i = 0; i < N_KEYS; i++) CHECK(ls_find(keys[i]) == handles[i], "after reserve, %u moved", keys[i]);

    capacity = ls_capacity();
    rehashes = ls_rehash_count();
    uint32_t before_pages = pages();
    int32_t count = ls_count();
    s = ls_reserve(1000000);
    printf("reserve 1000000 -> status %d %s\n", s, status_name(s));
    print_table("after refused reserve");
    CHECK(s == OUT_OF_MEMORY, "reserve past the cap: %d", s);
    CHECK(ls_capacity() == capacity && ls_rehash_count() == rehashes && ls_count() == count &&
              pages() == before_pages,
          "a refused reserve changed the table");
  }

  /* A batch (ls_batch_area + ls_set_batch): all or nothing, a status per item. Keys 3, 4, 5 are float, integer, boolean. */
  {
    int32_t h3 = ls_find(keys[3]), h4 = ls_find(keys[4]), h5 = ls_find(keys[5]);
    double v3 = ls_value_at(h3), v4 = ls_value_at(h4), v5 = ls_value_at(h5);
    double r3 = ls_version_at(h3), r4 = ls_version_at(h4), r5 = ls_version_at(h5);
    int32_t area = ls_batch_area(4);
    printf("batch_area 4 -> %d\n", area);
    CHECK(area == (int32_t)BATCH_BASE, "batch area %d, expected the fixed area %u", area, BATCH_BASE);
    const int32_t item_handles[2][4] = {{h3, h4, h5, h3}, {h3, h4, h5, h3}};
    const double item_values[2][4] = {{12.5, 99, 2, 300}, {12.5, 99, 1, -0.0}};
    for (int round = 0; round < 2; round++) {
      for (uint32_t i = 0; i < 4; i++) {
        mem_set_f64((uint32_t)area + i * BATCH_ITEM_SIZE + BATCH_VALUE, item_values[round][i]);
        mem_set_i32((uint32_t)area + i * BATCH_ITEM_SIZE + BATCH_HANDLE, item_handles[round][i]);
      }
      int32_t failures = ls_set_batch(area, 4, 7000 + round, 1);
      printf("set_batch round %d -> %d failing:", round, failures);
      for (uint32_t i = 0; i < 4; i++) printf(" %s", status_name((int32_t)mem_u32((uint32_t)area + i * BATCH_ITEM_SIZE + BATCH_STATUS)));
      printf("\n");
      printf("  values %s %s %s versions %s %s %s\n", F(ls_value_at(h3)), F(ls_value_at(h4)), F(ls_value_at(h5)),
             F(ls_version_at(h3)), F(ls_version_at(h4)), F(ls_version_at(h5)));
      if (round == 0) {
        CHECK(failures == 2, "round 0: %d failing", failures);
        CHECK(same(ls_value_at(h3), v3) && same(ls_value_at(h4), v4) && same(ls_value_at(h5), v5), "a failed batch changed a value");
        CHECK(ls_version_at(h3) == r3 && ls_version_at(h4) == r4 && ls_version_at(h5) == r5, "a failed batch changed a version");
      } else {
        CHECK(failures == 0, "round 1: %d failing", failures);
        CHECK(same(ls_value_at(h3), -0.0) && ls_value_at(h4) == 99 && ls_value_at(h5) == 1, "round 1 values");
        CHECK(ls_version_at(h3) == r3 + 2 && ls_version_at(h4) == r4 + 1 && ls_version_at(h5) == r5 + 1, "round 1 versions");
        CHECK(mem_f64((uint32_t)area + 3 * BATCH_ITEM_SIZE + BATCH_VERSION) == r3 + 2, "the last item's new version");
        CHECK(ls_updated_at(h4) == 7001, "round 1 time");
      }
    }
  }

  /* Direct reads of memory agree with the exports. */
  {
    int32_t n = 0;
    for (int32_t h = ls_next(0); h >= 0; h = ls_next(h + 1)) {
      uint32_t address = (uint32_t)ls_entries_base() + (uint32_t)h * ENTRY_SIZE;
      CHECK(same(mem_f64(address + ENTRY_VALUE), ls_value_at(h)), "memory value of %d", h);
      CHECK(same(mem_f64(address + ENTRY_VERSION), ls_version_at(h)), "memory version of %d", h);
      n++;
    }
    uint32_t header_count = mem_u32(HEADER_BASE + HEADER_COUNT);
    printf("memory pages %u entries_base %d header count %u magic %s\n", pages(), ls_entries_base(), header_count,
           mem_u32(HEADER_BASE + HEADER_MAGIC) == MAGIC ? "ok" : "bad");
    CHECK(header_count == (uint32_t)ls_count() && n == ls_count(), "header count %u", header_count);
    CHECK(mem_u32(HEADER_BASE + HEADER_MAGIC) == MAGIC, "header magic");
  }

  /* ls_init resets the table. */
  {
    int32_t s = ls_init(0, 0);
    print_table("init 0 0 ->");
    CHECK(s == OK && ls_count() == 0 && ls_rehash_count() == 0, "reset: %d", s);
    CHECK(ls_find(keys[1]) == -NOT_FOUND && ls_next(0) == -1, "reset left entries");
  }

  printf("ok %lu checks\n", checks);
  core_free(&inst);
  wasm_rt_free();
  return 0;
}
