/**
 * The scenarios: each is one or more Artillery scripts run side by side (devices,
 * walls, firms: traffic that arrives on its own, so open-model arrival rates), built
 * from the run's options. URLs come from the target through the run context; a script
 * names only paths.
 */
import { TargetError } from './target.ts';

export interface LoadOptions {
  /** Arrivals per second of the scenario's main traffic (device batches; holds in slot-rush); the top of the ramp in breakpoint. */
  rate: number;
  /** Seconds of arrivals. */
  duration: number;
  /** Events per device batch. */
  batch: number;
  /** Live-feed clients (walls, consoles); places of the window (slot-rush). */
  clients: number;
  /** Multiplies the traffic model's average (average-day 1, peak 3: the pre-Tết lift). */
  factor: number;
  /** Bookings per second by firms (the model's share of trucks booked, times the factor). */
  firms: number;
}

/** What a scenario defaults to; a rate left out is the traffic model's average times the factor, in batches. */
export type LoadDefaults = Omit<LoadOptions, 'rate' | 'firms'> & { rate?: number };

export interface ScenarioPart {
  /** Name of the part (its JSON output is `<name>.json`). */
  name: string;
  script: ArtilleryScript;
}

export interface Scenario {
  name: string;
  purpose: string;
  defaults: LoadDefaults;
  /** Does it write events or bookings (then correctness is checked afterwards). */
  writes: { events: boolean; bookings: boolean };
  /** The places of its window are set to `clients` by an operator first (slot-rush), and its bookings cancelled afterwards. */
  rush?: true;
  /** Its SLOs are judged per 10-second period to find the rate where one breaks (breakpoint). */
  breakpoint?: true;
  /** Its highest device rate is this many times `rate` (spike), for the device keys it needs. */
  peakFactor?: number;
  parts(options: LoadOptions, runContextFile: string): ScenarioPart[];
  /** A line describing the load shape, for the report. */
  shape(options: LoadOptions): string;
}

type Step = Record<string, unknown>;
interface Phase {
  name: string;
  duration: number;
  arrivalRate?: number;
  rampTo?: number;
  arrivalCount?: number;
  maxVusers?: number;
}
export interface ArtilleryScript {
  config: Record<string, unknown> & { phases: Phase[] };
  scenarios: { name: string; engine?: string; beforeScenario?: string; flow: Step[] }[];
}

const processorFile = new URL('./processor.ts', import.meta.url).pathname;

function script(runContextFile: string, phases: Phase[], scenarios: ArtilleryScript['scenarios']): ArtilleryScript {
  return {
    config: {
      // Every URL is absolute (from the run context); the target only satisfies Artillery.
      target: 'http://load.invalid',
      phases,
      processor: processorFile,
      variables: { runContext: runContextFile },
      http: { timeout: 30 },
      plugins: { 'metrics-by-endpoint': { useOnlyRequestNames: true, stripQueryString: true } },
    },
    scenarios,
  };
}

const auth = (token: string) => ({ authorization: `Bearer {{ ${token} }}` });

/** The engine (`artillery-engine-<name>`, bundled into the run's directory by the kit) of the devices' parts. */
export const deviceEngine = 'tower-devices';

/** A device batch as a step of a mixed HTTP flow (smoke); the devices' parts use the device engine. */
const deviceBatchStep: Step = { post: { name: 'ingest', url: '{{ ingest }}/v1/events', beforeRequest: 'deviceBatch', afterResponse: 'deviceAnswer' } };

/** Hold, confirm and cancel one place (firms cancel before the cut-off, so the window is hours ahead). */
const bookingSteps: Step[] = [
  { get: { name: 'slots-places', url: '{{ slots }}/v1/slots?site={{ site }}&from={{ windowStart }}', headers: auth('firmToken') } },
  {
    post: {
      name: 'booking-hold',
      url: '{{ slots }}/v1/bookings',
      headers: { ...auth('firmToken'), 'idempotency-key': '{{ idempotencyKey }}' },
      json: { site: '{{ site }}', laneKind: '{{ laneKind }}', direction: '{{ direction }}', windowStart: '{{ windowStart }}', plate: '{{ plate }}', cargoClass: '{{ cargoClass }}' },
      capture: { json: '$.id', as: 'bookingId' },
    },
  },
  { post: { name: 'booking-confirm', url: '{{ slots }}/v1/bookings/{{ bookingId }}/confirm', headers: auth('firmToken'), afterResponse: 'bookingConfirmed' } },
  { delete: { name: 'booking-cancel', url: '{{ slots }}/v1/bookings/{{ bookingId }}', headers: auth('firmToken') } },
];

/** The run context's URLs, tokens and booking window as Artillery variables, once per virtual user. */
const urlVars: Step = { function: 'runVars' };

