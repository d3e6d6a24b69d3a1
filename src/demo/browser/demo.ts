/**
 * The demo page (/demo): every login flow of API.md walked by a person, against the Kakao emulator in
 * `npm run dev`. The screens are <template>s of the page (demo-page.ts); this script picks one, fills it
 * and reacts to its `data-action` buttons and `data-form` forms.
 *
 * The Kakao button uses the redirect flow: `auth/kakao/login?returnTo=<this page>`; the service answers 303
 * back here with `?ticket=` (exchanged at POST /auth/tickets/exchange) or `?error=CODE`. Tokens live in this
 * tab's sessionStorage, never in a URL; one-time values leave the address bar as soon as they are read.
 */
import { ApiFailure, call, CatalogTerm, CallRecord, LoginOutcome, Member, MemberTerms, onCall, Tokens } from './api.js';
import {
  all,
  AnchorElement,
  bi,
  browser,
  byId,
  DomElement,
  DomNode,
  fill,
  h,
  InputElement,
  slot,
  TemplateElement,
} from './dom.js';

const { document, location, history, sessionStorage } = browser;

const DEMO_URL = document.body.dataset.demoUrl ?? `${location.origin}${location.pathname}`;
const KAKAO_LOGOUT_URL = document.body.dataset.kakaoLogoutUrl;
const STORE_KEY = 'kakao-auth-demo';

// ------------------------------------------------------------------------------------------------ state

interface Stored {
  tokens?: Tokens & { obtainedAt: number };
  /** The last LoginOutcome, shown raw. */
  outcome?: LoginOutcome;
  /** A login waiting for the person: LINK_REQUIRED, VERIFICATION_REQUIRED, MANDATORY_ITEMS_NOT_AGREED, TERMS_REQUIRED. */
  pending?: LoginOutcome;
}

interface Notice {
  kind: 'info' | 'success' | 'error';
  ko: string;
  en: string;
  failure?: ApiFailure;
  /** Offer Kakao's account logout too (after our logout). */
  kakaoLogout?: boolean;
}

const stored: Stored = load();
const ui: {
  member?: Member;
  terms?: MemberTerms | ApiFailure;
  catalog?: CatalogTerm[] | ApiFailure;
  notice?: Notice;
  emailTab: 'login' | 'signup';
  withdrawArmed: boolean;
  recertify: boolean;
  busy: boolean;
  activity: CallRecord[];
} = { emailTab: 'login', withdrawArmed: false, recertify: false, busy: false, activity: [] };

function load(): Stored {
  try {
    return JSON.parse(sessionStorage.getItem(STORE_KEY) ?? '{}') as Stored;
  } catch {
    return {};
  }
}

function save(): void {
  sessionStorage.setItem(STORE_KEY, JSON.stringify(stored));
}

function signOutLocally(): void {
  delete stored.tokens;
  delete stored.pending;
  ui.member = undefined;
  ui.terms = undefined;
  ui.withdrawArmed = false;
  ui.recertify = false;
  save();
}

onCall((record) => {
  ui.activity.unshift(record);
  ui.activity.length = Math.min(ui.activity.length, 40);
});

// ----------------------------------------------------------------------------------- calls with tokens

const notSignedIn = () => new ApiFailure(401, { statusCode: 401, code: 'UNAUTHENTICATED', message: 'Not signed in' });

async function refreshTokens(): Promise<void> {
  if (!stored.tokens) throw notSignedIn();
  const tokens = await call<Tokens>('POST', 'auth/refresh', { body: { refreshToken: stored.tokens.refreshToken } });
  stored.tokens = { ...tokens, obtainedAt: Date.now() };
  save();
}

/** A call with the access token; an expired one is refreshed once and the call repeated (body rebuilt). */
async function authed<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: () => unknown): Promise<T> {
  if (!stored.tokens) throw notSignedIn();
  try {
    return await call<T>(method, path, { body: body?.(), token: stored.tokens.accessToken });
  } catch (err) {
    if (!(err instanceof ApiFailure) || err.code !== 'TOKEN_EXPIRED') throw err;
    await refreshTokens();
    return call<T>(method, path, { body: body?.(), token: stored.tokens.accessToken });
  }
}

