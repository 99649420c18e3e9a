/**
 * Timeouts that need no better than a tenth of a second (a request's deadline, a first-byte
 * timeout of a second or more) on one shared clock, as undici's fast timers do. Each armed
 * timeout takes a slot of preallocated arrays and cancelling frees the slot at once: nothing is
 * allocated per timeout, and nothing a request held stays reachable once it is cancelled (an
 * entry left in a list until the next tick would keep its request alive into the old
 * generation, which costs far more than a timer). One unref'd timer ticks every 100 ms while any
 * slot is armed. Shorter timeouts get Node's own timer: they need its precision.
 *
 *   arm → a token (generation × 2^24 + slot)      cancel(token) → frees the slot if still its own
 */
const TICK_MS = 100;
/** At or above this, a timeout goes on the coarse clock. */
export const COARSE_FROM_MS = 1_000;
const SLOT_BITS = 2 ** 24;

type Fire = (arg: never) => void;

let at = new Float64Array(256);
let gen = new Uint32Array(256);
const fires: (Fire | undefined)[] = new Array<Fire | undefined>(256);
const args: unknown[] = new Array<unknown>(256);
/** Free slots, a stack; `high` slots were ever handed out. */
let free = new Int32Array(256);
let freeCount = 0;
let high = 0;
let armed = 0;
let ticker: NodeJS.Timeout | null = null;

/** A native timer's handle or a coarse slot's token: cancel it with cancelTimeout. */
export type TimeoutToken = NodeJS.Timeout | number;

/** Calls fire(arg) after about ms (within +100 ms when ms ≥ 1 s). */
export function armTimeout<A>(ms: number, fire: (arg: A) => void, arg: A): TimeoutToken {
  if (ms < COARSE_FROM_MS) return setTimeout(fire, ms, arg);
  const slot = freeCount > 0 ? (free[--freeCount] ?? takeNew()) : takeNew();
  at[slot] = Date.now() + ms;
  fires[slot] = fire;
  args[slot] = arg;
  armed++;
  if (ticker === null) {
    ticker = setInterval(tick, TICK_MS);
    ticker.unref();
  }
  return (gen[slot] ?? 0) * SLOT_BITS + slot;
}

/** Cancels an armed timeout; a token whose timeout fired or was cancelled already does nothing. */
export function cancelTimeout(token: TimeoutToken | undefined): void {
  if (token === undefined) return;
  if (typeof token !== "number") return clearTimeout(token);
  const slot = token % SLOT_BITS;
  if (gen[slot] === Math.floor(token / SLOT_BITS) && (at[slot] ?? 0) !== 0) release(slot);
}

function takeNew(): number {
  if (high === at.length) grow();
  return high++;
}

function grow(): void {
  const n = at.length * 2;
  const at2 = new Float64Array(n);
  at2.set(at);
  at = at2;
  const gen2 = new Uint32Array(n);
  gen2.set(gen);
  gen = gen2;
  const free2 = new Int32Array(n);
  free2.set(free);
  free = free2;
  fires.length = n;
  args.length = n;
}

function release(slot: number): void {
  at[slot] = 0;
  fires[slot] = undefined;
  args[slot] = undefined;
  gen[slot] = ((gen[slot] ?? 0) + 1) % 0x20000000;
  free[freeCount++] = slot;
  armed--;
}

/** Fires every due slot; stops ticking when none is armed. */
function tick(): void {
  const now = Date.now();
  for (let slot = 0; slot < high; slot++) {
    const when = at[slot] ?? 0;
    if (when === 0 || when > now) continue;
    const fire = fires[slot];
    const arg = args[slot];
    release(slot);
    (fire as ((arg: unknown) => void) | undefined)?.(arg);
  }
  if (armed === 0 && ticker !== null) {
    clearInterval(ticker);
    ticker = null;
  }
}
