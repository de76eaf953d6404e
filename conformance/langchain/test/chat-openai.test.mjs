// LangChain JS ChatOpenAI (npm "@langchain/openai") against the OpenAI-compatible endpoint.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ChatOpenAI } from '@langchain/openai';
import { HumanMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import {
  MODEL, KEY, launch, startMock, compatBase, recordingFetch, checkChunks, errorEnvelope, fixtureFile,
  advanceClock, WEATHER_QUESTION, WEATHER_ARGS, WEATHER_RESULT, WEATHER_ANSWER,
  WEATHER_SCHEMA, PRIME_QUESTION, PRIME_ANSWER, PRIME_REASONING, JSON_QUESTION, LONG_PROMPT,
  CONTEXT_MESSAGE, WRONG_KEY_MESSAGE, JSON_WORD_MESSAGE, RPM_MESSAGE, TPM_MESSAGE, TPM_LIMIT,
} from '../../qwenmock.mjs';

const chat = (url, { key = KEY, fetch = recordingFetch(), ...fields } = {}) =>
  new ChatOpenAI({ model: MODEL, apiKey: key, configuration: { baseURL: compatBase(url), fetch }, maxRetries: 0, ...fields });

const weatherTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Current weather of a city', parameters: WEATHER_SCHEMA },
};

async function collect(stream) {
  let agg;
  const chunks = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
    agg = agg ? agg.concat(chunk) : chunk;
  }
  return { agg, chunks };
}

