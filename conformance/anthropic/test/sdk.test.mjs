// The Anthropic TypeScript SDK (npm "@anthropic-ai/sdk") against qwenmock's
// Anthropic-compatible endpoint, POST /apps/anthropic/v1/messages, as DashScope serves it.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import {
  MODEL, KEY, launch, startMock, compatBase, recordingFetch, fixtureFile, advanceClock,
  WEATHER_QUESTION, WEATHER_RESULT, WEATHER_ANSWER, WEATHER_SCHEMA, PRIME_QUESTION, PRIME_ANSWER, PRIME_REASONING,
  LONG_PROMPT, anthropicBase, anthropicFrames, checkAnthropicStream,
  MSG_ID, TOOLU_ID, USAGE_KEYS, RANGE_100, RATE_QUOTA_BODY,
} from '../../qwenmock.mjs';

const client = (url, { key = KEY, authToken, maxRetries = 0, fetch = recordingFetch() } = {}) =>
  new Anthropic({ apiKey: authToken ? null : key, authToken: authToken ?? null, baseURL: anthropicBase(url), maxRetries, fetch });

const weatherTool = [{ name: 'get_weather', description: 'Current weather of a city', input_schema: WEATHER_SCHEMA }];
const user = (content) => [{ role: 'user', content }];

