/**
 * Bot texts in English and Russian, shared by every chat platform. Plain text only: each platform
 * adds its own formatting (and escaping) on top. Russian is picked for locales starting with `ru`,
 * English for everything else.
 */
import { megabytes, paramsOf, type ErrorLike } from '../../core/errors.js';
import { MAX_DURATION_SEC, MAX_TOPIC_CHARS, MIN_DURATION_SEC } from '../../core/request.js';
import type { Stage } from '../../core/progress.js';
import { CAPTION_STYLES, DEFAULT_CAPTION_STYLE, type CaptionStyle } from '../../core/caption-style.js';

export type BotLocale = 'en' | 'ru';

/** `ru`, `ru-RU`, `ru_RU` → ru; anything else (or nothing) → en. */
export function pickLocale(code: string | undefined | null): BotLocale {
  return code?.toLowerCase().startsWith('ru') ? 'ru' : 'en';
}

export type { ErrorLike };

export interface HelpOptions {
  /** How the command is typed on this platform. */
  style: 'telegram' | 'discord';
  isAdmin?: boolean;
}

export interface BotTexts {
  help(options: HelpOptions): string;
  /** Shown at once, before the queue has answered. */
  accepted: string;
  /** "Queued, #2 in line, about 1 min". */
  queued(position: number, etaSec: number): string;
  starting: string;
  stage(stage: Stage): string;
  offlineDraft: string;
  shrinking: string;
  cancelButton: string;
  cancelled: string;
  cancelRefused: string;
  cancelUnknown: string;
  /** The short line the progress message becomes once the video is delivered. */
  done(title: string, durationSec: number): string;
  /** Caption pieces under the video. */
  captionLength(durationSec: number): string;
  /** The whole caption: title, length, receipt line. */
  caption(title: string, durationSec: number, receiptLine: string): string;
  error(error: ErrorLike): string;
  adminOnly: string;
  tierSet(target: string, tier: string): string;
  tierUsage: string;
  /** The chat's caption style after /captions (`auto`: back to the default). */
  captionsSet(style: CaptionStyle | 'auto'): string;
  /** /captions without a valid style: how to use it, and the style the chat has now. */
  captionsUsage(current: CaptionStyle | undefined): string;
  jobCancelled(jobId: string): string;
  jobNotFound(jobId: string): string;
  cancelUsage: string;
  userNotFound(name: string): string;
  /** Command menu descriptions. */
  commands: { start: string; help: string; video: string; storyboard: string };
  /** Discord /cancel without an id, when the user has nothing running. */
  noActiveJob: string;
  /** How /tier names "this chat" in its answer. */
  thisChat: string;
  queueEmpty: string;
  /** The last line of a /queue too long for one message. */
  queueMore(count: number): string;
}

/** What each caption style looks like, in a few words. */
const CAPTIONS_EN: Record<CaptionStyle, string> = {
  clean: 'clean (short phrases)',
  karaoke: 'karaoke (2-4 words, the spoken word highlighted)',
  pop: 'pop (bold uppercase words, the key word in colour)',
};
const CAPTIONS_RU: Record<CaptionStyle, string> = {
  clean: 'clean (короткие фразы)',
  karaoke: 'karaoke (по 2-4 слова, звучащее слово подсвечено)',
  pop: 'pop (крупные заглавные слова, главное — цветом)',
};

/** 75 → "1:15". */
export function formatClock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function etaEn(sec: number): string {
  if (sec < 60) return 'under a minute';
  const min = Math.round(sec / 60);
  return `about ${min} min`;
}

function etaRu(sec: number): string {
  if (sec < 60) return 'меньше минуты';
  const min = Math.round(sec / 60);
  return `около ${min} мин`;
}

/** The upload limit in MB when the error says it. */
function limitMb(error: ErrorLike): number | undefined {
  const { limitBytes } = paramsOf(error, 'too_large');
  return limitBytes === undefined ? undefined : megabytes(limitBytes);
}

