/**
 * Bytes on a bare TCP socket, exactly as written: for what no HTTP client would send (smuggling
 * shapes, garbage, a slowloris) and for watching when the server closes the connection.
 */
import { connect } from "node:net";

export interface RawExchange {
  /** Everything the server sent, as latin1 (bytes one to one). */
  text: string;
  /** The status of each response in it, in order (pipelined requests give several). */
  statuses: number[];
  /** The server ended or reset the connection before the client gave up waiting. */
  closedByServer: boolean;
  /** Parts the client had written when the connection ended (a slowloris cut early wrote fewer). */
  written: number;
}

export interface RawOptions {
  /** Pause between parts (a slow client). */
  gapMs?: number;
  /** After the last part: how long to wait for the server to close before the client does. */
  waitMs?: number;
  /** Wait for this many responses between parts i and i+1 (keep-alive exchanges): part i+1 goes once `statuses.length > i`. */
  inTurn?: boolean;
}

/** Writes the parts (with pauses), then waits for the server to close or waitMs to pass. */
export function rawExchange(url: string, parts: readonly (string | Buffer)[], opts: RawOptions = {}): Promise<RawExchange> {
  const u = new URL(url);
  const gap = opts.gapMs ?? 0;
  const wait = opts.waitMs ?? 3_000;
  return new Promise((resolve) => {
    const socket = connect(Number(u.port), u.hostname);
    let text = "";
    let written = 0;
    let closedByServer = false;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, statuses: statusesOf(text), closedByServer, written });
    };
    const next = () => {
      if (done || socket.destroyed) return;
      if (written === parts.length) {
        timer = setTimeout(finish, wait);
        return;
      }
      if (opts.inTurn === true && written > 0 && statusesOf(text).length < written) {
        timer = setTimeout(next, 5);
        return;
      }
      socket.write(parts[written++] as string | Buffer);
      timer = setTimeout(next, gap);
    };
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => (text += d));
    socket.on("end", () => {
      closedByServer = true;
      finish();
    });
    socket.on("error", () => {
      closedByServer = true;
      finish();
    });
    socket.on("connect", next);
  });
}

function statusesOf(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

/** A request head (and body) with CRLF line ends, the host taken from the URL. */
export function rawRequest(url: string, method: string, path: string, headers: readonly string[] = [], body = ""): string {
  const host = new URL(url).host;
  return `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\n${headers.map((h) => `${h}\r\n`).join("")}\r\n${body}`;
}
