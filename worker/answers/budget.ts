/**
 * @module budget
 * The work a check may do before it answers null. Inside workerd,
 * `Date.now()` and `performance.now()` do not advance during synchronous work
 * (Spectre mitigation: time moves only at I/O), so a clock cannot bound the
 * CPU a CAS call burns. The budget counts work instead: input characters
 * scanned, expressions parsed, expression nodes evaluated, high-precision
 * evaluations. Each unit is roughly a microsecond on a 2020s server core (see
 * `npm run bench`), so the default per call is a few tens of milliseconds.
 * Where a clock does advance (Node, tests), an optional clock and limit bound
 * wall time as well; the first of the two to run out wins.
 */

/** Work units one `checkAnswer` call may spend by default (about 50 ms of CPU at most). */
export const DEFAULT_CHECK_WORK_UNITS = 50_000;
/** Work units a whole `checkAnswers`/`voteOnAnswers` batch may spend by default. */
export const DEFAULT_BATCH_WORK_UNITS = 400_000;

/** An optional wall-clock bound, for runtimes whose clock advances during work. */
export interface BudgetClock {
  /** Milliseconds, monotonic; injected so tests never sleep. */
  now: () => number;
  limitMs: number;
}

/** A shared, shrinking allowance of work. Once spent it stays spent. */
export class WorkBudget {
  #left: number;
  readonly #total: number;
  readonly #deadline: number | null;
  readonly #now: (() => number) | null;

  constructor(units: number = DEFAULT_CHECK_WORK_UNITS, clock?: BudgetClock) {
    this.#left = Math.max(0, units);
    this.#total = this.#left;
    this.#now = clock?.now ?? null;
    this.#deadline = clock ? clock.now() + clock.limitMs : null;
  }

  /** Takes `units` if they are there; false (and the budget exhausted) when not. */
  spend(units: number): boolean {
    if (this.exhausted) return false;
    if (units > this.#left) {
      this.#left = 0;
      return false;
    }
    this.#left -= units;
    return true;
  }

  /** True once the work or the clock has run out. */
  get exhausted(): boolean {
    if (this.#left <= 0) return true;
    if (this.#deadline !== null && (this.#now as () => number)() >= this.#deadline) {
      this.#left = 0;
      return true;
    }
    return false;
  }

  /** Units still to spend (0 once the clock ran out). */
  get left(): number {
    return this.exhausted ? 0 : this.#left;
  }

  /** Units used so far. */
  get spent(): number {
    return this.#total - this.#left;
  }
}
