/**
 * The few shapes every tower dashboard is made of, on top of the Grafana foundation
 * SDK: a graph, a stat, a section (a row and its panels), a dashboard with the
 * datasource variable, the links to the others and stable panel ids. Every panel
 * reads Prometheus through the `datasource` variable, whose default is the datasource
 * provisioned for compose (infra/grafana/provisioning/datasources/prometheus.yml).
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import {
  BigValueColorMode,
  GraphThresholdsStyleConfigBuilder,
  GraphThresholdsStyleMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  SortOrder,
  StackingConfigBuilder,
  StackingMode,
  TooltipDisplayMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  DatasourceVariableBuilder,
  MappingType,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type DashboardLink,
  type Panel,
  type ValueMapping,
  type VariableModel,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';

/** The uid of the Prometheus datasource that compose's Grafana provisions. */
export const prometheusDatasourceUid = 'tower-prometheus';
/** Every tower dashboard carries this tag; the dashboards' link menu lists them by it. */
export const towerTag = 'mong-cai-tower';
export const overviewUid = 'tower-overview';

const datasource: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

export interface Series {
  expr: string;
  /** The legend (`{{label}}` templates); omitted where the query returns one series. */
  legend?: string;
}

/** `rate(metric selector [window])`, over Grafana's rate interval unless told. */
export const rate = (metric: string, selector: string, window = '$__rate_interval') => `rate(${metric}${selector}[${window}])`;
/** The q-quantile of histogram `metric` over `selector`, kept apart by `by`. */
export const quantile = (q: number, metric: string, selector: string, by: string[] = [], window?: string) =>
  `histogram_quantile(${q}, sum by (${[...by, 'le'].join(', ')}) (${rate(`${metric}_bucket`, selector, window)}))`;
/** p50, p95 and p99 of histogram `metric`, as three series. */
export const quantiles = (metric: string, selector: string, window?: string) =>
  [0.5, 0.95, 0.99].map((q) => ({ expr: quantile(q, metric, selector, [], window), legend: `p${Math.round(q * 100)}` }));

export interface PanelSpec {
  title: string;
  /** What the panel answers, shown on hover. */
  description: string;
  /** A Grafana unit id: s, ops, reqps, bytes, percentunit, short… */
  unit: string;
  series: Series[];
  /** Where an SLO or an alert's bound exists: red from this value up (or, with `lowIsBad`, below it). */
  limit?: number;
  lowIsBad?: boolean;
  /** Width on Grafana's 24-column grid (8 by default: three panels a row). */
  width?: number;
  stacked?: boolean;
  /** Other dashboards this panel leads to. */
  links?: { title: string; uid: string }[];
  mappings?: ValueMapping[];
}

function thresholds(spec: PanelSpec): ThresholdsConfigBuilder {
  const steps = spec.limit === undefined
    ? [{ value: null, color: 'green' }]
    : spec.lowIsBad
      ? [{ value: null, color: 'red' }, { value: spec.limit, color: 'green' }]
      : [{ value: null, color: 'green' }, { value: spec.limit, color: 'red' }];
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps);
}

/** The parts a graph and a stat share: title, description, unit, thresholds, queries, size, links. */
function common<P extends TimeseriesBuilder | StatBuilder>(panel: P, spec: PanelSpec): P {
  panel
    .title(spec.title)
    .description(spec.description)
    .unit(spec.unit)
    .datasource(datasource)
    .thresholds(thresholds(spec))
    .span(spec.width ?? 8)
    .height(8)
    .targets(spec.series.map((s, i) => new DataqueryBuilder()
      .datasource(datasource)
      .refId(String.fromCharCode(65 + i))
      .expr(s.expr)
      .legendFormat(s.legend ?? '__auto')));
  if (spec.links) panel.links(spec.links.map((l) => dashboardLink(l.title, l.uid)));
  if (spec.mappings) panel.mappings(spec.mappings);
  return panel;
}

/** A time series graph; an SLO or alert bound is drawn as a dashed red line. */
export function graph(spec: PanelSpec): cog.Builder<Panel> {
  const panel = common(new TimeseriesBuilder(), spec)
    .min(0)
    .fillOpacity(10)
    .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom).calcs([]))
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending));
  if (spec.limit !== undefined) panel.thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Dashed));
  if (spec.stacked) panel.stacking(new StackingConfigBuilder().mode(StackingMode.Normal));
  return panel;
}

/** One figure now (the last value), coloured by its SLO or alert bound. */
export function stat(spec: PanelSpec): cog.Builder<Panel> {
  return common(new StatBuilder(), { width: 4, ...spec })
    .colorMode(BigValueColorMode.Value)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
}

/** `up`'s 0 and 1 as words. */
export const upDown: ValueMapping[] = [{ type: MappingType.ValueToText, options: { '0': { text: 'down', color: 'red' }, '1': { text: 'up', color: 'green' } } }];

export interface Section {
  title: string;
  panels: cog.Builder<Panel>[];
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  /** Variables after the datasource, e.g. the instance picker. */
  variables: cog.Builder<VariableModel>[];
  sections: Section[];
}

/**
 * The link without `placement`: the SDK defaults it to `inControlsMenu`, which Grafana 12
 * hides in the controls' dropdown; without it the link shows in the dashboard's bar.
 */
function inBar(link: DashboardLinkBuilder): cog.Builder<DashboardLink> {
  return {
    build: () => {
      const built = link.build();
      delete built.placement;
      return built;
    },
  };
}

function dashboardLink(title: string, uid: string): cog.Builder<DashboardLink> {
  return inBar(new DashboardLinkBuilder(title).type(DashboardLinkType.Link).url(`/d/${uid}`).keepTime(true).includeVars(false).targetBlank(false).icon('dashboard'));
}

/**
 * A multi-value variable over the values of `label` in `selector`'s series
 * (`label_values(selector, label)`), all selected by default.
 */
export function labelVariable(name: string, selector: string, label = name): cog.Builder<VariableModel> {
  return new QueryVariableBuilder(name)
    .label(name)
    .datasource(datasource)
    .query(`label_values(${selector}, ${label})`)
    .definition(`label_values(${selector}, ${label})`)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current({ text: 'All', value: '$__all' });
}

/** The dashboard's JSON (Grafana's dashboard schema v1, as the SDK builds it), panels numbered in order. */
export function dashboard(spec: DashboardSpec): Dashboard {
  const builder = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags([towerTag, ...spec.tags])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .time({ from: 'now-1h', to: 'now' })
    .refresh('30s')
    .timezone('browser')
    .variables([new DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus')
      .current({ text: 'Prometheus', value: prometheusDatasourceUid }), ...spec.variables])
    .links([
      ...(spec.uid === overviewUid ? [] : [dashboardLink('Overview', overviewUid)]),
      inBar(new DashboardLinkBuilder('Tower dashboards').type(DashboardLinkType.Dashboards).tags([towerTag]).asDropdown(true).keepTime(true).includeVars(false).targetBlank(false).icon('external link')),
    ]);
  for (const section of spec.sections) {
    builder.withRow(new RowBuilder(section.title));
    for (const panel of section.panels) builder.withPanel(panel);
  }
  const built = builder.build();
  (built.panels ?? []).forEach((panel, i) => (panel.id = i + 1));
  return built;
}
