export * from './fixtures.ts';
export * from './events.ts';
export * from './read-topics.ts';
export * from './progress.ts';
