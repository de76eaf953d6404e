// The OpenAI Node SDK (npm "openai") against qwenmock's OpenAI-compatible endpoint.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import {
  MODEL, KEY, launch, startMock, compatBase, recordingFetch, checkChunks, errorEnvelope, fixtureFile,
  advanceClock, WEATHER_QUESTION, WEATHER_ARGS, WEATHER_RESULT, WEATHER_ANSWER,
  WEATHER_SCHEMA, PRIME_QUESTION, PRIME_ANSWER, PRIME_REASONING, JSON_QUESTION, LONG_PROMPT,
  CONTEXT_MESSAGE, WRONG_KEY_MESSAGE, JSON_WORD_MESSAGE, RPM_MESSAGE, TPM_MESSAGE, TPM_LIMIT,
} from '../../qwenmock.mjs';

const client = (url, { key = KEY, maxRetries = 0, fetch = recordingFetch() } = {}) =>
  new OpenAI({ apiKey: key, baseURL: compatBase(url), maxRetries, fetch });

const weatherTool = [{
  type: 'function',
  function: { name: 'get_weather', description: 'Current weather of a city', parameters: WEATHER_SCHEMA },
}];

const user = (content) => [{ role: 'user', content }];

describe('openai-node', () => {
  let mock;
  before(async () => { mock = await launch(['--fixtures', await fixtureFile()]); });
  after(async () => assert.equal(await mock.stop(), 0));

  test('non-stream: usage, id and x-request-id (requestID)', async () => {
    const fetch = recordingFetch();
    const { data, request_id: requestID } = await client(mock.url, { fetch }).chat.completions.create({
      model: MODEL,
      messages: [{ role: 'system', content: 'You are a helpful assistant.' }, { role: 'user', content: '你是谁？' }],
    }).withResponse();
    const ex = fetch.last();
    assert.match(ex.headers.get('content-type'), /^application\/json/);
    assert.ok(requestID, 'x-request-id');
    assert.equal(data._request_id, requestID);
    assert.equal(data.id, `chatcmpl-${requestID}`);
    assert.equal(data.object, 'chat.completion');
    assert.equal(data.usage.prompt_tokens, 22);
    assert.equal(data.usage.total_tokens, data.usage.prompt_tokens + data.usage.completion_tokens);
    assert.equal(data.choices[0].finish_reason, 'stop');
    assert.ok(data.choices[0].message.content.length > 0);
  });

  test('models list', async () => {
    const ids = [];
    for await (const m of client(mock.url).models.list()) {
      assert.equal(m.object, 'model');
      ids.push(m.id);
    }
    assert.ok(ids.includes(MODEL), ids.join(' '));
  });

  test('stream with include_usage: one id, usage chunk with "choices":[]', async () => {
    const fetch = recordingFetch();
    const c = client(mock.url, { fetch });
    const params = { model: MODEL, messages: user('Tell me a short story.') };
    const want = await c.chat.completions.create(params);
    const stream = await c.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const ex = fetch.last();
    assert.match(ex.headers.get('content-type'), /^text\/event-stream/);
    checkChunks(await ex.text, true);
    assert.ok(chunks.length >= 4);
    assert.ok(chunks.every((ch) => ch.id === chunks[0].id));
    const usageChunk = chunks.at(-1);
    assert.deepEqual(usageChunk.choices, []);
    assert.deepEqual(
      [usageChunk.usage.prompt_tokens, usageChunk.usage.completion_tokens, usageChunk.usage.total_tokens],
      [want.usage.prompt_tokens, want.usage.completion_tokens, want.usage.total_tokens],
    );
    assert.ok(chunks.slice(0, -1).every((ch) => ch.usage === null));
    const text = chunks.map((ch) => ch.choices[0]?.delta?.content ?? '').join('');
    assert.equal(text, want.choices[0].message.content);
    assert.equal(chunks.at(-2).choices[0].finish_reason, 'stop');

    // The SDK's stream helper accumulates the same completion.
    const final = await c.chat.completions.stream({ ...params, stream_options: { include_usage: true } }).finalChatCompletion();
    assert.equal(final.choices[0].message.content, want.choices[0].message.content);
    assert.equal(final.usage.completion_tokens, want.usage.completion_tokens);
  });

  test('tool call, then the tool result', async () => {
    const c = client(mock.url);
    const messages = user(WEATHER_QUESTION);
    const resp = await c.chat.completions.create({ model: MODEL, messages, tools: weatherTool });
    const choice = resp.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, '');
    assert.equal(choice.message.tool_calls.length, 1);
    const call = choice.message.tool_calls[0];
    assert.match(call.id, /^call_[0-9a-f]{24}$/);
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.equal(call.function.arguments, WEATHER_ARGS);
    messages.push(choice.message, { role: 'tool', tool_call_id: call.id, content: WEATHER_RESULT });
    const next = await c.chat.completions.create({ model: MODEL, messages, tools: weatherTool });
    assert.equal(next.choices[0].finish_reason, 'stop');
    assert.equal(next.choices[0].message.content, WEATHER_ANSWER);
  });

  test('streamed tool call, accumulated by the stream helper, then the tool result', async () => {
    const fetch = recordingFetch();
    const c = client(mock.url, { fetch });
    const messages = user(WEATHER_QUESTION);
    const runner = c.chat.completions.stream({ model: MODEL, messages, tools: weatherTool, stream_options: { include_usage: true } });
    const final = await runner.finalChatCompletion();
    const chunks = checkChunks(await fetch.last().text, true);
    const deltas = chunks.flatMap((ch) => ch.choices.flatMap((cc) => cc.delta.tool_calls ?? []));
    assert.ok(deltas.length >= 3);
    assert.ok(deltas.slice(1).every((d) => d.id === '' && d.type === 'function'), 'later deltas repeat type with an empty id');
    const choice = final.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.tool_calls.length, 1);
    const call = choice.message.tool_calls[0];
    assert.match(call.id, /^call_[0-9a-f]{24}$/);
    assert.equal(call.function.name, 'get_weather');
    assert.equal(call.function.arguments, WEATHER_ARGS);
    messages.push({ role: 'assistant', content: '', tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: WEATHER_RESULT });
    const next = await c.chat.completions.stream({ model: MODEL, messages, tools: weatherTool }).finalChatCompletion();
    assert.equal(next.choices[0].finish_reason, 'stop');
    assert.equal(next.choices[0].message.content, WEATHER_ANSWER);
  });

  test('JSON mode, and the 400 without the word json', async () => {
    const c = client(mock.url);
    const resp = await c.chat.completions.create({ model: MODEL, messages: user(JSON_QUESTION), response_format: { type: 'json_object' } });
    const obj = JSON.parse(resp.choices[0].message.content);
    assert.equal(typeof obj, 'object');
    assert.ok(obj !== null && !Array.isArray(obj));
    await assert.rejects(
      c.chat.completions.create({ model: MODEL, messages: user('List three colours.'), response_format: { type: 'json_object' } }),
      (err) => {
        assert.ok(err instanceof OpenAI.BadRequestError);
        assert.equal(err.status, 400);
        assert.equal(err.code, 'invalid_parameter_error');
        assert.equal(err.error.message, JSON_WORD_MESSAGE);
        return true;
      },
    );
  });

  test('thinking: reasoning_content reaches the caller', async () => {
    const c = client(mock.url);
    const params = { model: MODEL, messages: user(PRIME_QUESTION), enable_thinking: true };
    const resp = await c.chat.completions.create(params);
    assert.equal(resp.choices[0].message.reasoning_content, PRIME_REASONING);
    assert.equal(resp.choices[0].message.content, PRIME_ANSWER);
    const { reasoning_tokens: reasoningTokens } = resp.usage.completion_tokens_details;
    assert.ok(reasoningTokens > 0 && reasoningTokens < resp.usage.completion_tokens);

    const stream = await c.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
    let reasoning = '';
    let content = '';
    let usage;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta;
      reasoning += delta?.reasoning_content ?? '';
      content += delta?.content ?? '';
      usage = chunk.usage ?? usage;
    }
    assert.equal(reasoning, PRIME_REASONING);
    assert.equal(content, PRIME_ANSWER);
    assert.equal(usage.completion_tokens_details.reasoning_tokens, reasoningTokens);
  });

  test('content as an array of text parts', async () => {
    const c = client(mock.url);
    const text = 'Summarise the plot of Hamlet.';
    const asString = await c.chat.completions.create({ model: MODEL, messages: user(text) });
    const asParts = await c.chat.completions.create({ model: MODEL, messages: user([{ type: 'text', text }]) });
    assert.equal(asParts.usage.prompt_tokens, asString.usage.prompt_tokens);
    assert.equal(asParts.choices[0].message.content, asString.choices[0].message.content);
  });

  test('max_tokens: finish_reason length, completion_tokens == max_tokens', async () => {
    const c = client(mock.url);
    const params = { model: MODEL, messages: user('Who are you?'), max_tokens: 5 };
    const resp = await c.chat.completions.create(params);
    assert.equal(resp.choices[0].finish_reason, 'length');
    assert.equal(resp.usage.completion_tokens, 5);
    const final = await c.chat.completions.stream({ ...params, stream_options: { include_usage: true } }).finalChatCompletion();
    assert.equal(final.choices[0].finish_reason, 'length');
    assert.equal(final.usage.completion_tokens, 5);
    assert.equal(final.choices[0].message.content, resp.choices[0].message.content);
  });
});

