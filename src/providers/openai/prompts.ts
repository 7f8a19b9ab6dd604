/**
 * Prompts live in `prompts/` as files; each is read and compiled once per process. System prompts
 * take no variables, so every request starts with the same bytes and providers' prompt caching
 * can apply; the variable parts go in the user message.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ReelforgeError } from '../../core/errors.js';

const PROMPTS_DIR = fileURLToPath(new URL('../../../prompts/', import.meta.url));
const loaded = new Map<string, string>();

/** The text of `prompts/<name>.md` without `<!-- comments -->` (notes for humans, not tokens for models). */
export function loadPrompt(name: string): string {
  const hit = loaded.get(name);
  if (hit !== undefined) return hit;
  let text: string;
  try {
    text = readFileSync(`${PROMPTS_DIR}${name}.md`, 'utf8');
  } catch (error) {
    throw new ReelforgeError('internal', `The prompt file "${name}" is missing.`, { cause: error });
  }
  const clean = text.replace(/<!--[\s\S]*?-->/g, '').replace(/\n{3,}/g, '\n\n').trim();
  loaded.set(name, clean);
  return clean;
}

export type Template = (vars: Record<string, string | number>) => string;

/** `{{name}}` placeholders; a missing variable is a bug, so it throws rather than sending "undefined". */
export function compileTemplate(text: string): Template {
  const parts = text.split(/\{\{(\w+)\}\}/);
  return (vars) =>
    parts
      .map((part, i) => {
        if (i % 2 === 0) return part;
        const value = vars[part];
        if (value === undefined) throw new ReelforgeError('internal', `The prompt variable "${part}" was not given.`);
        return String(value);
      })
      .join('');
}

const templates = new Map<string, Template>();

export function promptTemplate(name: string): Template {
  let template = templates.get(name);
  if (!template) {
    template = compileTemplate(loadPrompt(name));
    templates.set(name, template);
  }
  return template;
}
