/** Where progress goes: stderr, so a command's data on stdout stays clean. */
export interface ProgressSink {
  write(s: string): unknown;
  readonly isTTY?: boolean;
}

export interface ProgressOptions {
  /** What is counted, e.g. `import packets`. */
  label: string;
  /** Units of work, when known: gives a percentage and an ETA. */
  total?: number;
  unit?: string;
  /** Done before this run (a resumed job): counted in `done`, not in the rate. */
  initial?: number;
  sink?: ProgressSink;
  /** How often a non-TTY sink gets a JSON line (ms); a TTY line is redrawn at most every 200 ms. */
  everyMs?: number;
  now?: () => number;
}

export interface ProgressState {
  progress: string;
  done: number;
  total: number | null;
  unit: string;
  elapsed_s: number;
  rate_per_s: number;
  eta_s: number | null;
  final?: boolean;
}

const TTY_REDRAW_MS = 200;
const BAR_WIDTH = 24;
export const DEFAULT_PROGRESS_EVERY_MS = 5_000;

/**
 * Progress of a long command: on a terminal one redrawn line with a bar, rate and ETA; elsewhere (a log, a pipe,
 * systemd) one JSON line every few seconds, which a supervisor can parse and which never fills a log with redraws.
 */
export class Progress {
  private readonly sink: ProgressSink;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly started: number;
  private last = 0;
  done = 0;

  constructor(private readonly o: ProgressOptions) {
    this.sink = o.sink ?? process.stderr;
    this.tty = this.sink.isTTY === true;
    this.now = o.now ?? Date.now;
    this.started = this.now();
    this.last = this.started;
    this.done = o.initial ?? 0;
  }

  add(n: number): void {
    this.update(this.done + n);
  }

  update(done: number): void {
    this.done = done;
    const t = this.now();
    if (t - this.last >= (this.tty ? TTY_REDRAW_MS : (this.o.everyMs ?? DEFAULT_PROGRESS_EVERY_MS))) {
      this.last = t;
      this.emit(false);
    }
  }

  /** The last line (always written), ending the TTY line. */
  finish(): ProgressState {
    return this.emit(true);
  }

  state(final = false): ProgressState {
    const elapsed = Math.max(1, this.now() - this.started) / 1000;
    const rate = (this.done - (this.o.initial ?? 0)) / elapsed;
    const total = this.o.total ?? null;
    const eta = total !== null && rate > 0 ? Math.max(0, (total - this.done) / rate) : null;
    return {
      progress: this.o.label,
      done: this.done,
      total,
      unit: this.o.unit ?? 'items',
      elapsed_s: round(elapsed),
      rate_per_s: round(rate),
      eta_s: eta === null ? null : round(eta),
      ...(final ? { final: true } : {}),
    };
  }

  private emit(final: boolean): ProgressState {
    const s = this.state(final);
    if (!this.tty) {
      this.sink.write(`${JSON.stringify(s)}\n`);
      return s;
    }
    const frac = s.total ? Math.min(1, s.done / s.total) : null;
    const bar =
      frac === null
        ? ''
        : `[${'#'.repeat(Math.round(frac * BAR_WIDTH)).padEnd(BAR_WIDTH, '-')}] ${(frac * 100).toFixed(1)}% `;
    const count = s.total === null ? `${s.done}` : `${s.done}/${s.total}`;
    const eta = s.eta_s === null ? '' : ` ETA ${clock(s.eta_s)}`;
    this.sink.write(
      `\r\x1b[2K${s.progress} ${bar}${count} ${s.unit} ${Math.round(s.rate_per_s)}/s${eta}${final ? '\n' : ''}`,
    );
    return s;
  }
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

function clock(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return `${h ? `${h}:` : ''}${String(m).padStart(h ? 2 : 1, '0')}:${String(sec).padStart(2, '0')}`;
}
