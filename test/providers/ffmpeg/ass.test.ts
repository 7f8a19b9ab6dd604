import { describe, expect, it } from 'vitest';
import {
  buildAss,
  captionMetrics,
  escapeAssText,
  formatAssTime,
  layoutCaption,
  textWidthEm,
  wrapCaption,
} from '../../../src/providers/ffmpeg/ass.js';

function dialogues(ass: string): string[] {
  return ass.split('\n').filter((line) => line.startsWith('Dialogue:'));
}

/** The text field of a Dialogue line without the leading override block, split into its lines. */
function captionLines(dialogue: string): string[] {
  const text = dialogue.split(',').slice(9).join(',');
  return text.replace(/^\{[^}]*\}/, '').split('\\N');
}

describe('formatAssTime', () => {
  it('writes h:mm:ss.cc', () => {
    expect(formatAssTime(0)).toBe('0:00:00.00');
    expect(formatAssTime(1.5)).toBe('0:00:01.50');
    expect(formatAssTime(61.234)).toBe('0:01:01.23');
    expect(formatAssTime(3723.456)).toBe('1:02:03.46');
  });

  it('rounds to the nearest centisecond and carries into seconds and minutes', () => {
    expect(formatAssTime(59.996)).toBe('0:01:00.00');
    expect(formatAssTime(2.005)).toBe('0:00:02.01');
  });

  it('never writes a negative time', () => {
    expect(formatAssTime(-0.3)).toBe('0:00:00.00');
  });
});

describe('escapeAssText', () => {
  it('keeps braces literal instead of opening override blocks', () => {
    expect(escapeAssText('a {\\b1} b')).toBe('a \\{\\\u2060b1\\} b');
  });

  it('breaks a backslash away from N, n and h so no line break or hard space appears', () => {
    const escaped = escapeAssText('C:\\New\\name\\here');
    expect(escaped).not.toMatch(/\\[Nnh]/);
    expect(escaped.replaceAll('\u2060', '')).toBe('C:\\New\\name\\here');
  });

  it('turns line breaks into spaces (wrapping is ours to do)', () => {
    expect(escapeAssText('one\ntwo\r\nthree')).toBe('one two three');
  });

  it('leaves Cyrillic and other letters alone', () => {
    expect(escapeAssText('Падение Константинополя — 1453')).toBe('Падение Константинополя — 1453');
  });
});

describe('wrapCaption', () => {
  it('keeps a short caption on one line', () => {
    expect(wrapCaption('A short line', 20)).toEqual(['A short line']);
  });

  it('balances two lines instead of leaving a lonely last word', () => {
    const lines = wrapCaption('The fall of Constantinople in the spring of 1453', 20);
    expect(lines).toHaveLength(2);
    const [a, b] = lines.map(textWidthEm);
    expect(Math.abs(a! - b!)).toBeLessThan(5);
  });

  it('never makes a line wider than the limit, Cyrillic included', () => {
    const text = 'Османская армия осаждала город пятьдесят три дня, пока стены не пали';
    for (const line of wrapCaption(text, 14)) expect(textWidthEm(line)).toBeLessThanOrEqual(14);
  });

  it('cuts a word longer than a line into pieces', () => {
    const lines = wrapCaption('Donaudampfschifffahrtsgesellschaftskapitän', 10);
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.join('')).toBe('Donaudampfschifffahrtsgesellschaftskapitän');
    for (const line of lines) expect(textWidthEm(line)).toBeLessThanOrEqual(10);
  });

  it('breaks CJK text, which has no spaces, between characters', () => {
    const lines = wrapCaption('君士坦丁堡的陷落发生在一四五三年的春天', 8);
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.join('')).toBe('君士坦丁堡的陷落发生在一四五三年的春天');
  });
});

