// The Vercel AI SDK (npm "ai") with Alibaba's provider (npm "@ai-sdk/alibaba"), which talks to
// the OpenAI-compatible endpoint. The provider always sends the user's content as an array of
// text parts and always asks for include_usage when streaming.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateText, streamText, tool, jsonSchema, stepCountIs, Output, APICallError, RetryError } from 'ai';
import { createAlibaba } from '@ai-sdk/alibaba';
import {
  MODEL, KEY, launch, startMock, compatBase, recordingFetch, checkChunks, errorEnvelope, fixtureFile,
  advanceClock, WEATHER_QUESTION, WEATHER_ANSWER, WEATHER_SCHEMA, PRIME_QUESTION,
  PRIME_ANSWER, PRIME_REASONING, JSON_QUESTION, LONG_PROMPT, CONTEXT_MESSAGE, WRONG_KEY_MESSAGE,
  RPM_MESSAGE, TPM_MESSAGE, TPM_LIMIT,
} from '../../qwenmock.mjs';

const provider = (url, { key = KEY, fetch = recordingFetch() } = {}) =>
  createAlibaba({ apiKey: key, baseURL: compatBase(url), fetch });

const weatherTools = (calls) => ({
  get_weather: tool({
    description: 'Current weather of a city',
    inputSchema: jsonSchema(WEATHER_SCHEMA),
    execute: async (input) => {
      calls.push(input);
      return { condition: 'sunny', celsius: 24 };
    },
  }),
});

