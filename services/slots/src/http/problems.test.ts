import { describe, expect, it } from 'vitest';
import { BookingNotFound, ForbiddenForRole, InvalidInput, RuleRefusal, StoreUnavailable, TruckNotFound, type DeskError } from '../desk-errors.ts';
import type { Booking } from '../domain/bookings.ts';
import { deskProblem, type InputPlace } from './problems.ts';

const type = (code: string) => `https://mongcai-tower.dev/problems/${code}`;
const booking = { id: 'b-1', state: 'confirmed' } as Booking;

describe('the desk’s errors as problems', () => {
  const cases: { error: DeskError; place: InputPlace; status: number; body: Record<string, unknown>; headers?: Record<string, string> }[] = [
    { error: new RuleRefusal('window-full', 'no place is free'), place: 'body', status: 409, body: { type: type('window-full'), title: 'The window is full', detail: 'no place is free', rule: 'window-full' } },
    { error: new RuleRefusal('firm-cap-reached', 'cap 2', { cap: 2 }), place: 'body', status: 409, body: { type: type('firm-cap-reached'), detail: 'cap 2', rule: 'firm-cap-reached', cap: 2 } },
    { error: new RuleRefusal('past-cancel-cutoff', 'too late', { booking }), place: 'body', status: 409, body: { type: type('past-cancel-cutoff'), title: 'The cancellation cut-off has passed', rule: 'past-cancel-cutoff', booking } },
    {
      error: new RuleRefusal('site-under-construction', 'being built', { site: 'van-ninh', field: 'site' }),
      place: 'querystring',
      status: 409,
      body: { type: type('site-under-construction'), rule: 'site-under-construction', site: 'van-ninh', errors: [{ field: '/querystring/site', reason: 'the site is under construction (no opening date known): it takes no bookings' }] },
    },
    { error: new RuleRefusal('window-not-aligned', 'must be the start of a window', { field: 'windowStart' }), place: 'body', status: 400, body: { type: type('validation'), detail: '/body/windowStart: must be the start of a window', errors: [{ field: '/body/windowStart', reason: 'must be the start of a window' }] } },
    { error: new RuleRefusal('window-past', 'the window has ended', { field: 'windowStart' }), place: 'body', status: 400, body: { type: type('validation'), errors: [{ field: '/body/windowStart', reason: 'the window has ended' }] } },
    {
      error: new RuleRefusal('idempotency-key-reused', 'key made b-9', { field: 'idempotencyKey', bookingId: 'b-9' }),
      place: 'body',
      status: 422,
      body: { type: type('idempotency-key-reused'), detail: 'key made b-9', bookingId: 'b-9', errors: [{ field: '/headers/idempotency-key', reason: 'was used for another request' }] },
    },
    {
      error: new RuleRefusal('idempotency-key-reused', 'key made b-9', { field: 'idempotencyKey', bookingId: 'b-9' }),
      place: 'body/items/3',
      status: 422,
      body: { type: type('idempotency-key-reused'), bookingId: 'b-9', errors: [{ field: '/body/items/3/idempotencyKey', reason: 'was used for another request' }] },
    },
    { error: new RuleRefusal('window-not-aligned', 'must be the start of a window', { field: 'windowStart' }), place: 'body/items/0', status: 400, body: { errors: [{ field: '/body/items/0/windowStart', reason: 'must be the start of a window' }] } },
    {
      error: new RuleRefusal('plate-not-in-fleet', 'register it first', { field: 'plate' }),
      place: 'body/items/1',
      status: 422,
      body: { type: type('plate-not-in-fleet'), title: 'The truck is not in the firm’s fleet', rule: 'plate-not-in-fleet', errors: [{ field: '/body/items/1/plate', reason: 'not a truck of the firm’s fleet' }] },
    },
    { error: new RuleRefusal('plate-in-another-fleet', 'ask an operator', { field: 'plate' }), place: 'body', status: 409, body: { type: type('plate-in-another-fleet'), rule: 'plate-in-another-fleet', errors: [{ field: '/body/plate', reason: 'the truck is in another firm’s fleet' }] } },
    { error: new RuleRefusal('fleet-full', 'remove one first', { limit: 2000 }), place: 'body', status: 409, body: { type: type('fleet-full'), title: 'The firm’s fleet is full', rule: 'fleet-full', limit: 2000 } },
    { error: new RuleRefusal('truck-has-bookings', 'cancel it first'), place: 'body', status: 409, body: { type: type('truck-has-bookings'), rule: 'truck-has-bookings' } },
    { error: new TruckNotFound('no truck 14C-123.45 in the fleet'), place: 'body', status: 404, body: { type: type('not-found'), detail: 'no truck 14C-123.45 in the fleet' } },
    { error: new BookingNotFound('no booking b-1'), place: 'querystring', status: 404, body: { type: type('not-found'), title: 'Not found', detail: 'no booking b-1' } },
    { error: new ForbiddenForRole('display', 'a display token'), place: 'body', status: 403, body: { type: type('forbidden'), detail: 'a display token' } },
    { error: new InvalidInput([{ field: 'to', reason: 'must be after from' }]), place: 'querystring', status: 400, body: { type: type('validation'), detail: '/querystring/to: must be after from', errors: [{ field: '/querystring/to', reason: 'must be after from' }] } },
    { error: new InvalidInput([{ field: '', reason: 'say what changes' }]), place: 'body', status: 400, body: { errors: [{ field: '/body', reason: 'say what changes' }] } },
    { error: new StoreUnavailable('redis', 'Redis did not answer', 2), place: 'body', status: 503, body: { type: type('dependency-unavailable'), detail: 'Redis did not answer', dependency: 'redis' }, headers: { 'retry-after': '2' } },
    { error: new StoreUnavailable('kafka', 'Kafka did not acknowledge', 5), place: 'body', status: 503, body: { dependency: 'kafka' }, headers: { 'retry-after': '5' } },
  ];

  it.each(cases)('$error.name ($error.message) in the $place: $status', ({ error, place, status, body, headers }) => {
    const problem = deskProblem(error, place);
    expect(problem.toProblem()).toMatchObject({ status, ...body });
    expect(problem.headers()).toEqual(headers ?? {});
  });
});