/** A constant rate; Artillery takes whole arrival rates only, so another rate is the same count of arrivals spread evenly. */
const steady = (name: string, rate: number, duration: number): Phase => ({
  name,
  duration,
  ...(Number.isInteger(rate) ? { arrivalRate: rate } : { arrivalCount: Math.max(1, Math.round(rate * duration)) }),
  maxVusers: Math.max(20, Math.ceil(rate * 30)),
});

/** Devices (gateways) sending batches on the given phases, with the load kit's device engine (device-engine.ts). */
const devicesPart = (file: string, phases: Phase[]): ScenarioPart => {
  const devices = script(file, phases, [{ name: 'device batch', engine: deviceEngine, flow: [] }]);
  return { name: 'devices', script: { ...devices, config: { ...devices.config, engines: { [deviceEngine]: {} } } } };
};

/** Walls connecting within 20 s and watching until the end. */
const wallsPart = (file: string, clients: number): ScenarioPart => ({
  name: 'walls',
  script: script(file, [{ name: 'walls connect', duration: 20, arrivalCount: clients }], [{ name: 'wall', flow: [urlVars, { function: 'wallClient' }] }]),
});

export const scenarios: Record<string, Scenario> = {
  smoke: {
    name: 'smoke',
    purpose: 'every path once at a low rate: a device batch, the catalog, history reads with a token, the live feed (subscribe, snapshot, one tick of a batch sent after it), slot places and a hold, confirm and cancel',
    defaults: { rate: 1, duration: 60, batch: 50, clients: 0, factor: 1 },
    writes: { events: true, bookings: true },
    shape: (o) => `${o.rate} virtual user/s for ${o.duration} s (open model), each: 1 batch of ${o.batch} events, catalog, 3 history reads, live subscribe + tick (+1 batch), places, hold, confirm, cancel`,
    parts: (o, file) => [
      {
        name: 'smoke',
        script: script(file, [steady('steady', o.rate, o.duration)], [
          {
            name: 'every path',
            flow: [
              urlVars,
              deviceBatchStep,
              { get: { name: 'catalog', url: '{{ ingest }}/v1/catalog' } },
              { get: { name: 'history-kpis', url: '{{ live }}/v1/kpis/now?site={{ site }}', headers: auth('displayToken') } },
              { get: { name: 'history-throughput', url: '{{ live }}/v1/throughput?site={{ site }}&step=5m', headers: auth('displayToken') } },
              { get: { name: 'history-alerts', url: '{{ live }}/v1/alerts', headers: auth('displayToken') } },
              { function: 'liveTick' },
              ...bookingSteps,
            ],
          },
        ]),
      },
    ],
  },
  'wall-swarm': {
    name: 'wall-swarm',
    purpose: 'N live-feed clients (walls, operator consoles) connecting within 20 s and watching the zone while devices send: snapshot time and freshness (now − the tick’s newestIngestedAt)',
    defaults: { rate: 5, duration: 120, batch: 50, clients: 40, factor: 1 },
    writes: { events: true, bookings: false },
    shape: (o) => `${o.clients} live-feed clients connecting over 20 s, each subscribed to throughput and KPIs until the end; devices: ${o.rate} batches/s of ${o.batch} events for ${o.duration} s (open model)`,
    parts: (o, file) => [devicesPart(file, [steady('devices', o.rate, o.duration)]), wallsPart(file, o.clients)],
  },
};

/** Devices on the given phases, `clients` walls for the whole run, and firms booking (hold, confirm, cancel) at their rate. */
function mixedParts(o: LoadOptions, file: string, devicePhases: Phase[]): ScenarioPart[] {
  return [
    devicesPart(file, devicePhases),
    wallsPart(file, o.clients),
    { name: 'firms', script: script(file, [{ name: 'firms', duration: o.duration, arrivalCount: bookingsOf(o) }], [{ name: 'booking', flow: [urlVars, ...bookingSteps] }]) },
  ];
}

const eventsPerSecond = (o: LoadOptions, rate = o.rate) => `${Math.round(rate * o.batch * 10) / 10} events/s (${Math.round(rate * 1000) / 1000} batches/s of ${o.batch})`;
const bookingsOf = (o: LoadOptions) => Math.max(1, Math.round(o.firms * o.duration));
const others = (o: LoadOptions) => `${o.clients} live-feed clients for the whole run; firms: ${bookingsOf(o)} booking${bookingsOf(o) === 1 ? '' : 's'} (hold, confirm, cancel) spread over it`;
const mixed = { writes: { events: true, bookings: true } } as const;

const averageDay: Scenario = {
  ...mixed,
  name: 'average-day',
  purpose: 'the simulator’s press-derived volumes (every operating site: trucks, containers, lanes, people) as devices send them, with wall clients and firms booking',
  defaults: { duration: 600, batch: 10, clients: 5, factor: 1 },
  shape: (o) => `devices: ${eventsPerSecond(o)} for ${o.duration} s (open model: the model's daily average × ${o.factor}); ${others(o)}`,
  parts: (o, file) => mixedParts(o, file, [steady('average', o.rate, o.duration)]),
};

