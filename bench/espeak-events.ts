/**
 * Ground truth for the captions bench: espeak-ng's own word events, from its library (libespeak-ng)
 * through koffi. Bench only (a dev dependency): reelforge itself never loads the library, it runs
 * the espeak-ng program (GPL-3.0) as a separate process. The library and the program are the same
 * build, so the events fall on the very samples the program writes (checked: identical PCM).
 */
import koffi from 'koffi';

export interface TruthWord {
  /** Character offset (0-based, in code points) of the word in the text. */
  charIndex: number;
  startSec: number;
}

interface EspeakLib {
  synthesize(voice: string, wordsPerMinute: number, text: string): TruthWord[];
}

let lib: EspeakLib | undefined;

/** Loads libespeak-ng once; undefined when it is not installed. */
export function espeakEvents(): EspeakLib | undefined {
  if (lib) return lib;
  let handle: koffi.IKoffiLib;
  try {
    handle = koffi.load('libespeak-ng.so.1');
  } catch {
    return undefined;
  }
  const Event = koffi.struct('espeak_EVENT', {
    type: 'int',
    unique_identifier: 'uint',
    text_position: 'int',
    length: 'int',
    audio_position: 'int',
    sample: 'int',
    user_data: 'void*',
    id: 'int64',
  });
  const Callback = koffi.proto('int SynthCallback(int16_t *wav, int numsamples, espeak_EVENT *events)');
  const initialize = handle.func('int espeak_Initialize(int output, int buflength, const char *path, int options)');
  const setCallback = handle.func('void espeak_SetSynthCallback(SynthCallback *cb)');
  const setVoice = handle.func('int espeak_SetVoiceByName(const char *name)');
  const setParameter = handle.func('int espeak_SetParameter(int parameter, int value, int relative)');
  const synth = handle.func('int espeak_Synth(const char *text, size_t size, uint position, int positionType, uint end, uint flags, uint *uid, void *userData)');
  const synchronize = handle.func('int espeak_Synchronize()');
  const AUDIO_OUTPUT_SYNCHRONOUS = 2;
  const sampleRate = initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, null, 0) as number;
  let events: Array<{ position: number; sample: number }> = [];
  const eventSize = koffi.sizeof(Event);
  const callback = koffi.register(
    (_wav: unknown, _count: number, pointer: unknown) => {
      for (let i = 0; ; i++) {
        const event = koffi.decode(pointer, i * eventSize, Event) as { type: number; text_position: number; sample: number };
        if (event.type === 0) break; // espeakEVENT_LIST_TERMINATED
        if (event.type === 1) events.push({ position: event.text_position, sample: event.sample }); // espeakEVENT_WORD
      }
      return 0;
    },
    koffi.pointer(Callback),
  );
  setCallback(callback);
  lib = {
    synthesize(voice, wordsPerMinute, text) {
      events = [];
      setVoice(voice);
      setParameter(1, wordsPerMinute, 0); // espeakRATE
      const bytes = Buffer.from(`${text}\0`, 'utf8');
      synth(bytes, bytes.length, 0, 0, 0, 1, null, null); // espeakCHARS_UTF8
      synchronize();
      return events.map((e) => ({ charIndex: e.position - 1, startSec: e.sample / sampleRate }));
    },
  };
  return lib;
}
