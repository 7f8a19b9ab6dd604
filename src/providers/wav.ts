/**
 * Pure helpers for PCM WAV files: read a header, join clips with silence, write PCM16.
 * espeak-ng streams WAV to stdout before it knows the length, so its RIFF and data sizes are
 * placeholders (0x7FFFF000-ish, 0xFFFFFFFF or 0); the real data length is what the buffer holds.
 */
import { ReelforgeError } from '../core/errors.js';

export interface WavFormat {
  /** 1 = integer PCM, 3 = float. */
  audioFormat: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** Bytes per frame (all channels of one sample). */
  blockAlign: number;
}

export interface WavInfo {
  format: WavFormat;
  dataOffset: number;
  /** Bytes of sample data actually present, a whole number of frames. */
  dataLength: number;
  durationSec: number;
}

const HEADER_BYTES = 44;

function badWav(detail: string): ReelforgeError {
  return new ReelforgeError('internal', `Could not read the generated audio: ${detail}.`);
}

export function parseWav(buf: Buffer): WavInfo {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw badWav('not a RIFF/WAVE file');
  }
  let format: WavFormat | undefined;
  let offset = 12;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const declared = buf.readUInt32LE(offset + 4);
    const bodyStart = offset + 8;
    const available = buf.length - bodyStart;
    if (id === 'fmt ') {
      if (declared < 16 || available < 16) throw badWav('the fmt chunk is too short');
      format = {
        audioFormat: buf.readUInt16LE(bodyStart),
        channels: buf.readUInt16LE(bodyStart + 2),
        sampleRate: buf.readUInt32LE(bodyStart + 4),
        bitsPerSample: buf.readUInt16LE(bodyStart + 14),
        blockAlign: buf.readUInt16LE(bodyStart + 12),
      };
      if (format.channels === 0 || format.sampleRate === 0 || format.blockAlign === 0) throw badWav('the fmt chunk is empty');
    } else if (id === 'data') {
      if (!format) throw badWav('the data chunk comes before the fmt chunk');
      // A streamed header cannot know its size: trust the bytes we actually have.
      const size = declared === 0 || declared > available ? available : declared;
      const dataLength = size - (size % format.blockAlign);
      return {
        format,
        dataOffset: bodyStart,
        dataLength,
        durationSec: dataLength / (format.blockAlign * format.sampleRate),
      };
    }
    if (declared > available) break;
    offset = bodyStart + declared + (declared % 2); // chunks are padded to even sizes
  }
  throw badWav(format ? 'there is no data chunk' : 'there is no fmt chunk');
}

export function wavDurationSec(buf: Buffer): number {
  return parseWav(buf).durationSec;
}

/** A canonical 44-byte header for `dataLength` bytes of samples. */
export function wavHeader(format: WavFormat, dataLength: number): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataLength, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(format.audioFormat, 20);
  header.writeUInt16LE(format.channels, 22);
  header.writeUInt32LE(format.sampleRate, 24);
  header.writeUInt32LE(format.sampleRate * format.blockAlign, 28);
  header.writeUInt16LE(format.blockAlign, 32);
  header.writeUInt16LE(format.bitsPerSample, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataLength, 40);
  return header;
}

/** Wraps interleaved 16-bit samples in a WAV file. */
export function encodeWav16(samples: Int16Array, sampleRate: number, channels: number): Buffer {
  const format: WavFormat = { audioFormat: 1, channels, sampleRate, bitsPerSample: 16, blockAlign: channels * 2 };
  const body = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  // Samples are written little-endian, which is what Int16Array holds on every platform Node runs on.
  return Buffer.concat([wavHeader(format, body.length), body]);
}

function sameFormat(a: WavFormat, b: WavFormat): boolean {
  return (
    a.audioFormat === b.audioFormat &&
    a.channels === b.channels &&
    a.sampleRate === b.sampleRate &&
    a.bitsPerSample === b.bitsPerSample &&
    a.blockAlign === b.blockAlign
  );
}

export interface ConcatResult {
  data: Buffer;
  format: WavFormat;
  durationSec: number;
  /** Where each input clip lies in the result, in seconds. */
  spans: Array<{ startSec: number; endSec: number }>;
}

/** Joins clips of one format with `gapSec` of silence between them (none before the first or after the last). */
export function concatWav(clips: readonly Buffer[], gapSec = 0): ConcatResult {
  if (clips.length === 0) throw badWav('there is nothing to join');
  const infos = clips.map(parseWav);
  const format = (infos[0] as WavInfo).format;
  for (const info of infos) {
    if (!sameFormat(info.format, format)) throw badWav('the clips have different formats');
  }
  const bytesPerSec = format.sampleRate * format.blockAlign;
  const gapBytes = Math.round(gapSec * format.sampleRate) * format.blockAlign;
  // 8-bit PCM is unsigned: its silence is 0x80, everything else is zero.
  const silence = Buffer.alloc(gapBytes, format.audioFormat === 1 && format.bitsPerSample === 8 ? 0x80 : 0);
  const parts: Buffer[] = [];
  const spans: ConcatResult['spans'] = [];
  let bytes = 0;
  infos.forEach((info, i) => {
    if (i > 0 && gapBytes > 0) {
      parts.push(silence);
      bytes += gapBytes;
    }
    const clip = clips[i] as Buffer;
    parts.push(clip.subarray(info.dataOffset, info.dataOffset + info.dataLength));
    spans.push({ startSec: bytes / bytesPerSec, endSec: (bytes + info.dataLength) / bytesPerSec });
    bytes += info.dataLength;
  });
  return {
    data: Buffer.concat([wavHeader(format, bytes), ...parts]),
    format,
    durationSec: bytes / bytesPerSec,
    spans,
  };
}
