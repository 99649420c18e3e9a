/** Turns upstream body chunks into what the client is sent. */
export interface BodyTransform {
  push(chunk: Buffer): string | Buffer;
  /** The upstream ended: whatever is left to send. */
  end(): string | Buffer;
  /** The upstream broke after the first byte: the closing bytes, or null to cut the answer short. */
  broken(code: string): string | null;
  /** Set once the answer failed inside the stream (an upstream error event): stop reading. */
  readonly failure: string | null;
}
