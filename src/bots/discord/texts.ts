/** The few Discord-only texts; everything shared with Telegram is in ../shared/i18n.ts. */
import { pickLocale } from '../shared/i18n.js';

const en = {
  noActiveJob: 'You have no video waiting or being made.',
  userLabel: (id: string) => `<@${id}>`,
  channelLabel: (id: string) => `<#${id}>`,
};

const ru: typeof en = {
  noActiveJob: 'У вас нет видео в очереди или в работе.',
  userLabel: en.userLabel,
  channelLabel: en.channelLabel,
};

export function discordTexts(locale: string | undefined | null): typeof en {
  return pickLocale(locale) === 'ru' ? ru : en;
}