const en: BotTexts = {
  help: ({ style, isAdmin }) => {
    const example =
      style === 'telegram'
        ? ['/video 30 The fall of Constantinople', '/video How bees make honey  (30 s)', '/video 60 История чая']
        : ['/video duration:30 topic:The fall of Constantinople', '/video topic:How bees make honey  (30 s)', '/video duration:60 topic:История чая tier:quality'];
    const lines = [
      'I turn a topic into a narrated vertical short video: a script, pictures, a voice, music and subtitles.',
      '',
      'Examples:',
      ...example.map((e) => `  ${e}`),
      '',
      `Length: ${MIN_DURATION_SEC} to ${MAX_DURATION_SEC} seconds (30 by default). The narration speaks the topic's language.`,
      'One message shows the progress; the video arrives in this chat when it is ready.',
      style === 'telegram'
        ? '/storyboard 30 <topic> shows the script first (only it is paid): edit scenes by reply, then ▶️ Render. Under a video: 🔁 re-roll a scene, ✏️ edit a line, 🎙 change the voice.'
        : '/storyboard shows the script first (only it is paid): edit scenes with ✏️, then ▶️ Render. Under a video: 🔁 re-roll a scene, ✏️ edit a line, 🎙 change the voice.',
    ];
    if (isAdmin) {
      lines.push('', `Admin: /tier <@user|id|chat> <ultra_fast|balanced|quality|auto>, /captions <${CAPTION_STYLES.join('|')}|auto>, /stats, /queue, /cancel <job>`);
    }
    return lines.join('\n');
  },
  accepted: '⏳ Got it, queuing your video…',
  queued: (position, etaSec) =>
    position <= 1 ? `⏳ Queued, next in line, ${etaEn(etaSec)}` : `⏳ Queued, #${position} in line, ${etaEn(etaSec)}`,
  starting: '⏳ Starting…',
  stage: (stage) =>
    ({ script: 'Script', images: 'Images', voice: 'Voice', music: 'Music', render: 'Render', upload: 'Upload' })[stage],
  offlineDraft: 'Offline draft: no AI provider is configured, so the script and pictures are placeholders.',
  shrinking: 'shrinking to fit',
  cancelButton: '✖ Cancel',
  cancelled: '✖ Cancelled.',
  cancelRefused: 'Only the person who asked for this video (or an admin) can cancel it.',
  cancelUnknown: 'This job has already finished.',
  done: (title, durationSec) => `✅ Done: ${title} (${formatClock(durationSec)})`,
  captionLength: (durationSec) => `Length ${formatClock(durationSec)}`,
  caption: (title, durationSec, receiptLine) => [title, en.captionLength(durationSec), receiptLine].join('\n'),
  error: (error) => {
    switch (error.code) {
      case 'bad_input':
        return badInputEn(error);
      case 'user_limit':
        return 'You already have the videos you are allowed in progress. Wait for one to finish, then ask again.';
      case 'not_allowed':
        return 'This bot is private: you and this chat are not on its list of allowed users and chats. Ask its admin to add you.';
      case 'daily_limit':
        return dailyLimitEn(error);
      case 'queue_full':
        return 'The queue is full right now. Please try again in a few minutes.';
      case 'cancelled':
        return '✖ Cancelled.';
      case 'provider_unavailable':
        return 'An AI service I use could not be reached. Please try again in a little while.';
      case 'provider_refused':
        return 'An AI service I use refused the request (quota or access). The admins see it in the logs and /stats; please try later.';
      case 'content_policy':
        return 'That topic was refused by the content policy. Please try a different topic.';
      case 'too_large': {
        const mb = limitMb(error);
        return mb === undefined
          ? 'The video came out too large to send in this chat. Try a shorter duration.'
          : `The video came out larger than this chat accepts (${mb} MB). Try a shorter duration.`;
      }
      case 'missing_dependency':
      case 'config':
        return 'The bot is not set up correctly on the server; its logs show the admins what to fix.';
      case 'render_failed':
        return paramsOf(error, 'render_failed').reason === 'time_limit'
          ? `Making the video took longer than its limit (${paramsOf(error, 'render_failed').limitMin ?? '?'} min) and was stopped. Try a shorter video, or try again later.`
          : 'Making the video failed. Please try again.';
      case 'internal':
        return 'Something went wrong on our side. Please try again.';
    }
  },
  adminOnly: 'Sorry, that command is for the bot admins only.',
  tierSet: (target, tier) => (tier === 'auto' ? `Tier for ${target}: automatic (from the duration).` : `Tier for ${target}: ${tier}.`),
  tierUsage: 'Usage: /tier <@user|id|chat> <ultra_fast|balanced|quality|auto>, or reply to a message with /tier <tier>.',
  captionsSet: (style) => `Captions in this chat: ${style === 'auto' ? `the default, ${CAPTIONS_EN[DEFAULT_CAPTION_STYLE]}` : CAPTIONS_EN[style]}.`,
  captionsUsage: (current) =>
    [
      'Usage: /captions <clean|karaoke|pop|auto>',
      ...CAPTION_STYLES.map((style) => `  ${style}: ${CAPTIONS_EN[style]}`),
      `Now: ${current ? CAPTIONS_EN[current] : `the default, ${CAPTIONS_EN[DEFAULT_CAPTION_STYLE]}`}.`,
    ].join('\n'),
  jobCancelled: (jobId) => `Job ${jobId} cancelled.`,
  jobNotFound: (jobId) => `No waiting or running job ${jobId}.`,
  cancelUsage: 'Usage: /cancel <job id> (see /queue).',
  userNotFound: (name) => `I have not seen ${name} yet: use their numeric id, or reply to one of their messages.`,
  commands: { start: 'What this bot does', help: 'How to use it, with examples', video: 'Make a video: /video 30 <topic>', storyboard: 'See and edit the script first: /storyboard 30 <topic>' },
  noActiveJob: 'You have no video waiting or being made.',
  thisChat: 'this chat',
  queueEmpty: 'The queue is empty.',
  queueMore: (count) => `… and ${count} more`,
};