function asFailure(err: unknown): ApiFailure {
  if (err instanceof ApiFailure) return err;
  return new ApiFailure(0, {
    statusCode: 0,
    code: 'CLIENT_ERROR',
    message: err instanceof Error ? err.message : String(err),
  });
}

async function loadMember(): Promise<void> {
  ui.member = await authed<Member>('GET', 'members/me');
  // The terms state is shown beside the member; its failure must not hide the rest of the page.
  ui.terms = await authed<MemberTerms>('GET', 'members/me/terms').catch(asFailure);
}

async function loadCatalog(): Promise<void> {
  const catalog = await call<CatalogTerm[] | { terms: CatalogTerm[] }>('GET', 'terms').catch(asFailure);
  ui.catalog = catalog instanceof ApiFailure || Array.isArray(catalog) ? catalog : catalog.terms;
}

// ------------------------------------------------------------------------------------------- outcomes

const SIGNED_IN_NOTICES: Partial<Record<LoginOutcome['result'], [string, string]>> = {
  LOGGED_IN: ['로그인했습니다.', 'Signed in.'],
  SIGNED_UP: ['가입했습니다.', 'Signed up.'],
  LINKED: ['카카오계정을 연결했습니다.', 'Kakao account linked.'],
  RECERTIFIED: [
    '다시 인증했습니다. 5분 안에 탈퇴할 수 있습니다.',
    'Re-authenticated: withdrawal is open for 5 minutes.',
  ],
};

/** What a LoginOutcome means for the page: signed in, or the screen of the branch it took. */
async function accept(outcome: LoginOutcome): Promise<void> {
  stored.outcome = outcome;
  delete stored.pending;
  const signedIn = SIGNED_IN_NOTICES[outcome.result];
  if (signedIn) {
    if (outcome.tokens) stored.tokens = { ...outcome.tokens, obtainedAt: Date.now() };
    ui.withdrawArmed = false;
    ui.recertify = false;
    const [ko, en] = signedIn;
    ui.notice =
      outcome.result === 'SIGNED_UP' && outcome.member?.loginMethods.includes('password')
        ? { kind: 'success', ko: `${ko} 확인 메일을 보냈습니다.`, en: `${en} A verification mail is on its way.` }
        : { kind: 'success', ko, en };
    save();
    await loadMember();
    return;
  }
  if (outcome.result === 'DEACTIVATED_MEMBER') {
    ui.notice = {
      kind: 'info',
      ko: '휴면 계정입니다. 메일로 보낸 링크를 열면 다시 사용할 수 있습니다.',
      en: 'This account is deactivated. Open the link in the mail we sent to reactivate it.',
    };
  } else {
    stored.pending = outcome;
    if (outcome.result === 'TERMS_REQUIRED') await loadCatalog();
  }
  save();
}

// -------------------------------------------------------------------------------------- error wording

