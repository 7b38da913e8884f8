// The `persist` init option with its defaults filled in (zod has checked it
// with the other init options, in ../options.ts).

import type { FsyncMode, PersistOptions } from '../options.js';

export type { FsyncMode };

export interface CompactionOptions {
  /** No compaction while the journal is smaller than this many bytes. */
  readonly minBytes: number;
  /** Compact when the journal reaches this multiple of the snapshot's size. */
  readonly ratio: number;
}

export interface ParsedPersistOptions {
  readonly path: string;
  readonly fsync: FsyncMode;
  readonly repair: boolean;
  readonly compaction: CompactionOptions | false;
}

/** Redis's auto-aof-rewrite defaults, in spirit: 64 MiB at least, and twice the last snapshot. */
export const DEFAULT_COMPACTION: CompactionOptions = Object.freeze({ minBytes: 64 * 2 ** 20, ratio: 2 });

export function resolvePersistOptions(options: PersistOptions): ParsedPersistOptions {
  const { compaction } = options;
  return {
    path: options.path,
    fsync: options.fsync ?? 'everysec',
    repair: options.repair ?? false,
    compaction:
      compaction === false
        ? false
        : { minBytes: compaction?.minBytes ?? DEFAULT_COMPACTION.minBytes, ratio: compaction?.ratio ?? DEFAULT_COMPACTION.ratio },
  };
}
