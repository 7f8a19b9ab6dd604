/** A cheap script-based guess of the language of a text: enough to pick a narration voice and bot texts. */
export function detectLanguage(text: string): string {
  let cyrillic = 0;
  let latin = 0;
  for (const ch of text) {
    if (/[\u0400-\u04ff]/.test(ch)) cyrillic++;
    else if (/[a-z]/i.test(ch)) latin++;
  }
  if (cyrillic > latin) {
    if (/[іїєґ]/i.test(text)) return 'uk';
    return 'ru';
  }
  return 'en';
}
