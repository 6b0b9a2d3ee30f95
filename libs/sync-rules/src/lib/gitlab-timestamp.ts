// GitLab sends ISO 8601 in REST responses and newer webhooks ("2016-01-04T15:31:51.081Z", "2013-12-03T17:15:43Z")
// and Ruby's Time#to_s in older webhook payloads ("2017-09-15 16:50:55 UTC", "2017-09-15 16:50:55 +0200").
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(?:([Zz]|UTC|GMT)|([+-])(\d{2}):?(\d{2}))$/;

const MAX_OFFSET_MINUTES = 18 * 60;

/**
 * A GitLab timestamp as a Date, or null for anything that is not one (null, numbers, date-only
 * strings, times without a zone, impossible dates such as 2021-02-30). Never an Invalid Date.
 * A valid Date passes through as a copy.
 */
export const parseGitlabTimestamp = (value: unknown): Date | null => {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : new Date(value.getTime());
  if (typeof value !== 'string') return null;
  const match = TIMESTAMP.exec(value.trim());
  if (!match) return null;
  const [
    ,
    yearText,
    monthText,
    dayText,
    hourText,
    minuteText,
    secondText,
    fraction,
    utc,
    sign,
    offsetH,
    offsetM,
  ] = match;
  const [year, month, day, hour, minute] = [yearText, monthText, dayText, hourText, minuteText].map(Number);
  const second = secondText === undefined ? 0 : Number(secondText);
  const millisecond = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;

  let offsetMinutes = 0;
  if (utc === undefined) {
    const [hours, minutes] = [Number(offsetH), Number(offsetM)];
    if (minutes > 59) return null;
    offsetMinutes = (sign === '-' ? -1 : 1) * (hours * 60 + minutes);
    if (Math.abs(offsetMinutes) > MAX_OFFSET_MINUTES) return null;
  }

  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  date.setUTCHours(hour, minute, second, millisecond);
  const time = date.getTime() - offsetMinutes * 60_000;
  return Number.isNaN(time) ? null : new Date(time);
};
