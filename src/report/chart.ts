import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';

/** One data point of a chart: field name to value. */
export type Row = Record<string, string | number | boolean | null>;

/** Options every chart builder takes. Titles of axes default to the field names. */
export interface ChartBase {
  title: string;
  data: Row[];
  width?: number;
  height?: number;
  xTitle?: string;
  yTitle?: string;
}

/** Options of `lineChart`. */
export interface LineChartOptions extends ChartBase {
  x: string;
  y: string;
  /** Field whose values split the rows into lines of different colours. */
  series?: string;
  logX?: boolean;
  logY?: boolean;
}

/** Options of `scatterChart`. */
export interface ScatterChartOptions extends ChartBase {
  x: string;
  y: string;
  /** Field that colours the points (nominal if its values are strings, else a colour ramp). */
  color?: string;
  /** Draws the y = x line and gives both axes the same range, for predicted-versus-measured plots. */
  diagonal?: boolean;
}

/** Options of `barChart`. Bars keep the order of `data`. */
export interface BarChartOptions extends ChartBase {
  x: string;
  y: string;
}

/** Options of `dotChart`: one row per `category` value, in the order of the data, with a dot at `value` for each `series` value. */
export interface DotChartOptions extends ChartBase {
  category: string;
  value: string;
  series: string;
}

/**
 * Options of `boxPlotChart`. With `value`, rows are raw observations and Vega-Lite computes the
 * quartiles and 1.5 IQR whiskers. Without it, each row already summarises one group in the fields
 * `lower`, `q1`, `median`, `q3`, `upper` (the whisker ends), as when the raw values are too many.
 */
export interface BoxPlotOptions extends ChartBase {
  group: string;
  value?: string;
}

/** Options of `heatmapChart`: `x` and `y` are discrete cells, `value` colours them. */
export interface HeatmapOptions extends ChartBase {
  x: string;
  y: string;
  value: string;
}

/** Options of `parallelCoordinatesChart`: one line per row across the numeric `axes`, coloured by `color`. */
export interface ParallelCoordinatesOptions extends Omit<ChartBase, 'xTitle' | 'yTitle'> {
  axes: string[];
  color?: string;
}

/** Options of `densityChart`. */
export interface DensityChartOptions extends ChartBase {
  x: string;
  y: string;
  logY?: boolean;
  /** x values marked by dashed vertical rules (eigenvalues on a spectral density). */
  marks?: number[];
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Vega-Lite reads '.' and '[' in a field name as nested access; metric names like `train.loss` need escaping. */
export function field(name: string): string {
  return name.replace(/[.[\]\\]/g, (c) => `\\${c}`);
}

function frame(o: ChartBase) {
  return {
    $schema: SCHEMA,
    title: o.title,
    width: o.width ?? 480,
    height: o.height ?? 300,
    data: { values: o.data },
    // Series names such as "random labeling 2, train (running)" are longer than Vega's default limit.
    config: { legend: { labelLimit: 320 } },
  } as const;
}

function isNumeric(data: Row[], name: string): boolean {
  return data.every((r) => r[name] === null || r[name] === undefined || typeof r[name] === 'number');
}

/** Lines of `y` against a numeric `x`, one colour per `series` value, with optional log axes. */
export function lineChart(o: LineChartOptions): TopLevelSpec {
  return {
    ...frame(o),
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: field(o.x), type: 'quantitative', title: o.xTitle ?? o.x, scale: o.logX ? { type: 'log' } : { zero: false } },
      y: { field: field(o.y), type: 'quantitative', title: o.yTitle ?? o.y, scale: o.logY ? { type: 'log' } : { zero: false } },
      ...(o.series !== undefined && { color: { field: field(o.series), type: 'nominal', title: o.series } }),
      tooltip: [o.x, o.y, ...(o.series !== undefined ? [o.series] : [])].map((f) => ({ field: field(f) })),
    },
  };
}

