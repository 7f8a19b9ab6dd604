/** The command menu Telegram shows under "/": English by default, Russian for Russian clients. */
import type { Api } from 'grammy';
import type { BotLocale } from '../shared/i18n.js';
import { botTexts } from '../shared/i18n.js';

export async function registerCommands(api: Api): Promise<void> {
  const menu = (locale: BotLocale) => {
    const c = botTexts(locale).commands;
    return [
      { command: 'video', description: c.video },
      { command: 'help', description: c.help },
      { command: 'start', description: c.start },
    ];
  };
  await api.setMyCommands(menu('en'));
  await api.setMyCommands(menu('ru'), { language_code: 'ru' });
}
