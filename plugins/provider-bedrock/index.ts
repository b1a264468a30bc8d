/**
 * provider-bedrock: AWS Bedrock's Converse and ConverseStream APIs. The model id (or inference
 * profile, or ARN) goes in the path, every request is signed with SigV4, and streams arrive as
 * binary event-stream frames that are handed on as SSE (event-stream.ts) for the
 * bedrock-converse decoder. Pooling and error mapping are the shared UpstreamPool; several
 * credential sets rotate and cool down like API keys.
 */
import { ApiKeyRing } from "../../lib/upstream/credentials.js";
import { UpstreamPool } from "../../lib/upstream/pool.js";
import { checkedVectors, estimateEmbeddingTokens, readEmbeddingReply, textInputs } from "../../lib/upstream/embeddings.js";
import { definePlugin, GatewayError, type EmbeddingCall, type EmbeddingResult, type Logger, type Provider, type UpstreamCall, type UpstreamReply } from "../../core/index.js";
import type { ProviderBedrockConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import type { eventStreamAsSse } from "./event-stream.js";
import type { AwsCredentials, BedrockSigner } from "./sign.js";

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

  constructor(config: ProviderBedrockConfig, log: Logger, environment: NodeJS.ProcessEnv, private readonly aws: { BedrockSigner: typeof BedrockSigner; eventStreamAsSse: typeof eventStreamAsSse }) {
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
    this.signer = new aws.BedrockSigner(config.region, origin);
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
    return call.stream ? { ...reply, body: this.aws.eventStreamAsSse(reply.body, PLUGIN) } : reply;
  }

  /**
   * Embeddings by InvokeModel, in the model family's own body: Cohere Embed takes a batch of texts
   * (up to 96), Titan Text Embeddings one text a call (so a batch goes as calls one after another).
   */
  async embed(call: EmbeddingCall): Promise<EmbeddingResult> {
    const texts = textInputs(call, PLUGIN);
    const family = embeddingFamilyOf(call.model);
    const upstream: UpstreamCall = { ...call, format: FORMAT, body: {}, stream: false };
    const invoke = async (body: Record<string, unknown>): Promise<Record<string, unknown>> => {
      const path = `/model/${encodeURIComponent(call.model)}/invoke`;
      const text = JSON.stringify(body);
      const sendWith = async (credentials: AwsCredentials) => this.pool.send({ path, body: text, headers: await this.signer.sign(credentials, this.prefix + path, text) }, upstream);
      const reply = this.ring === undefined ? await sendWith(this.only!) : await this.ring.send((id) => sendWith(this.credentials.get(id)!));
      return (await readEmbeddingReply(reply.body, PLUGIN)) as Record<string, unknown>;
    };
    if (family === "cohere") {
      const reply = await invoke({ texts, input_type: "search_document" });
      return { vectors: checkedVectors(reply.embeddings, texts.length, PLUGIN), inputTokens: estimateEmbeddingTokens(texts) };
    }
    const vectors: number[][] = [];
    let inputTokens = 0;
    for (const inputText of texts) {
      const reply = await invoke({ inputText, ...(call.dimensions === undefined ? {} : { dimensions: call.dimensions }) });
      vectors.push(...checkedVectors([reply.embedding], 1, PLUGIN));
      inputTokens += typeof reply.inputTextTokenCount === "number" ? reply.inputTextTokenCount : estimateEmbeddingTokens([inputText]);
    }
    return { vectors, inputTokens };
  }

  /** Cohere Embed's limit on texts per call; Titan takes one and is looped. */
  readonly maxEmbeddingBatch = 96;

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

/** The embedding body a Bedrock model id takes (a region or inference-profile prefix allowed: `us.cohere.embed-…`). */
function embeddingFamilyOf(model: string): "titan" | "cohere" {
  if (/(^|[.:/])amazon\.titan-embed/.test(model)) return "titan";
  if (/(^|[.:/])cohere\.embed/.test(model)) return "cohere";
  throw GatewayError.invalidRequest(`model "${model}" is no Bedrock embedding model this gateway knows (Amazon Titan Text Embeddings, Cohere Embed)`, "model", "not_an_embedding_model");
}

function configError(message: string): GatewayError {
  return new GatewayError({ status: 500, type: "internal", code: "invalid_config", message: `${PLUGIN}: ${message}`, source: PLUGIN });
}

export default definePlugin<ProviderBedrockConfig>({
  kind: "provider",
  name: PLUGIN,
  description: "AWS Bedrock (Converse and ConverseStream), SigV4-signed, pooled and kept alive.",
  configSchema,
  async create(config, env) {
    // The AWS signing and event-stream modules load with a Bedrock backend, not with every gateway start-up.
    const [{ BedrockSigner }, { eventStreamAsSse }] = await Promise.all([import("./sign.js"), import("./event-stream.js")]);
    return new BedrockProvider(config, env.log, process.env, { BedrockSigner, eventStreamAsSse });
  },
});