describe('layoutCaption', () => {
  const { maxLineWidth, fontSize } = captionMetrics(1080, 1920);

  it('fits an ordinary phrase into at most two lines at the base size', () => {
    const layout = layoutCaption('In 1453 the city fell after a long siege', maxLineWidth, fontSize);
    expect(layout.fontSize).toBe(fontSize);
    expect(layout.lines.length).toBeLessThanOrEqual(2);
  });

  it('shrinks the font for a longer caption rather than growing past two lines', () => {
    const text = 'Sultan Mehmed the Second brought enormous cannons';
    const layout = layoutCaption(text, maxLineWidth, fontSize);
    expect(layout.fontSize).toBeLessThan(fontSize);
    expect(layout.lines.length).toBeLessThanOrEqual(2);
    expect(layout.lines.join(' ')).toBe(text);
  });

  it('ends a caption far too long for the frame with an ellipsis, within two lines', () => {
    const text = 'word '.repeat(80).trim();
    const layout = layoutCaption(text, maxLineWidth, fontSize);
    expect(layout.lines).toHaveLength(2);
    expect(layout.lines[1]!.endsWith('…')).toBe(true);
    for (const line of layout.lines) expect(textWidthEm(line) * layout.fontSize).toBeLessThanOrEqual(maxLineWidth);
  });
});

describe('buildAss', () => {
  const cues = [
    { text: 'Второй', startSec: 2, endSec: 3.5 },
    { text: 'First {cue}', startSec: 0.25, endSec: 1.75 },
    { text: '   ', startSec: 1.8, endSec: 1.9 },
    { text: 'backwards', startSec: 4, endSec: 3 },
  ];
  const ass = buildAss(cues, { width: 1080, height: 1920 });

  it('declares the output size as the script resolution and sets the wrap style', () => {
    expect(ass).toContain('PlayResX: 1080');
    expect(ass).toContain('PlayResY: 1920');
    expect(ass).toMatch(/^WrapStyle: \d$/m);
    expect(ass).toContain('ScaledBorderAndShadow: yes');
  });

  it('uses bold white DejaVu Sans with a dark outline, bottom-centred above the app UI', () => {
    const style = ass.split('\n').find((line) => line.startsWith('Style: Default,'));
    const fields = style!.slice('Style: '.length).split(',');
    expect(fields[1]).toBe('DejaVu Sans');
    expect(Number(fields[2])).toBeGreaterThanOrEqual(50);
    expect(Number(fields[2])).toBeLessThanOrEqual(90);
    expect(fields[3]).toBe('&H00FFFFFF');
    expect(fields[5]).toBe('&H00101010');
    expect(fields[7]).toBe('-1');
    expect(Number(fields[16])).toBeGreaterThan(0);
    expect(fields[18]).toBe('2');
    expect(Number(fields[21])).toBeGreaterThanOrEqual(1920 * 0.2);
  });

  it('scales the font with the frame', () => {
    const small = buildAss([], { width: 270, height: 480 });
    const size = Number(small.split('\n').find((l) => l.startsWith('Style:'))!.split(',')[2]);
    expect(size).toBeGreaterThanOrEqual(14);
    expect(size).toBeLessThanOrEqual(22);
  });

  it('writes one event per non-empty cue, in time order, with escaped text', () => {
    const events = dialogues(ass);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatch(/^Dialogue: 0,0:00:00\.25,0:00:01\.75,Default,/);
    expect(events[0]).toContain('First \\{cue\\}');
    expect(events[1]).toMatch(/^Dialogue: 0,0:00:02\.00,0:00:03\.50,Default,/);
    expect(events[1]).toContain('Второй');
  });

  it('wraps long captions with \\N so they stay inside the frame', () => {
    const long = buildAss([{ text: 'The walls of Constantinople had held for a thousand years', startSec: 0, endSec: 2 }], {
      width: 1080,
      height: 1920,
    });
    const event = dialogues(long)[0]!;
    const lines = captionLines(event);
    expect(lines.length).toBe(2);
    const { maxLineWidth, fontSize } = captionMetrics(1080, 1920);
    // A caption that needs a smaller size says so in its override block.
    const size = Number(/\\fs(\d+)/.exec(event)?.[1] ?? fontSize);
    for (const line of lines) expect(textWidthEm(line) * size).toBeLessThanOrEqual(maxLineWidth);
  });
});
