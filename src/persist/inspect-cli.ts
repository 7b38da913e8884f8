// The `localstate` command line (src/cli.ts is its bin): for now one command.
//   localstate inspect <path> [--json]   variables, versions and journal figures of a store directory; never writes

import { describeValue } from '../errors.js';
import { type InspectReport, inspect } from './inspect.js';

const USAGE = 'usage: localstate inspect <path> [--json]';

function bytes(n: number): string {
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

function shown(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return describeValue(value);
  return JSON.stringify(value)?.slice(0, 60) ?? String(value);
}

/** Runs `localstate <args>`; returns the exit code. Output goes to `out` and `err` (the console, for the bin). */
export async function runCli(
  args: readonly string[],
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error,
): Promise<number> {
  const [command, path, ...rest] = args;
  if (command !== 'inspect' || path === undefined || rest.some((a) => a !== '--json')) {
    err(USAGE);
    return 2;
  }
  let report: InspectReport;
  try {
    report = await inspect(path);
  } catch (error) {
    err(`localstate: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  if (rest.includes('--json')) {
    out(
      JSON.stringify(
        report,
        (_key, value) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : Object.is(value, -0) ? '-0' : value),
        2,
      ),
    );
    return report.damage === undefined ? 0 : 1;
  }
  const lines = [
    `store     ${report.path}`,
    `session   ${report.sessionId} (created ${new Date(report.createdAt).toISOString()})`,
    `lock      ${report.lockedBy === undefined ? 'free' : `held by process ${report.lockedBy}`}`,
    `snapshot  ${report.snapshot === undefined ? 'none yet' : `${report.snapshot.file}: ${report.snapshot.variables} variables, ${bytes(report.snapshot.bytes)}`}`,
    `journal   ${report.segments.length} segment${report.segments.length === 1 ? '' : 's'}, ${bytes(report.segments.reduce((n, s) => n + s.bytes, 0))}, ` +
      `${report.segments.reduce((n, s) => n + s.frames, 0)} frames, ${report.records} records`,
  ];
  for (const segment of report.segments) lines.push(`          ${segment.file}: ${bytes(segment.bytes)}, ${segment.frames} frames`);
  if (report.torn !== undefined)
    lines.push(`torn tail ${report.torn.file} at byte ${report.torn.offset}: ${report.torn.bytes} bytes the next open cuts off`);
  if (report.damage !== undefined)
    lines.push(`DAMAGE    ${report.damage.message} (the next open refuses it; repair keeps what is listed below)`);
  const s = report.stats;
  lines.push(`counters  ${s.variableCount} variables, ${s.totalUpdates} updates, ${s.totalOperations} operations`);
  lines.push('', `${'name'.padEnd(24)} ${'type'.padEnd(9)} ${'version'.padStart(8)}  value`);
  for (const v of report.variables)
    lines.push(`${v.name.padEnd(24)} ${v.type.padEnd(9)} ${String(v.version).padStart(8)}  ${shown(v.value)}`);
  out(lines.join('\n'));
  return report.damage === undefined ? 0 : 1;
}
