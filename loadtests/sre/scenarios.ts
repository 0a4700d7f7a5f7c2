/**
 * The scenarios: each is one or more Artillery scripts run side by side (devices,
 * walls, firms: traffic that arrives on its own, so open-model arrival rates), built
 * from the run's options. URLs come from the target through the run context; a script
 * names only paths.
 */
export interface LoadOptions {
  /** Arrivals per second of the scenario's main traffic (device batches, firms). */
  rate: number;
  /** Seconds of arrivals. */
  duration: number;
  /** Events per device batch. */
  batch: number;
  /** Live-feed clients (wall-swarm); places of the window (slot-rush). */
  clients: number;
}

export interface ScenarioPart {
  /** Name of the part (its JSON output is `<name>.json`). */
  name: string;
  script: ArtilleryScript;
}

export interface Scenario {
  name: string;
  purpose: string;
  defaults: LoadOptions;
  /** Does it write events or bookings (then correctness is checked afterwards). */
  writes: { events: boolean; bookings: boolean };
  /** The places of its window are set to `clients` by an operator first (slot-rush), and its bookings cancelled afterwards. */
  rush?: true;
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

export const scenarios: Record<string, Scenario> = {
  smoke: {
    name: 'smoke',
    purpose: 'every path once at a low rate: a device batch, the catalog, history reads with a token, the live feed (subscribe, snapshot, one tick of a batch sent after it), slot places and a hold, confirm and cancel',
    defaults: { rate: 1, duration: 60, batch: 50, clients: 0 },
    writes: { events: true, bookings: true },
    shape: (o) => `${o.rate} virtual user/s for ${o.duration} s (open model), each: 1 batch of ${o.batch} events, catalog, 3 history reads, live subscribe + tick (+1 batch), places, hold, confirm, cancel`,
    parts: (o, file) => [
      {
        name: 'smoke',
        script: script(file, [{ name: 'steady', duration: o.duration, arrivalRate: o.rate, maxVusers: Math.max(10, o.rate * 30) }], [
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
    defaults: { rate: 5, duration: 120, batch: 50, clients: 40 },
    writes: { events: true, bookings: false },
    shape: (o) => `${o.clients} live-feed clients connecting over 20 s, each subscribed to throughput and KPIs until the end; devices: ${o.rate} batches/s of ${o.batch} events for ${o.duration} s (open model)`,
    parts: (o, file) => [
      {
        name: 'devices',
        script: script(file, [{ name: 'devices', duration: o.duration, arrivalRate: o.rate, maxVusers: Math.max(20, o.rate * 20) }], [{ name: 'device batch', flow: [urlVars, deviceBatchStep] }]),
      },
      {
        name: 'walls',
        script: script(file, [{ name: 'walls connect', duration: 20, arrivalCount: o.clients }], [{ name: 'wall', flow: [urlVars, { function: 'wallClient' }] }]),
      },
    ],
  },
};

const rush: Scenario = {
  name: 'slot-rush',
  purpose: 'firms racing for the places of one window the moment it opens: holds answered 201 never exceed its places, every other answer is a refusal (409), and the slot store agrees afterwards',
  defaults: { rate: 30, duration: 10, batch: 0, clients: 10 },
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
  if (!scenario) throw new Error(`no scenario ${name}; built: ${Object.keys(scenarios).join(', ')} (the others are described in loadtests/README.md)`);
  return scenario;
}
