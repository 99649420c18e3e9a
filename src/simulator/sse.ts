/**
 * Server-sent event framing for the three LLM dialects. OpenAI sends bare `data:` lines (ending
 * with `data: [DONE]`), Anthropic names every event, Gemini ends events with CRLF CRLF as the
 * real API does (a gateway's SSE parser must cope with both line endings).
 */

export function sseData(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function sseDataCrlf(data: unknown): string {
  return `data: ${JSON.stringify(data)}\r\n\r\n`;
}

export const SSE_DONE = "data: [DONE]\n\n";
