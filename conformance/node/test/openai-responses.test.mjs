// The OpenAI Node SDK's Responses client (npm "openai") against qwenmock's
// /compatible-mode/v1/responses: stateful, DashScope stream framing, flat error bodies.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import {
  MODEL, KEY, launch, startMock, compatBase, recordingFetch, fixtureFile,
  WEATHER_QUESTION, WEATHER_ARGS, WEATHER_RESULT, WEATHER_ANSWER, WEATHER_SCHEMA, LONG_PROMPT,
} from '../../qwenmock.mjs';

const client = (url, { key = KEY, maxRetries = 0, fetch = recordingFetch() } = {}) =>
  new OpenAI({ apiKey: key, baseURL: compatBase(url), maxRetries, fetch });

const weatherTool = [{ type: 'function', name: 'get_weather', description: 'Current weather of a city', parameters: WEATHER_SCHEMA }];

const RESP_ID = /^resp_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Checks a flat DashScope error body on the wire and returns it. */
function flatBody(text, code, message) {
  const body = JSON.parse(text);
  assert.deepEqual(Object.keys(body).sort(), ['code', 'message', 'request_id']);
  assert.equal(body.code, code);
  assert.equal(body.message, message);
  return body;
}

/** Splits a Responses stream body into its events, checking DashScope's framing. */
function responsesEvents(body) {
  assert.ok(!body.includes('[DONE]'), 'no [DONE]');
  return body.slice(0, -2).split('\n\n').map((ev, i) => {
    const lines = ev.split('\n');
    assert.equal(lines.length, 4, ev);
    assert.equal(lines[0], `id:${i + 1}`);
    assert.ok(lines[1].startsWith('event:'));
    assert.equal(lines[2], ':HTTP_STATUS/200');
    assert.ok(lines[3].startsWith('data:{'));
    const data = JSON.parse(lines[3].slice(5));
    assert.equal(data.sequence_number, i);
    assert.equal(data.type, lines[1].slice(6));
    return data;
  });
}