const peak: Scenario = {
  ...averageDay,
  name: 'peak',
  purpose: 'the pre-Tết peak: the average day × --factor (3 by default, the run-up to Tết the demo plays; raise it for harvest plus Tết or growth)',
  defaults: { ...averageDay.defaults, factor: 3 },
  shape: (o) => `devices: ${eventsPerSecond(o)} for ${o.duration} s (open model: the daily average × ${o.factor}); ${others(o)}`,
};

/** A minute at the base rate, ×10 for two minutes, then the base rate again until the end (the recovery). */
const spike: Scenario = {
  ...mixed,
  name: 'spike',
  peakFactor: 10,
  purpose: 'a sudden ×10 for two minutes and the recovery: does the lag drain and freshness come back once the spike is over',
  defaults: { duration: 360, batch: 10, clients: 5, factor: 1 },
  shape: (o) => `devices: ${eventsPerSecond(o)} for 60 s, then ${eventsPerSecond(o, o.rate * 10)} for 120 s, then the base rate for ${Math.max(20, o.duration - 180)} s (recovery); ${others(o)}`,
  parts: (o, file) => mixedParts(o, file, [steady('base', o.rate, 60), steady('spike ×10', o.rate * 10, 120), steady('recovery', o.rate, Math.max(20, o.duration - 180))]),
};

const soak: Scenario = {
  ...averageDay,
  name: 'soak',
  purpose: 'hours at the average load, memory and lag sampled: any growth of RSS, heap or consumer lag over the run is reported',
  defaults: { ...averageDay.defaults, duration: 7200 },
};

/** Ramps device batches from the model's average to --rate; every 10-second period is judged on its own. */
const breakpoint: Scenario = {
  ...mixed,
  name: 'breakpoint',
  breakpoint: true,
  purpose: 'ramping the devices’ arrival rate until an SLO breaks: the rate where it broke and which SLO (judged per 10-second period), and whether what was acknowledged was still stored',
  defaults: { rate: 200, duration: 300, batch: 100, clients: 5, factor: 1 },
  shape: (o) => `devices: ramp from 1 to ${o.rate} batches/s of ${o.batch} events (${o.rate * o.batch} events/s) over ${o.duration} s (open model); ${others(o)}`,
  parts: (o, file) => mixedParts(o, file, [{ name: 'ramp', duration: o.duration, arrivalRate: 1, rampTo: Math.max(2, Math.round(o.rate)), maxVusers: Math.ceil(o.rate * 30) }]),
};

for (const scenario of [averageDay, peak, spike, soak, breakpoint]) scenarios[scenario.name] = scenario;

const rush: Scenario = {
  name: 'slot-rush',
  purpose: 'firms racing for the places of one window the moment it opens: holds answered 201 never exceed its places, every other answer is a refusal (409), and the slot store agrees afterwards',
  defaults: { rate: 30, duration: 10, batch: 0, clients: 10, factor: 1 },
  writes: { events: false, bookings: true },
  rush: true,
  shape: (o) => `${o.rate} holds/s for ${o.duration} s (open model) from every firm key of the target on one window an operator set to ${o.clients} places; each hold answered 201 is confirmed`,
  parts: (o, file) => [
    {
      name: 'firms',
      script: script(file, [{ name: 'rush', duration: o.duration, arrivalRate: o.rate, maxVusers: Math.max(50, o.rate * 10) }], [
        {
          name: 'firm',
          flow: [
            urlVars,
            {
              post: {
                name: 'booking-rush',
                url: '{{ slots }}/v1/bookings',
                headers: { ...auth('firmToken'), 'idempotency-key': '{{ idempotencyKey }}' },
                json: { site: '{{ site }}', laneKind: '{{ laneKind }}', direction: '{{ direction }}', windowStart: '{{ windowStart }}', plate: '{{ plate }}', cargoClass: '{{ cargoClass }}' },
                capture: { json: '$.id', as: 'bookingId', strict: false },
              },
            },
            { post: { name: 'booking-confirm', url: '{{ slots }}/v1/bookings/{{ bookingId }}/confirm', headers: auth('firmToken'), ifTrue: 'bookingId', afterResponse: 'bookingConfirmed' } },
          ],
        },
      ]),
    },
  ],
};
scenarios[rush.name] = rush;

export function scenarioNamed(name: string): Scenario {
  const scenario = scenarios[name];
  if (!scenario) throw new TargetError(`no scenario ${name}; built: ${Object.keys(scenarios).join(', ')} (loadtests/README.md describes them)`);
  return scenario;
}
