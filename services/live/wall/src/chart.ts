import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from '@tower/shared/web/dom';
import { palette } from './palette.ts';

type Series = [number[], number[], number[]];

/** The page's 1rem in px (the wall sizes everything from it). */
const rem = () => parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;

/** Each series' name with its unit ("Xe qua biên / phút"), written over its axis. */
export interface ChartLabels {
  trucks: string;
  containers: string;
}

/** Whole steps only: no half a truck on an axis. */
const wholeSteps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

/**
 * The live throughput chart: trucks crossed and containers moved per minute over the last
 * hour. Trucks and containers are different units, so each has its own axis: trucks on
 * the left, containers on the right, each drawn in its series' colour and titled above
 * it with the series' name and unit, which is also the legend (a line of the page: a
 * short chart keeps its titles whole, where the canvas would turn them on their side).
 * Axis text is drawn on the canvas, so it is sized from 1rem like the page's text (built
 * again when the screen size changes it); both axes have whole steps only.
 */
export class ThroughputChart {
  private plot: uPlot | undefined;
  private fontPx: number;
  private data: Series = [[], [], []];
  private readonly resize: ResizeObserver;
  /** The series' names and units, over each axis. */
  private readonly units = { trucks: h('span', { class: 'trucks' }), containers: h('span', { class: 'containers' }) };
  private readonly unitsRow = h('div', { class: 'units' }, this.units.trucks, this.units.containers);

  constructor(
    private readonly container: HTMLElement,
    labels: ChartLabels,
    private readonly timeZoneFormat: (seconds: number) => string,
  ) {
    this.fontPx = Math.round(0.9 * rem());
    container.append(this.unitsRow);
    this.relabel(labels);
    this.plot = this.build();
    this.resize = new ResizeObserver(() => {
      const fontPx = Math.round(0.9 * rem());
      if (fontPx !== this.fontPx) {
        this.fontPx = fontPx;
        this.plot?.destroy();
        this.plot = undefined;
        this.plot = this.build();
      } else this.plot?.setSize(this.size());
    });
    this.resize.observe(container);
  }

  /** The plot's size that makes the whole chart (titles and plot) fill its box. */
  private size(): { width: number; height: number } {
    return { width: this.container.clientWidth, height: Math.max(4 * this.fontPx, Math.floor(this.container.clientHeight - this.unitsRow.offsetHeight) - 2) };
  }

  private build(): uPlot {
    // The page's fonts (fonts.css), so that the axes are drawn in the shipped ones too.
    const font = `${this.fontPx}px ${getComputedStyle(this.container).fontFamily}`;
    const axis = { stroke: palette.muted, font, grid: { stroke: palette.line }, ticks: { stroke: palette.line } };
    // Ticks at least 1.2 lines apart: a short chart still gets two labelled ticks (0 and its top).
    const count = (colour: string) => ({ ...axis, stroke: colour, size: 2.6 * this.fontPx, space: 1.2 * this.fontPx, incrs: wholeSteps });
    const range = (_u: uPlot, _min: number, max: number): uPlot.Range.MinMax => [0, Math.max(5, Math.ceil(max * 1.15))];
    const plot = new uPlot(
      {
        width: this.container.clientWidth || 600,
        height: Math.max(4 * this.fontPx, (this.container.clientHeight || 240) - 1.5 * this.fontPx),
        legend: { show: false },
        cursor: { show: false },
        padding: [this.fontPx, 0, 0, 0],
        scales: { x: { time: true }, trucks: { range }, containers: { range } },
        axes: [
          { ...axis, size: 2.2 * this.fontPx, space: 6 * this.fontPx, values: (_u, splits) => splits.map(this.timeZoneFormat) },
          { ...count(palette.chartTrucks), scale: 'trucks', side: 3 },
          // The containers' axis draws no grid of its own (the trucks' grid lines are the chart's).
          { ...count(palette.chartContainers), scale: 'containers', side: 1, grid: { show: false } },
        ],
        series: [
          {},
          { scale: 'trucks', stroke: palette.chartTrucks, width: 3, fill: 'rgba(95, 212, 240, 0.15)' },
          { scale: 'containers', stroke: palette.chartContainers, width: 3 },
        ],
      },
      this.data,
      this.container,
    );
    requestAnimationFrame(() => {
      if (this.plot === plot) plot.setSize(this.size());
    });
    return plot;
  }

  setData(series: Series): void {
    this.data = series;
    this.plot?.setData(series);
  }

  /** New words (another language). */
  relabel(labels: ChartLabels): void {
    this.units.trucks.textContent = labels.trucks;
    this.units.containers.textContent = labels.containers;
  }
}
