import { env, logEnv } from '@tower/shared';
import { simProfiles } from './domain/profiles.ts';

export const simulatorEnv = {
  PORT: env.port({ default: 8083, description: 'HTTP port for status, health and metrics' }),
  HOST: env.string({ default: '127.0.0.1', description: 'address to listen on' }),
  ...logEnv,
  INGEST_URL: env.url({ default: 'http://127.0.0.1:8081', protocols: ['http', 'https'], description: 'the ingest API the simulated devices post to' }),
  CREDENTIALS_FILE: env.string({ default: '.local/credentials.json', description: 'device keys, one gateway per site (written by npm start / provision)' }),
  CATALOG_FILE: env.string({ default: 'seeds/site-catalog.json', description: 'site catalog' }),
  SIM_SEED: env.integer({ default: 20260126, description: 'random seed: the same seed and start time give the same traffic' }),
  SIM_PROFILE: env.oneOf(simProfiles, {
    default: 'demo',
    description: 'what to play: demo (a busy pre-Tết day at 3x the press volumes with scripted incidents, so every alert rule fires within ten minutes) or real (the press-derived volumes, calm); see src/domain/profiles.ts',
  }),
  SIM_RATE: env.integer({ default: 1, min: 1, max: 10_000, description: 'multiplier on the profile\'s volumes (real: about 296 trucks a day, the land share of the goods in FACTS.md; demo: 4.5 times that)' }),
  SIM_PEOPLE_RATE: env.integer({ default: 1, min: 1, max: 100, description: 'multiplier on the profile\'s person crossings at Bắc Luân I\'s biometric gates (real: about 22,000 a day, from FACTS.md; demo: 4.5 times that); apart from SIM_RATE, so a load test on goods does not bring 8 M people a year times its rate' }),
  SIM_TICK_MS: env.integer({ default: 500, min: 50, max: 10_000, description: 'how often the simulation advances and sends' }),
  SIM_BATCH_EVENTS: env.integer({ default: 500, min: 1, max: 1000, description: 'events per request to the ingest API' }),
  SLOTS_URL: env.url({ default: 'http://127.0.0.1:8082', protocols: ['http', 'https'], description: 'the slots API the simulated firms book on' }),
  SIM_SLOT_SHARE_PERCENT: env.integer({ default: 30, min: 0, max: 100, description: 'share of arriving trucks whose firm booked a crossing slot beforehand (0: no bookings)' }),
  SIM_LOOKAHEAD_MINUTES: env.integer({ default: 45, min: 1, max: 24 * 60, description: 'with bookings, the simulation runs this far ahead so firms book before their trucks arrive' }),
  SLOT_WINDOW_MINUTES: env.integer({ default: 30, min: 5, max: 240, description: 'slot window length, as the slots service has it' }),
  SIM_MAX_BUFFERED: env.integer({ default: 200_000, min: 1000, description: 'events held while the ingest API is unavailable before the simulation pauses' }),
};
