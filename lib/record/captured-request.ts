/**
 * A request body kept on its record for `switchyard simulate` (record steps' `captureBody`): the
 * body as the steps before the record left it (a guard-pii step in redact mode has scrubbed it),
 * or only its size when it is over the bound. Keys and headers are never kept.
 */
export type CapturedRequest = { body: Record<string, unknown> } | { truncated: true; bytes: number };

/** A record as the sinks that capture bodies store it: the core's record plus the request and the answer's digest. */
export interface CapturedFields {
  request?: CapturedRequest;
  /** sha256 of the answer's text (lib/record/answer-digest.ts); absent for requests not answered. */
  answerDigest?: string;
}

export function capturedRequest(body: Record<string, unknown>, maxBytes: number): CapturedRequest {
  const bytes = Buffer.byteLength(JSON.stringify(body));
  return bytes <= maxBytes ? { body } : { truncated: true, bytes };
}
