/** How many items fall under each key (the item itself, as a string, by default). */
export function countBy<T>(items: readonly T[], key: (t: T) => string = String): Record<string, number> {
  const out: Record<string, number> = {};
  for (const it of items) {
    const k = key(it);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
