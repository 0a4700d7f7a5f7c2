import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { palette } from './palette.ts';

type Series = [number[], number[], number[]];

/** The page's 1rem in px (the wall sizes everything from it). */
const rem = () => parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;

/**
 * The live throughput chart: trucks crossed and containers moved per minute over the last
 * hour. Axis text is drawn on the canvas, so it is sized from 1rem like the page's text
 * (built again when the screen size changes it); the count axis has whole steps only.
 */
export class ThroughputChart {
  private plot: uPlot | undefined;
  private fontPx: number;
  private data: Series = [[], [], []];
  private readonly resize: ResizeObserver;

  constructor(
    private readonly container: HTMLElement,
    private labels: { trucks: string; containers: string },
    private readonly timeZoneFormat: (seconds: number) => string,
  ) {
    this.fontPx = Math.round(0.9 * rem());
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

  /** The plot's size that makes the whole chart (plot and legend) fill its box. */
  private size(): { width: number; height: number } {
    const root = this.container.querySelector<HTMLElement>('.uplot');
    const legend = root && this.plot ? root.offsetHeight - this.plot.height : 2.5 * this.fontPx;
    return { width: this.container.clientWidth, height: Math.max(4 * this.fontPx, Math.floor(this.container.clientHeight - legend) - 2) };
  }

  private build(): uPlot {
    const font = `${this.fontPx}px 'Noto Sans', 'DejaVu Sans', sans-serif`;
    const axis = { stroke: palette.muted, font, grid: { stroke: palette.line }, ticks: { stroke: palette.line } };
    const plot = new uPlot(
      {
        width: this.container.clientWidth || 600,
        height: Math.max(4 * this.fontPx, (this.container.clientHeight || 240) - 2.5 * this.fontPx),
        legend: { show: true, live: false },
        cursor: { show: false },
        // Room on the right for the last time label, which uPlot centres on its tick.
        padding: [this.fontPx, 2 * this.fontPx, 0, 0],
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(5, Math.ceil(max * 1.15))] } },
        axes: [
          { ...axis, size: 2.2 * this.fontPx, space: 6 * this.fontPx, values: (_u, splits) => splits.map(this.timeZoneFormat) },
          { ...axis, size: 3 * this.fontPx, space: 1.6 * this.fontPx, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] },
        ],
        series: [
          {},
          { label: this.labels.trucks, stroke: palette.chartTrucks, width: 3, fill: 'rgba(95, 212, 240, 0.15)' },
          { label: this.labels.containers, stroke: palette.chartContainers, width: 3 },
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

  relabel(labels: { trucks: string; containers: string }): void {
    this.labels = labels;
    // The legend's last two entries are the two series (the time axis may or may not have one).
    const legend = [...this.container.querySelectorAll('.u-legend .u-series .u-label')].slice(-2);
    if (legend[0]) legend[0].textContent = labels.trucks;
    if (legend[1]) legend[1].textContent = labels.containers;
  }
}
