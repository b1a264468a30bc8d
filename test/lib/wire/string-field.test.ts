import { describe, expect, it } from "vitest";
import { firstStringField, stringValueFollows } from "../../../lib/wire/string-field.js";

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

describe("stringValueFollows", () => {
  const after = (text: string, from = 0) => text.indexOf('"finish_reason"', from) + '"finish_reason"'.length;
  it("is true for a string value, spaced or not, and false for null", () => {
    const text = '{"finish_reason":null}{"finish_reason" :\r\n "stop"}';
    expect(stringValueFollows(text, after(text))).toBe(false);
    expect(stringValueFollows(text, after(text, 5))).toBe(true);
  });

  it("agrees with firstStringField on where a string value exists", () => {
    for (const text of ['{"content":"finish_reason","finish_reason":"length"}', '{"finish_reason":"sto', '{"finish_reason":1}', '{"content":"\\"finish_reason"}']) {
      let found = false;
      for (let i = text.indexOf('"finish_reason"'); i >= 0 && !found; i = text.indexOf('"finish_reason"', i + 1)) found = stringValueFollows(text, i + '"finish_reason"'.length);
      expect(found).toBe(firstStringField(text, "finish_reason") !== undefined || text.endsWith('"sto'));
    }
  });
});