/** Minutes until the limit resets, as "5 h 12 min" / "5 ч 12 мин". */
function resetsIn(error: ErrorLike, hours: string, minutes: string): string {
  const total = Math.max(1, Math.ceil(paramsOf(error, 'daily_limit').resetsInMin ?? 0));
  const h = Math.floor(total / 60);
  const m = total % 60;
  return h > 0 ? `${h} ${hours} ${m} ${minutes}` : `${m} ${minutes}`;
}

function dollars(value: number | undefined): string {
  return `$${Number(value ?? 0).toFixed(2)}`;
}

function dailyLimitEn(error: ErrorLike): string {
  const when = `It resets at 00:00 UTC, in ${resetsIn(error, 'h', 'min')}.`;
  const { max, limit } = paramsOf(error, 'daily_limit');
  switch (limit) {
    case 'user_videos':
      return `You have had your ${max} video${max === 1 ? '' : 's'} for today (the daily limit per user). ${when}`;
    case 'user_usd':
      return `This video would pass your daily spending limit of ${dollars(max)}. ${when}`;
    default:
      return `This bot has used today's budget of ${dollars(max)}. ${when}`;
  }
}

function dailyLimitRu(error: ErrorLike): string {
  const when = `Лимит обнулится в 00:00 UTC, через ${resetsIn(error, 'ч', 'мин')}.`;
  const { max, limit } = paramsOf(error, 'daily_limit');
  switch (limit) {
    case 'user_videos':
      return `Вы уже заказали сегодня ${max} видео — это дневной лимит на пользователя. ${when}`;
    case 'user_usd':
      return `Это видео превысит ваш дневной лимит расходов ${dollars(max)}. ${when}`;
    default:
      return `Бот исчерпал дневной бюджет ${dollars(max)}. ${when}`;
  }
}