test('openai-node: context window 400', async (t) => {
  const url = await startMock(t, ['--max-input-tokens', '100']);
  const fetch = recordingFetch();
  const c = client(url, { fetch });
  await assert.rejects(c.chat.completions.create({ model: MODEL, messages: user(LONG_PROMPT) }), (err) => {
    assert.ok(err instanceof OpenAI.BadRequestError);
    assert.equal(err.status, 400);
    assert.equal(err.code, 'invalid_parameter_error');
    assert.equal(err.type, 'invalid_request_error');
    assert.equal(err.error.message, CONTEXT_MESSAGE);
    assert.equal(err.message, `400 ${CONTEXT_MESSAGE}`);
    assert.equal(err.requestID, fetch.last().headers.get('x-request-id'));
    return true;
  });
  // A rejected stream gets the status and the envelope as one SSE "data:" line (as DashScope
  // sends it). openai-node does not parse that body: it reports the 400 with the raw text as
  // its message and no code. Real behaviour.
  await assert.rejects(c.chat.completions.create({ model: MODEL, messages: user(LONG_PROMPT), stream: true }), (err) => {
    assert.ok(err instanceof OpenAI.BadRequestError);
    assert.equal(err.status, 400);
    assert.equal(err.code, undefined);
    assert.ok(err.message.startsWith('400 data: {"error":'), err.message);
    assert.ok(err.message.includes(CONTEXT_MESSAGE));
    return true;
  });
  const env = errorEnvelope(await fetch.last().text);
  assert.equal(env.error.code, 'invalid_parameter_error');
  assert.equal(env.error.message, CONTEXT_MESSAGE);
});

