/** The command menu Telegram shows under "/": English by default, Russian for Russian clients. */
import type { Api } from 'grammy';
import type { BotLocale } from '../shared/i18n.js';
import { botTexts } from '../shared/i18n.js';

/** `signal` abandons a call that hangs (the caller retries in the background). */
export async function registerCommands(api: Api, signal?: AbortSignal): Promise<void> {
  const menu = (locale: BotLocale) => {
    const c = botTexts(locale).commands;
    return [
      { command: 'video', description: c.video },
      { command: 'storyboard', description: c.storyboard },
      { command: 'help', description: c.help },
      { command: 'start', description: c.start },
    ];
  };
  // grammY types its signal with the abort-controller shim; a native AbortSignal is what it uses at run time.
  const abortable = signal as Parameters<Api['setMyCommands']>[2];
  await api.setMyCommands(menu('en'), {}, abortable);
  await api.setMyCommands(menu('ru'), { language_code: 'ru' }, abortable);
}