function badInputEn(error: ErrorLike): string {
  const params = paramsOf(error, 'bad_input');
  const min = params.min ?? MIN_DURATION_SEC;
  const max = params.max ?? MAX_DURATION_SEC;
  switch (params.reason) {
    case 'duration_not_number':
      return `The length must be whole seconds from ${min} to ${max}, e.g. /video 30 The fall of Constantinople`;
    case 'duration_range':
      return `A video can be ${min} to ${max} seconds long, not ${params.value ?? 'that'}.`;
    case 'topic_empty':
      return 'Tell me what the video is about, e.g. /video 30 The fall of Constantinople';
    case 'topic_too_long':
      return `The topic is too long (${params.value ?? 'over'} characters): keep it under ${params.max ?? MAX_TOPIC_CHARS}.`;
    case 'script_too_long':
      return `The script is too long: keep it under ${params.max ?? 20000} characters.`;
    case 'tier':
      return 'Unknown tier: use ultra_fast, balanced, quality or auto.';
    case 'tier_args':
      return en.tierUsage;
    case 'aspect':
      return 'Unknown aspect: use 9:16, 16:9 or 1:1.';
    case 'lang':
      return 'Unknown language: use a two-letter code such as en or ru.';
    case 'storyboard_scene':
      return `There is no scene ${params.value ?? 'with that number'}: the storyboard has scenes 1 to ${params.max ?? '?'}.`;
    case 'storyboard_expired':
      return 'That video is too old to change: its storyboard is no longer kept. Make a new one.';
    case 'storyboard_invalid':
      return 'That change breaks the storyboard: keep each line under 600 characters and each picture under 1000.';
    case 'captions':
      return 'Unknown caption style: use clean, karaoke or pop.';
    case 'script_too_long_for_duration':
      return `The script takes about ${params.value ?? 'far more'} s to read, much longer than ${params.max ?? 'the'} s asked: shorten it or ask for a longer video.`;
    default:
      return 'I could not understand that request. Try /video 30 The fall of Constantinople';
  }
}