/**
 * A density `y` over a fine grid `x`: a line without point marks, optionally on a log axis, with a
 * dashed rule at each of `marks` drawn over it.
 */
export function densityChart(o: DensityChartOptions): TopLevelSpec {
  const x = { field: field(o.x), type: 'quantitative', title: o.xTitle ?? o.x, scale: { zero: false } } as const;
  const y = { field: field(o.y), type: 'quantitative', title: o.yTitle ?? o.y, scale: o.logY ? { type: 'log' as const } : { zero: true } } as const;
  const curve = { mark: { type: 'line' as const }, encoding: { x, y, tooltip: [{ field: field(o.x) }, { field: field(o.y) }] } };
  if (!o.marks?.length) return { ...frame(o), ...curve };
  return {
    ...frame(o),
    layer: [
      curve,
      // The rules bring their own rows, so they need no transform of the curve's data.
      {
        data: { values: o.marks.map((m) => ({ [o.x]: m })) },
        mark: { type: 'rule', color: 'firebrick', strokeDash: [4, 4] },
        encoding: { x, tooltip: [{ field: field(o.x) }] },
      },
    ],
  };
}

/** Points of `y` against `x`, optionally coloured and with a y = x reference line. */
export function scatterChart(o: ScatterChartOptions): TopLevelSpec {
  // One shared range for both axes, so the y = x line runs corner to corner at 45 degrees.
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of o.data) {
    for (const v of [r[o.x], r[o.y]]) {
      if (typeof v === 'number' && Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    }
  }
  const diagonal = o.diagonal === true && lo <= hi;
  const scale = diagonal ? { domain: [lo, hi] } : { zero: false };
  const x = { field: field(o.x), type: 'quantitative', title: o.xTitle ?? o.x, scale } as const;
  const y = { field: field(o.y), type: 'quantitative', title: o.yTitle ?? o.y, scale } as const;
  const colorType: 'quantitative' | 'nominal' = o.color !== undefined && isNumeric(o.data, o.color) ? 'quantitative' : 'nominal';
  const encoding = {
    x,
    y,
    ...(o.color !== undefined && { color: { field: field(o.color), type: colorType, title: o.color } }),
    tooltip: [o.x, o.y, ...(o.color !== undefined ? [o.color] : [])].map((f) => ({ field: field(f) })),
  };
  if (!diagonal) return { ...frame(o), mark: { type: 'point', filled: true }, encoding };
  return {
    ...frame(o),
    layer: [
      { mark: { type: 'point', filled: true }, encoding },
      // The reference line brings its own two points, so it needs no transform of the chart's data.
      {
        data: { values: [{ [o.x]: lo, [o.y]: lo }, { [o.x]: hi, [o.y]: hi }] },
        mark: { type: 'line', color: 'gray', strokeDash: [4, 4] },
        encoding: { x, y },
      },
    ],
  };
}

/** One bar per `x` value with height `y`, in the order of the data. */
export function barChart(o: BarChartOptions): TopLevelSpec {
  return {
    ...frame(o),
    mark: 'bar',
    encoding: {
      x: { field: field(o.x), type: 'nominal', sort: null, title: o.xTitle ?? o.x },
      y: { field: field(o.y), type: 'quantitative', title: o.yTitle ?? o.y },
      tooltip: [{ field: field(o.x) }, { field: field(o.y) }],
    },
  };
}

/** A Cleveland dot plot: a row per `category` (e.g. a measure), its `value`s (e.g. scores) as dots coloured by `series`; null values are left out. */
export function dotChart(o: DotChartOptions): TopLevelSpec {
  return {
    ...frame(o),
    mark: { type: 'point', filled: true, size: 80 },
    encoding: {
      // Categories such as "signature, output layer only" are longer than Vega's default label limit.
      y: { field: field(o.category), type: 'nominal', sort: null, title: o.yTitle ?? o.category, axis: { labelLimit: 320 } },
      x: { field: field(o.value), type: 'quantitative', title: o.xTitle ?? o.value },
      color: { field: field(o.series), type: 'nominal', title: o.series },
      tooltip: [o.category, o.series, o.value].map((f) => ({ field: field(f) })),
    },
  };
}

