export * from './fixtures.ts';
export * from './events.ts';
