import { connect } from "node:net";

/** Sends one request exactly as written (no client-side path normalisation) and returns status and body. */
export function rawRequest(url: string, requestLine: string, headers: Record<string, string> = {}, body = ""): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname);
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (d) => (data += d));
    socket.on("error", reject);
    socket.on("end", () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, body: data.slice(data.indexOf("\r\n\r\n") + 4) });
    });
    const head = Object.entries({ host: u.host, connection: "close", "content-length": String(Buffer.byteLength(body)), ...headers })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");
    socket.write(`${requestLine}\r\n${head}\r\n${body}`);
  });
}
