import { loadConfig } from '@tower/shared';
import { describe, expect, it } from 'vitest';
import { simulatorEnv } from './config.ts';

describe('simulator config', () => {
  it('plays the demo unless told otherwise, and real when asked', () => {
    expect(loadConfig(simulatorEnv, {}).SIM_PROFILE).toBe('demo');
    expect(loadConfig(simulatorEnv, { SIM_PROFILE: 'real' }).SIM_PROFILE).toBe('real');
  });

  it('refuses a profile it does not know, naming the ones it does', () => {
    expect(() => loadConfig(simulatorEnv, { SIM_PROFILE: 'busy' })).toThrow(/SIM_PROFILE.*must be one of demo, real/s);
  });
});
