/**
 * Reads a picture's pixel size from its header (PNG, JPEG, WebP) without starting ffprobe: the
 * render uses it to pick the resolution the motion is computed at. `undefined` when the format is
 * not recognised; the caller then assumes a picture at least as large as the video.
 */
import { open } from 'node:fs/promises';

export interface PixelSize {
  width: number;
  height: number;
}

/** JPEG headers can carry EXIF thumbnails before the frame header; 256 KiB covers real files. */
const MAX_HEADER_BYTES = 256 * 1024;

export async function readImageSize(path: string): Promise<PixelSize | undefined> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(MAX_HEADER_BYTES);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
    return parseImageSize(buffer.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}

export function parseImageSize(data: Buffer): PixelSize | undefined {
  if (data.length >= 24 && data.readUInt32BE(0) === 0x89504e47 && data.toString('latin1', 12, 16) === 'IHDR') {
    return valid(data.readUInt32BE(16), data.readUInt32BE(20));
  }
  if (data.length >= 4 && data[0] === 0xff && data[1] === 0xd8) return jpegSize(data);
  if (data.length >= 30 && data.toString('latin1', 0, 4) === 'RIFF' && data.toString('latin1', 8, 12) === 'WEBP') return webpSize(data);
  return undefined;
}

function jpegSize(data: Buffer): PixelSize | undefined {
  let offset = 2;
  while (offset + 9 < data.length) {
    if (data[offset] !== 0xff) return undefined;
    const marker = data[offset + 1]!;
    // Fill bytes and markers without a length.
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2;
      continue;
    }
    const length = data.readUInt16BE(offset + 2);
    // SOF0-SOF15 carry the size, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return valid(data.readUInt16BE(offset + 7), data.readUInt16BE(offset + 5));
    }
    offset += 2 + length;
  }
  return undefined;
}

function webpSize(data: Buffer): PixelSize | undefined {
  const chunk = data.toString('latin1', 12, 16);
  if (chunk === 'VP8X') return valid(1 + data.readUIntLE(24, 3), 1 + data.readUIntLE(27, 3));
  if (chunk === 'VP8 ') return valid(data.readUInt16LE(26) & 0x3fff, data.readUInt16LE(28) & 0x3fff);
  if (chunk === 'VP8L' && data[20] === 0x2f) {
    const bits = data.readUInt32LE(21);
    return valid((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1);
  }
  return undefined;
}

function valid(width: number, height: number): PixelSize | undefined {
  return width > 0 && height > 0 ? { width, height } : undefined;
}
