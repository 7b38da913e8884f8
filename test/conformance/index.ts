// The conformance suite: every rule of the provider contract, declared once
// and run against each backend.

import type { ConformanceFactory } from './backend.js';
import { batchTests } from './batch.js';
import { concurrencyTests } from './concurrency.js';
import { patternTests } from './patterns.js';
import { registrationTests } from './registration.js';
import { semanticsTests } from './semantics.js';
import { snapshotTests } from './snapshot.js';
import { typeTests } from './types.js';
import { watchTests } from './watch.js';

export function describeConformance(factory: ConformanceFactory): void {
  registrationTests(factory);
  typeTests(factory);
  semanticsTests(factory);
  batchTests(factory);
  concurrencyTests(factory);
  snapshotTests(factory);
  patternTests(factory);
  watchTests(factory);
}

export type { BackendOptions, ConformanceFactory, Factory, InProcessGuarantees, Ref, Store } from './backend.js';
export { batchTests, concurrencyTests, patternTests, registrationTests, semanticsTests, snapshotTests, typeTests, watchTests };