/** The same conversation through the compatible endpoint: content, reasoning and usage. */
async function compatTurn(url, body) {
  const res = await fetch(`${compatBase(url)}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ model: MODEL, ...body }),
  });
  const json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(json));
  return { ...json.choices[0].message, usage: json.usage };
}

function checkWeatherUse(block) {
  assert.equal(block.type, 'tool_use');
  assert.match(block.id, TOOLU_ID);
  assert.equal(block.name, 'get_weather');
  assert.deepEqual(block.input, { city: 'Hangzhou', unit: 'celsius' });
}

describe('@anthropic-ai/sdk', () => {
  let mock;
  before(async () => { mock = await launch(['--fixtures', await fixtureFile()]); });
  after(async () => assert.equal(await mock.stop(), 0));

  test('non-stream: msg_<uuid>, end_turn, stop_sequence null, four usage fields; same as the compatible endpoint', async () => {
    const fetch = recordingFetch();
    const system = 'You are a helpful assistant.';
    const msg = await client(mock.url, { fetch }).messages.create({
      model: MODEL, max_tokens: 1024, system, messages: user('你是谁？'),
    });
    const ex = fetch.last();
    assert.match(ex.headers.get('content-type'), /^application\/json/);
    assert.match(msg.id, MSG_ID);
    assert.equal(msg.type, 'message');
    assert.equal(msg.role, 'assistant');
    assert.equal(msg.model, MODEL);
    assert.equal(msg.stop_reason, 'end_turn');
    assert.equal(msg.stop_sequence, null);
    assert.deepEqual(Object.keys(msg.usage).sort(), USAGE_KEYS);
    assert.equal(msg.content.length, 1);
    assert.equal(msg.content[0].type, 'text');
    const compat = await compatTurn(mock.url, { messages: [{ role: 'system', content: system }, { role: 'user', content: '你是谁？' }] });
    assert.equal(msg.usage.input_tokens, 22);
    assert.equal(msg.usage.input_tokens, compat.usage.prompt_tokens);
    assert.equal(msg.usage.output_tokens, compat.usage.completion_tokens);
    assert.equal(msg.content[0].text, compat.content);
  });

  test('authToken (Authorization: Bearer) is accepted like x-api-key', async () => {
    const msg = await client(mock.url, { authToken: KEY }).messages.create({ model: MODEL, max_tokens: 16, messages: user('hi') });
    assert.equal(msg.type, 'message');
  });

  test('stream: raw events and messages.stream().finalMessage() match the non-stream answer', async () => {
    const fetch = recordingFetch();
    const c = client(mock.url, { fetch });
    const params = { model: MODEL, max_tokens: 1024, messages: user('Tell me a short story.') };
    const want = await c.messages.create(params);

    const events = [];
    for await (const ev of await c.messages.create({ ...params, stream: true })) events.push(ev);
    const ex = fetch.last();
    assert.match(ex.headers.get('content-type'), /^text\/event-stream/);
    const frames = checkAnthropicStream(await ex.text);
    assert.deepEqual(events.map((e) => e.type), frames.map((f) => f.event), 'the SDK yields every event but ping');
    assert.equal(events[0].message.usage.output_tokens, 0);
    assert.equal(events.at(-2).usage.input_tokens, want.usage.input_tokens, 'message_delta repeats input_tokens');

    const final = await c.messages.stream(params).finalMessage();
    assert.match(final.id, MSG_ID);
    assert.equal(final.stop_reason, 'end_turn');
    assert.equal(final.content[0].text, want.content[0].text);
    assert.equal(final.usage.input_tokens, want.usage.input_tokens);
    assert.equal(final.usage.output_tokens, want.usage.output_tokens);
  });

  test('tool use, then the tool result', async () => {
    const c = client(mock.url);
    const messages = user(WEATHER_QUESTION);
    const msg = await c.messages.create({ model: MODEL, max_tokens: 1024, messages, tools: weatherTool });
    assert.equal(msg.stop_reason, 'tool_use');
    assert.equal(msg.content.length, 1);
    checkWeatherUse(msg.content[0]);
    messages.push({ role: 'assistant', content: msg.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: msg.content[0].id, content: WEATHER_RESULT }] });
    const next = await c.messages.create({ model: MODEL, max_tokens: 1024, messages, tools: weatherTool });
    assert.equal(next.stop_reason, 'end_turn');
    assert.equal(next.content[0].text, WEATHER_ANSWER);
  });

  test('streamed tool use: input_json_delta fragments accumulate into the input', async () => {
    const fetch = recordingFetch();
    const c = client(mock.url, { fetch });
    const messages = user(WEATHER_QUESTION);
    const stream = c.messages.stream({ model: MODEL, max_tokens: 1024, messages, tools: weatherTool });
    const final = await stream.finalMessage();
    const frames = checkAnthropicStream(await fetch.last().text);
    const start = frames.find((f) => f.event === 'content_block_start');
    assert.deepEqual(start.data.content_block.input, {});
    const fragments = frames.filter((f) => f.data.delta?.type === 'input_json_delta');
    assert.ok(fragments.length >= 2, `${fragments.length} input_json_delta events`);
    assert.equal(final.stop_reason, 'tool_use');
    checkWeatherUse(final.content[0]);
    messages.push({ role: 'assistant', content: final.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: final.content[0].id, content: WEATHER_RESULT }] });
    const next = await c.messages.stream({ model: MODEL, max_tokens: 1024, messages, tools: weatherTool }).finalMessage();
    assert.equal(next.content[0].text, WEATHER_ANSWER);
  });

  test('thinking: a thinking block with an empty signature, stream and non-stream', async () => {
    const fetch = recordingFetch();
    const c = client(mock.url, { fetch });
    const params = { model: MODEL, max_tokens: 1024, messages: user(PRIME_QUESTION), thinking: { type: 'enabled', budget_tokens: 2048 } };
    const msg = await c.messages.create(params);
    assert.deepEqual(msg.content, [
      { type: 'thinking', thinking: PRIME_REASONING, signature: '' },
      { type: 'text', text: PRIME_ANSWER },
    ]);
    const compat = await compatTurn(mock.url, { enable_thinking: true, messages: user(PRIME_QUESTION) });
    assert.equal(msg.usage.output_tokens, compat.usage.completion_tokens, 'output_tokens include the thinking');

    const stream = c.messages.stream(params);
    const thinking = [];
    stream.on('thinking', (delta) => thinking.push(delta));
    const final = await stream.finalMessage();
    checkAnthropicStream(await fetch.last().text);
    assert.equal(thinking.join(''), PRIME_REASONING);
    assert.deepEqual(final.content, msg.content);
    assert.equal(final.usage.output_tokens, msg.usage.output_tokens);
  });

  test('max_tokens bounds the answer, not the thinking; without thinking it bounds the output', async () => {
    const c = client(mock.url);
    const msg = await c.messages.create({
      model: MODEL, max_tokens: 3, messages: user(PRIME_QUESTION), thinking: { type: 'enabled', budget_tokens: 2048 },
    });
    const compat = await compatTurn(mock.url, { enable_thinking: true, messages: user(PRIME_QUESTION) });
    assert.equal(msg.stop_reason, 'max_tokens');
    assert.equal(msg.content[0].thinking, PRIME_REASONING);
    assert.ok(PRIME_ANSWER.startsWith(msg.content[1].text), msg.content[1].text);
    assert.equal(msg.usage.output_tokens, compat.usage.completion_tokens_details.reasoning_tokens + 3);

    const plain = await c.messages.create({ model: MODEL, max_tokens: 5, messages: user('Tell me a short story.') });
    assert.equal(plain.stop_reason, 'max_tokens');
    assert.equal(plain.usage.output_tokens, 5);
  });

  test('a matched stop sequence still gives end_turn and stop_sequence null', async () => {
    const msg = await client(mock.url).messages.create({
      model: MODEL, max_tokens: 1024, messages: user(PRIME_QUESTION), stop_sequences: [','],
    });
    assert.equal(msg.stop_reason, 'end_turn');
    assert.equal(msg.stop_sequence, null);
    assert.equal(msg.content[0].text, 'Yes');
  });

  test('count_tokens equals the usage of the same request', async () => {
    const n = await client(mock.url).messages.countTokens({
      model: MODEL, system: 'You are a helpful assistant.', messages: user('你是谁？'),
    });
    assert.deepEqual(n, { input_tokens: 22 });
  });
});

describe('@anthropic-ai/sdk errors', () => {
  test('context overflow: SSE-framed DashScope 400, BadRequestError, not retried', async (t) => {
    const url = await startMock(t, ['--max-input-tokens', '100']);
    const fetch = recordingFetch();
    const c = client(url, { fetch, maxRetries: 2 });
    const params = { model: MODEL, max_tokens: 16, messages: user(LONG_PROMPT) };
    await assert.rejects(c.messages.create(params), (err) => {
      assert.ok(err instanceof Anthropic.BadRequestError, err.constructor.name);
      assert.equal(err.status, 400);
      assert.equal(err.type, null);
      assert.ok(err.message.startsWith(`400 event:error\ndata:{"code":"InvalidParameter","message":"${RANGE_100}","request_id":"`), err.message);
      return true;
    });
    assert.equal(fetch.exchanges.length, 1, 'a 400 is not retried');
    await assert.rejects(c.messages.stream(params).finalMessage(), (err) => {
      assert.ok(err instanceof Anthropic.BadRequestError, err.constructor.name);
      return true;
    });
    assert.equal(fetch.exchanges.length, 2);
  });

  test('context overflow with --anthropic-errors anthropic: invalid_request_error', async (t) => {
    const url = await startMock(t, ['--max-input-tokens', '100', '--anthropic-errors', 'anthropic']);
    const fetch = recordingFetch();
    await assert.rejects(client(url, { fetch, maxRetries: 2 }).messages.create({ model: MODEL, max_tokens: 16, messages: user(LONG_PROMPT) }), (err) => {
      assert.ok(err instanceof Anthropic.BadRequestError);
      assert.equal(err.type, 'invalid_request_error');
      assert.equal(err.apiMessage, RANGE_100);
      assert.equal(err.error.type, 'error');
      assert.ok(err.error.request_id);
      return true;
    });
    assert.equal(fetch.exchanges.length, 1);
  });

  test('wrong key: AuthenticationError with the native body', async (t) => {
    const url = await startMock(t, ['--api-key', 'sk-good']);
    await assert.rejects(client(url).messages.create({ model: MODEL, max_tokens: 16, messages: user('hi') }), (err) => {
      assert.ok(err instanceof Anthropic.AuthenticationError);
      assert.equal(err.error.code, 'InvalidApiKey');
      assert.equal(err.error.message, 'Invalid API-key provided.');
      return true;
    });
  });

  for (const mode of ['dashscope', 'anthropic']) {
    test(`429 (${mode} body): retried twice, then RateLimitError`, async (t) => {
      const url = await startMock(t, ['--rpm', '1', '--anthropic-errors', mode]);
      const fetch = recordingFetch();
      const c = client(url, { fetch, maxRetries: 2 });
      const params = { model: MODEL, max_tokens: 5, messages: user('hi') };
      await c.messages.create(params);
      await assert.rejects(c.messages.create(params), (err) => {
        assert.ok(err instanceof Anthropic.RateLimitError, err.constructor.name);
        assert.equal(err.type, mode === 'anthropic' ? 'rate_limit_error' : null);
        return true;
      });
      assert.deepEqual(fetch.exchanges.map((e) => e.status), [200, 429, 429, 429]);
      const last = fetch.last();
      assert.equal(last.headers.get('retry-after'), null, 'DashScope sends no Retry-After');
      if (mode === 'dashscope') assert.ok((await last.text).includes(RATE_QUOTA_BODY), await last.text);
    });
  }

  test('429 with --rate-limit-headers: the retry waits retry-after-ms and gets through', async (t) => {
    const url = await startMock(t, ['--rpm', '1', '--rate-limit-headers']);
    const fetch = recordingFetch();
    const c = client(url, { fetch, maxRetries: 2 });
    const params = { model: MODEL, max_tokens: 5, messages: user('hi') };
    await c.messages.create(params);
    await advanceClock(url, 59);
    await c.messages.create(params);
    assert.deepEqual(fetch.exchanges.map((e) => e.status), [200, 429, 200]);
  });

  test('an error mid-stream (HTTP 200, event:error with the native body) ends the stream with APIError', async (t) => {
    const url = await startMock(t);
    const fetch = recordingFetch();
    const stream = client(url, { fetch }).messages.stream(
      { model: MODEL, max_tokens: 1024, messages: user('Tell me a short story.') },
      { headers: { 'X-Mock-Fault': 'internal; after_chunks=3' } },
    );
    await assert.rejects(stream.finalMessage(), (err) => {
      assert.ok(err instanceof Anthropic.APIError, err.constructor.name);
      assert.equal(err.status, undefined);
      assert.equal(err.error.code, 'InternalError');
      return true;
    });
    const frames = anthropicFrames(await fetch.last().text);
    assert.equal(frames.at(-1).event, 'error');
  });
});