test('openai-node: wrong key 401', async (t) => {
  const url = await startMock(t, ['--api-key', 'sk-good']);
  await assert.rejects(client(url, { key: 'sk-wrong' }).chat.completions.create({ model: MODEL, messages: user('hi') }), (err) => {
    assert.ok(err instanceof OpenAI.AuthenticationError);
    assert.equal(err.status, 401);
    assert.equal(err.code, 'invalid_api_key');
    assert.equal(err.error.message, WRONG_KEY_MESSAGE);
    return true;
  });
  await client(url, { key: 'sk-good' }).chat.completions.create({ model: MODEL, messages: user('hi'), max_tokens: 1 });
});

// Rate limits (clients.md "How they retry"): without headers openai-node retries twice with its
// own backoff and surfaces the 429; with --rate-limit-headers its retry waits as told and gets
// through. Skipped while the binary has no rate limits.
const hi = { model: MODEL, messages: user('hi'), max_tokens: 5 };

for (const [name, flags, code, message, ErrorClass] of [
  ['RPM', ['--rpm', '1'], 'limit_requests', RPM_MESSAGE, OpenAI.RateLimitError],
  ['TPM', ['--tpm', TPM_LIMIT], 'insufficient_quota', TPM_MESSAGE, OpenAI.RateLimitError],
]) {
  test(`openai-node: ${name} 429 without headers: two retries, then the error`, async (t) => {
    const url = await startMock(t, flags);
    const fetch = recordingFetch();
    const c = client(url, { fetch, maxRetries: 2 });
    await c.chat.completions.create(hi);
    await assert.rejects(c.chat.completions.create(hi), (err) => {
      assert.ok(err instanceof ErrorClass);
      assert.equal(err.status, 429);
      assert.equal(err.code, code);
      assert.equal(err.error.message, message);
      return true;
    });
    const attempts = fetch.chat().slice(1);
    assert.deepEqual(attempts.map((a) => a.status), [429, 429, 429]);
    for (const a of attempts) {
      assert.equal(a.headers.get('retry-after'), null);
      assert.equal(a.headers.get('retry-after-ms'), null);
      assert.equal(a.headers.get('x-ratelimit-remaining-requests'), null);
    }
  });
}

test('openai-node: RPM 429 with --rate-limit-headers: the retry gets through', async (t) => {
  const url = await startMock(t, ['--rpm', '1', '--rate-limit-headers']);
  const fetch = recordingFetch();
  const c = client(url, { fetch, maxRetries: 2 });
  await c.chat.completions.create(hi);
  await advanceClock(url, 59); // the window has about one second left
  const start = Date.now();
  const resp = await c.chat.completions.create(hi);
  assert.equal(resp.choices[0].finish_reason, 'length');
  const attempts = fetch.chat().slice(1);
  assert.deepEqual(attempts.map((a) => a.status), [429, 200]);
  const ms = Number(attempts[0].headers.get('retry-after-ms'));
  assert.ok(ms > 0 && ms <= 1000, `retry-after-ms ${ms}`);
  assert.equal(attempts[0].headers.get('retry-after'), '1');
  assert.ok(Date.now() - start >= ms, 'the client waited as told');
});
