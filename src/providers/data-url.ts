/**
 * Base64 data URLs (`data:image/png;base64,iVBOR...`), the one inline-binary form OpenAI's shape
 * has. Only the short header is inspected: the payload, often megabytes, is sliced once, never
 * scanned by a regex.
 */
export interface DataUrl {
  mediaType: string;
  /** The base64 payload, unchanged. */
  data: string;
}

/** Parses a base64 data URL; null for anything else (http URLs, percent-encoded data URLs). */
export function parseDataUrl(url: string): DataUrl | null {
  if (!url.startsWith("data:")) return null;
  const comma = url.indexOf(",", 5);
  if (comma === -1 || comma > 256) return null;
  const header = url.slice(5, comma);
  if (!header.endsWith(";base64")) return null;
  const semi = header.indexOf(";");
  const mediaType = (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase();
  return { mediaType: mediaType || "application/octet-stream", data: url.slice(comma + 1) };
}

export function toDataUrl(mediaType: string, data: string): string {
  return `data:${mediaType};base64,${data}`;
}

/** `http:` or `https:` URL (what Anthropic can fetch itself). */
export function isHttpUrl(url: string): boolean {
  return url.startsWith("https://") || url.startsWith("http://");
}
