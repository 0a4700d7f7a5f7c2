import { describe, expect, it } from 'vitest';
import type { SlotRule } from '../../src/desk-errors.ts';
import { dictionaries, languages, translate } from './i18n.ts';
import { webhookEventTypes } from '../../src/webhooks/store.ts';
import { problemMessage, webhookEvents } from './model.ts';

/**
 * Every rule the slots desk refuses by, as the problem type the API answers with: a rule
 * added to SlotRule without a sentence here fails the typecheck (`Unsaid`), and one listed
 * here without a sentence in every language fails the test. The window's alignment and past
 * are answered as `validation`, with their own words in the detail; `unknown-firm` answers
 * only an operator's fleet transfer, which a firm's key on the page never makes; a firm over its
 * budget of refused registrations is answered `rate-limited`, said with the shared problems.
 */
const ruleCodes = ['window-full', 'window-closed', 'firm-cap-reached', 'plate-already-booked', 'plate-not-in-fleet', 'plate-in-another-fleet', 'truck-has-bookings', 'fleet-full', 'site-under-construction', 'not-held', 'hold-expired', 'not-cancellable', 'past-cancel-cutoff', 'not-expected', 'not-arrived', 'idempotency-key-reused'] as const;
type Unsaid = Exclude<SlotRule, (typeof ruleCodes)[number] | 'window-past' | 'window-not-aligned' | 'unknown-firm' | 'registration-refusals-over-budget'>;
const everyRuleSaid: [Unsaid] extends [never] ? true : Unsaid = true;
/** The shared problems a firm's requests can meet (shared/src/errors.ts), and no answer at all. */
/** The webhook routes' own refusals (services/slots/src/webhooks/routes.ts). */
const webhookCodes = ['webhook-limit-reached', 'webhook-queue-full'] as const;
const sharedCodes = ['validation', 'unauthorized', 'forbidden', 'not-found', 'rate-limited', 'dependency-unavailable', 'shutting-down', 'network'] as const;

describe('the booking page’s words', () => {
  it('has every key in every language, none empty', () => {
    const keys = Object.keys(dictionaries.vi).sort();
    for (const language of languages) {
      expect(Object.keys(dictionaries[language]).sort(), language).toEqual(keys);
      expect(Object.entries(dictionaries[language]).filter(([, text]) => text.trim() === ''), language).toEqual([]);
    }
  });

  it('says what to do for every refusal of the slots API, in each language, and shows the title of one it does not know', () => {
    expect(everyRuleSaid).toBe(true);
    for (const language of languages) {
      for (const code of [...ruleCodes, ...webhookCodes, ...sharedCodes]) {
        const said = problemMessage({ status: 409, code, title: 'The API title', detail: '/body/plate: must match', cap: 4, retryAfter: 3 }, language);
        expect(said, `${language} ${code}`).not.toContain('The API title');
        expect(said, `${language} ${code}`).not.toMatch(/\{\w+\}/);
      }
      expect(problemMessage({ status: 418, code: 'teapot', title: 'I am a teapot', detail: '' }, language)).toContain('I am a teapot');
    }
    expect(problemMessage({ status: 409, code: 'firm-cap-reached', title: '', detail: '', cap: 4 }, 'vi')).toContain('đủ 4 chỗ');
    expect(problemMessage({ status: 429, code: 'rate-limited', title: '', detail: '', retryAfter: 3 }, 'zh')).toContain('等待 3 秒');
  });

  it('never gives two status words a dispatcher sees side by side forms that read alike once the accents are lost (Đông busy by Đóng closed)', () => {
    // A window's, a lane group's and a booking's states; the keys saying "closed" mean one thing and may share their words.
    const closedKeys = new Set(['availability.closed', 'closed.closed-by-operator', 'level.closed']);
    const bare = (text: string) => text.normalize('NFD').replace(/\p{M}/gu, '').replace(/[đĐ]/g, 'd').toLowerCase();
    const startsWithWords = (long: string, short: string) => long === short || long.startsWith(`${short} `);
    for (const language of languages) {
      const words = Object.entries(dictionaries[language]).filter(([key]) => /^(level|state|closed)\.|^availability\.(closed|full)$/.test(key));
      for (const [key, text] of words) {
        for (const [other, otherText] of words) {
          if (key === other || (closedKeys.has(key) && closedKeys.has(other))) continue;
          expect(startsWithWords(bare(text), bare(otherText)), `${language}: ${key} '${text}' reads like ${other} '${otherText}'`).toBe(false);
        }
      }
    }
  });

  it('offers every webhook event the API has, each with its words', () => {
    expect([...webhookEvents]).toEqual([...webhookEventTypes]);
    for (const language of languages) for (const event of webhookEvents) expect(dictionaries[language], `${language} ${event}`).toHaveProperty([`event.${event}`]);
  });

  it('fills in values and leaves an unknown placeholder as it is', () => {
    expect(translate('en', 'hold.left', { left: '4:59' })).toBe('4:59 left');
    expect(translate('en', 'hold.left')).toBe('{left} left');
  });
});
