// Status codes and type tags: the one definition. The TypeScript wrapper and
// every other host read these from the module's exported globals, so a value
// changed here changes everywhere.

/** The call succeeded. */
export const STATUS_OK: i32 = 0;
/** No live entry has that key or handle. */
export const STATUS_NOT_FOUND: i32 = 1;
/** An entry with that key is already in the table. */
export const STATUS_ALREADY_EXISTS: i32 = 2;
/** The value is not of the entry's type (integer not integral, boolean not 0/1). */
export const STATUS_INVALID_VALUE: i32 = 3;
/** A finite value below the entry's minimum. */
export const STATUS_BELOW_MIN: i32 = 4;
/** A finite value above the entry's maximum. */
export const STATUS_ABOVE_MAX: i32 = 5;
/** Growing the table would cross the memory cap, or memory.grow failed. */
export const STATUS_OUT_OF_MEMORY: i32 = 6;
/** A malformed argument: unknown type tag, NaN or crossed bounds, bad version or capacity. */
export const STATUS_INVALID_ARGUMENT: i32 = 7;
/** The entry's version is 2^53 - 1: one more write could not be counted exactly, so it is refused. */
export const STATUS_VERSION_LIMIT: i32 = 8;

/** Tag of an entry slot that holds nothing (free list or never used). */
export const TYPE_FREE: i32 = 0;
/** Any f64; min/max apply to finite values only (NaN and ±Infinity bypass them). */
export const TYPE_FLOAT: i32 = 1;
/** An integral f64 with |v| <= 2^53 - 1; -0 is stored as 0. */
export const TYPE_INTEGER: i32 = 2;
/** 0 or 1; min/max must be left open (-Infinity, +Infinity). */
export const TYPE_BOOLEAN: i32 = 3;
