/**
 * Compiles the WebAssembly text sources under src/ (the Ken Burns kernel) into the .wasm files
 * next to them, which are committed so that running reelforge needs no compiler. A test
 * (test/providers/ffmpeg/warp-kernel.test.ts) fails when a .wasm no longer matches its .wat.
 *
 *   npm run build:wasm
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import createWabt from 'wabt';

export const WASM_SOURCES = ['src/providers/ffmpeg/motion/warp.wat'];

/** The binary for one .wat file (SIMD on, no names section: the output is reproducible). */
export async function compileWat(path: string): Promise<Uint8Array> {
  const wabt = await createWabt();
  const module = wabt.parseWat(path, await readFile(path, 'utf8'), { simd: true });
  try {
    module.validate();
    return module.toBinary({ write_debug_names: false }).buffer;
  } finally {
    module.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const source of WASM_SOURCES) {
    const out = source.replace(/\.wat$/, '.wasm');
    const binary = await compileWat(source);
    await writeFile(out, binary);
    process.stdout.write(`${out}: ${binary.length} bytes\n`);
  }
}
