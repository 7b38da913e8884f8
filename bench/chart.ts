// Draws bench/results.json as bench/results.svg: one row per contender, one
// band per case, medians on a log scale, and each target marked on its
// subject's row. A Vega-Lite spec compiled to Vega and rendered headless, so
// the picture comes from the same JSON as the README table.
//   npx tsx bench/chart.ts            regenerates bench/results.svg
//   npm run bench -- --json           writes it next to the JSON

import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { type CaseResult, formatNs, formatRatio, type Report, type Verdict, verdictOfResult } from './harness.js';

/** Decades of the log scale each case spans, unless its medians need more. */
const DECADES = 2.5;
/** Widths that fit the README's ~900 px column with the labels beside them. */
const PLOT_WIDTH = 280;
const MEDIAN_COLUMN = 62;
const ROW_STEP = 14;
/** Case titles are cut to this width: Vega sizes the chart by a label's whole text, even when it truncates it. */
const HEADER_WIDTH = 670;
const HEADER_FONT = { fontSize: 11, fontWeight: 'bold' } as const;

type Status = Verdict | 'baseline' | 'other';
const STATUS_ORDER: readonly Status[] = ['met', 'tie', 'missed', 'baseline', 'other'];
const STATUS_LEGEND: Readonly<Record<Status, string>> = {
  met: 'target met',
  tie: 'tie (within the noise margin)',
  missed: 'target missed',
  baseline: 'a target’s baseline',
  other: 'no target',
};
const STATUS_COLOR: Readonly<Record<Status, string>> = {
  met: '#1a9641',
  tie: '#e08a00',
  missed: '#d7191c',
  baseline: '#404040',
  other: '#a0a0a0',
};
const STATUS_SHAPE: Readonly<Record<Status, string>> = {
  met: 'circle',
  tie: 'diamond',
  missed: 'triangle-up',
  baseline: 'square',
  other: 'circle',
};
const SEVERITY: Readonly<Record<Verdict, number>> = { met: 0, tie: 1, missed: 2 };

/** One datum of the chart: a contender's median, or a target's bound on its subject's row. */
interface Datum {
  readonly kind: 'median' | 'bound';
  /** "id: title", the header of the case's band. */
  readonly caseLabel: string;
  readonly caseOrder: number;
  readonly contender: string;
  readonly contenderOrder: number;
  readonly x: number;
  /** The case's scale runs from lo to hi: the same number of decades in every case. */
  readonly lo: number;
  readonly hi: number;
  readonly status: Status;
  readonly value?: string;
  readonly verdictText?: string;
}

const show = (r: CaseResult, v: number) => (r.unit === 'bytes' ? `${v.toFixed(0)} B` : formatNs(v));

/** The chart's data: medians and target bounds, each with its case's scale extent. */
export function chartData(report: Report): Datum[] {
  return report.cases.flatMap((r, caseOrder) => {
    const labels = Object.keys(r.medians);
    const order = (label: string) => labels.indexOf(label);
    const subjects = new Set(r.ratios.map((t) => t.subject));
    const worst = new Map<string, Verdict>();
    const verdictTexts = new Map<string, string[]>();
    for (const t of r.ratios) {
      const verdict = verdictOfResult(t);
      const before = worst.get(t.subject);
      if (before === undefined || SEVERITY[verdict] > SEVERITY[before]) worst.set(t.subject, verdict);
      // On the baseline's row (the subject's row carries the dot and the bound), naming the subject,
      // up to its first comma, only when the case has more than one.
      const who = subjects.size > 1 ? `${t.subject.split(',')[0]} ÷ this` : '÷ this';
      const bound = `≤ ${t.max}×${t.tie ? `, tie ±${Math.round(t.tie * 100)}%` : ''}`;
      verdictTexts.set(t.baseline, [...(verdictTexts.get(t.baseline) ?? []), `${who}: ${formatRatio(t.ratio)}× (${bound}) ${verdict}`]);
    }
    const baselines = new Set(r.ratios.map((t) => t.baseline));
    const bounds = r.ratios.flatMap((t) => {
      const baseline = r.medians[t.baseline];
      return baseline === undefined ? [] : [{ subject: t.subject, x: baseline * t.max, status: verdictOfResult(t) }];
    });
    // Every case gets the same width in decades (more only if its points need it), centred on its
    // points, so equal ratios look equally far apart in every case.
    // Only what a log scale can place: Vega-Lite leaves out a zero or missing median too.
    const logs = [...Object.values(r.medians), ...bounds.map((b) => b.x)].filter((v) => v > 0 && Number.isFinite(v)).map(Math.log10);
    const [least, most] = [Math.min(...logs), Math.max(...logs)];
    const half = Math.max(DECADES, most - least + 0.5) / 2;
    const centre = (least + most) / 2;
    const base = {
      caseLabel: shorten(`${r.id}: ${r.title}${r.perItem ? ', per item' : ''}`, HEADER_WIDTH, HEADER_FONT),
      caseOrder,
      lo: 10 ** (centre - half),
      hi: 10 ** (centre + half),
    };
    const medians = Object.entries(r.medians).map(
      ([contender, median]): Datum => ({
        ...base,
        kind: 'median',
        contender,
        contenderOrder: order(contender),
        x: median,
        status: worst.get(contender) ?? (baselines.has(contender) ? 'baseline' : 'other'),
        value: show(r, median),
        verdictText: verdictTexts.get(contender)?.join('; ') ?? '',
      }),
    );
    const marks = bounds.map(
      (b): Datum => ({ ...base, kind: 'bound', contender: b.subject, contenderOrder: order(b.subject), x: b.x, status: b.status }),
    );
    return [...medians, ...marks];
  });
}

