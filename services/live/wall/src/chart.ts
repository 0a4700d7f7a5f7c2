import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** The live throughput chart: trucks crossed and containers moved per minute over the last hour. */
export class ThroughputChart {
  private readonly plot: uPlot;
  private readonly resize: ResizeObserver;

  constructor(
    private readonly container: HTMLElement,
    labels: { trucks: string; containers: string },
    timeZoneFormat: (seconds: number) => string,
  ) {
    this.plot = new uPlot(
      {
        width: container.clientWidth || 600,
        height: container.clientHeight || 240,
        legend: { show: true, live: false },
        cursor: { show: false },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(5, Math.ceil(max * 1.15))] } },
        axes: [
          { stroke: '#9fb3c8', grid: { stroke: '#23364a' }, values: (_u, splits) => splits.map(timeZoneFormat) },
          { stroke: '#9fb3c8', grid: { stroke: '#23364a' }, size: 56 },
        ],
        series: [
          {},
          { label: labels.trucks, stroke: '#4fd1c5', width: 2, fill: 'rgba(79, 209, 197, 0.15)' },
          { label: labels.containers, stroke: '#f6ad55', width: 2 },
        ],
      },
      [[], [], []],
      container,
    );
    this.resize = new ResizeObserver(() => this.plot.setSize({ width: container.clientWidth, height: Math.max(160, container.clientHeight - 40) }));
    this.resize.observe(container);
  }

  setData(series: [number[], number[], number[]]): void {
    this.plot.setData(series);
  }

  relabel(labels: { trucks: string; containers: string }): void {
    // The legend's last two entries are the two series (the time axis may or may not have one).
    const legend = [...this.container.querySelectorAll('.u-legend .u-series .u-label')].slice(-2);
    if (legend[0]) legend[0].textContent = labels.trucks;
    if (legend[1]) legend[1].textContent = labels.containers;
  }
}
