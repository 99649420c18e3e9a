/** Local receivers of alert deliveries for the tests: a webhook endpoint and an SMTP server (smtp-server), both on port 0. */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface HookCall {
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
  readonly body: any;
}

/** A webhook receiver on port 0: records each call; answers 500 `failNext` times, or never answers when `hang`. */
export async function startWebhookReceiver(path = "/hook") {
  const calls: HookCall[] = [];
  const state = { failNext: 0, hang: false };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      calls.push({ headers: req.headers, raw, body: JSON.parse(raw) });
      if (state.hang) return;
      if (state.failNext > 0) {
        state.failNext--;
        res.writeHead(500).end("boom");
      } else res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  return {
    url,
    calls,
    state,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface Mail {
  readonly from: string;
  readonly to: string[];
  readonly subject: string;
  readonly text: string;
  readonly raw: string;
}

/** A plain SMTP server on port 0 (no STARTTLS) that accepts any login and records each mail. */
export async function startSmtp() {
  const mails: Mail[] = [];
  const logins: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onAuth(auth, _session, cb) {
      logins.push(`${auth.username}:${auth.password}`);
      cb(null, { user: auth.username });
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const [head = "", ...rest] = raw.split("\r\n\r\n");
        const unfolded = head.replace(/\r\n[ \t]+/g, " ");
        const subject = /^Subject: (.*)$/m.exec(unfolded)?.[1] ?? "";
        const qp = /content-transfer-encoding: quoted-printable/i.test(unfolded);
        const body = rest.join("\r\n\r\n");
        const text = qp
          ? body.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
          : body;
        const from = session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address;
        mails.push({ from, to: session.envelope.rcptTo.map((a) => a.address), subject, text, raw });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, logins, close: () => new Promise<void>((r) => server.close(() => r())) };
}
