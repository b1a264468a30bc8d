/**
 * AWS Signature Version 4 for Bedrock runtime calls, by the AWS SDK's own signer
 * (`@smithy/signature-v4` with `@aws-crypto/sha256-js`): no hand-written crypto. The signature
 * covers the method, the path as sent (the signer escapes it once more, as AWS wants for every
 * service but S3), the host, the date, the content type and the body's hash.
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Bedrock's runtime signs as service `bedrock`. */
const SERVICE = "bedrock";

export class BedrockSigner {
  private readonly signers = new Map<string, SignatureV4>();

  constructor(private readonly region: string, private readonly origin: URL) {}

  /** The headers that carry the signature (authorization, x-amz-date, x-amz-content-sha256, x-amz-security-token). */
  async sign(credentials: AwsCredentials, path: string, body: string): Promise<Record<string, string>> {
    const signer = this.signerFor(credentials);
    const signed = await signer.sign({
      method: "POST",
      protocol: this.origin.protocol,
      hostname: this.origin.hostname,
      port: this.origin.port === "" ? undefined : Number(this.origin.port),
      path,
      query: {},
      headers: { host: this.origin.host, "content-type": "application/json" },
      body,
    });
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers)) {
      const key = name.toLowerCase();
      // The pool sends these itself, with the same values.
      if (key !== "host" && key !== "content-type") out[key] = value;
    }
    return out;
  }

  private signerFor(credentials: AwsCredentials): SignatureV4 {
    let signer = this.signers.get(credentials.accessKeyId);
    if (signer === undefined) {
      signer = new SignatureV4({ service: SERVICE, region: this.region, credentials, sha256: Sha256, uriEscapePath: true, applyChecksum: true });
      this.signers.set(credentials.accessKeyId, signer);
    }
    return signer;
  }
}
