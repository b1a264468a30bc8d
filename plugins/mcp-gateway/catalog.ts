/**
 * The MCP backends of a pipeline seen as one server: each backend's names carry its prefix
 * (`github__create_issue`), a prefixed name leads back to its backend, and a resource URI to the
 * backend that listed it (URIs are the servers' own and stay as they are).
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { UriTemplate } from "@modelcontextprotocol/sdk/shared/uriTemplate.js";
import { GatewayError } from "../../core/index.js";
import type { McpUpstream } from "../../lib/mcp/upstream.js";

export const PLUGIN = "mcp-gateway";

export interface McpBackend {
  readonly id: string;
  readonly prefix: string;
  readonly upstream: McpUpstream;
}

export class Catalog {
  /** Longest prefix first, so `gh__x` never goes to `g` when both exist. */
  private readonly byPrefix: McpBackend[];
  private readonly resourceOwners = new Map<string, string>();
  private readonly templates = new Map<string, UriTemplate[]>();

  constructor(readonly backends: readonly McpBackend[], readonly separator: string) {
    this.byPrefix = [...backends].sort((a, b) => b.prefix.length - a.prefix.length);
    for (const a of backends) {
      for (const b of backends) {
        if (a !== b && (a.prefix + separator).startsWith(b.prefix + separator)) {
          throw new GatewayError({ status: 500, type: "internal", code: "invalid_config", source: PLUGIN, message: `${PLUGIN}: backends ${a.id} and ${b.id} have prefixes that overlap ("${a.prefix}", "${b.prefix}"); set prefixes apart` });
        }
      }
    }
  }

  qualify(backend: McpBackend, name: string): string {
    return `${backend.prefix}${this.separator}${name}`;
  }

  /** The backend and its own name for a prefixed name; undefined when no backend's prefix fits. */
  resolve(qualified: string): { backend: McpBackend; name: string } | undefined {
    for (const backend of this.byPrefix) {
      const head = backend.prefix + this.separator;
      if (qualified.startsWith(head) && qualified.length > head.length) return { backend, name: qualified.slice(head.length) };
    }
    return undefined;
  }

  noteResources(backend: McpBackend, uris: readonly string[]): void {
    for (const uri of uris) this.resourceOwners.set(uri, backend.id);
  }

  noteTemplates(backend: McpBackend, uriTemplates: readonly string[]): void {
    const compiled: UriTemplate[] = [];
    for (const t of uriTemplates) {
      try {
        compiled.push(new UriTemplate(t));
      } catch {} // a template the SDK cannot parse matches nothing; the server's own list still shows it
    }
    this.templates.set(backend.id, compiled);
  }

  /** The backend a resource URI belongs to, from what the servers listed (resources first, then templates). */
  ownerOf(uri: string): McpBackend | undefined {
    const id = this.resourceOwners.get(uri) ?? [...this.templates].find(([, ts]) => ts.some((t) => t.match(uri) !== null))?.[0];
    return id === undefined ? undefined : this.backends.find((b) => b.id === id);
  }
}

type ListMethod = "tools/list" | "resources/list" | "resources/templates/list" | "prompts/list";

/** Every page of one backend's list, names prefixed. */
export async function listAll(client: Client, method: ListMethod, key: string, backend: McpBackend, catalog: Catalog): Promise<unknown[]> {
  const items: unknown[] = [];
  let cursor: string | undefined;
  do {
    const params = cursor === undefined ? {} : { cursor };
    const page = (method === "tools/list" ? await client.listTools(params) : method === "resources/list" ? await client.listResources(params) : method === "resources/templates/list" ? await client.listResourceTemplates(params) : await client.listPrompts(params)) as Record<string, unknown>;
    for (const item of (page[key] as { name: string }[] | undefined) ?? []) items.push({ ...item, name: catalog.qualify(backend, item.name) });
    cursor = typeof page.nextCursor === "string" ? page.nextCursor : undefined;
  } while (cursor !== undefined);
  return items;
}