describe('ai-sdk', () => {
  let mock;
  before(async () => { mock = await launch(['--fixtures', await fixtureFile()]); });
  after(async () => assert.equal(await mock.stop(), 0));

  test('generateText: text, usage, and the user content sent as parts', async () => {
    const fetch = recordingFetch();
    const result = await generateText({
      model: provider(mock.url, { fetch })(MODEL),
      system: 'You are a helpful assistant.',
      prompt: '你是谁？',
      maxRetries: 0,
    });
    const ex = fetch.last();
    assert.match(ex.headers.get('content-type'), /^application\/json/);
    const sent = JSON.parse(ex.reqBody);
    assert.deepEqual(sent.messages[1].content, [{ type: 'text', text: '你是谁？' }]);
    assert.equal(result.usage.inputTokens, 22);
    assert.equal(result.usage.totalTokens, result.usage.inputTokens + result.usage.outputTokens);
    assert.equal(result.finishReason, 'stop');
    assert.ok(result.text.length > 0);
    assert.equal(result.response.id, `chatcmpl-${ex.headers.get('x-request-id')}`);
  });

  test('streamText: include_usage always sent, usage chunk with "choices":[] accepted', async () => {
    const fetch = recordingFetch();
    const model = provider(mock.url, { fetch })(MODEL);
    const prompt = 'Tell me a short story.';
    const want = await generateText({ model, prompt, maxRetries: 0 });
    const result = streamText({ model, prompt, maxRetries: 0 });
    const errors = [];
    let text = '';
    for await (const part of result.fullStream) {
      if (part.type === 'error') errors.push(part.error);
      if (part.type === 'text-delta') text += part.text;
    }
    assert.deepEqual(errors, []);
    const ex = fetch.last();
    assert.deepEqual(JSON.parse(ex.reqBody).stream_options, { include_usage: true });
    assert.match(ex.headers.get('content-type'), /^text\/event-stream/);
    checkChunks(await ex.text, true);
    assert.equal(text, want.text);
    const usage = await result.usage;
    assert.deepEqual([usage.inputTokens, usage.outputTokens, usage.totalTokens], [want.usage.inputTokens, want.usage.outputTokens, want.usage.totalTokens]);
    assert.equal(await result.finishReason, 'stop');
  });

  test('tool call and the follow-up turn (generateText runs the loop)', async () => {
    const calls = [];
    const result = await generateText({
      model: provider(mock.url)(MODEL), prompt: WEATHER_QUESTION, tools: weatherTools(calls), stopWhen: stepCountIs(3), maxRetries: 0,
    });
    assert.equal(result.steps.length, 2);
    const [first] = result.steps;
    assert.equal(first.finishReason, 'tool-calls');
    assert.equal(first.toolCalls.length, 1);
    assert.match(first.toolCalls[0].toolCallId, /^call_[0-9a-f]{24}$/);
    assert.equal(first.toolCalls[0].toolName, 'get_weather');
    assert.deepEqual(calls, [{ city: 'Hangzhou', unit: 'celsius' }]);
    assert.equal(result.text, WEATHER_ANSWER);
    assert.equal(result.finishReason, 'stop');
  });

  test('streamed tool call and the follow-up turn (streamText runs the loop)', async () => {
    const calls = [];
    const fetch = recordingFetch();
    const result = streamText({
      model: provider(mock.url, { fetch })(MODEL), prompt: WEATHER_QUESTION, tools: weatherTools(calls), stopWhen: stepCountIs(3), maxRetries: 0,
    });
    const errors = [];
    const toolCalls = [];
    for await (const part of result.fullStream) {
      if (part.type === 'error') errors.push(part.error);
      if (part.type === 'tool-call') toolCalls.push(part);
    }
    assert.deepEqual(errors, []);
    assert.equal(toolCalls.length, 1);
    assert.equal(toolCalls[0].toolName, 'get_weather');
    assert.deepEqual(calls, [{ city: 'Hangzhou', unit: 'celsius' }]);
    assert.equal(await result.text, WEATHER_ANSWER);
    assert.equal((await result.steps).length, 2);
    // The first stream's deltas are DashScope's: later argument deltas repeat "type" with an empty id.
    const chunks = checkChunks(await fetch.chat()[0].text, true);
    const deltas = chunks.flatMap((ch) => ch.choices.flatMap((c) => c.delta.tool_calls ?? []));
    assert.ok(deltas.length >= 3 && deltas.slice(1).every((d) => d.id === '' && d.type === 'function'));
  });

  test('JSON mode (Output.json)', async () => {
    const fetch = recordingFetch();
    const result = await generateText({
      model: provider(mock.url, { fetch })(MODEL), prompt: JSON_QUESTION, output: Output.json(), maxRetries: 0,
    });
    assert.deepEqual(JSON.parse(fetch.last().reqBody).response_format, { type: 'json_object' });
    assert.equal(typeof result.output, 'object');
    assert.ok(result.output !== null && !Array.isArray(result.output));
  });

  test('thinking: reasoning reaches the caller (providerOptions.alibaba.enableThinking)', async () => {
    const fetch = recordingFetch();
    const model = provider(mock.url, { fetch })(MODEL);
    const providerOptions = { alibaba: { enableThinking: true } };
    const result = await generateText({ model, prompt: PRIME_QUESTION, providerOptions, maxRetries: 0 });
    assert.equal(JSON.parse(fetch.last().reqBody).enable_thinking, true);
    assert.equal(result.reasoningText, PRIME_REASONING);
    assert.equal(result.text, PRIME_ANSWER);
    const reasoningTokens = result.usage.outputTokenDetails.reasoningTokens;
    assert.ok(reasoningTokens > 0 && reasoningTokens < result.usage.outputTokens);

    const stream = streamText({ model, prompt: PRIME_QUESTION, providerOptions, maxRetries: 0 });
    let reasoning = '';
    for await (const part of stream.fullStream) if (part.type === 'reasoning-delta') reasoning += part.text;
    assert.equal(reasoning, PRIME_REASONING);
    assert.equal(await stream.text, PRIME_ANSWER);
    assert.equal((await stream.usage).outputTokenDetails.reasoningTokens, reasoningTokens);
  });

  test('maxOutputTokens: finish reason length, output tokens == max_tokens', async () => {
    const model = provider(mock.url)(MODEL);
    const result = await generateText({ model, prompt: 'Who are you?', maxOutputTokens: 5, maxRetries: 0 });
    assert.equal(result.finishReason, 'length');
    assert.equal(result.usage.outputTokens, 5);
    const stream = streamText({ model, prompt: 'Who are you?', maxOutputTokens: 5, maxRetries: 0 });
    assert.equal(await stream.text, result.text);
    assert.equal(await stream.finishReason, 'length');
    assert.equal((await stream.usage).outputTokens, 5);
  });
});

