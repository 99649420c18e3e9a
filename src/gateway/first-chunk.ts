import type { Readable } from "node:stream";

/**
 * Waits for the first chunk of an upstream body and leaves the stream paused behind it. The
 * gateway commits to an answer only once a byte of its body has arrived: a target that sends
 * 200 headers and then dies fails over invisibly, like one that never answered.
 * Resolves null for an empty body; rejects if the body breaks first.
 */
export function firstChunk(body: Readable): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      body.pause();
      cleanup();
      resolve(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(Object.assign(new Error("upstream body closed before its first byte"), { code: "UND_ERR_SOCKET" }));
    };
    const cleanup = () => {
      body.off("data", onData);
      body.off("end", onEnd);
      body.off("error", onError);
      body.off("close", onClose);
    };
    body.on("data", onData);
    body.on("end", onEnd);
    body.on("error", onError);
    body.on("close", onClose);
  });
}
