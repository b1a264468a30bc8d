/**
 * A WebSocket upgrade on a proxy route: the plan chooses the backend as for any request on the
 * route, the client's end-to-end headers go upstream by the same rules (no hop-by-hop header, no
 * gateway key), and the session is relayed by lib/websocket until either side ends it.
 */
import type { Attempt, EndpointIo, Exchange, PipelineHooks } from "../../core/index.js";
import { credentialHeadersOf } from "../../lib/auth/credential-headers.js";
import { HANDSHAKE_HEADERS } from "../../lib/websocket/handshake.js";
import { runSocketSession } from "../../lib/websocket/session.js";
import type { SessionCounter } from "../../lib/websocket/sessions.js";
import type { HttpProxyConfig } from "./config.generated.js";
import { PLUGIN, originForm } from "./proxy.js";
import { headersUpstream } from "./proxy-headers.js";

export async function proxySocket(x: Exchange, io: EndpointIo, hooks: PipelineHooks, candidates: readonly Attempt[], config: Required<NonNullable<HttpProxyConfig["websocket"]>>, counter: SessionCounter): Promise<void> {
  const attempts = await hooks.plan.promise(candidates.slice(), x);
  const headers = headersUpstream(io.req, credentialHeadersOf(x));
  for (const name of HANDSHAKE_HEADERS) delete headers[name];
  const path = originForm(io.req.url);
  await runSocketSession(x, io, {
    attempts, pathFor: () => path, headers, counter, source: PLUGIN,
    maxMessageBytes: config.maxMessageBytes, idleTimeoutMs: config.idleTimeoutMs,
  });
}