/** Every layer draws from the facet's one data source (so each case's scale spans all of it); a layer shows only its own kind. */
const only = (kind: Datum['kind']) => ({ condition: { test: `datum.kind === '${kind}'`, value: 1 }, value: 0 });

export function chartSpec(report: Report): TopLevelSpec {
  const x = { field: 'x', type: 'quantitative', scale: { type: 'log', nice: false }, axis: null } as const;
  // One legend for colour and shape together: Vega-Lite merges the two when their settings agree.
  const legend = {
    orient: 'top',
    direction: 'horizontal',
    title: null,
    labelFontSize: 11,
    labelLimit: 0,
    symbolSize: 60,
    labelExpr: `${JSON.stringify(STATUS_LEGEND)}[datum.label]`,
  } as const;
  const status = {
    field: 'status',
    type: 'nominal',
    scale: { domain: STATUS_ORDER, range: STATUS_ORDER.map((s) => STATUS_COLOR[s]) },
    legend,
  } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'localstate-wasm benchmarks: medians per contender',
      subtitle: [
        `${report.date.slice(0, 10)}, ${report.cpu} (${report.cores} cores), Node ${report.node}${report.quick ? ', quick run' : ''}. Lower is faster.`,
        `Each case is drawn on its own log scale, ${DECADES} decades wide: a factor of 10 is ${Math.round(PLOT_WIDTH / DECADES)} px in every case.`,
        '| on a row marks its target: the baseline’s median × the ratio allowed. The dot must sit left of it.',
        'Right of each row: its median; on a baseline’s row, the subject’s median ÷ this one, and the verdict.',
      ],
      anchor: 'start',
      fontSize: 14,
      subtitleFontSize: 11,
      subtitlePadding: 6,
      offset: 12,
    },
    data: { values: chartData(report) as unknown as Record<string, unknown>[] },
    facet: {
      row: {
        field: 'caseLabel',
        type: 'nominal',
        sort: { field: 'caseOrder', op: 'min' },
        header: {
          title: null,
          labelOrient: 'top',
          labelAnchor: 'start',
          labelAlign: 'left',
          labelLimit: 0,
          labelFontSize: HEADER_FONT.fontSize,
          labelFontWeight: HEADER_FONT.fontWeight,
          labelPadding: 3,
        },
      },
    },
    spacing: 5,
    resolve: { scale: { x: 'independent', y: 'independent' } },
    spec: {
      width: PLOT_WIDTH,
      height: { step: ROW_STEP },
      encoding: {
        y: {
          field: 'contender',
          type: 'nominal',
          sort: { field: 'contenderOrder', op: 'min' },
          axis: { title: null, labelLimit: 200, labelFontSize: 10.5, ticks: false, domain: false, labelPadding: 6 },
        },
      },
      layer: [
        // The row's guide line, from lo to hi: it also gives every case the same width in decades.
        {
          mark: { type: 'rule', color: '#e6e6e6', strokeWidth: 1 },
          encoding: { x: { field: 'lo', type: 'quantitative', scale: { type: 'log', nice: false }, axis: null }, x2: { field: 'hi' } },
        },
        {
          mark: { type: 'tick', orient: 'vertical', thickness: 2, size: ROW_STEP - 1 },
          encoding: { x, color: status, opacity: only('bound') },
        },
        {
          mark: { type: 'point', filled: true, size: 45 },
          encoding: {
            x,
            color: status,
            shape: {
              field: 'status',
              type: 'nominal',
              scale: { domain: STATUS_ORDER, range: STATUS_ORDER.map((s) => STATUS_SHAPE[s]) },
              legend,
            },
            opacity: only('median'),
          },
        },
        {
          mark: { type: 'text', align: 'right', baseline: 'middle', fontSize: 10.5 },
          encoding: { x: { value: PLOT_WIDTH + MEDIAN_COLUMN }, text: { field: 'value' }, opacity: only('median') },
        },
        {
          mark: { type: 'text', align: 'left', baseline: 'middle', fontSize: 10.5, fontWeight: 'bold' },
          encoding: {
            x: { value: PLOT_WIDTH + MEDIAN_COLUMN + 8 },
            text: { field: 'verdictText' },
            color: status,
            opacity: only('median'),
          },
        },
      ],
    },
    description: 'Benchmark medians per case and contender, on a log scale per case, with each target marked met, tie or missed.',
    config: {
      // Per-mark ARIA labels would double the file; the README shows the chart as an image with alt text.
      aria: false,
      font: 'Helvetica, Arial, sans-serif',
      background: 'white',
      view: { stroke: null },
      padding: 10,
    },
  } as TopLevelSpec;
}

