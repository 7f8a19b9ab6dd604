import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAiClient, type OpenAiConnection } from '../../../src/providers/openai/client.js';
import { OpenAiSpeech } from '../../../src/providers/openai/speech.js';
import { alignWords, OpenAiWordTimer } from '../../../src/providers/openai/word-timer.js';
import { FakeOpenAiServer } from '../../fakes/openai-server.js';

const SCRIPT = 'In 1453, the Ottoman army broke through the walls of Constantinople. Nobody inside expected the cannons to be so large!';

describe('word timings for OpenAI-compatible speech, through the transcription endpoint', () => {
  let fake: FakeOpenAiServer;
  let connection: OpenAiConnection;
  beforeAll(async () => {
    fake = await FakeOpenAiServer.start();
    connection = createOpenAiClient({ apiKey: 'sk-test', baseURL: fake.baseURL, retry: { baseDelayMs: 5, maxDelayMs: 20 } });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it('asks whisper-1 for word timestamps and puts the script’s own words on the recognised times', async () => {
    const failures: unknown[] = [];
    const speech = new OpenAiWordTimer(connection, { onFailure: (e) => failures.push(e) }).wrap(new OpenAiSpeech(connection, { model: 'tts-1', voice: 'alloy' }));
    const result = await speech.synthesize({ text: SCRIPT, lang: 'en' });
    expect(failures).toEqual([]);
    const request = fake.requestsTo('transcription')[0]!;
    expect(request.body).toMatchObject({ model: 'whisper-1', response_format: 'verbose_json', 'timestamp_granularities[]': 'word', language: 'en' });
    // The shown words are the script's, even where the recogniser heard "one four five three" or a misspelling.
    expect(result.words?.map((w) => w.text)).toEqual(SCRIPT.split(' '));
    const truth = fake.spokenWords(result.data)!;
    expect(truth.map((w) => w.word)).toEqual(SCRIPT.split(' '));
    result.words!.forEach((w, i) => {
      // Recognised times are off by up to ~40 ms (120 ms now and then); unmatched words are spread between neighbours.
      expect(Math.abs(w.startSec - truth[i]!.start), w.text).toBeLessThan(0.25);
    });
    expect(result.transcribedSec).toBeCloseTo(result.durationSec ?? 0, 3);
  });

  it('gives the speech back without word timings when the transcription fails: the video is not lost', async () => {
    fake.inject('transcription', { kind: 'server_error' }, 10);
    const failures: unknown[] = [];
    const speech = new OpenAiWordTimer(connection, { onFailure: (e) => failures.push(e) }).wrap(new OpenAiSpeech(connection, { model: 'tts-1', voice: 'alloy' }));
    const result = await speech.synthesize({ text: SCRIPT, lang: 'en' });
    expect(result.data.length).toBeGreaterThan(1000);
    expect(result.words).toBeUndefined();
    expect(result.transcribedSec).toBeUndefined();
    expect(failures).toHaveLength(1);
    expect(fake.requestsTo('transcription').length).toBeGreaterThan(1);
  });

  it('does not trust a transcription of something else', () => {
    const words = alignWords(['The', 'walls', 'held.'], [{ word: 'completely', start: 0, end: 0.5 }, { word: 'different', start: 0.6, end: 1 }], 1.2);
    expect(words).toBeUndefined();
  });

  it('spreads words the recogniser missed between their matched neighbours', () => {
    const words = alignWords(
      ['The', 'year', '1453', 'changed', 'everything.'],
      [
        { word: 'the', start: 0.1, end: 0.2 },
        { word: 'year', start: 0.25, end: 0.5 },
        { word: 'changed', start: 1.4, end: 1.8 },
        { word: 'everything', start: 1.85, end: 2.4 },
      ],
      2.6,
    )!;
    expect(words.map((w) => w.text)).toEqual(['The', 'year', '1453', 'changed', 'everything.']);
    expect(words[2]!.startSec).toBeCloseTo(0.5, 3);
    expect(words[2]!.endSec).toBeCloseTo(1.4, 3);
  });
});