const ERROR_TEXT: Record<string, [string, string]> = {
  KAKAO_ACCESS_DENIED: ['카카오 동의 화면에서 취소했습니다.', "You cancelled on Kakao's consent screen."],
  KAKAO_CONSENT_REQUIRED: ['카카오에서 동의가 필요합니다.', 'Kakao needs your consent first.'],
  INVALID_STATE: [
    '로그인 요청을 이 브라우저와 맞출 수 없습니다. 다시 시도해 주세요.',
    'The login did not match this browser; start again.',
  ],
  STATE_EXPIRED: ['로그인 시간이 지났습니다. 다시 시도해 주세요.', 'The login took too long; start again.'],
  TICKET_INVALID: ['이미 쓰였거나 만료된 요청입니다.', 'That ticket was already used or has expired.'],
  RETURN_URL_NOT_ALLOWED: [
    '이 주소로는 돌아올 수 없습니다 (ALLOWED_RETURN_URLS).',
    'This page is not an allowed return URL.',
  ],
  INVALID_CREDENTIALS: ['이메일 또는 비밀번호가 맞지 않습니다.', 'Wrong email or password.'],
  EMAIL_TAKEN: ['이미 가입된 이메일입니다.', 'That email is already registered.'],
  VALIDATION_FAILED: ['입력을 확인해 주세요.', 'Please check the form.'],
  LAST_LOGIN_METHOD: [
    '카카오가 유일한 로그인 방법이라 끊을 수 없습니다.',
    'Kakao is your only way in, so it stays linked.',
  ],
  RECERTIFICATION_REQUIRED: ['탈퇴하려면 다시 인증해 주세요.', 'Please re-authenticate before withdrawing.'],
  TERM_NOT_REVOCABLE: ['필수 약관은 철회할 수 없습니다.', 'Required terms cannot be revoked.'],
  KAKAO_ALREADY_LINKED: [
    '이 카카오계정은 다른 회원에 연결되어 있습니다.',
    'That Kakao account belongs to another member.',
  ],
  MEMBER_ALREADY_HAS_KAKAO: ['이미 카카오계정이 연결되어 있습니다.', 'A Kakao account is already linked.'],
  KAKAO_UNAVAILABLE: ['카카오에 연결할 수 없습니다.', 'Kakao is not reachable.'],
  RATE_LIMITED: ['요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.', 'Too many requests; try again shortly.'],
  REFRESH_TOKEN_REUSED: [
    '이미 쓰인 리프레시 토큰입니다. 다시 로그인해 주세요.',
    'A spent refresh token was presented; sign in again.',
  ],
  NETWORK_ERROR: ['서비스에 연결할 수 없습니다.', 'The service is not reachable.'],
};

function errorNotice(failure: ApiFailure): Notice {
  const [ko, en] = ERROR_TEXT[failure.code] ?? ['요청을 처리하지 못했습니다.', 'The request failed.'];
  return { kind: 'error', ko, en, failure };
}

// ------------------------------------------------------------------------------------------- actions

/** Runs one action at a time; a failure is shown with its code, message and request id. */
async function act(fn: () => Promise<void>): Promise<void> {
  if (ui.busy) return;
  ui.busy = true;
  ui.notice = undefined;
  render();
  try {
    await fn();
  } catch (err) {
    const failure = asFailure(err);
    ui.notice = errorNotice(failure);
    if (failure.code === 'RECERTIFICATION_REQUIRED') ui.recertify = true;
    if (['UNAUTHENTICATED', 'REFRESH_TOKEN_INVALID', 'REFRESH_TOKEN_REUSED'].includes(failure.code)) signOutLocally();
  } finally {
    ui.busy = false;
    render();
  }
}

/** Link or re-certify from the signed-in page: the service builds the authorize URL for this member. */
async function kakaoWithIntent(intent: 'link' | 'recertify'): Promise<void> {
  const { url } = await authed<{ url: string }>('POST', 'auth/kakao/authorize-url', () => ({
    intent,
    returnTo: DEMO_URL,
  }));
  location.assign(url);
}

async function logout(everywhere: boolean): Promise<void> {
  try {
    await authed<void>('POST', 'auth/logout', () => ({ refreshToken: stored.tokens?.refreshToken, everywhere }));
  } finally {
    signOutLocally();
  }
  ui.notice = { kind: 'success', ko: '로그아웃했습니다.', en: 'Signed out.', kakaoLogout: Boolean(KAKAO_LOGOUT_URL) };
}

async function withdraw(): Promise<void> {
  if (!ui.withdrawArmed) {
    ui.withdrawArmed = true; // a second press confirms
    return;
  }
  ui.withdrawArmed = false;
  await authed<void>('DELETE', 'members/me');
  signOutLocally();
  delete stored.outcome;
  save();
  ui.notice = { kind: 'success', ko: '탈퇴했습니다. 개인정보를 지웠습니다.', en: 'Withdrawn; personal data deleted.' };
}

