import { describe, expect, it } from "vitest";
import { superLinearReason } from "../../load/regex-safety.js";

describe("superLinearReason: when regexes that could block the event loop are refused", () => {
  it.each([
    "^(a+)+$",
    "(a*)*",
    "^(a|a)*$",
    "(a|ab)+c",
    "(\\w{1,3})*x",
    "(a+){3}",
    "((ab)?c+)*",
    "(?:x\\d+)+y",
    "(?<word>\\w+\\s?)*$",
    "(a)\\1",
    "(?<n>a)\\k<n>",
  ])("refuses %s", (pattern) => {
    expect(superLinearReason(pattern)).toBeDefined();
  });

  it.each([
    "^gpt-\\d",
    "^abc-\\d+$",
    "^(gpt|claude)-.*$",
    "(\\d{1,3}\\.){3}\\d{1,3}",
    "^[(a+)+]*$",
    "\\(a+\\)+",
    "(?=x+)y",
    "(?:ab)+",
    "(a|b)?c*",
    "^Bearer [A-Za-z0-9._~+/-]+=*$",
  ])("accepts %s", (pattern) => {
    expect(superLinearReason(pattern)).toBeUndefined();
  });
});
