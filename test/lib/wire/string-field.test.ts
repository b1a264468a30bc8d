import { describe, expect, it } from "vitest";
import { firstStringField, firstStringFieldAt } from "../../../lib/wire/string-field.js";

describe("firstStringField", () => {
  it("reads the first string value of a key, spaced or not, escapes decoded", () => {
    expect(firstStringField('{"a":1,"finish_reason":"stop"}', "finish_reason")).toBe("stop");
    expect(firstStringField('{"finish_reason" :  "to\\"ol"}', "finish_reason")).toBe('to"ol');
  });

  it("gives undefined for a null value, a missing key and a cut-off string", () => {
    expect(firstStringField('{"finish_reason":null}', "finish_reason")).toBeUndefined();
    expect(firstStringField('{"other":"x"}', "finish_reason")).toBeUndefined();
    expect(firstStringField('{"finish_reason":"sto', "finish_reason")).toBeUndefined();
  });

  it("never reads the key out of a string value", () => {
    expect(firstStringField('{"content":"\\"finish_reason\\":\\"stop\\"","finish_reason":null}', "finish_reason")).toBeUndefined();
    expect(firstStringField('{"content":"finish_reason","finish_reason":"length"}', "finish_reason")).toBe("length");
  });
});

describe("firstStringFieldAt", () => {
  const key = Buffer.from('"finish_reason"');
  it("finds the first key whose value is a string, spaced or not, and skips nulls", () => {
    const text = '{"finish_reason":null}{"finish_reason" :\r\n "stop"}';
    expect(firstStringFieldAt(Buffer.from(text), key)).toBe(text.indexOf('"finish_reason" :'));
    expect(firstStringFieldAt(Buffer.from('{"finish_reason":null}'), key)).toBe(-1);
  });

  it("agrees with firstStringField on where a string value exists", () => {
    for (const text of ['{"content":"\\"finish_reason\\":\\"stop\\""}', '{"content":"finish_reason","finish_reason":"length"}', '{"finish_reason":"sto', "{}"]) {
      const at = firstStringFieldAt(Buffer.from(text), key);
      expect(at >= 0).toBe(firstStringField(text, "finish_reason") !== undefined || text.endsWith('"sto'));
    }
  });
});