/** Buttons (`data-action`); `el` is the button, for the per-row ones that carry `data-tag`. */
const ACTIONS: Record<string, (el: DomElement) => Promise<void>> = {
  'link-confirm': async () =>
    accept(await call<LoginOutcome>('POST', 'auth/link/confirm', { body: { linkTicket: stored.pending?.linkTicket } })),
  link: async () => kakaoWithIntent('link'),
  recertify: async () => kakaoWithIntent('recertify'),
  unlink: async () => {
    await authed<void>('DELETE', 'members/me/kakao');
    await loadMember();
    ui.notice = { kind: 'success', ko: '카카오 연결을 끊었습니다.', en: 'Kakao account unlinked.' };
  },
  'terms-agree': async (el) => {
    ui.terms = await authed<MemberTerms>('POST', 'members/me/terms', () => ({ tags: [el.dataset.tag] }));
  },
  'terms-revoke': async (el) => {
    await authed<void>('DELETE', `members/me/terms/${encodeURIComponent(el.dataset.tag ?? '')}`);
    ui.terms = await authed<MemberTerms>('GET', 'members/me/terms');
  },
  'terms-sync': async () => {
    ui.terms = await authed<MemberTerms>('POST', 'members/me/terms/sync');
  },
  refresh: async () => {
    await refreshTokens();
    await loadMember();
    ui.notice = { kind: 'success', ko: '토큰을 갱신했습니다.', en: 'Tokens refreshed.' };
  },
  reload: loadMember,
  logout: async () => logout(false),
  'logout-everywhere': async () => logout(true),
  withdraw,
};

/** Page-only buttons: no call, no busy state. */
const VIEW_ACTIONS: Record<string, () => void> = {
  'tab-login': () => (ui.emailTab = 'login'),
  'tab-signup': () => (ui.emailTab = 'signup'),
  cancel: () => {
    delete stored.pending;
    save();
  },
};

/** Forms (`data-form`), with their fields' values. */
const FORMS: Record<string, (v: Record<string, string>, form: DomElement) => Promise<void>> = {
  'email-login': async (v) => accept(await call<LoginOutcome>('POST', 'auth/login', { body: v })),
  'email-signup': async (v) => accept(await call<LoginOutcome>('POST', 'auth/signup', { body: v })),
  'link-verify': async (v) =>
    accept(
      await call<LoginOutcome>('POST', 'auth/link/verify', {
        body: { linkTicket: stored.pending?.linkTicket, email: v.email, password: v.password },
      }),
    ),
  'recertify-password': async (v) =>
    accept(await call<LoginOutcome>('POST', 'auth/login', { body: { email: ui.member?.email, password: v.password } })),
  'terms-agree': async (_v, form) => {
    const boxes = all<InputElement>(form, 'input[name="tags"]');
    const unticked = boxes.filter((b) => b.dataset.required === 'true' && !b.checked);
    if (unticked.length > 0) {
      ui.notice = { kind: 'error', ko: '필수 약관에 모두 동의해 주세요.', en: 'Please agree to every required term.' };
      return;
    }
    const tags = boxes.filter((b) => b.checked).map((b) => b.value);
    await accept(
      await call<LoginOutcome>('POST', 'auth/terms/agree', {
        body: { termsTicket: stored.pending?.termsTicket, tags },
      }),
    );
  },
};

document.addEventListener('click', (event) => {
  const el = (event.target as DomElement).closest('[data-action]');
  const name = el?.dataset.action;
  if (!el || !name) return;
  if (VIEW_ACTIONS[name]) {
    VIEW_ACTIONS[name]();
    render();
  } else if (ACTIONS[name]) {
    event.preventDefault();
    void act(() => ACTIONS[name](el));
  }
});

