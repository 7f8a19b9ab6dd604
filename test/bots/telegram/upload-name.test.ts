import { describe, expect, it } from 'vitest';
import { uploadName } from '../../../src/bots/telegram/notifier.js';

describe('uploadName', () => {
  it('keeps ASCII names and turns other letters into a safe ASCII name', () => {
    expect(uploadName('/data/out/the-history-of-tea-j1.mp4')).toBe('the-history-of-tea-j1.mp4');
    expect(uploadName('/data/out/история-чая-j776052a82c2e.mp4')).toBe('j776052a82c2e.mp4');
    expect(uploadName('/data/out/café crème.jpg')).toBe('cafe-creme.jpg');
    expect(uploadName('/data/out/чай.mp4')).toBe('video.mp4');
  });
});
