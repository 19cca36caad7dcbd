/** Which one-way links between replicas are up: `down[from][to]`. Replication runs only over links that are up. */
export class Network {
  private readonly down: boolean[][];

  constructor(readonly size: number) {
    this.down = Array.from({ length: size }, () => Array.from({ length: size }, () => false));
  }

  isUp(from: number, to: number): boolean {
    return !this.down[from]![to];
  }

  /** The links that are down, as "from>to", for the trace. */
  downLinks(): string[] {
    const out: string[] = [];
    for (let a = 0; a < this.size; a++) for (let b = 0; b < this.size; b++) if (this.down[a]![b]) out.push(`${a}>${b}`);
    return out;
  }

  get partitioned(): boolean {
    return this.downLinks().length > 0;
  }

  heal(): void {
    for (const row of this.down) row.fill(false);
  }

  /** Cuts every link between the two sides, both ways. */
  split(side: readonly number[]): void {
    const inSide = new Set(side);
    for (let a = 0; a < this.size; a++) {
      for (let b = 0; b < this.size; b++) if (a !== b && inSide.has(a) !== inSide.has(b)) this.down[a]![b] = true;
    }
  }

  cut(from: number, to: number): void {
    this.down[from]![to] = true;
  }
}
