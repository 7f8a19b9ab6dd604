import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReelforgeError } from '../../../src/core/errors.js';
import { EspeakSpeech, espeakVoiceFor, stripMarkup } from '../../../src/providers/offline/espeak-speech.js';
import { parseWav } from '../../../src/providers/wav.js';
import { speechProviderContract } from '../../contracts/speech-provider.js';
import { waitFor } from '../../helpers/wait-for.js';

speechProviderContract('espeak-ng', () => Promise.resolve({ provider: new EspeakSpeech() }));

const speech = new EspeakSpeech();

/** espeak-ng run directly, the way a person would, for comparison. */
function espeakDirect(voice: string, text: string): Buffer {
  const wav = execFileSync('espeak-ng', ['-v', voice, '-s', '165', '--stdout'], { input: text });
  const info = parseWav(wav);
  return wav.subarray(info.dataOffset, info.dataOffset + info.dataLength);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function pcmOf(wav: Buffer): Buffer {
  const info = parseWav(wav);
  return wav.subarray(info.dataOffset, info.dataOffset + info.dataLength);
}

describe('EspeakSpeech', () => {
  it('gives one mark per sentence, in order, with ~120 ms pauses, ending where the audio ends', async () => {
    const text = 'The walls stood for a thousand years. Then the cannon came! Did anyone expect it? Nobody knows.';
    const result = await speech.synthesize({ text, lang: 'en' });
    expect(result.marks?.map((m) => m.text)).toEqual(['The walls stood for a thousand years.', 'Then the cannon came!', 'Did anyone expect it?', 'Nobody knows.']);
    const marks = result.marks ?? [];
    expect(marks[0]?.startSec).toBe(0);
    for (let i = 1; i < marks.length; i++) {
      expect((marks[i] as { startSec: number }).startSec - (marks[i - 1] as { endSec: number }).endSec).toBeCloseTo(0.12, 3);
    }
    const info = parseWav(result.data);
    expect(result.durationSec).toBeCloseTo(info.durationSec, 6);
    expect(marks.at(-1)?.endSec).toBeCloseTo(info.durationSec, 6);
    // The file's own header is canonical (no streaming placeholders left).
    expect(result.data.readUInt32LE(40)).toBe(info.dataLength);
  });

  it('gives each sentence exactly the audio espeak-ng makes for it', async () => {
    const result = await speech.synthesize({ text: 'First sentence here. Second one follows.', lang: 'en' });
    const pcm = pcmOf(result.data);
    const info = parseWav(result.data);
    const bytesPerSec = info.format.sampleRate * info.format.blockAlign;
    const second = result.marks?.[1] as { startSec: number; endSec: number };
    const slice = pcm.subarray(Math.round(second.startSec * bytesPerSec), Math.round(second.endSec * bytesPerSec));
    expect(slice.equals(espeakDirect('en-us', 'Second one follows.'))).toBe(true);
  });

  it('speaks Russian with the ru voice and English with en-us', async () => {
    const text = 'Город стоял тысячу лет.';
    const ru = await speech.synthesize({ text, lang: 'ru' });
    expect(pcmOf(ru.data).equals(espeakDirect('ru', text))).toBe(true);
    expect(pcmOf(ru.data).equals(espeakDirect('en-us', text))).toBe(false);
    expect(espeakVoiceFor('ru')).toBe('ru');
    expect(espeakVoiceFor('en-GB')).toBe('en-us');
    expect(espeakVoiceFor('fr')).toBe('fr-fr');
    expect(espeakVoiceFor('uk')).toBe('uk');
    expect(espeakVoiceFor('xx')).toBe('en-us');
  });

  it("uses the request's voice only when it is an espeak-ng voice", async () => {
    const text = 'Hello there.';
    const alloy = await speech.synthesize({ text, lang: 'en', voice: 'alloy' });
    expect(pcmOf(alloy.data).equals(espeakDirect('en-us', text))).toBe(true);
    const british = await speech.synthesize({ text, lang: 'en', voice: 'en-gb' });
    expect(pcmOf(british.data).equals(espeakDirect('en-gb', text))).toBe(true);
  });

  it('reads markup-looking text as plain words and passes text that looks like options safely', async () => {
    expect(stripMarkup('<speak>Hello <break time="1s"/> world</speak>')).toBe('Hello world');
    const result = await speech.synthesize({ text: '--help -v de <b>Safe</b> text.', lang: 'en' });
    expect(result.marks?.[0]?.text).toBe('--help -v de Safe text.');
    expect(result.durationSec).toBeGreaterThan(0.5);
  });

  it('refuses text with nothing to say', async () => {
    await expect(speech.synthesize({ text: ' ... <p></p> ', lang: 'en' })).rejects.toMatchObject({ code: 'bad_input' });
  });

  it('says how to install espeak-ng when it is missing', async () => {
    const missing = new EspeakSpeech({ binary: '/nonexistent/espeak-ng' });
    const error: unknown = await missing.synthesize({ text: 'One. Two. Three.', lang: 'en' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReelforgeError);
    expect((error as ReelforgeError).code).toBe('missing_dependency');
    expect((error as ReelforgeError).message).toContain('sudo apt-get install -y espeak-ng');
  });

  it('kills its espeak-ng processes when aborted', async () => {
    // A stand-in "espeak-ng" that records its pid and never finishes shows whether abort ends the processes.
    const dir = await mkdtemp(join(tmpdir(), 'reelforge-espeak-'));
    try {
      const pids = join(dir, 'pids');
      const binary = join(dir, 'slow-espeak');
      await writeFile(binary, `#!/bin/sh\necho $$ >> '${pids}'\nexec sleep 30\n`, { mode: 0o755 });
      const slow = new EspeakSpeech({ binary, concurrency: 3 });
      const controller = new AbortController();
      const started = Date.now();
      const pending = slow.synthesize({ text: 'One. Two. Three. Four.', lang: 'en' }, controller.signal);
      await waitFor('the espeak-ng processes', async () => (await readFile(pids, 'utf8').catch(() => '')).trim().split('\n').length === 3);
      controller.abort();
      await expect(pending).rejects.toMatchObject({ code: 'cancelled' });
      expect(Date.now() - started).toBeLessThan(5000);
      const running = (await readFile(pids, 'utf8')).trim().split('\n').map(Number);
      expect(running).toHaveLength(3); // bounded: the fourth sentence never started
      await waitFor('the espeak-ng processes', () => running.every((pid) => !isAlive(pid)));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