const ru: BotTexts = {
  help: ({ style, isAdmin }) => {
    const example =
      style === 'telegram'
        ? ['/video 30 Падение Константинополя', '/video Как пчёлы делают мёд  (30 с)', '/video 60 The history of tea']
        : ['/video duration:30 topic:Падение Константинополя', '/video topic:Как пчёлы делают мёд  (30 с)', '/video duration:60 topic:The history of tea tier:quality'];
    const lines = [
      'Я превращаю тему в короткое вертикальное видео с озвучкой: сценарий, картинки, голос, музыка и субтитры.',
      '',
      'Примеры:',
      ...example.map((e) => `  ${e}`),
      '',
      `Длина: от ${MIN_DURATION_SEC} до ${MAX_DURATION_SEC} секунд (по умолчанию 30). Озвучка звучит на языке темы.`,
      'Ход работы виден в одном сообщении; готовое видео придёт в этот чат.',
      style === 'telegram'
        ? '/storyboard 30 <тема> — сначала сценарий (оплачивается только он): правьте сцены ответом, затем ▶️ Собрать. Под видео: 🔁 новая картинка, ✏️ правка строки, 🎙 другой голос.'
        : '/storyboard — сначала сценарий (оплачивается только он): правьте сцены через ✏️, затем ▶️ Собрать. Под видео: 🔁 новая картинка, ✏️ правка строки, 🎙 другой голос.',
    ];
    if (isAdmin) {
      lines.push('', `Админ: /tier <@user|id|chat> <ultra_fast|balanced|quality|auto>, /captions <${CAPTION_STYLES.join('|')}|auto>, /stats, /queue, /cancel <job>`);
    }
    return lines.join('\n');
  },
  accepted: '⏳ Принято, ставлю в очередь…',
  queued: (position, etaSec) =>
    position <= 1 ? `⏳ В очереди, следующее, ${etaRu(etaSec)}` : `⏳ В очереди, №${position}, ${etaRu(etaSec)}`,
  starting: '⏳ Начинаю…',
  stage: (stage) =>
    ({ script: 'Сценарий', images: 'Картинки', voice: 'Голос', music: 'Музыка', render: 'Сборка', upload: 'Отправка' })[stage],
  offlineDraft: 'Черновик без сети: ИИ-провайдер не настроен, поэтому сценарий и картинки — заглушки.',
  shrinking: 'сжимаю под лимит',
  cancelButton: '✖ Отменить',
  cancelled: '✖ Отменено.',
  cancelRefused: 'Отменить это видео может только тот, кто его заказал (или админ).',
  cancelUnknown: 'Эта задача уже завершена.',
  done: (title, durationSec) => `✅ Готово: ${title} (${formatClock(durationSec)})`,
  captionLength: (durationSec) => `Длина ${formatClock(durationSec)}`,
  caption: (title, durationSec, receiptLine) => [title, ru.captionLength(durationSec), receiptLine].join('\n'),
  error: (error) => {
    switch (error.code) {
      case 'bad_input':
        return badInputRu(error);
      case 'user_limit':
        return 'У вас уже есть видео в работе — столько, сколько можно. Дождитесь, пока одно закончится, и попробуйте снова.';
      case 'not_allowed':
        return 'Это закрытый бот: ни вас, ни этого чата нет в списке разрешённых. Попросите администратора добавить вас.';
      case 'daily_limit':
        return dailyLimitRu(error);
      case 'queue_full':
        return 'Очередь сейчас заполнена. Попробуйте через несколько минут.';
      case 'cancelled':
        return '✖ Отменено.';
      case 'provider_unavailable':
        return 'Не удалось связаться с ИИ-сервисом. Попробуйте чуть позже.';
      case 'provider_refused':
        return 'ИИ-сервис отклонил запрос (квота или доступ). Админы увидят это в логах и /stats; попробуйте позже.';
      case 'content_policy':
        return 'Эта тема отклонена правилами контента. Попробуйте другую тему.';
      case 'too_large': {
        const mb = limitMb(error);
        return mb === undefined
          ? 'Видео получилось слишком большим для этого чата. Попробуйте покороче.'
          : `Видео получилось больше, чем принимает этот чат (${mb} МБ). Попробуйте покороче.`;
      }
      case 'missing_dependency':
      case 'config':
        return 'Бот неправильно настроен на сервере; в логах админы увидят, что исправить.';
      case 'render_failed':
        return paramsOf(error, 'render_failed').reason === 'time_limit'
          ? `Видео собиралось дольше отведённого времени (${paramsOf(error, 'render_failed').limitMin ?? '?'} мин) и было остановлено. Попробуйте покороче или повторите позже.`
          : 'Не удалось собрать видео. Попробуйте ещё раз.';
      case 'internal':
        return 'Что-то пошло не так на нашей стороне. Попробуйте ещё раз.';
    }
  },
  adminOnly: 'Извините, эта команда только для админов бота.',
  tierSet: (target, tier) => (tier === 'auto' ? `Режим для ${target}: автоматически (по длине).` : `Режим для ${target}: ${tier}.`),
  tierUsage: 'Формат: /tier <@user|id|chat> <ultra_fast|balanced|quality|auto> или ответом на сообщение: /tier <режим>.',
  captionsSet: (style) => `Субтитры в этом чате: ${style === 'auto' ? `по умолчанию, ${CAPTIONS_RU[DEFAULT_CAPTION_STYLE]}` : CAPTIONS_RU[style]}.`,
  captionsUsage: (current) =>
    [
      'Формат: /captions <clean|karaoke|pop|auto>',
      ...CAPTION_STYLES.map((style) => `  ${style}: ${CAPTIONS_RU[style]}`),
      `Сейчас: ${current ? CAPTIONS_RU[current] : `по умолчанию, ${CAPTIONS_RU[DEFAULT_CAPTION_STYLE]}`}.`,
    ].join('\n'),
  jobCancelled: (jobId) => `Задача ${jobId} отменена.`,
  jobNotFound: (jobId) => `Нет ожидающей или идущей задачи ${jobId}.`,
  cancelUsage: 'Формат: /cancel <id задачи> (см. /queue).',
  userNotFound: (name) => `Я ещё не видел ${name}: укажите числовой id или ответьте на его сообщение.`,
  commands: { start: 'Что умеет бот', help: 'Как пользоваться, с примерами', video: 'Сделать видео: /video 30 <тема>', storyboard: 'Сначала сценарий на проверку: /storyboard 30 <тема>' },
  noActiveJob: 'У вас нет видео в очереди или в работе.',
  thisChat: 'этого чата',
  queueEmpty: 'Очередь пуста.',
  queueMore: (count) => `… и ещё ${count}`,
};