test('ai-sdk: context window 400', async (t) => {
  const url = await startMock(t, ['--max-input-tokens', '100']);
  const fetch = recordingFetch();
  const model = provider(url, { fetch })(MODEL);
  await assert.rejects(generateText({ model, prompt: LONG_PROMPT, maxRetries: 0 }), (err) => {
    assert.ok(APICallError.isInstance(err));
    assert.equal(err.statusCode, 400);
    assert.equal(err.message, CONTEXT_MESSAGE);
    assert.equal(err.data.error.code, 'invalid_parameter_error');
    assert.equal(err.isRetryable, false);
    return true;
  });
  // A rejected stream: the body is one SSE "data:" line, which the provider's JSON error
  // handler cannot parse, so the error carries the status text and the raw body. Real behaviour.
  const errors = [];
  const stream = streamText({ model, prompt: LONG_PROMPT, maxRetries: 0, onError: () => {} });
  for await (const part of stream.fullStream) if (part.type === 'error') errors.push(part.error);
  assert.equal(errors.length, 1);
  assert.ok(APICallError.isInstance(errors[0]));
  assert.equal(errors[0].statusCode, 400);
  assert.equal(errors[0].message, 'Bad Request');
  assert.ok(errors[0].responseBody.includes(CONTEXT_MESSAGE));
  assert.equal(errorEnvelope(await fetch.last().text).error.code, 'invalid_parameter_error');
});

test('ai-sdk: wrong key 401', async (t) => {
  const url = await startMock(t, ['--api-key', 'sk-good']);
  await assert.rejects(generateText({ model: provider(url, { key: 'sk-wrong' })(MODEL), prompt: 'hi', maxRetries: 0 }), (err) => {
    assert.ok(APICallError.isInstance(err));
    assert.equal(err.statusCode, 401);
    assert.equal(err.message, WRONG_KEY_MESSAGE);
    assert.equal(err.data.error.code, 'invalid_api_key');
    assert.equal(err.isRetryable, false);
    return true;
  });
});

// Rate limits: without headers the SDK retries twice (2 s, then 4 s) and throws a RetryError;
// with --rate-limit-headers it waits the retry-after-ms it is given and gets through.

describe('ai-sdk rate limits', { concurrency: true }, () => {
  for (const [name, flags, code, message] of [
    ['RPM', ['--rpm', '1'], 'limit_requests', RPM_MESSAGE],
    ['TPM', ['--tpm', TPM_LIMIT], 'insufficient_quota', TPM_MESSAGE],
  ]) {
    test(`${name} 429 without headers: two retries with backoff, then RetryError`, async (t) => {
      const url = await startMock(t, flags);
      const fetch = recordingFetch();
      const model = provider(url, { fetch })(MODEL);
      await generateText({ model, prompt: 'hi', maxOutputTokens: 5 });
      const start = Date.now();
      await assert.rejects(generateText({ model, prompt: 'hi', maxOutputTokens: 5 }), (err) => {
        assert.ok(RetryError.isInstance(err), String(err));
        assert.equal(err.reason, 'maxRetriesExceeded');
        assert.equal(err.errors.length, 3);
        assert.equal(err.lastError.statusCode, 429);
        assert.equal(err.lastError.message, message);
        assert.equal(err.lastError.data.error.code, code);
        assert.equal(err.lastError.isRetryable, true);
        return true;
      });
      assert.ok(Date.now() - start >= 5500, 'backoff of 2 s then 4 s');
      assert.deepEqual(fetch.chat().slice(1).map((a) => a.status), [429, 429, 429]);
      assert.ok(fetch.chat().every((a) => a.headers.get('retry-after') === null));
    });
  }

  test('RPM 429 with --rate-limit-headers: the retry gets through', async (t) => {
    const url = await startMock(t, ['--rpm', '1', '--rate-limit-headers']);
    const fetch = recordingFetch();
    const model = provider(url, { fetch })(MODEL);
    await generateText({ model, prompt: 'hi', maxOutputTokens: 5 });
    await advanceClock(url, 59);
    const start = Date.now();
    const result = await generateText({ model, prompt: 'hi', maxOutputTokens: 5 });
    assert.equal(result.finishReason, 'length');
    const attempts = fetch.chat().slice(1);
    assert.deepEqual(attempts.map((a) => a.status), [429, 200]);
    const ms = Number(attempts[0].headers.get('retry-after-ms'));
    assert.ok(ms > 0 && ms <= 1000, `retry-after-ms ${ms}`);
    assert.ok(Date.now() - start >= ms && Date.now() - start < 2000, 'waited retry-after-ms, not its own 2 s backoff');
  });
});
