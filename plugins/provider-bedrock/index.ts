/**
 * provider-bedrock: AWS Bedrock's Converse and ConverseStream APIs. The model id (or inference
 * profile, or ARN) goes in the path, every request is signed with SigV4, and streams arrive as
 * binary event-stream frames that are handed on as SSE (event-stream.ts) for the
 * bedrock-converse decoder. Pooling and error mapping are the shared UpstreamPool; several
 * credential sets rotate and cool down like API keys.
 */
import { ApiKeyRing } from "../../lib/upstream/credentials.js";
import { UpstreamPool } from "../../lib/upstream/pool.js";
import { definePlugin, GatewayError, type Logger, type Provider, type UpstreamCall, type UpstreamReply } from "../../core/index.js";
import type { ProviderBedrockConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { eventStreamAsSse } from "./event-stream.js";
import { BedrockSigner, type AwsCredentials } from "./sign.js";

const PLUGIN = "provider-bedrock";
const FORMAT = "bedrock-converse";

class BedrockProvider implements Provider {
  readonly formats = [FORMAT] as const;
  private readonly pool: UpstreamPool;
  private readonly signer: BedrockSigner;
  private readonly credentials: ReadonlyMap<string, AwsCredentials>;
  /** Rotation over the credential sets, by access key id (a fingerprint of it is what logs show). */
  private readonly ring: ApiKeyRing | undefined;
  private readonly only: AwsCredentials | undefined;

  constructor(config: ProviderBedrockConfig, log: Logger, environment: NodeJS.ProcessEnv) {
    const sets = credentialSets(config, environment);
    this.credentials = new Map(sets.map((c) => [c.accessKeyId, c]));
    if (this.credentials.size !== sets.length) throw configError("credentials lists the same accessKeyId twice");
    this.only = sets.length === 1 ? sets[0] : undefined;
    this.ring = sets.length > 1
      ? new ApiKeyRing({ keys: sets.map((c) => c.accessKeyId), source: PLUGIN, log, rateLimitCooldownMs: config.keyRateLimitCooldownMs, authCooldownMs: config.keyAuthCooldownMs })
      : undefined;
    const baseUrl = config.baseUrl ?? `https://bedrock-runtime.${config.region}.amazonaws.com`;
    this.pool = new UpstreamPool({
      baseUrl,
      source: PLUGIN,
      connections: config.connections,
      connectTimeoutMs: config.connectTimeoutMs,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      keepAliveMaxTimeoutMs: config.keepAliveMaxTimeoutMs,
      secrets: sets.flatMap((c) => [c.secretAccessKey, ...(c.sessionToken === undefined ? [] : [c.sessionToken])]),
    });
    const origin = new URL(baseUrl);
    this.signer = new BedrockSigner(config.region, origin);
    this.prefix = origin.pathname.replace(/\/+$/, "");
  }

  /** The base URL's own path, which the pool prefixes and the signature must cover. */
  private readonly prefix: string;

  async send(call: UpstreamCall): Promise<UpstreamReply> {
    if (call.format !== FORMAT) {
      throw new GatewayError({ status: 500, type: "internal", code: "format_not_supported", message: `${PLUGIN}: this backend does not speak "${call.format}"`, source: PLUGIN });
    }
    const path = `/model/${encodeURIComponent(call.model)}/${call.stream ? "converse-stream" : "converse"}`;
    const body = JSON.stringify(call.body);
    const sendWith = async (credentials: AwsCredentials): Promise<UpstreamReply> => {
      const headers = await this.signer.sign(credentials, this.prefix + path, body);
      return this.pool.send({ path, body, headers }, call);
    };
    const reply = this.ring === undefined ? await sendWith(this.only!) : await this.ring.send((id) => sendWith(this.credentials.get(id)!));
    return call.stream ? { ...reply, body: eventStreamAsSse(reply.body, PLUGIN) } : reply;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** The credential sets of a config, or the environment's one set when it names none. */
function credentialSets(config: ProviderBedrockConfig, environment: NodeJS.ProcessEnv): AwsCredentials[] {
  const single = config.accessKeyId !== undefined || config.secretAccessKey !== undefined;
  if (config.credentials !== undefined) {
    if (single) throw configError("set accessKeyId/secretAccessKey or credentials, not both");
    return config.credentials;
  }
  if (single) {
    if (config.accessKeyId === undefined || config.secretAccessKey === undefined) throw configError("accessKeyId and secretAccessKey go together");
    return [{ accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey, ...(config.sessionToken === undefined ? {} : { sessionToken: config.sessionToken }) }];
  }
  const accessKeyId = environment.AWS_ACCESS_KEY_ID;
  const secretAccessKey = environment.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw configError("no credentials: set accessKeyId and secretAccessKey (or credentials), or the AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY environment variables");
  }
  const sessionToken = config.sessionToken ?? environment.AWS_SESSION_TOKEN;
  return [{ accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }];
}

function configError(message: string): GatewayError {
  return new GatewayError({ status: 500, type: "internal", code: "invalid_config", message: `${PLUGIN}: ${message}`, source: PLUGIN });
}

export default definePlugin<ProviderBedrockConfig>({
  kind: "provider",
  name: PLUGIN,
  description: "AWS Bedrock (Converse and ConverseStream), SigV4-signed, pooled and kept alive.",
  configSchema,
  create(config, env) {
    return new BedrockProvider(config, env.log, process.env);
  },
});
