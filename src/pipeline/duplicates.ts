/**
 * The lines that may share a match key, found while rows are staged. Each staged
 * row's key is hashed into an open-addressing table of (hash, first line); a row
 * whose hash is already there makes both lines candidates. Every line of a real
 * duplicate is a candidate (a repeated key repeats its hash), so the duplicate check
 * (`apply.ts`) looks at the candidates alone — usually none, or a handful that only
 * share a hash — instead of indexing every staged key, which cost about 0.8 s for
 * 1.4 million schedule rows. The table takes 8 bytes per slot (16 MiB at 1.4 million
 * rows). Past {@linkcode MAX_CANDIDATES} lines it gives up, and the check indexes
 * every staged key as before.
 */
import type { SqlValue } from "./executor.ts";

/** Most candidate lines kept; a file with more duplicates is checked in full. */
export const MAX_CANDIDATES = 20_000;
const INITIAL_SLOTS = 1 << 12;
/** Largest table made up front (16 MiB); past it, the table grows as rows come. */
const MAX_PRESIZED_SLOTS = 1 << 21;
/** The table grows when it is this full. */
const LOAD = 0.75;

/**
 * FNV-1a over the key values, with a separator and a type mark per value; the row's
 * values start at `base` of `row` (exported for tests).
 */
export function hashKey(row: readonly SqlValue[], slots: readonly number[], base = 0): number {
  let h = 0x811c9dc5;
  for (const slot of slots) {
    const v = row[base + slot];
    if (typeof v === "string") {
      h = Math.imul(h ^ 0x73, 0x01000193);
      for (let i = 0; i < v.length; i++) h = Math.imul(h ^ v.charCodeAt(i), 0x01000193);
    } else if (typeof v === "number") {
      h = Math.imul(h ^ 0x6e, 0x01000193);
      if (Number.isSafeInteger(v)) {
        h = Math.imul(h ^ (v % 0x100000000), 0x01000193);
        h = Math.imul(h ^ Math.floor(v / 0x100000000), 0x01000193);
      } else {
        const s = String(v);
        for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
      }
    } else {
      h = Math.imul(h ^ 0x3f, 0x01000193);
    }
    h = Math.imul(h ^ 0x1f, 0x01000193);
  }
  return h;
}

/** What {@linkcode DuplicateCandidates} found. */
export interface DuplicateLines {
  /** Too many candidates to keep: check every staged key. */
  overflow: boolean;
  /** The candidate lines, in no particular order. */
  lines: number[];
}

/** Collects the lines whose match key may repeat another staged line's. */
export class DuplicateCandidates {
  readonly #slots: readonly number[];
  /**
   * Slot i holds a key's hash at 2i and its first line at 2i + 1 (0 for an empty
   * slot: lines start at 1), side by side so that a probe reads one cache line.
   */
  #table: Int32Array;
  #used = 0;
  #candidates = new Set<number>();
  #overflow = false;

  /**
   * `keySlots`: where the key values are in a staged row (slot 0 is its line);
   * `expectedRows`: a guess of the rows to come, so that the table seldom grows.
   */
  constructor(keySlots: readonly number[], expectedRows = 0) {
    this.#slots = keySlots;
    let slots = INITIAL_SLOTS;
    while (slots * LOAD < expectedRows && slots < MAX_PRESIZED_SLOTS) slots *= 2;
    this.#table = new Int32Array(slots * 2);
  }

  /** True when there were too many candidates to keep: check every staged key. */
  get overflow(): boolean {
    return this.#overflow;
  }

  /** The candidate lines, in no particular order. */
  get lines(): number[] {
    return [...this.#candidates];
  }

  /** The lines found, for the duplicate check (`indexStage`). */
  get found(): DuplicateLines {
    return { overflow: this.#overflow, lines: this.lines };
  }

  /**
   * Takes one staged row: its line at `row[base]`, its key values at `base` plus the
   * key slots (`base` > 0: a row among others in one statement's arguments).
   */
  add(row: readonly SqlValue[], base = 0): void {
    if (this.#overflow) return;
    const line = row[base] as number;
    const hash = hashKey(row, this.#slots, base);
    const table = this.#table;
    const mask = (table.length >> 1) - 1;
    for (let i = hash & mask;; i = (i + 1) & mask) {
      const there = table[2 * i + 1]!;
      if (there === 0) {
        table[2 * i] = hash;
        table[2 * i + 1] = line;
        if (++this.#used > (table.length >> 1) * LOAD) this.#grow();
        return;
      }
      if (table[2 * i] === hash) {
        this.#candidates.add(there);
        this.#candidates.add(line);
        if (this.#candidates.size > MAX_CANDIDATES) {
          this.#overflow = true;
          this.#candidates.clear();
          this.#table = new Int32Array(0);
        }
        return;
      }
    }
  }

  #grow(): void {
    const old = this.#table;
    const table = new Int32Array(old.length * 2);
    const mask = (table.length >> 1) - 1;
    for (let j = 0; j < old.length; j += 2) {
      const line = old[j + 1]!;
      if (line === 0) continue;
      let i = old[j]! & mask;
      while (table[2 * i + 1] !== 0) i = (i + 1) & mask;
      table[2 * i] = old[j]!;
      table[2 * i + 1] = line;
    }
    this.#table = table;
  }
}