describe('openai-node responses', () => {
  let mock;
  before(async () => { mock = await launch(['--fixtures', await fixtureFile()]); });
  after(async () => assert.equal(await mock.stop(), 0));

  test('create, GET by id, previous_response_id', async () => {
    const fetch = recordingFetch();
    const c = client(mock.url, { fetch });
    const first = await c.responses.create({ model: MODEL, instructions: 'You are a helpful assistant.', input: 'Remember BANANA7.' });
    assert.match(first.id, RESP_ID);
    assert.equal(first.object, 'response');
    assert.equal(first.status, 'completed');
    assert.ok(first.output_text.length > 0);
    assert.equal(first.usage.total_tokens, first.usage.input_tokens + first.usage.output_tokens);
    assert.equal(first.usage.x_details[0].x_billing_type, 'response_api');
    assert.equal(first._request_id, fetch.last().headers.get('x-request-id'));

    const got = await c.responses.retrieve(first.id);
    assert.equal(got.id, first.id);
    assert.equal(got.output_text, first.output_text);

    const second = await c.responses.create({ model: MODEL, input: 'What did I ask you to remember?', previous_response_id: first.id });
    assert.equal(second.previous_response_id, first.id);
    assert.ok(second.usage.input_tokens > first.usage.input_tokens, 'the history is re-played');

    const gone = await c.responses.create({ model: MODEL, input: 'hi', store: false });
    await assert.rejects(c.responses.create({ model: MODEL, input: 'hi', previous_response_id: gone.id }), (err) => {
      assert.ok(err instanceof OpenAI.BadRequestError);
      assert.equal(err.message, `400 Not found previous_response_id: ${gone.id}`);
      return true;
    });
  });

  test('stream: raw events and the stream() helper', async () => {
    const fetch = recordingFetch();
    const c = client(mock.url, { fetch });
    const params = { model: MODEL, input: 'Tell me a short story.', store: false };
    const want = await c.responses.create(params);
    const types = [];
    let text = '';
    for await (const ev of await c.responses.create({ ...params, stream: true })) {
      if (types.at(-1) !== ev.type) types.push(ev.type);
      if (ev.type === 'response.output_text.delta') text += ev.delta;
    }
    assert.deepEqual(types, ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added',
      'response.output_text.delta', 'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    assert.equal(text, want.output_text);
    assert.match(fetch.last().headers.get('content-type'), /^text\/event-stream/);
    responsesEvents(await fetch.last().text);

    const final = await c.responses.stream(params).finalResponse();
    assert.equal(final.output_text, want.output_text);
    assert.equal(final.usage.output_tokens, want.usage.output_tokens);
  });

  test('function-call round trip', async () => {
    const c = client(mock.url);
    const first = await c.responses.create({ model: MODEL, input: WEATHER_QUESTION, tools: weatherTool });
    assert.equal(first.output.length, 1);
    const call = first.output[0];
    assert.equal(call.type, 'function_call');
    assert.equal(call.name, 'get_weather');
    assert.equal(call.arguments, WEATHER_ARGS);
    assert.match(call.call_id, /^call_[0-9a-f]{24}$/);
    const second = await c.responses.create({
      model: MODEL, tools: weatherTool, previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: WEATHER_RESULT }],
    });
    assert.equal(second.output_text, WEATHER_ANSWER);
    // The same turn with the whole history as items, without the store.
    const items = await c.responses.create({
      model: MODEL, tools: weatherTool, store: false,
      input: [{ role: 'user', content: WEATHER_QUESTION }, call, { type: 'function_call_output', call_id: call.call_id, output: WEATHER_RESULT }],
    });
    assert.equal(items.output_text, WEATHER_ANSWER);
    assert.equal(items.usage.input_tokens, second.usage.input_tokens);
  });

  test('errors: flat 400, and a stream error as 200 + one response.failed', async () => {
    const fetch = recordingFetch();
    const c = client(mock.url, { fetch });
    const bad = { model: '__nope__', input: 'hi' };
    await assert.rejects(c.responses.create(bad), (err) => {
      assert.ok(err instanceof OpenAI.BadRequestError);
      assert.equal(err.status, 400);
      assert.equal(err.message, "400 Unsupported model: '__nope__'");
      assert.equal(err.code, 'InvalidParameter');
      return true;
    });
    flatBody(await fetch.last().text, 'InvalidParameter', "Unsupported model: '__nope__'");

    // Raw iteration yields the single event.
    const events = [];
    for await (const ev of await c.responses.create({ ...bad, stream: true })) events.push(ev);
    assert.equal(events.length, 1);
    assert.equal(events[0].type, 'response.failed');
    assert.deepEqual(events[0].response.error, { message: "Unsupported model: '__nope__'", code: 'InvalidParameter' });
    assert.equal(fetch.last().status, 200);

    // The stream() helper expects response.created first and throws; it then aborts its
    // request (so this client has no recording fetch, whose copy of the body would reject).
    const helper = client(mock.url, { fetch: globalThis.fetch }).responses.stream(bad);
    helper.on('error', () => {});
    helper.on('abort', () => {});
    await assert.rejects(helper.finalResponse(),
      /When snapshot hasn't been set yet, expected 'response.created' event, got response.failed/);
    await helper.done().catch(() => {});
  });
});

test('openai-node responses: context window 400', async (t) => {
  const url = await startMock(t, ['--max-input-tokens', '100']);
  const fetch = recordingFetch();
  await assert.rejects(client(url, { fetch }).responses.create({ model: MODEL, input: LONG_PROMPT }), (err) => {
    assert.ok(err instanceof OpenAI.BadRequestError);
    assert.equal(err.message, '400 Range of input length should be [1, 100]');
    return true;
  });
  flatBody(await fetch.last().text, 'InvalidParameter', 'Range of input length should be [1, 100]');
});

test('openai-node responses: wrong key 401', async (t) => {
  const url = await startMock(t, ['--api-key', 'sk-good']);
  await assert.rejects(client(url, { key: 'sk-wrong' }).responses.create({ model: MODEL, input: 'hi' }), (err) => {
    assert.ok(err instanceof OpenAI.AuthenticationError);
    assert.equal(err.message, '401 Invalid API-key provided.');
    return true;
  });
});

test('openai-node responses: RPM 429, two retries, then RateLimitError', async (t) => {
  const url = await startMock(t, ['--rpm', '1']);
  const fetch = recordingFetch();
  const c = client(url, { fetch, maxRetries: 2 });
  await c.responses.create({ model: MODEL, input: 'hi' });
  await assert.rejects(c.responses.create({ model: MODEL, input: 'hi' }), (err) => {
    assert.ok(err instanceof OpenAI.RateLimitError);
    assert.equal(err.message, '429 Requests rate limit exceeded, please try again later.');
    assert.equal(err.code, 'Throttling.RateQuota');
    return true;
  });
  assert.deepEqual(fetch.exchanges.slice(1).map((e) => e.status), [429, 429, 429]);
  flatBody(await fetch.last().text, 'Throttling.RateQuota', 'Requests rate limit exceeded, please try again later.');
});
