import { describe, expect, it } from "vitest";
import { compileGlob } from "../../../core/contract/glob.js";

describe("compileGlob", () => {
  it("matches * as any run, including empty, and everything else literally", () => {
    const g = compileGlob("a*b*c");
    expect(["abc", "aXbYc", "abbc", "a*b*c"].map(g)).toEqual([true, true, true, true]);
    expect(["ab", "acb", "xabc", "abcx"].map(g)).toEqual([false, false, false, false]);
    expect(compileGlob("a.b")("axb")).toBe(false);
    expect(compileGlob("*")("")).toBe(true);
    expect(compileGlob("ab*ba")("aba")).toBe(false);
  });

  it("takes regex characters literally and lets * run over line breaks", () => {
    expect(compileGlob("gpt-4o*")("gpt-4o-mini")).toBe(true);
    expect(compileGlob("gpt-4o*")("gpt-4")).toBe(false);
    expect(compileGlob("a+(b)?[c]")("a+(b)?[c]")).toBe(true);
    expect(compileGlob("a+(b)?[c]")("aab[c]")).toBe(false);
    expect(compileGlob("x*y")("x\ny")).toBe(true);
  });

  it("never lets * run over a /: model names and paths keep their segments", () => {
    expect(compileGlob("gemini-*")("gemini-x/../../../stats")).toBe(false);
    expect(compileGlob("*")("openai/gpt-4o")).toBe(false);
    expect(compileGlob("openai/*")("openai/gpt-4o")).toBe(true);
    expect(compileGlob("openai/*")("openai/x/y")).toBe(false);
    expect(compileGlob("*/*")("a/b")).toBe(true);
    expect(compileGlob("/api/*/data")("/api/private/data")).toBe(true);
    expect(compileGlob("/api/*/data")("/api/a/b/data")).toBe(false);
  });

  it("runs * over / in free text when asked (header and body values)", () => {
    expect(compileGlob("*bot*", { acrossSlashes: true })("Mozilla/5.0 (compatible; Googlebot/2.1)")).toBe(true);
    expect(compileGlob("*bot*")("Mozilla/5.0 (compatible; Googlebot/2.1)")).toBe(false);
  });

  it("without * matches the exact text only", () => {
    expect(compileGlob("claude-3")("claude-3")).toBe(true);
    expect(compileGlob("claude-3")("claude-3-opus")).toBe(false);
  });
});