function badInputRu(error: ErrorLike): string {
  const params = paramsOf(error, 'bad_input');
  const min = params.min ?? MIN_DURATION_SEC;
  const max = params.max ?? MAX_DURATION_SEC;
  switch (params.reason) {
    case 'duration_not_number':
      return `Длина — целое число секунд от ${min} до ${max}, например: /video 30 Падение Константинополя`;
    case 'duration_range':
      return `Видео может длиться от ${min} до ${max} секунд, а не ${params.value ?? 'столько'}.`;
    case 'topic_empty':
      return 'Напишите, о чём видео, например: /video 30 Падение Константинополя';
    case 'topic_too_long':
      return `Тема слишком длинная (${params.value ?? 'много'} символов): не больше ${params.max ?? MAX_TOPIC_CHARS}.`;
    case 'script_too_long':
      return `Сценарий слишком длинный: не больше ${params.max ?? 20000} символов.`;
    case 'tier':
      return 'Неизвестный режим: ultra_fast, balanced, quality или auto.';
    case 'tier_args':
      return ru.tierUsage;
    case 'aspect':
      return 'Неизвестный формат: 9:16, 16:9 или 1:1.';
    case 'lang':
      return 'Неизвестный язык: двухбуквенный код, например en или ru.';
    case 'storyboard_scene':
      return `Сцены ${params.value ?? 'с таким номером'} нет: в раскадровке сцены с 1 по ${params.max ?? '?'}.`;
    case 'storyboard_expired':
      return 'Это видео уже не изменить: его раскадровка больше не хранится. Сделайте новое.';
    case 'storyboard_invalid':
      return 'Эта правка ломает раскадровку: строка — до 600 символов, картинка — до 1000.';
    case 'captions':
      return 'Неизвестный стиль субтитров: clean, karaoke или pop.';
    case 'script_too_long_for_duration':
      return `Сценарий читается около ${params.value ?? 'намного больше'} с — гораздо дольше заказанных ${params.max ?? ''} с: сократите его или закажите видео длиннее.`;
    default:
      return 'Не понял запрос. Попробуйте: /video 30 Падение Константинополя';
  }
}

const TEXTS: Record<BotLocale, BotTexts> = { en, ru };

/** The texts for a locale code such as `ru`, `en-US` or Discord's `ru` / `en-GB`. */
export function botTexts(locale: string | undefined | null): BotTexts {
  return TEXTS[pickLocale(locale)];
}

/** The user-facing explanation of an error, in the user's language. Never a stack or a secret. */
export function errorText(error: ErrorLike, locale: string | undefined | null): string {
  return botTexts(locale).error(error);
}

/** The storyboard (/storyboard) and the buttons under a delivered video. Plain text, as above. */
export interface StoryboardTexts {
  writing: string;
  /** Header: the title, and "(offline draft)" when the script is the offline outline. */
  header(title: string, seconds: number, draft: boolean): string;
  scene(n: number, narration: string, picture: string): string;
  /** Estimated cost and time, and what the script itself cost. */
  estimate(renderUsd: number, renderSec: number, scriptUsd: number): string;
  editHint: string;
  expiresIn(minutes: number): string;
  render: string;
  newScript: string;
  cancel: string;
  rendering: string;
  cancelled: string;
  expired: string;
  /** A button pressed by someone who did not ask for it (callback answer). */
  notYours: string;
  /** A button of a storyboard that has expired or was already used (callback answer). */
  gone: string;
  /** An edit reply that could not be read. */
  editUsage: string;
  edited(scene: number): string;
  /** Under a delivered video. */
  reroll: string;
  editLine: string;
  voice: string;
  back: string;
  pickScene: string;
  pickVoice: string;
  /** The ✏️ button's answer: how to edit by reply. */
  editLineHint: string;
  /** The answer when a re-make was queued. */
  remaking: string;
  /** Discord's ✏️ modal. */
  modal: { title: string; scene: string; line: string; picture: string };
}