describe('ChatOpenAI', () => {
  let mock;
  before(async () => { mock = await launch(['--fixtures', await fixtureFile()]); });
  after(async () => assert.equal(await mock.stop(), 0));

  test('invoke: content, usage and finish reason', async () => {
    const fetch = recordingFetch();
    const msg = await chat(mock.url, { fetch }).invoke([new SystemMessage('You are a helpful assistant.'), new HumanMessage('你是谁？')]);
    const ex = fetch.last();
    assert.match(ex.headers.get('content-type'), /^application\/json/);
    assert.ok(msg.content.length > 0);
    assert.equal(msg.usage_metadata.input_tokens, 22);
    assert.equal(msg.usage_metadata.total_tokens, 22 + msg.usage_metadata.output_tokens);
    assert.equal(msg.response_metadata.finish_reason, 'stop');
    assert.equal(msg.id, `chatcmpl-${ex.headers.get('x-request-id')}`);
  });

  test('stream: include_usage sent, usage chunk with "choices":[] folded into usage_metadata', async () => {
    const fetch = recordingFetch();
    const model = chat(mock.url, { fetch });
    const prompt = 'Tell me a short story.';
    const want = await model.invoke(prompt);
    const { agg } = await collect(await model.stream(prompt));
    const ex = fetch.last();
    assert.deepEqual(JSON.parse(ex.reqBody).stream_options, { include_usage: true });
    assert.match(ex.headers.get('content-type'), /^text\/event-stream/);
    checkChunks(await ex.text, true);
    assert.equal(agg.content, want.content);
    assert.deepEqual(
      [agg.usage_metadata.input_tokens, agg.usage_metadata.output_tokens, agg.usage_metadata.total_tokens],
      [want.usage_metadata.input_tokens, want.usage_metadata.output_tokens, want.usage_metadata.total_tokens],
    );
    assert.equal(agg.response_metadata.finish_reason, 'stop');
  });

  test('tool call, then the tool result', async () => {
    const model = chat(mock.url).bindTools([weatherTool]);
    const messages = [new HumanMessage(WEATHER_QUESTION)];
    const ai = await model.invoke(messages);
    assert.equal(ai.response_metadata.finish_reason, 'tool_calls');
    assert.equal(ai.tool_calls.length, 1);
    const call = ai.tool_calls[0];
    assert.match(call.id, /^call_[0-9a-f]{24}$/);
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(call.args, JSON.parse(WEATHER_ARGS));
    messages.push(ai, new ToolMessage({ content: WEATHER_RESULT, tool_call_id: call.id }));
    const next = await model.invoke(messages);
    assert.equal(next.content, WEATHER_ANSWER);
    assert.equal(next.response_metadata.finish_reason, 'stop');
  });

  test('streamed tool call: chunks merged by index into one call, then the tool result', async () => {
    const fetch = recordingFetch();
    const model = chat(mock.url, { fetch }).bindTools([weatherTool]);
    const messages = [new HumanMessage(WEATHER_QUESTION)];
    const { agg } = await collect(await model.stream(messages));
    const deltas = checkChunks(await fetch.last().text, true).flatMap((ch) => ch.choices.flatMap((c) => c.delta.tool_calls ?? []));
    assert.ok(deltas.length >= 3 && deltas.slice(1).every((d) => d.id === '' && d.type === 'function'));
    assert.equal(agg.tool_calls.length, 1);
    const call = agg.tool_calls[0];
    assert.match(call.id, /^call_[0-9a-f]{24}$/);
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(call.args, JSON.parse(WEATHER_ARGS));
    messages.push(agg, new ToolMessage({ content: WEATHER_RESULT, tool_call_id: call.id }));
    const { agg: next } = await collect(await model.stream(messages));
    assert.equal(next.content, WEATHER_ANSWER);
  });

  test('JSON mode (response_format json_object), and the 400 without the word json', async () => {
    const model = chat(mock.url);
    const msg = await model.invoke(JSON_QUESTION, { response_format: { type: 'json_object' } });
    const obj = JSON.parse(msg.content);
    assert.ok(obj !== null && typeof obj === 'object' && !Array.isArray(obj));
    await assert.rejects(model.invoke('List three colours.', { response_format: { type: 'json_object' } }), (err) => {
      assert.equal(err.status, 400);
      assert.equal(err.code, 'invalid_parameter_error');
      assert.equal(err.error.message, JSON_WORD_MESSAGE);
      return true;
    });
  });

  test('thinking (modelKwargs.enable_thinking): additional_kwargs.reasoning_content', async () => {
    const model = chat(mock.url, { modelKwargs: { enable_thinking: true } });
    const msg = await model.invoke(PRIME_QUESTION);
    assert.equal(msg.additional_kwargs.reasoning_content, PRIME_REASONING);
    assert.equal(msg.content, PRIME_ANSWER);
    assert.ok(msg.usage_metadata.output_token_details.reasoning > 0);
    const { agg, chunks } = await collect(await model.stream(PRIME_QUESTION));
    const reasoning = chunks.map((c) => c.additional_kwargs.reasoning_content ?? '').join('');
    assert.equal(reasoning, PRIME_REASONING);
    assert.equal(agg.content, PRIME_ANSWER);
  });

  test('content as an array of text parts', async () => {
    const fetch = recordingFetch();
    const model = chat(mock.url, { fetch });
    const text = 'Summarise the plot of Hamlet.';
    const asString = await model.invoke(text);
    const asParts = await model.invoke([new HumanMessage({ content: [{ type: 'text', text }] })]);
    assert.deepEqual(JSON.parse(fetch.last().reqBody).messages[0].content, [{ type: 'text', text }]);
    assert.equal(asParts.usage_metadata.input_tokens, asString.usage_metadata.input_tokens);
    assert.equal(asParts.content, asString.content);
  });

  test('maxTokens: finish reason length, output tokens == max_tokens', async () => {
    const model = chat(mock.url, { maxTokens: 5 });
    const msg = await model.invoke('Who are you?');
    assert.equal(msg.response_metadata.finish_reason, 'length');
    assert.equal(msg.usage_metadata.output_tokens, 5);
    const { agg } = await collect(await model.stream('Who are you?'));
    assert.equal(agg.response_metadata.finish_reason, 'length');
    assert.equal(agg.usage_metadata.output_tokens, 5);
    assert.equal(agg.content, msg.content);
  });
});