document.addEventListener('submit', (event) => {
  const form = event.target as DomElement;
  const handler = form.dataset.form ? FORMS[form.dataset.form] : undefined;
  if (!handler) return;
  event.preventDefault();
  const values: Record<string, string> = {};
  new browser.FormData(form).forEach((value, key) => {
    if (typeof value === 'string') values[key] = value;
  });
  void act(() => handler(values, form));
});

document.addEventListener('change', (event) => {
  const input = event.target as InputElement;
  if (input.dataset.slot === 'select-account') render();
  if (input.name === 'tags' && input.form) {
    const agreeAll = input.form.querySelector('[data-slot="terms-all"]') as InputElement | null;
    if (agreeAll) agreeAll.checked = all<InputElement>(input.form, 'input[name="tags"]').every((box) => box.checked);
  }
  if (input.dataset.slot === 'terms-all' && input.form) {
    for (const box of all<InputElement>(input.form, 'input[name="tags"]')) box.checked = input.checked;
  }
});

// ------------------------------------------------------------------------------------------- rendering

const fmtTime = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString() : '—');
const mark = (required: boolean) =>
  required ? h('span', { class: 'mark req' }, '[필수]') : h('span', { class: 'mark opt' }, '[선택]');
const badge = (text: string, kind = '', attrs: Record<string, string> = {}) =>
  h('span', { class: `badge ${kind}`.trim(), ...attrs }, text);
const row = (...cells: Array<DomNode | string>) => h('tr', {}, ...cells.map((c) => h('td', {}, c)));
const kvRow = (key: string, value: string) => h('tr', {}, h('th', {}, key), h('td', {}, value));

/** Shows the screen `name` (a <template> of the page), keeping it as it is while it stays on screen. */
function mount(name: string): DomElement {
  const holder = byId('screen');
  const current = holder.firstElementChild;
  if (current?.dataset.screen === name) return current;
  const template = document.getElementById(name) as TemplateElement | null;
  holder.replaceChildren(template ? template.content.cloneNode(true) : h('p', {}, name));
  return holder.firstElementChild as DomElement;
}

function kakaoLoginHref(selectAccount: boolean): string {
  const url = new URL('auth/kakao/login', location.href);
  url.searchParams.set('returnTo', DEMO_URL);
  if (selectAccount) url.searchParams.set('prompt', 'select_account');
  return url.pathname + url.search;
}

function fillSignedOut(screen: DomElement): void {
  const selectAccount = slot<InputElement>(screen, 'select-account').checked;
  slot<AnchorElement>(screen, 'kakao-login').href = kakaoLoginHref(selectAccount);
  for (const tab of ['login', 'signup'] as const) {
    screen.querySelector(`[data-action="tab-${tab}"]`)?.setAttribute('aria-selected', String(ui.emailTab === tab));
    slot(screen, `email-${tab}`).hidden = ui.emailTab !== tab;
  }
}

const ITEM_TITLES: Record<string, string> = {
  profile_nickname: '닉네임 · Nickname',
  profile_image: '프로필 사진 · Profile image',
  account_email: '카카오계정(이메일) · Email',
  name: '이름 · Name',
  gender: '성별 · Gender',
  age_range: '연령대 · Age range',
  birthday: '생일 · Birthday',
  birthyear: '출생 연도 · Birth year',
  phone_number: '전화번호 · Phone number',
};

function fillPending(screen: DomElement, outcome: LoginOutcome): void {
  const candidate = outcome.candidate;
  if (candidate) {
    fill(slot(screen, 'masked-name'), candidate.maskedName ?? '(이름 없음 · no name)');
    fill(slot(screen, 'masked-email'), candidate.maskedEmail ?? '(이메일 없음 · no email)');
    fill(slot(screen, 'candidate-initial'), (candidate.maskedName ?? '?').slice(0, 1));
  }
  const consent = screen.querySelector('[data-slot="consent-url"]') as AnchorElement | null;
  if (consent) {
    consent.hidden = !outcome.consentUrl;
    if (outcome.consentUrl) consent.href = outcome.consentUrl;
  }
  if (outcome.result === 'MANDATORY_ITEMS_NOT_AGREED') {
    fill(slot(screen, 'missing-items'), ...(outcome.missingItems ?? []).map((i) => h('li', {}, ITEM_TITLES[i] ?? i)));
  }
  if (outcome.result === 'TERMS_REQUIRED') fillTermsChecklist(screen, outcome);
}

