import { describe, expect, it } from "vitest";
import { detectPii, ibanChecksumValid, luhnValid, shannonEntropy, ssnValid } from "../../../plugins/guard-pii/detectors.js";

describe("guard-pii checks", () => {
  it("Luhn accepts real test card numbers and rejects one digit off", () => {
    expect(luhnValid("4111111111111111")).toBe(true);
    expect(luhnValid("378282246310005")).toBe(true);
    expect(luhnValid("4111111111111112")).toBe(false);
  });

  it("mod-97 accepts valid IBANs and rejects a changed check digit", () => {
    expect(ibanChecksumValid("GB82WEST12345698765432")).toBe(true);
    expect(ibanChecksumValid("FR1420041010050500013M02606")).toBe(true);
    expect(ibanChecksumValid("GB83WEST12345698765432")).toBe(false);
  });

  it("SSNs in never-issued ranges or published as examples are not SSNs", () => {
    expect(ssnValid("536", "22", "1234")).toBe(true);
    for (const [a, g, s] of [["000", "12", "3456"], ["666", "12", "3456"], ["900", "12", "3456"], ["536", "00", "1234"], ["536", "22", "0000"], ["078", "05", "1120"]]) {
      expect(ssnValid(a!, g!, s!)).toBe(false);
    }
  });

  it("entropy separates random tokens from words", () => {
    expect(shannonEntropy("aaaaaaaa")).toBe(0);
    expect(shannonEntropy("Zx8Kq2LmN4pR7sT1vW3yA5bC9dE6fG0h")).toBeGreaterThan(4.5);
    expect(shannonEntropy("thisisaverylongidentifiername")).toBeLessThan(4.2);
  });

  it("reports exact spans, one kind per span", () => {
    const text = "card 4111 1111 1111 1111 or mail a@b.co";
    const found = detectPii(text);
    expect(found.map((m) => [m.kind, text.slice(m.start, m.end)])).toEqual([
      ["card", "4111 1111 1111 1111"],
      ["email", "a@b.co"],
    ]);
  });

  it("an IBAN followed by more capitals ends at its country's length", () => {
    const text = "pay DE89 3704 0044 0532 0130 00 EUR today";
    const [m] = detectPii(text);
    expect(m && text.slice(m.start, m.end)).toBe("DE89 3704 0044 0532 0130 00");
  });
});