const storyboardEn: StoryboardTexts = {
  writing: '✍️ Writing the script…',
  header: (title, seconds, draft) => `🎬 ${title} (${formatClock(seconds)})${draft ? ' — offline draft' : ''}`,
  scene: (n, narration, picture) => `${n}. ${narration}\n   🖼 ${picture}`,
  estimate: (usd, sec, scriptUsd) =>
    `Rendering: ~$${usd.toFixed(3)}, ${etaEn(sec)}. The script cost ~$${scriptUsd.toFixed(4)}; nothing else is paid before ▶️ Render.`,
  editHint: 'To change a scene, reply to this message: "3: <new line>" or "3 picture: <what it shows>".',
  expiresIn: (minutes) => `Expires in ${minutes} min unless rendered.`,
  render: '▶️ Render',
  newScript: '🔁 New script',
  cancel: '✖️ Cancel',
  rendering: '▶️ Rendering: progress below.',
  cancelled: '✖️ Storyboard cancelled.',
  expired: '⌛ This storyboard expired: nothing was rendered. Send /storyboard again for a new one.',
  notYours: 'Only the person who asked for this (or an admin) can use these buttons.',
  gone: 'This storyboard is no longer open.',
  editUsage: 'Reply with "3: <new line>" or "3 picture: <what it shows>" (the scene number first).',
  edited: (scene) => `✏️ Scene ${scene} changed.`,
  reroll: '🔁 Re-roll a scene',
  editLine: '✏️ Edit a line',
  voice: '🎙 Voice',
  back: '↩️ Back',
  pickScene: 'Which scene gets a new picture?',
  pickVoice: 'Which voice should speak every line?',
  editLineHint: 'Reply to the video with "3: <new line>" or "3 picture: <what it shows>": a new video follows, only that scene made again.',
  remaking: 'On its way: a new video will reply to this one.',
  modal: { title: 'Edit a scene', scene: 'Scene number', line: 'New line (or leave empty)', picture: 'What the picture shows (or leave empty)' },
};

const storyboardRu: StoryboardTexts = {
  writing: '✍️ Пишу сценарий…',
  header: (title, seconds, draft) => `🎬 ${title} (${formatClock(seconds)})${draft ? ' — черновик без сети' : ''}`,
  scene: (n, narration, picture) => `${n}. ${narration}\n   🖼 ${picture}`,
  estimate: (usd, sec, scriptUsd) =>
    `Сборка: ~$${usd.toFixed(3)}, ${etaRu(sec)}. Сценарий стоил ~$${scriptUsd.toFixed(4)}; до ▶️ Собрать больше ничего не оплачивается.`,
  editHint: 'Чтобы изменить сцену, ответьте на это сообщение: «3: <новая строка>» или «3 картинка: <что на ней>».',
  expiresIn: (minutes) => `Без сборки истечёт через ${minutes} мин.`,
  render: '▶️ Собрать',
  newScript: '🔁 Новый сценарий',
  cancel: '✖️ Отмена',
  rendering: '▶️ Собираю: ход работы ниже.',
  cancelled: '✖️ Раскадровка отменена.',
  expired: '⌛ Раскадровка истекла: ничего не собрано. Отправьте /storyboard ещё раз.',
  notYours: 'Эти кнопки — только для того, кто заказал (или для админа).',
  gone: 'Эта раскадровка уже закрыта.',
  editUsage: 'Ответьте «3: <новая строка>» или «3 картинка: <что на ней>» (сначала номер сцены).',
  edited: (scene) => `✏️ Сцена ${scene} изменена.`,
  reroll: '🔁 Новая картинка',
  editLine: '✏️ Изменить строку',
  voice: '🎙 Голос',
  back: '↩️ Назад',
  pickScene: 'Какой сцене новую картинку?',
  pickVoice: 'Каким голосом прочитать все строки?',
  editLineHint: 'Ответьте на видео «3: <новая строка>» или «3 картинка: <что на ней>»: придёт новое видео, заново сделана только эта сцена.',
  remaking: 'Делаю: новое видео придёт ответом на это.',
  modal: { title: 'Изменить сцену', scene: 'Номер сцены', line: 'Новая строка (или пусто)', picture: 'Что на картинке (или пусто)' },
};

export function storyboardTexts(locale: string | undefined | null): StoryboardTexts {
  return pickLocale(locale) === 'ru' ? storyboardRu : storyboardEn;
}