/** The checklist of TERMS_REQUIRED: the catalog (GET /terms), the missing terms marked; built once per ticket. */
function fillTermsChecklist(screen: DomElement, outcome: LoginOutcome): void {
  const error = slot(screen, 'catalog-error');
  error.hidden = !(ui.catalog instanceof ApiFailure);
  if (ui.catalog instanceof ApiFailure) fill(error, `GET /terms: ${ui.catalog.code} ${ui.catalog.message}`);
  const list = slot(screen, 'terms-checklist');
  const key = `${outcome.termsTicket}:${Array.isArray(ui.catalog)}`;
  if (list.dataset.builtFor === key) return;
  list.dataset.builtFor = key;
  const missing = new Set(outcome.missingTerms ?? []);
  // Without the catalog the missing terms are still listed (they are the required ones).
  const terms: CatalogTerm[] = Array.isArray(ui.catalog)
    ? ui.catalog
    : [...missing].map((tag) => ({ tag, title: tag, required: true, revocable: false }));
  fill(
    list,
    ...terms.map((t) =>
      h(
        'label',
        { class: missing.has(t.tag) ? 'missing' : undefined, 'data-term': t.tag },
        h('input', { type: 'checkbox', name: 'tags', value: t.tag, 'data-required': String(t.required) }),
        mark(t.required),
        t.title,
        missing.has(t.tag) ? badge('동의 필요 · missing', 'warn') : null,
        t.url ? h('a', { href: t.url, target: '_blank', rel: 'noopener' }, '보기 · View') : null,
      ),
    ),
  );
}

const PROFILE_FIELDS: Array<[string, string]> = [
  ['nickname', '닉네임 · Nickname'],
  ['gender', '성별 · Gender'],
  ['ageRange', '연령대 · Age range'],
  ['birthyear', '출생 연도 · Birth year'],
  ['birthday', '생일 · Birthday'],
  ['birthdayType', '양력/음력 · Calendar'],
  ['isLeapMonth', '윤달 · Leap month'],
  ['phoneNumber', '전화번호 · Phone'],
];

function fillAvatar(el: DomElement, member: Member): void {
  const initial = (member.name ?? member.profile.nickname ?? member.email ?? '?').slice(0, 1);
  const src = member.profile.thumbnailImageUrl;
  // The CSP allows https images only (Kakao's are https with secure_resource); the initial stands in otherwise.
  if (!src?.startsWith('https://')) return fill(el, initial);
  const img = h('img', { src, alt: '' });
  img.addEventListener('error', () => fill(el, initial));
  fill(el, img);
}

