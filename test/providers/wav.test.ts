import { describe, expect, it } from 'vitest';
import { ReelforgeError } from '../../src/core/errors.js';
import { concatWav, encodeWav16, parseWav, wavDurationSec } from '../../src/providers/wav.js';

/** A WAV the way espeak-ng streams it: placeholder sizes, since it writes the header before the audio. */
function streamedWav(samples: number, sampleRate = 22_050, sizeField = 0x7ffff000): Buffer {
  const wav = encodeWav16(new Int16Array(samples).fill(1000), sampleRate, 1);
  wav.writeUInt32LE(Math.min(0xffffffff, sizeField + 36), 4);
  wav.writeUInt32LE(sizeField, 40);
  return wav;
}

describe('parseWav', () => {
  it('reads the format and the length of a canonical PCM16 file', () => {
    const wav = encodeWav16(new Int16Array(44_100 * 2), 44_100, 2);
    const info = parseWav(wav);
    expect(info.format).toEqual({ audioFormat: 1, channels: 2, sampleRate: 44_100, bitsPerSample: 16, blockAlign: 4 });
    expect(info.dataOffset).toBe(44);
    expect(info.dataLength).toBe(44_100 * 4);
    expect(info.durationSec).toBe(1);
  });

  it.each([0x7ffff000, 0xffffffff, 0])('trusts the bytes present when the data size field is a streaming placeholder (%i)', (field) => {
    const info = parseWav(streamedWav(11_025, 22_050, field));
    expect(info.dataLength).toBe(22_050);
    expect(info.durationSec).toBeCloseTo(0.5, 6);
  });

  it('ignores a trailing half frame', () => {
    const wav = Buffer.concat([encodeWav16(new Int16Array(100), 8000, 2), Buffer.from([1, 2, 3])]);
    wav.writeUInt32LE(0xffffffff, 40);
    expect(parseWav(wav).dataLength).toBe(200);
  });

  it('skips chunks it does not know, such as LIST', () => {
    const plain = encodeWav16(new Int16Array(8000), 8000, 1);
    const list = Buffer.concat([Buffer.from('LIST', 'ascii'), Buffer.from([5, 0, 0, 0]), Buffer.from('INFOx'), Buffer.alloc(1)]);
    const withList = Buffer.concat([plain.subarray(0, 36), list, plain.subarray(36)]);
    expect(wavDurationSec(withList)).toBe(1);
  });

  it('refuses what is not a WAV file with a ReelforgeError', () => {
    expect(() => parseWav(Buffer.from('ID3 not a wav at all'))).toThrow(ReelforgeError);
    expect(() => parseWav(encodeWav16(new Int16Array(4), 8000, 1).subarray(0, 30))).toThrow(/no data chunk|too short/);
  });
});

describe('encodeWav16', () => {
  it('writes little-endian samples after a 44-byte header with correct sizes', () => {
    const wav = encodeWav16(Int16Array.from([1, -2, 32767, -32768]), 16_000, 1);
    expect(wav.length).toBe(44 + 8);
    expect(wav.readUInt32LE(4)).toBe(36 + 8);
    expect(wav.readUInt32LE(28)).toBe(32_000);
    expect([wav.readInt16LE(44), wav.readInt16LE(46), wav.readInt16LE(48), wav.readInt16LE(50)]).toEqual([1, -2, 32767, -32768]);
  });
});

describe('concatWav', () => {
  it('joins clips with silence between them and reports where each clip lies', () => {
    const a = streamedWav(22_050); // 1 s
    const b = streamedWav(11_025); // 0.5 s
    const joined = concatWav([a, b], 0.12);
    expect(joined.durationSec).toBeCloseTo(1.62, 4);
    expect(parseWav(joined.data).durationSec).toBeCloseTo(1.62, 4);
    expect(joined.spans[0]).toEqual({ startSec: 0, endSec: 1 });
    expect(joined.spans[1]?.startSec).toBeCloseTo(1.12, 4);
    expect(joined.spans[1]?.endSec).toBeCloseTo(1.62, 4);
    // The gap is digital silence, the clips keep their samples.
    const info = parseWav(joined.data);
    const sampleAt = (sec: number): number => joined.data.readInt16LE(info.dataOffset + Math.round(sec * 22_050) * 2);
    expect(sampleAt(0.5)).toBe(1000);
    expect(sampleAt(1.06)).toBe(0);
    expect(sampleAt(1.3)).toBe(1000);
  });

  it('writes a canonical header whose sizes match the joined data', () => {
    const joined = concatWav([streamedWav(100), streamedWav(100)], 0);
    expect(joined.data.readUInt32LE(40)).toBe(400);
    expect(joined.data.readUInt32LE(4)).toBe(joined.data.length - 8);
  });

  it('refuses clips of different formats', () => {
    expect(() => concatWav([encodeWav16(new Int16Array(10), 22_050, 1), encodeWav16(new Int16Array(10), 44_100, 1)])).toThrow(/different formats/);
  });
});