test('ChatOpenAI: context window 400', async (t) => {
  const url = await startMock(t, ['--max-input-tokens', '100']);
  const fetch = recordingFetch();
  const model = chat(url, { fetch });
  await assert.rejects(model.invoke(LONG_PROMPT), (err) => {
    assert.equal(err.status, 400);
    assert.equal(err.code, 'invalid_parameter_error');
    assert.equal(err.error.message, CONTEXT_MESSAGE);
    return true;
  });
  // A rejected stream: the SSE-framed envelope is not parsed by the OpenAI SDK underneath, so
  // the error has the status, no code, and the raw body in its message. Real behaviour.
  await assert.rejects(async () => { for await (const _ of await model.stream(LONG_PROMPT)); }, (err) => {
    assert.equal(err.status, 400);
    assert.equal(err.code, undefined);
    assert.ok(err.message.includes(CONTEXT_MESSAGE));
    return true;
  });
  assert.equal(errorEnvelope(await fetch.last().text).error.code, 'invalid_parameter_error');
});

test('ChatOpenAI: wrong key 401', async (t) => {
  const url = await startMock(t, ['--api-key', 'sk-good']);
  await assert.rejects(chat(url, { key: 'sk-wrong' }).invoke('hi'), (err) => {
    assert.equal(err.status, 401);
    assert.equal(err.code, 'invalid_api_key');
    assert.equal(err.lc_error_code, 'MODEL_AUTHENTICATION');
    assert.equal(err.error.message, WRONG_KEY_MESSAGE);
    return true;
  });
});

// Rate limits (clients.md): LangChain retries a 429 only when Retry-After is present and never
// retries insufficient_quota. DashScope sends no Retry-After, so it gives up at once even with
// its default of 6 retries.

describe('ChatOpenAI rate limits', { concurrency: true }, () => {
  for (const [name, flags, code, message, errName] of [
    ['RPM', ['--rpm', '1'], 'limit_requests', RPM_MESSAGE, 'RateLimitCapacityError'],
    ['TPM', ['--tpm', TPM_LIMIT], 'insufficient_quota', TPM_MESSAGE, 'InsufficientQuotaError'],
  ]) {
    test(`${name} 429 without headers: no retry (${errName})`, async (t) => {
      const url = await startMock(t, flags);
      const fetch = recordingFetch();
      const model = chat(url, { fetch, maxRetries: 6, maxTokens: 5 });
      await model.invoke('hi');
      await assert.rejects(model.invoke('hi'), (err) => {
        assert.equal(err.name, errName);
        assert.equal(err.status, 429);
        assert.equal(err.code, code);
        assert.equal(err.error.message, message);
        return true;
      });
      assert.deepEqual(fetch.chat().slice(1).map((a) => a.status), [429]);
    });
  }

  test('RPM 429 with --rate-limit-headers: waits Retry-After, the retry gets through', async (t) => {
    const url = await startMock(t, ['--rpm', '1', '--rate-limit-headers']);
    const fetch = recordingFetch();
    const model = chat(url, { fetch, maxRetries: 6, maxTokens: 5 });
    await model.invoke('hi');
    await advanceClock(url, 59);
    const start = Date.now();
    const msg = await model.invoke('hi');
    assert.equal(msg.response_metadata.finish_reason, 'length');
    const attempts = fetch.chat().slice(1);
    assert.deepEqual(attempts.map((a) => a.status), [429, 200]);
    assert.equal(attempts[0].headers.get('retry-after'), '1');
    assert.ok(Date.now() - start >= 1000, 'waited the Retry-After second');
  });

  test('TPM 429 with --rate-limit-headers: insufficient_quota is still never retried', async (t) => {
    const url = await startMock(t, ['--tpm', TPM_LIMIT, '--rate-limit-headers']);
    const fetch = recordingFetch();
    const model = chat(url, { fetch, maxRetries: 6, maxTokens: 5 });
    await model.invoke('hi');
    await assert.rejects(model.invoke('hi'), (err) => err.name === 'InsufficientQuotaError' && err.status === 429);
    const attempts = fetch.chat().slice(1);
    assert.deepEqual(attempts.map((a) => a.status), [429]);
    assert.ok(attempts[0].headers.get('retry-after'));
  });
});