function fillSignedIn(screen: DomElement): void {
  const member = ui.member;
  if (!member) return;
  fillAvatar(slot(screen, 'avatar'), member);
  fill(slot(screen, 'name'), member.name ?? member.profile.nickname ?? '(이름 없음 · no name)');
  fill(slot(screen, 'email'), member.email ?? '(이메일 없음 · no email)');
  fill(
    slot(screen, 'email-badge'),
    member.email
      ? member.emailVerified
        ? badge('확인됨 · verified', 'ok')
        : badge('미확인 · unverified', 'warn')
      : null,
  );
  fill(
    slot(screen, 'badges'),
    badge(member.status, '', { 'data-field': 'status' }),
    ...member.loginMethods.map((m) => badge(m, m === 'kakao' ? 'kakao' : '', { 'data-login-method': m })),
  );
  fill(
    slot(screen, 'member'),
    kvRow('ID', member.id),
    kvRow('가입 · Created', fmtTime(member.createdAt)),
    ...PROFILE_FIELDS.filter(([key]) => member.profile[key] !== null && member.profile[key] !== undefined).map(
      ([key, label]) => kvRow(label, String(member.profile[key])),
    ),
  );

  const hasKakao = member.identities.some((i) => i.provider === 'kakao');
  slot(screen, 'no-identities').hidden = member.identities.length > 0;
  fill(
    slot(screen, 'identities'),
    ...(member.identities.length === 0
      ? []
      : [h('tr', {}, ...['provider', 'providerUserId', 'connectedAt', 'linkedAt'].map((c) => h('th', {}, c)))]),
    ...member.identities.map((i) => {
      const tr = row(badge(i.provider, 'kakao'), i.providerUserId, fmtTime(i.connectedAt), fmtTime(i.linkedAt));
      tr.dataset.identity = i.provider;
      return tr;
    }),
  );
  slot(screen, 'link').hidden = hasKakao;
  slot(screen, 'unlink').hidden = !hasKakao;

  const termsError = slot(screen, 'terms-error');
  termsError.hidden = !(ui.terms instanceof ApiFailure);
  if (ui.terms instanceof ApiFailure) {
    fill(
      termsError,
      bi('약관 상태를 불러오지 못했습니다.', 'Could not load the terms state.'),
      h('br'),
      h('code', {}, ui.terms.code),
      ` ${ui.terms.message}`,
    );
  }
  const terms = ui.terms instanceof ApiFailure || !ui.terms ? [] : ui.terms.terms;
  fill(
    slot(screen, 'terms'),
    ...(terms.length === 0
      ? []
      : [h('tr', {}, ...['약관 · Term', '동의 · Agreed', 'source', ''].map((c) => h('th', {}, c)))]),
    ...terms.map((t) => {
      const action = !t.agreed
        ? h(
            'button',
            { type: 'button', class: 'btn small', 'data-action': 'terms-agree', 'data-tag': t.tag },
            bi('동의', 'Agree'),
          )
        : t.revocable
          ? h(
              'button',
              { type: 'button', class: 'btn small', 'data-action': 'terms-revoke', 'data-tag': t.tag },
              bi('철회', 'Revoke'),
            )
          : '';
      const tr = row(
        h('span', {}, mark(t.required), t.title, h('div', { class: 'en' }, t.tag)),
        t.agreed ? badge(`✓ ${fmtTime(t.agreedAt)}`, 'ok') : badge('—'),
        t.source ?? '—',
        action,
      );
      tr.dataset.term = t.tag;
      return tr;
    }),
  );

  const tokens = stored.tokens;
  fill(
    slot(screen, 'session'),
    kvRow(
      'access token',
      tokens
        ? `${tokens.accessToken.slice(0, 18)}… (만료 · expires ${new Date(tokens.obtainedAt + tokens.expiresIn * 1000).toLocaleTimeString()})`
        : '—',
    ),
    kvRow('refresh token', tokens ? `${tokens.refreshToken.slice(0, 10)}…` : '—'),
  );
  fill(
    slot(screen, 'withdraw'),
    ui.withdrawArmed
      ? bi('정말 탈퇴할까요? 한 번 더 누르세요', 'Really withdraw? Press again')
      : bi('회원 탈퇴', 'Withdraw'),
  );
  slot(screen, 'recertify').hidden = !ui.recertify;
  slot(screen, 'recertify-kakao').hidden = !member.loginMethods.includes('kakao');
  slot(screen, 'recertify-password').hidden = !member.loginMethods.includes('password');
}

