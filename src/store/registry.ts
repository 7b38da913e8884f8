// Names, ids and registration order: one index for every variable.
//
// Every name maps to its variable, whatever its storage; a record's id maps to
// it too. A numeric variable's id `var_<name>_<n>` is stored only when it is
// also some variable's name; otherwise it is parsed and checked against the
// serial the table keeps, so a numeric variable costs one index entry. An
// identifier resolves as an id first, then as a name. When an id is the same
// string as another variable's name, the id wins the index slot and the name
// waits in `shadowed` until the id goes away. So whatever the index holds for
// a string is what that string resolves to: the hot paths need one lookup and
// no test of whether the string could be an id (~1.7 ns of a 10 ns read by name).

import { invalidArgument } from '../errors.js';
import { idOf, MAX_SERIAL, parseId } from '../ids.js';
import type { NumericTable } from '../storage/numeric-table.js';
import type { NumericCode, Target } from '../storage/storage.js';
import type { Variable } from '../storage/variable.js';

/** Could this string be an id (`var_<name>_<n>`)? Names that could are resolved the slow, exact way. */
const mayBeId = (identifier: string): boolean => identifier.charCodeAt(0) === 118 && identifier.startsWith('var_');

export class Registry {
  /** Every name, and every record's id, → its variable. */
  readonly index = new Map<string, Target>();
  /** Names hidden because an id is the same string (rare). */
  private readonly shadowed = new Map<string, Target>();
  /** Linked names that could be ids: while there are none, no numeric id can collide with a name. */
  private idLikeNames = 0;
  /** Numeric ids in the index (each one shadows a name). */
  private numericIds = 0;
  private nextSerial = 1;
  private nextOrder = 1;

  constructor(private readonly numeric: NumericTable | undefined) {}

  /** The variable an identifier names: an id first (record or numeric), then a name. */
  resolve(identifier: string): Target | undefined {
    if (typeof identifier !== 'string') return undefined; // reported by notFound() as invalid_argument
    const found = this.index.get(identifier);
    if (found !== undefined && typeof found !== 'number' && found.id === identifier) return found;
    if (this.numeric !== undefined && mayBeId(identifier)) {
      const byId = this.numericById(identifier);
      if (byId !== undefined) return byId;
    }
    return found;
  }

  /** The variable whose name is `name`, shadowed or not. */
  byName(name: string): Target | undefined {
    const found = this.index.get(name);
    if (found === undefined || this.nameOf(found) === name) return found;
    return this.shadowed.get(name);
  }

  nameTaken(name: string): boolean {
    return this.byName(name) !== undefined;
  }

  /** Whether `key` is some variable's name or id: an import may bring neither. */
  taken(key: string): boolean {
    return this.nameTaken(key) || this.resolve(key) !== undefined;
  }

  /**
   * Indexes a new variable under its name, a record under its id too, and a numeric variable under
   * its id when that is some variable's name. An id wins over an equal name.
   */
  link(target: Target, name: string): void {
    if (typeof target !== 'number') {
      const holder = this.index.get(target.id);
      if (holder !== undefined) {
        this.shadowed.set(target.id, holder);
        this.index.delete(target.id); // re-added below, so the map keeps ids in registration order
      }
      this.index.set(target.id, target);
    } else if (this.idLikeNames > 0) {
      // A name taken before this variable (an import brings ids) that equals its id.
      const id = idOf(name, (this.numeric as NumericTable).serial(target));
      const holder = this.index.get(id);
      if (holder !== undefined) this.indexNumericId(id, target, holder);
    }
    if (mayBeId(name)) this.idLikeNames++;
    if (this.index.has(name)) {
      this.shadowed.set(name, target);
      return;
    }
    // A name that equals a numeric variable's id: that id takes the slot.
    const byId = this.numeric !== undefined && mayBeId(name) ? this.numericById(name) : undefined;
    if (byId !== undefined) this.indexNumericId(name, byId, target);
    else this.index.set(name, target);
  }

