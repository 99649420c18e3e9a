/**
 * The tests' SSE reader (the product's parser lives in src): complete events are split off a
 * buffer at blank lines (LF or CRLF); a trailing partial event is left for more bytes, or ignored
 * at the end. Two entry points over that one splitter: `parseSse` for a whole text, `sseData` for
 * a body as it arrives.
 */

export interface SseEvent {
  event: string | undefined;
  data: string;
}

/** Splits the complete events off the front of `buf`; `rest` is what follows the last blank line. */
function take(buf: string): { events: SseEvent[]; rest: string } {
  const blocks = buf.split(/\r?\n\r?\n/);
  const rest = blocks.pop()!; // after the last separator: empty, or a partial event
  const events: SseEvent[] = [];
  for (const block of blocks) {
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (data.length > 0 || event !== undefined) events.push({ event, data: data.join("\n") });
  }
  return { events, rest };
}

/** Parses the complete SSE events of a text; a trailing partial event is ignored. */
export function parseSse(text: string): SseEvent[] {
  return take(text).events;
}

/** The non-empty `data:` payloads of an SSE byte stream, as they arrive. */
export async function* sseData(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of body) {
    const { events, rest } = take(buf + decoder.decode(chunk, { stream: true }));
    buf = rest;
    for (const e of events) if (e.data !== "") yield e.data;
  }
}
