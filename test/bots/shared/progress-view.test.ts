import { describe, expect, it } from 'vitest';
import { progressBar, progressLines, progressText } from '../../../src/bots/shared/progress-view.js';
import { applyProgress, emptySnapshot, type ProgressEvent } from '../../../src/core/progress.js';

const after = (events: ProgressEvent[]) => events.reduce(applyProgress, emptySnapshot());

describe('progress view', () => {
  it('draws a bar of filled and empty cells with a percentage', () => {
    expect(progressBar(0.45)).toBe('▰▰▰▰▰▱▱▱▱▱ 45%');
    expect(progressBar(0, 6)).toBe('▱▱▱▱▱▱ 0%');
    expect(progressBar(1.7, 6)).toBe('▰▰▰▰▰▰ 100%');
    expect(progressBar(Number.NaN, 4)).toBe('▱▱▱▱ 0%');
  });

  it('shows only the place in line while waiting', () => {
    expect(progressLines(after([{ type: 'queued', position: 2, etaSec: 70 }]), 'en')).toEqual(['⏳ Queued, #2 in line, about 1 min']);
    expect(progressLines(emptySnapshot(), 'ru')).toEqual(['⏳ Принято, ставлю в очередь…']);
  });

  it('ticks finished stages, counts images and notes an offline draft', () => {
    const text = progressText(
      after([
        { type: 'queued', position: 1, etaSec: 10 },
        { type: 'started', offline: true, tier: 'ultra_fast' },
        { type: 'title', title: 'The history of tea' },
        { type: 'stage', stage: 'script', status: 'done' },
        { type: 'count', stage: 'images', done: 5, total: 12 },
        { type: 'stage', stage: 'music', status: 'skipped' },
      ]),
      'en',
    );
    expect(text.split('\n')).toEqual([
      '🎬 The history of tea',
      '✅ Script',
      '⏳ Images 5/12',
      '▫️ Voice',
      '➖ Music',
      '▫️ Render',
      '▫️ Upload',
      expect.stringMatching(/^▰+▱+ \d+%$/) as string,
      'Offline draft: no AI provider is configured, so the script and pictures are placeholders.',
    ]);
  });

  it('says when the upload is being shrunk to fit', () => {
    const snapshot = after([
      { type: 'started', offline: false, tier: 'quality' },
      { type: 'stage', stage: 'upload', status: 'running', note: 'shrinking' },
    ]);
    expect(progressText(snapshot, 'ru')).toContain('⏳ Отправка (сжимаю под лимит)');
  });
});