  unlink(target: Target, name: string): void {
    // A numeric id that shadowed this name stays indexed until its own variable goes (it still resolves).
    if (this.index.get(name) === target) this.index.delete(name);
    else this.shadowed.delete(name);
    if (mayBeId(name)) this.idLikeNames--;
    const id = typeof target === 'number' ? this.storedNumericId(target, name) : target.id;
    if (id === undefined) return;
    if (typeof target === 'number') this.numericIds--;
    this.index.delete(id);
    const hidden = this.shadowed.get(id);
    if (hidden !== undefined) {
      this.shadowed.delete(id);
      this.index.set(id, hidden);
    }
  }

  /** The next registration order: unique per insertion, never reused. */
  takeOrder(): number {
    return this.nextOrder++;
  }

  /** The next serial whose id `var_<name>_<n>` is not already some variable's name (so no new id shadows a name). */
  takeSerial(name: string): number {
    for (;;) {
      // Reached only through an import of an id near MAX_SERIAL: an id must never stop parsing, or repeat.
      if (this.nextSerial > MAX_SERIAL) {
        throw invalidArgument(
          `registerVariable: this store has used every id serial up to ${MAX_SERIAL} (an import carried the last one)`,
          {
            rule: 'serial',
          },
        );
      }
      const serial = this.nextSerial++;
      if (!this.nameTaken(idOf(name, serial))) return serial;
    }
  }

  /** Serials from here on are above `serial`: no id is generated twice, imported ids included. */
  reserveSerial(serial: number): void {
    if (serial >= this.nextSerial) this.nextSerial = serial + 1;
  }

  /** The serial the next generated id would start its search from (exported, so a move keeps it). */
  get serialFloor(): number {
    return this.nextSerial;
  }

  /** Undoes takeSerial/takeOrder for a registration that failed (out_of_memory), so it uses up nothing. */
  restore(serial: number, order: number): void {
    this.nextSerial = serial;
    this.nextOrder = order;
  }

  /** The serial and order counters, to restore after a failed registration. */
  mark(): readonly [number, number] {
    return [this.nextSerial, this.nextOrder];
  }

  /** Every live variable in registration order. */
  inOrder(orderOf: (target: Target) => number): Target[] {
    const targets: Target[] = [];
    for (const [key, target] of this.index) {
      // A record is listed under its id key, a numeric variable under its name key (not its id's).
      if (typeof target === 'number' ? this.numericIds === 0 || this.nameOf(target) === key : target.id === key) targets.push(target);
    }
    // A numeric variable whose name is hidden by a record's id is reachable only by its own id.
    for (const target of this.shadowed.values()) if (typeof target === 'number') targets.push(target);
    // Shadowing re-inserts keys, so the index is in registration order except after such moves.
    for (let i = 1; i < targets.length; i++) {
      if (orderOf(targets[i - 1] as Target) > orderOf(targets[i] as Target)) {
        return targets.sort((a, b) => orderOf(a) - orderOf(b));
      }
    }
    return targets;
  }

  /** Every record, for cleanup. */
  *records(): Generator<Variable> {
    for (const target of this.index.values()) if (typeof target !== 'number') yield target;
    for (const target of this.shadowed.values()) if (typeof target !== 'number') yield target;
  }

  clear(): void {
    this.index.clear();
    this.shadowed.clear();
    this.idLikeNames = 0;
    this.numericIds = 0;
  }

  /** `id`, a numeric variable's, takes the index slot of `holder`, the variable named `id`. */
  private indexNumericId(id: string, numeric: Target, holder: Target): void {
    this.shadowed.set(id, holder);
    this.index.set(id, numeric);
    this.numericIds++;
  }

  /** The id of a numeric variable named `name`, if the index holds it. */
  private storedNumericId(target: NumericCode, name: string): string | undefined {
    if (this.numericIds === 0) return undefined;
    const id = idOf(name, (this.numeric as NumericTable).serial(target));
    return this.index.get(id) === target ? id : undefined;
  }

  private nameOf(target: Target): string {
    return typeof target === 'number' ? (this.numeric as NumericTable).name(target) : target.name;
  }

  /** The numeric variable whose id is `id`, if any: parsed, then checked against its serial. */
  private numericById(id: string): Target | undefined {
    const parsed = parseId(id);
    if (parsed === undefined) return undefined;
    const target = this.byName(parsed.name);
    return typeof target === 'number' && (this.numeric as NumericTable).serial(target) === parsed.serial ? target : undefined;
  }
}
