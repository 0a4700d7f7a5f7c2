const two = (n: number) => (n < 10 ? `0${n}` : String(n));
let cachedDay = Number.NaN;
let cachedDayText = '';

/**
 * `YYYY-MM-DD hh:mm:ss` in UTC: what a DateTime('UTC') column reads in every ClickHouse
 * version. Called for every row, so the date part is cached per day (a batch is mostly
 * one day) and the time is plain arithmetic instead of Date#toISOString.
 */
export function clickHouseDateTime(ms: number): string {
  const day = Math.floor(ms / 86_400_000);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDayText = new Date(day * 86_400_000).toISOString().slice(0, 10);
  }
  const seconds = Math.floor((ms - day * 86_400_000) / 1000);
  return `${cachedDayText} ${two(Math.floor(seconds / 3600))}:${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}`;
}
