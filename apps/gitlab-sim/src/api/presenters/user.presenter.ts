import { isoDate, isoMs, nullableTime } from '../../domain/time-format';
import type { SimUrls } from '../../domain/urls';
import type { SimMember, SimToken, SimUser } from '../../store/models';

/** `Entities::UserBasic`: how other users appear inside issues, notes and members. */
export function presentUserBasic(user: SimUser, urls: SimUrls): Record<string, unknown> {
  return {
    id: user.id,
    username: user.username,
    name: user.name,
    state: user.state,
    locked: false,
    avatar_url: urls.avatar(user),
    web_url: urls.user(user),
  };
}

/** `GET /user` (fixture api-user.json). */
export function presentCurrentUser(user: SimUser, urls: SimUrls, now: number): Record<string, unknown> {
  const time = new Date(now);
  const hours = time.getUTCHours();
  const localTime = `${hours % 12 === 0 ? 12 : hours % 12}:${String(time.getUTCMinutes()).padStart(2, '0')} ${hours < 12 ? 'AM' : 'PM'}`;
  const entity: Record<string, unknown> = {
    id: user.id,
    username: user.username,
    email: user.email,
    name: user.name,
    state: user.state,
    locked: false,
    avatar_url: urls.avatar(user),
    web_url: urls.user(user),
    created_at: isoMs(user.createdAt),
    bio: '',
    location: null,
    public_email: user.publicEmail ?? '',
    linkedin: '',
    twitter: '',
    discord: '',
    github: '',
    website_url: '',
    organization: '',
    job_title: '',
    pronouns: null,
    bot: user.bot,
    work_information: null,
    followers: 0,
    following: 0,
    local_time: localTime,
    last_sign_in_at: isoMs(user.createdAt),
    confirmed_at: isoMs(user.createdAt),
    theme_id: 1,
    last_activity_on: isoDate(now),
    color_scheme_id: 1,
    projects_limit: 100_000,
    current_sign_in_at: isoMs(user.createdAt),
    identities: [],
    can_create_group: true,
    can_create_project: true,
    two_factor_enabled: false,
    external: false,
    private_profile: false,
    commit_email: user.email,
  };
  if (user.admin) entity['is_admin'] = true;
  return entity;
}

/** `GET /personal_access_tokens/self` and the list endpoint's items. */
export function presentToken(token: SimToken, active: boolean): Record<string, unknown> {
  return {
    id: token.id,
    name: token.name,
    revoked: token.revoked,
    created_at: isoMs(token.createdAt),
    description: token.description,
    scopes: token.scopes,
    user_id: token.userId,
    last_used_at: nullableTime(token.lastUsedAt, isoMs),
    active,
    expires_at: token.expiresAt,
  };
}

/** `GET /projects/:id/members/all/:user_id` (fixture api-project-member-all.json). */
export function presentMember(
  user: SimUser,
  member: SimMember,
  createdBy: SimUser | undefined,
  urls: SimUrls,
  showEmail: boolean,
): Record<string, unknown> {
  const entity: Record<string, unknown> = {
    ...presentUserBasic(user, urls),
    access_level: member.accessLevel,
    created_at: isoMs(member.createdAt),
    created_by: createdBy ? presentUserBasic(createdBy, urls) : null,
    expires_at: member.expiresAt,
    group_saml_identity: null,
    membership_state: 'active',
  };
  if (showEmail) entity['email'] = user.email;
  return entity;
}
