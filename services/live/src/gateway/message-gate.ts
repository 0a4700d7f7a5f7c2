import { RateLimiter } from '@tower/shared';

/** Client messages per socket (WS_MESSAGE_*). */
export interface MessageRate {
  perSecond: number;
  /** The bucket's size: messages a socket may send at once. */
  burst: number;
  /** Messages refused in a row (none accepted between) that close the socket (4029). */
  closeAfterRefused: number;
}

/** What to do with a client message: take it, drop it saying why (first of a run), drop it quietly, or close the socket. */
export type Admission = 'take' | 'warn' | 'drop' | 'close';

/**
 * One socket's message rate: a token bucket (the shared `RateLimiter`). Over it a
 * message is dropped; the first of a run of refusals is answered with an error, and a
 * client that goes on until `closeAfterRefused` refusals in a row is closed. One message
 * taken ends the run.
 */
export class MessageGate {
  private readonly bucket: RateLimiter;
  private refusedInARow = 0;

  constructor(
    private readonly rate: MessageRate,
    now: () => number = Date.now,
  ) {
    this.bucket = new RateLimiter(rate.perSecond, rate.burst, now);
  }

  admit(): Admission {
    if (this.bucket.take('socket', 1).allowed) {
      this.refusedInARow = 0;
      return 'take';
    }
    this.refusedInARow += 1;
    if (this.refusedInARow >= this.rate.closeAfterRefused) return 'close';
    return this.refusedInARow === 1 ? 'warn' : 'drop';
  }

  /** The `rate-limited` error's text. */
  describe(): string {
    const { perSecond, burst, closeAfterRefused } = this.rate;
    return `over ${perSecond} messages per second (bursts of ${burst}): message dropped; ${closeAfterRefused} dropped in a row close the connection (4029)`;
  }
}