/** Box plots, one per `group`, from raw values or precomputed summaries (see `BoxPlotOptions`). */
export function boxPlotChart(o: BoxPlotOptions): TopLevelSpec {
  const x = { field: field(o.group), type: 'nominal', sort: null, title: o.xTitle ?? o.group } as const;
  if (o.value !== undefined) {
    return {
      ...frame(o),
      mark: { type: 'boxplot', extent: 1.5 },
      encoding: { x, y: { field: field(o.value), type: 'quantitative', title: o.yTitle ?? o.value, scale: { zero: false } } },
    };
  }
  const yTitle = o.yTitle ?? 'value';
  return {
    ...frame(o),
    layer: [
      {
        mark: { type: 'rule' },
        encoding: { x, y: { field: 'lower', type: 'quantitative', title: yTitle, scale: { zero: false } }, y2: { field: 'upper' } },
      },
      {
        mark: { type: 'bar', size: 20 },
        encoding: { x, y: { field: 'q1', type: 'quantitative' }, y2: { field: 'q3' } },
      },
      {
        mark: { type: 'tick', color: 'white', size: 20 },
        encoding: { x, y: { field: 'median', type: 'quantitative' } },
      },
    ],
  };
}

/** A grid of cells at (`x`, `y`) coloured by `value`, e.g. accuracy over width and depth. */
export function heatmapChart(o: HeatmapOptions): TopLevelSpec {
  return {
    ...frame(o),
    mark: 'rect',
    encoding: {
      x: { field: field(o.x), type: 'ordinal', title: o.xTitle ?? o.x },
      y: { field: field(o.y), type: 'ordinal', title: o.yTitle ?? o.y },
      color: { field: field(o.value), type: 'quantitative', title: o.value, scale: { scheme: 'viridis' } },
      tooltip: [{ field: field(o.x) }, { field: field(o.y) }, { field: field(o.value) }],
    },
  };
}

/**
 * Parallel coordinates (Inselberg 1985): each row a line across `axes`, every axis scaled to
 * [0, 1] by its own minimum and maximum, the raw value in the tooltip.
 */
export function parallelCoordinatesChart(o: ParallelCoordinatesOptions): TopLevelSpec {
  const colorType: 'quantitative' | 'nominal' = o.color !== undefined && isNumeric(o.data, o.color) ? 'quantitative' : 'nominal';
  return {
    ...frame(o),
    transform: [
      { window: [{ op: 'row_number', as: '__line' }] },
      { fold: o.axes.map(field), as: ['axis', 'value'] },
      { joinaggregate: [{ op: 'min', field: 'value', as: '__min' }, { op: 'max', field: 'value', as: '__max' }], groupby: ['axis'] },
      // A constant axis has max = min: put its lines mid-height rather than divide by zero.
      { calculate: 'datum.__max > datum.__min ? (datum.value - datum.__min) / (datum.__max - datum.__min) : 0.5', as: 'scaled' },
    ],
    mark: { type: 'line', opacity: 0.6 },
    encoding: {
      x: { field: 'axis', type: 'nominal', sort: o.axes, title: null, axis: { labelAngle: -30, labelLimit: 200 } },
      y: { field: 'scaled', type: 'quantitative', title: 'scaled to [0, 1] per axis', axis: null },
      detail: { field: '__line', type: 'nominal' },
      ...(o.color !== undefined && { color: { field: field(o.color), type: colorType, title: o.color } }),
      tooltip: [{ field: 'axis' }, { field: 'value' }, ...(o.color !== undefined ? [{ field: field(o.color) }] : [])],
    },
  };
}

/** Renders a Vega-Lite spec to an SVG document string, in Node without a canvas. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // Vega tags inline data rows in place; a copy keeps the caller's rows and spec untouched.
  const view = new vega.View(vega.parse(vl.compile(structuredClone(spec)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
