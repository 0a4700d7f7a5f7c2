/** Whether the chime can sound: the browser lets the page play audio, or waits for a click. */
export type SoundState = 'on' | 'blocked';

/**
 * The chime of a new critical alert (`sound=1` in the kiosk URL): two short tones made
 * with WebAudio oscillators, nothing fetched. Browsers start a page's audio only after
 * a user gesture unless told otherwise (Chromium in kiosk mode:
 * `--autoplay-policy=no-user-gesture-required`); until then the state is `blocked`, and
 * the first click or touch on the page unblocks it. Which alerts chime is decided by
 * `AlertChime` (state.ts); this only plays.
 */
export class Chime {
  private readonly context = new AudioContext();
  /** Tones played (the browser test reads it from the marker). */
  played = 0;

  constructor(onState: (state: SoundState) => void) {
    this.context.addEventListener('statechange', () => onState(this.state));
    document.addEventListener('pointerdown', () => void this.context.resume(), { capture: true });
    void this.context.resume().catch(() => undefined);
    onState(this.state);
  }

  get state(): SoundState {
    return this.context.state === 'running' ? 'on' : 'blocked';
  }

  play(): void {
    if (this.context.state !== 'running') return;
    const start = this.context.currentTime + 0.02;
    for (const [offset, frequency] of [[0, 880], [0.22, 660]] as const) {
      const tone = this.context.createOscillator();
      const gain = this.context.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.35, start + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.2);
      tone.connect(gain).connect(this.context.destination);
      tone.start(start + offset);
      tone.stop(start + offset + 0.22);
    }
    this.played += 1;
  }
}