/** Vega-Lite's logger, less one warning: each case's x scale unions its own layers' fields, as intended. */
const logger = {
  level: () => logger,
  info: () => logger,
  debug: () => logger,
  warn: (...args: unknown[]) => {
    if (!String(args[0]).includes('faceted independent scales')) console.warn(...args);
    return logger;
  },
  error: (...args: unknown[]) => {
    console.error(...args);
    return logger;
  },
};

/** Widths in em of DejaVu Sans, one of the widest common sans fonts, by kind of character. */
function charWidth(ch: string): number {
  if (ch === ' ' || ".,:;!|'ijlI".includes(ch)) return 0.32;
  if ('()[]{}-frtJ/'.includes(ch)) return 0.4;
  if ('mwMW'.includes(ch)) return 0.98;
  if (ch >= '0' && ch <= '9') return 0.64;
  if (ch >= 'a' && ch <= 'z') return 0.62;
  if (ch >= 'A' && ch <= 'Z') return 0.74;
  return 0.84; // ×, ÷, ≤, ±, <, =, …
}

interface TextItem {
  readonly fontSize?: number;
  readonly fontWeight?: string | number;
  readonly text?: unknown;
}

/**
 * Vega measures text with a canvas when one is installed and otherwise guesses 0.8 em a character,
 * which lays the chart out a third wider than it draws and truncates labels that would fit. This
 * measures by kind of character instead, through the hook Vega leaves for it (vl-convert uses it too).
 */
function measureText(item: TextItem, text?: unknown): number {
  const content = text ?? item.text;
  const lines = Array.isArray(content) ? content.map(String) : [String(content ?? '')];
  const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
  const em = Math.max(0, ...lines.map((line) => [...line].reduce((sum, ch) => sum + charWidth(ch), 0)));
  return em * (item.fontSize ?? 11) * (bold ? 1.1 : 1);
}

/** `text`, cut with an ellipsis where needed to fit `width` px. */
function shorten(text: string, width: number, font: TextItem): string {
  if (measureText(font, text) <= width) return text;
  let cut = text;
  while (cut.length > 0 && measureText(font, `${cut}…`) > width) cut = cut.slice(0, -1);
  return `${cut.trimEnd()}…`;
}

export async function renderChart(report: Report): Promise<string> {
  (vega as unknown as { textMetrics: { width: typeof measureText } }).textMetrics.width = measureText;
  const view = new vega.View(vega.parse(compile(chartSpec(report), { logger }).spec), { renderer: 'none' });
  return view.toSVG();
}

/** Renders `json` (a results.json) into `svg`. */
export async function writeChart(json: URL, svg: URL): Promise<void> {
  const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
  writeFileSync(svg, await renderChart(report));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const svg = new URL('./results.svg', import.meta.url);
  await writeChart(new URL('./results.json', import.meta.url), svg);
  console.log(`wrote ${svg.pathname}`);
}
