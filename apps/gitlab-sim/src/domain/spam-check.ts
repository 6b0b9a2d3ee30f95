import type { SimProject, SimUser } from '../store/models';
import type { SimStore } from '../store/sim-store';
import { GitlabError } from './gitlab-error';

/** `Spammable#recaptcha_error!` for an issue (docs/GITLAB.md, "Spam checks and CAPTCHA"). */
export const SPAM_CAPTCHA_MESSAGE =
  'Your issue has been recognized as spam. Please, change the content or solve the reCAPTCHA to proceed.';
/** `Spammable#unrecoverable_spam_error!` for an issue. */
export const SPAM_REFUSED_MESSAGE =
  'Your issue has been recognized as spam. Please, change the content to proceed.';
/** Google's public reCAPTCHA v2 test site key, the one GitLab's REST API documentation shows. */
export const DEFAULT_CAPTCHA_SITE_KEY = '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI';

/** What a client resubmits after solving the CAPTCHA (`X-GitLab-Captcha-Response`, `X-GitLab-Spam-Log-Id`). */
export interface CaptchaAnswer {
  response?: string;
  spamLogId?: number;
}

/**
 * GitLab's spam check on REST issue writes (Spam::SpamActionService through
 * `with_captcha_check_rest_api`), with the project's keywords standing in for the verdict. Spam
 * with reCAPTCHA configured (CONDITIONAL_ALLOW) answers 409 with the CAPTCHA fields; without it,
 * or for a definite verdict, 400 with the model error. Either way nothing is saved.
 */
export class SpamCheck {
  constructor(private readonly store: SimStore) {}

  /** Throws GitLab's answer when the text is spam; a solved CAPTCHA lets the write through. */
  check(
    project: SimProject,
    user: SimUser,
    text: { title: string; description: string | null },
    captcha: CaptchaAnswer,
  ): void {
    const setting = project.spamCheck;
    if (!setting) return;
    if (setting.captcha && captcha.response) {
      // CaptchaVerificationService accepted the response: the SpamLog is marked verified and the
      // spam flags are cleared, whatever the content (the simulator accepts any non-empty answer).
      const log = captcha.spamLogId === undefined ? undefined : this.store.spamLogs.get(captcha.spamLogId);
      if (log && log.userId === user.id) log.recaptchaVerified = true;
      return;
    }
    const haystack = `${text.title}\n${text.description ?? ''}`.toLowerCase();
    if (!setting.keywords.some((keyword) => keyword !== '' && haystack.includes(keyword.toLowerCase())))
      return;
    const id = this.store.nextId('spamLog');
    this.store.spamLogs.set(id, {
      id,
      userId: user.id,
      projectId: project.id,
      title: text.title,
      createdAt: this.store.clock.now(),
      recaptchaVerified: false,
    });
    if (setting.captcha) {
      // `render_structured_api_error!`: the spam response fields without `spam`, then `message`.
      throw new GitlabError(409, {
        needs_captcha_response: true,
        spam_log_id: id,
        captcha_site_key: setting.captchaSiteKey,
        message: { error: SPAM_CAPTCHA_MESSAGE },
      });
    }
    throw GitlabError.validation({ base: [SPAM_REFUSED_MESSAGE] });
  }
}
