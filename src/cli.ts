#!/usr/bin/env node
// localstate: the package's bin. See src/persist/inspect-cli.ts.
//   localstate inspect <path> [--json]   variables, versions and journal figures of a store directory; never writes

import { runCli } from './persist/inspect-cli.js';

process.exitCode = await runCli(process.argv.slice(2));
