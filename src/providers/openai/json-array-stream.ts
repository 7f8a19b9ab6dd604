/**
 * Incremental reading of a streamed JSON object of the shape `{ ...head fields, "<key>": [ {...}, ... ] }`:
 * the head becomes available the moment the array key appears, and each array element the moment
 * its closing brace arrives, so work on element 1 starts while the model still writes element 2.
 * It only finds boundaries (strings, escapes and nesting are respected); JSON.parse and zod decide
 * what the pieces mean.
 */
export interface StreamPieces {
  /** The fields before the array, as a complete JSON object text; given once. */
  head?: string;
  /** Complete element texts, in order. */
  items: string[];
}

export class JsonArrayStreamer {
  private text = '';
  private pos = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private stringStart = -1;
  private lastString = '';
  private lastKey = '';
  private objectStart = -1;
  private keyStart = -1;
  private inArray = false;
  private itemStart = -1;
  private headGiven = false;

  constructor(private readonly arrayKey: string) {}

  push(delta: string): StreamPieces {
    this.text += delta;
    const out: StreamPieces = { items: [] };
    const text = this.text;
    for (; this.pos < text.length; this.pos++) {
      const ch = text[this.pos];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (ch === '\\') this.escaped = true;
        else if (ch === '"') {
          this.inString = false;
          if (this.depth === 1) this.lastString = text.slice(this.stringStart + 1, this.pos);
        }
        continue;
      }
      switch (ch) {
        case '"':
          this.inString = true;
          this.stringStart = this.pos;
          break;
        case ':':
          if (this.depth === 1) {
            this.lastKey = this.lastString;
            if (this.lastKey === this.arrayKey) this.keyStart = this.keyQuoteStart();
          }
          break;
        case '{':
        case '[':
          if (this.depth === 0 && ch === '{') this.objectStart = this.pos;
          this.depth++;
          if (this.depth === 2 && ch === '[' && this.lastKey === this.arrayKey) {
            this.inArray = true;
            const head = this.headText();
            if (head !== undefined && !this.headGiven) {
              this.headGiven = true;
              out.head = head;
            }
          } else if (this.depth === 3 && this.inArray && this.itemStart < 0) {
            this.itemStart = this.pos;
          }
          break;
        case '}':
        case ']':
          this.depth--;
          if (this.depth === 2 && this.inArray && this.itemStart >= 0) {
            out.items.push(text.slice(this.itemStart, this.pos + 1));
            this.itemStart = -1;
          } else if (this.depth === 1 && this.inArray) {
            this.inArray = false;
          }
          break;
        default:
          break;
      }
    }
    return out;
  }

  /** Where the array key's opening quote is, so the head can be cut just before it. */
  private keyQuoteStart(): number {
    return this.stringStart;
  }

  private headText(): string | undefined {
    if (this.objectStart < 0 || this.keyStart < 0) return undefined;
    const before = this.text.slice(this.objectStart, this.keyStart).trimEnd().replace(/,$/, '');
    return `${before}}`;
  }
}
