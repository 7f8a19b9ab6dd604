/**
 * Settings in one JSON file under DATA_DIR, written atomically (temp file, fsync, rename) after every
 * change, so a crash leaves either the old or the new file. One process owns the file; use the
 * Redis store to share settings across processes.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ReelforgeError } from '../core/errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { emptySettingsState, MemorySettingsStore, type SettingsState } from './memory-settings-store.js';

export const SETTINGS_FILE_NAME = 'settings.json';

export class FileSettingsStore extends MemorySettingsStore {
  private writes: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly path: string,
    state: SettingsState,
  ) {
    super(state);
  }

  /** Opens (or starts) `<dataDir>/settings.json`. */
  static async open(dataDir: string): Promise<FileSettingsStore> {
    const path = join(dataDir, SETTINGS_FILE_NAME);
    await mkdir(dataDir, { recursive: true });
    return new FileSettingsStore(path, await loadState(path));
  }

  protected override changed(): Promise<void> {
    if (this.closed) return Promise.reject(new ReelforgeError('internal', 'The settings store is closed.'));
    const json = JSON.stringify(this.state, null, 2);
    // Saves run one after another so an older snapshot never lands after a newer one.
    const next = this.writes.then(() => writeAtomic(this.path, json));
    this.writes = next.catch(() => undefined);
    return next;
  }

  override async close(): Promise<void> {
    this.closed = true;
    await this.writes;
  }
}

async function loadState(path: string): Promise<SettingsState> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptySettingsState();
    throw new ReelforgeError('config', `Cannot read the settings file ${path}.`, { cause: error });
  }
  try {
    const parsed = JSON.parse(text) as Partial<SettingsState>;
    const empty = emptySettingsState();
    return {
      version: 1,
      tiers: parsed.tiers ?? empty.tiers,
      captions: parsed.captions ?? {},
      usernames: parsed.usernames ?? empty.usernames,
      usage: { ...empty.usage, ...parsed.usage },
      users: parsed.users ?? empty.users,
      expiring: parsed.expiring ?? empty.expiring,
      ledger: { days: parsed.ledger?.days ?? {}, reservations: parsed.ledger?.reservations ?? {} },
    };
  } catch (error) {
    throw new ReelforgeError('config', `The settings file ${path} is not valid JSON; fix or remove it.`, { cause: error });
  }
}

async function writeAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, text, { durable: true });
}
