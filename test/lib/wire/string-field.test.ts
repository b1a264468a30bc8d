import { describe, expect, it } from "vitest";
import { firstStringField } from "../../../lib/wire/string-field.js";

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
