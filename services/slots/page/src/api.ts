import type { SlotBookingView } from '@tower/shared';
import type { BookingPageConfig } from '../../src/page.ts';

/** A refusal as the slots API sends it (application/problem+json), with what the page needs to say what to do. */
export interface Problem {
  status: number;
  /** The last segment of the problem's type: `window-full`, `validation`; `network` when nothing answered. */
  code: string;
  title: string;
  detail: string;
  /** firm-cap-reached: the firm's cap per window. */
  cap?: number;
  /** 429: seconds to wait. */
  retryAfter?: number;
}

export class ProblemAnswer extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail || problem.title);
  }
}

/** One window of one lane group, as GET /v1/slots answers it (the fields the page shows), with the answer's site. */
export interface AvailabilityWindow {
  site: string;
  laneKind: string;
  direction: string;
  windowStart: number;
  windowEnd: number;
  windowStartIso: string;
  windowEndIso: string;
  label: string;
  date: string;
  capacity: number;
  free: number;
  closed: boolean;
  closedReason: string | null;
  laneGroupNames: Record<string, string>;
}

export interface FirmRecord {
  firm: string;
  decided: number;
  noShows: number;
  noShowRate: number;
  capPerWindow: number;
}

/** A truck of the firm's fleet (GET /v1/fleet/trucks). */
export interface Truck {
  plate: string;
  country: 'VN' | 'CN';
}

/** One lane group's conditions (GET /v1/conditions; the fields the page shows). */
export interface LaneGroupConditions {
  site: string;
  laneKind: string;
  direction: string;
  siteNames: Record<string, string>;
  names: Record<string, string>;
  trucksQueuing: number | null;
  lanesOpen: number;
  lanesTotal: number;
  expectedWaitMinutes: number | null;
  level: string;
}

/** A webhook endpoint of the firm (GET /v1/webhooks; the fields the page shows). */
export interface WebhookEndpoint {
  id: string;
  url: string;
  events: string[];
  state: 'active' | 'paused';
  pausedReason: string | null;
  pausedAtIso: string | null;
  queuedDeliveries: number;
  refusedDeliveries: number;
}

/** One attempt of the endpoint's delivery log (GET /v1/webhooks/{id}/deliveries). */
export interface DeliveryAttempt {
  deliveryId: string;
  eventId: string;
  attempt: number;
  atIso: string;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  outcome: 'delivered' | 'retrying' | 'failed';
}

export type Booking = SlotBookingView;
export type HoldRequest = Pick<Booking, 'site' | 'laneKind' | 'direction' | 'windowStart' | 'plate' | 'cargoClass'>;

/**
 * The slots API as the page calls it: the firm's key as a bearer token, JSON in and out;
 * every non-2xx answer (or no answer) is thrown as a ProblemAnswer. A 404 on a route that
 * is not there yet (fleet, conditions) is `undefined` where the caller asks for it.
 */
export class SlotsApi {
  constructor(private readonly key: string) {}

  static async config(): Promise<BookingPageConfig> {
    return (await send<BookingPageConfig>('GET', '/booking-page.json'))!;
  }

  firm = () => this.call<FirmRecord>('GET', '/v1/firms/me');
  availability = (site: string, from: string, to: string) =>
    // The answer names its site once; each window gets it (a hold names it).
    this.call<{ windows: Omit<AvailabilityWindow, 'site'>[] }>('GET', `/v1/slots?${new URLSearchParams({ site, from, to }).toString()}`).then((answer) => answer.windows.map((w) => ({ ...w, site })));
  bookings = () => this.call<{ bookings: Booking[] }>('GET', '/v1/bookings').then((answer) => answer.bookings);
  hold = (request: HoldRequest, idempotencyKey: string) => this.call<Booking>('POST', '/v1/bookings', request, { 'idempotency-key': idempotencyKey });
  confirm = (id: string) => this.call<Booking>('POST', `/v1/bookings/${encodeURIComponent(id)}/confirm`);
  cancel = (id: string) => this.call<Booking>('DELETE', `/v1/bookings/${encodeURIComponent(id)}`);
  /** undefined: the slots service has no fleet routes yet. */
  trucks = () => this.optional(this.call<{ trucks: Truck[] }>('GET', '/v1/fleet/trucks').then((answer) => answer.trucks));
  register = (truck: Truck) => this.call<Truck>('POST', '/v1/fleet/trucks', truck);
  unregister = (plate: string) => this.call<undefined>('DELETE', `/v1/fleet/trucks/${encodeURIComponent(plate)}`);
  /** undefined: the slots service serves no conditions (yet). */
  conditions = () => this.optional(this.call<{ groups: LaneGroupConditions[] }>('GET', '/v1/conditions').then((answer) => answer.groups));

  webhooks = () => this.call<{ webhooks: WebhookEndpoint[] }>('GET', '/v1/webhooks').then((answer) => answer.webhooks);
  /** The answer carries the signing secret, this once. */
  createWebhook = (url: string, events: readonly string[]) => this.call<WebhookEndpoint & { secret: string }>('POST', '/v1/webhooks', { url, events });
  deleteWebhook = (id: string) => this.call<undefined>('DELETE', `/v1/webhooks/${encodeURIComponent(id)}`);
  resumeWebhook = (id: string) => this.call<WebhookEndpoint>('POST', `/v1/webhooks/${encodeURIComponent(id)}:resume`);
  deliveries = (id: string) => this.call<{ attempts: DeliveryAttempt[] }>('GET', `/v1/webhooks/${encodeURIComponent(id)}/deliveries`).then((answer) => answer.attempts);
  replay = (id: string, deliveryId: string) => this.call<{ deliveryId: string }>('POST', `/v1/webhooks/${encodeURIComponent(id)}/deliveries/${encodeURIComponent(deliveryId)}:replay`);

  private call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    return send<T>(method, path, body, { authorization: `Bearer ${this.key}`, ...headers }) as Promise<T>;
  }

  private async optional<T>(answer: Promise<T>): Promise<T | undefined> {
    try {
      return await answer;
    } catch (error) {
      if (error instanceof ProblemAnswer && error.problem.status === 404) return undefined;
      throw error;
    }
  }
}

async function send<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T | undefined> {
  let response: Response;
  try {
    response = await fetch(path, { method, headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  } catch {
    throw new ProblemAnswer({ status: 0, code: 'network', title: 'network', detail: '' });
  }
  if (response.status === 204) return undefined;
  const text = await response.text();
  const json: unknown = text ? safeJson(text) : undefined;
  if (response.ok) return json as T;
  throw new ProblemAnswer(problemOf(response.status, json, response.headers.get('retry-after')));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The problem+json body read defensively: an unknown shape still gives a status and a title. */
export function problemOf(status: number, body: unknown, retryAfter: string | null): Problem {
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const type = typeof fields['type'] === 'string' ? fields['type'] : '';
  const text = (name: string) => (typeof fields[name] === 'string' ? (fields[name] as string) : '');
  return {
    status,
    code: type.split('/').pop() || `http-${status}`,
    title: text('title') || `HTTP ${status}`,
    detail: text('detail'),
    ...(typeof fields['cap'] === 'number' ? { cap: fields['cap'] } : {}),
    ...(retryAfter && Number.isFinite(Number(retryAfter)) ? { retryAfter: Number(retryAfter) } : {}),
  };
}