function renderNotices(): void {
  const notices: DomNode[] = [];
  if (location.origin !== new URL(DEMO_URL).origin) {
    notices.push(
      h(
        'div',
        { class: 'notice error' },
        bi(
          'Kakao 로그인이 돌아오려면 PUBLIC_URL 주소에서 여세요:',
          'Open the demo at PUBLIC_URL so Kakao logins come back here:',
        ),
        ' ',
        h('a', { href: DEMO_URL }, DEMO_URL),
      ),
    );
  }
  const n = ui.notice;
  if (n) {
    const el = h('div', { class: `notice ${n.kind}`, role: n.kind === 'error' ? 'alert' : 'status' }, bi(n.ko, n.en));
    if (n.failure) {
      const { code, message, requestId } = n.failure.body;
      el.append(
        h('br'),
        h('code', {}, code),
        ` ${message}`,
        requestId ? h('span', { class: 'en' }, ` · request ${requestId}`) : '',
      );
    }
    if (n.kakaoLogout && KAKAO_LOGOUT_URL) {
      el.append(
        ' ',
        h(
          'a',
          { href: KAKAO_LOGOUT_URL, 'data-link': 'kakao-logout' },
          bi('카카오계정도 로그아웃', 'Log out of Kakao too'),
        ),
      );
    }
    notices.push(el);
  }
  fill(byId('notices'), ...notices);
}

function renderSide(): void {
  const json = slot<DomElement>(document, 'outcome-json');
  json.hidden = !stored.outcome;
  slot(document, 'no-outcome').hidden = Boolean(stored.outcome);
  json.textContent = stored.outcome ? JSON.stringify(stored.outcome, null, 2) : '';
  fill(
    slot(document, 'activity'),
    ...ui.activity.map((c) =>
      h(
        'li',
        {},
        h('span', { class: `st ${c.status > 0 && c.status < 400 ? 'ok' : 'err'}` }, String(c.status)),
        `${c.method} ${c.path}`,
        c.requestId ? h('span', { class: 'rid' }, c.requestId.slice(0, 8)) : null,
      ),
    ),
  );
}

function render(): void {
  renderNotices();
  const pending = stored.pending;
  const name = pending ? pending.result : stored.tokens ? 'signed-in' : 'signed-out';
  const screen = mount(name);
  if (pending) fillPending(screen, pending);
  else if (stored.tokens) fillSignedIn(screen);
  else fillSignedOut(screen);
  renderSide();
  for (const button of all<InputElement>(byId('app'), 'button')) button.disabled = ui.busy;
  document.body.dataset.busy = String(ui.busy);
}

// ---------------------------------------------------------------------------------------------- start

/** Reads what the address bar brought (a ticket, an error, a mail link's token) and acts on it. */
async function readAddressBar(): Promise<void> {
  document.body.dataset.ready = 'false';
  const url = new URL(location.href);
  const ticket = url.searchParams.get('ticket');
  const error = url.searchParams.get('error');
  const fragment = new URLSearchParams(url.hash.slice(1));
  const verifyToken = fragment.get('email-verification-token');
  const reactivateToken = fragment.get('reactivation-token');
  // One-time values leave the address bar (and the history) before anything else happens.
  if (url.search || url.hash) history.replaceState(null, '', url.pathname);

  await act(async () => {
    if (ticket) await accept(await call<LoginOutcome>('POST', 'auth/tickets/exchange', { body: { ticket } }));
    if (verifyToken) {
      await call<void>('POST', 'auth/email/verify', { body: { token: verifyToken } });
      if (stored.tokens && !stored.pending) await loadMember();
      ui.notice = { kind: 'success', ko: '이메일 주소를 확인했습니다.', en: 'Email address verified.' };
    }
    if (reactivateToken) {
      await accept(await call<LoginOutcome>('POST', 'auth/reactivate', { body: { token: reactivateToken } }));
    }
    if (stored.tokens && !ui.member && !stored.pending) await loadMember();
    if (stored.pending?.result === 'TERMS_REQUIRED' && !ui.catalog) await loadCatalog();
    if (error) {
      const failure = new ApiFailure(0, {
        statusCode: 0,
        code: error,
        message: 'The Kakao login came back with an error',
      });
      ui.notice = errorNotice(failure);
    }
  });
  document.body.dataset.ready = 'true';
}

// A mail link opened in the tab that already shows the demo only changes the fragment: no new page load.
browser.addEventListener('hashchange', () => void readAddressBar());
void readAddressBar();
