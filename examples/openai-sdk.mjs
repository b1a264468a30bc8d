// The official openai client against switchyard's default pipeline (npm start first).
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.env.SWITCHYARD_URL ?? "http://127.0.0.1:8080/v1", apiKey: process.env.SWITCHYARD_KEY ?? "sk-switchyard-demo" });

const reply = await client.chat.completions.create({
  model: "mock-small",
  messages: [{ role: "user", content: "Hello" }],
});
console.log(reply.choices[0].message.content, reply.usage);

const stream = await client.chat.completions.create({
  model: "mock-small",
  messages: [{ role: "user", content: "Hello" }],
  stream: true,
});
for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta?.content ?? "");
process.stdout.write("\n");
