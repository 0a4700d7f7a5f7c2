/**
 * The event ids most recently stored for one Kafka partition, bounded: a re-sent event
 * has the same key as its first copy, so it lands on the same partition, and devices
 * re-send within seconds or minutes. The window is a count of events, so it covers
 * weeks at the zone's real volumes and minutes at benchmark rates.
 */
export class RecentIds {
  private readonly ids = new Set<string>();
  private readonly order: string[] = [];
  private head = 0;

  constructor(private readonly capacity: number) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    if (this.ids.has(id)) return;
    this.ids.add(id);
    this.order.push(id);
    if (this.ids.size > this.capacity) {
      this.ids.delete(this.order[this.head] as string);
      this.head += 1;
      if (this.head > this.capacity) {
        this.order.splice(0, this.head);
        this.head = 0;
      }
    }
  }

  get size(): number {
    return this.ids.size;
  }
}
